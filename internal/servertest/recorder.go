package servertest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// Left is a leave event with the moment the observer got it.
type Left struct {
	room.LeaveEvent
	At time.Time
}

// Recorder is a room.Observer whose events tests can wait for.
type Recorder struct {
	mu      sync.Mutex
	joined  []room.JoinEvent
	left    []Left
	changed chan struct{} // closed and replaced on every event
}

// NewRecorder makes an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

// Joined records e.
func (r *Recorder) Joined(e room.JoinEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.joined = append(r.joined, e)
	r.notify()
}

// Left records e with the time now.
func (r *Recorder) Left(e room.LeaveEvent) {
	at := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = append(r.left, Left{LeaveEvent: e, At: at})
	r.notify()
}

func (r *Recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// Joins returns the join events so far.
func (r *Recorder) Joins() []room.JoinEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]room.JoinEvent(nil), r.joined...)
}

// Leaves returns the leave events so far.
func (r *Recorder) Leaves() []Left {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Left(nil), r.left...)
}

// LeavesOf lists the leave events of participant id.
func (r *Recorder) LeavesOf(id string) []Left {
	var out []Left
	for _, e := range r.Leaves() {
		if e.ParticipantID == id {
			out = append(out, e)
		}
	}
	return out
}

// JoinedCount and LeftCount count the events so far.
func (r *Recorder) JoinedCount() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.joined) }

// LeftCount counts the leave events so far.
func (r *Recorder) LeftCount() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.left) }

// WaitLeft returns the leave event of participant id, waiting for it
// until ctx ends.
func (r *Recorder) WaitLeft(ctx context.Context, id string) (Left, error) {
	var found Left
	err := r.wait(ctx, func() bool {
		for _, e := range r.left {
			if e.ParticipantID == id {
				found = e
				return true
			}
		}
		return false
	})
	if err != nil {
		return Left{}, fmt.Errorf("no leave event for %s: %w", id, err)
	}
	return found, nil
}

// WaitJoin returns the first join event match accepts, waiting for it
// until ctx ends.
func (r *Recorder) WaitJoin(ctx context.Context, match func(room.JoinEvent) bool) (room.JoinEvent, error) {
	var found room.JoinEvent
	err := r.wait(ctx, func() bool {
		for _, e := range r.joined {
			if match(e) {
				found = e
				return true
			}
		}
		return false
	})
	return found, err
}

// wait runs done with r.mu held after every event until it holds.
func (r *Recorder) wait(ctx context.Context, done func() bool) error {
	for {
		r.mu.Lock()
		ok, ch := done(), r.changed
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
