package sessionlog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Retention: after each rotation, rotated segments beyond
// Rotation.MaxSegments are deleted oldest first, but never one that is
// still needed:
//   - by a reader registered with Retain (a webhook cursor that has not
//     delivered it yet), nor any after it;
//   - for a session still open: its join is in it, and recovery after a
//     crash must find that join to write the session's server-crash leave.
// A segment kept for either reason is deleted at a later rotation, once
// nothing needs it.

// Retain registers a reader of the log: oldest reports the lowest segment
// number it still has to read (0: none). It is called from the writer
// goroutine at each rotation, so it must be quick and must not wait on
// the log.
func (l *Log) Retain(oldest func() int64) {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	l.rs.readers = append(l.rs.readers, oldest)
}

// sessionKey names one session for the open-join bookkeeping.
type sessionKey struct{ room, id string }

// trackOpen notes, for a batch just written to the live segment, which
// sessions it opened and closed; callers hold fileMu.
func (l *Log) trackOpen(events []sessionEvent) {
	r := &l.rs
	for _, e := range events {
		switch {
		case e.join:
			if _, dup := r.openJoins[e.key]; !dup { // a duplicate join keeps the first, as recovery does
				r.openJoins[e.key] = r.seq
			}
		default:
			delete(r.openJoins, e.key)
		}
	}
}

// sessionEvent is a join or leave in a batch, for trackOpen.
type sessionEvent struct {
	key  sessionKey
	join bool
}

// pruneLocked deletes the rotated segments retention lets go; callers
// hold fileMu. Errors are left for the next rotation to retry: a segment
// that could not be deleted is only disk kept a little longer.
func (l *Log) pruneLocked() {
	r := &l.rs
	if r.rot.MaxSegments <= 0 {
		return
	}
	seqs, err := rotatedSeqs(r.path)
	if err != nil || len(seqs) <= r.rot.MaxSegments {
		return
	}
	floor := r.seq // the live segment: nothing at or after it is ever deleted
	for _, seq := range r.openJoins {
		floor = min(floor, seq)
	}
	for _, oldest := range r.readers {
		if seq := oldest(); seq > 0 {
			floor = min(floor, seq)
		}
	}
	deleted := false
	for _, seq := range seqs[:len(seqs)-r.rot.MaxSegments] {
		if seq >= floor {
			break
		}
		if err := os.Remove(rotatedName(r.path, seq)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			break // keep the order: never a hole before a segment still there
		}
		deleted = true
	}
	if deleted {
		syncDir(filepath.Dir(r.path))
	}
}
