package sessionlog

import (
	"encoding/json"
	"errors"
	"fmt"
)

// batch is the records one fsync commits, in submission order.
type batch struct {
	buf     []byte
	records int
	events  []sessionEvent // its joins and leaves, for retention
	done    chan struct{}  // closed once err is set
	err     error
}

// Pending is a submitted record on its way to disk.
type Pending struct{ b *batch }

// Done is closed when the record is durable or has failed; see Err.
func (p Pending) Done() <-chan struct{} { return p.b.done }

// Err is nil once the record is on disk, or says why it never will be.
// It is meaningful only after Done is closed.
func (p Pending) Err() error { return p.b.err }

// Wait blocks until the record is on disk, or returns why it is not.
func (p Pending) Wait() error {
	<-p.b.done
	return p.b.err
}

func failed(err error) Pending {
	b := &batch{done: make(chan struct{}), err: err}
	close(b.done)
	return Pending{b}
}

// Submit queues r and returns at once, without waiting for any disk, so
// callers may hold their own locks. Records reach the file in Submit
// order; those submitted while a write is in progress go to disk together
// in the next write with one fsync. Whoever reports the event onward
// should wait on the result first: a record is durable only when Done is
// closed and Err is nil. Records are checked and timed as in Append.
func (l *Log) Submit(r Record) Pending {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	if err := r.validate(); err != nil {
		return failed(err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return failed(fmt.Errorf("sessionlog: %w", err))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return failed(ErrClosed)
	}
	if l.broken != nil {
		return failed(l.broken)
	}
	if l.next == nil {
		l.next = &batch{done: make(chan struct{})}
		l.queued.Signal()
	}
	l.next.buf = append(append(l.next.buf, line...), '\n')
	l.next.records++
	if r.Event == EventJoin || r.Event == EventLeave {
		l.next.events = append(l.next.events, sessionEvent{sessionKey{r.Room, r.ParticipantID}, r.Event == EventJoin})
	}
	return Pending{l.next}
}

// writeLoop is the log's one writer: it takes whatever was queued while
// the previous batch was being written, writes and fsyncs it, and wakes
// its submitters. It ends when the log is closed and the queue is empty,
// so Close loses nothing that Submit accepted.
func (l *Log) writeLoop() {
	defer close(l.writerOn)
	for {
		l.mu.Lock()
		for l.next == nil && !l.closed {
			l.queued.Wait()
		}
		b := l.next
		l.next = nil
		l.mu.Unlock()
		if b == nil {
			return // closed and drained
		}

		l.fileMu.Lock()
		var err error
		rotated := false
		if l.dueLocked(len(b.buf)) {
			err = l.rotateLocked()
			rotated = err == nil
		}
		var broken *brokenError
		if !errors.As(err, &broken) {
			// A failed rename leaves the old segment live: the batch still
			// goes to disk, only later than planned into a new file.
			err = l.writeLocked(b.buf)
		}
		if err == nil {
			l.trackOpen(b.events)
		}
		if rotated {
			l.pruneLocked()
		}
		l.fileMu.Unlock()

		l.mu.Lock()
		if errors.As(err, &broken) {
			l.broken = err
		}
		if err == nil {
			l.syncs++
			l.records += uint64(b.records)
		}
		// A batch queued behind a write that broke the log fails too:
		// nothing after a failed fsync may claim durability.
		if l.broken != nil && l.next != nil {
			l.next.err = l.broken
			close(l.next.done)
			l.next = nil
		}
		l.mu.Unlock()
		b.err = err
		close(b.done)
	}
}
