package sessionlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Rotation says when the live segment is renamed and a new one started
// (segments.go names them). Zero fields never rotate.
type Rotation struct {
	MaxBytes int64         // rotate before a write would take the file past this
	MaxAge   time.Duration // rotate once the file's first write is this old
	// MaxSegments is how many rotated segments to keep (0: all); older
	// ones are deleted at each rotation unless still needed (retention.go).
	MaxSegments int
}

// OpenRotating is Open with rotation. Recovery reads every segment, so a
// session that joined in a rotated segment and never left is closed as
// server-crash like any other.
func OpenRotating(path string, now func() time.Time, rot Rotation) (*Log, Recovery, error) {
	return open(path, now, rot)
}

// rotationState is the writer's view of the live segment; guarded by fileMu.
type rotationState struct {
	rot   Rotation
	path  string
	seq   int64     // the live segment's number
	first time.Time // when the live segment got its first bytes; zero while empty

	readers   []func() int64       // Retain
	openJoins map[sessionKey]int64 // open sessions → the segment of their join
}

// dueLocked reports whether n more bytes should go to a new segment.
// An empty segment never rotates, so one oversized batch still lands.
func (l *Log) dueLocked(n int) bool {
	r := &l.rs
	if l.size == 0 {
		return false
	}
	if r.rot.MaxBytes > 0 && l.size+int64(n) > r.rot.MaxBytes {
		return true
	}
	return r.rot.MaxAge > 0 && !r.first.IsZero() && l.now().Sub(r.first) >= r.rot.MaxAge
}

// rotateLocked renames the live segment to its number and starts an
// empty one at path, locked before the old file (and its lock) is let go.
// Every batch before was fsynced whole, so the rotated file ends on a
// line. A crash between the rename and the create leaves no live file:
// the next Open creates it and reads the rotated ones for open sessions.
func (l *Log) rotateLocked() error {
	r := &l.rs
	old := rotatedName(r.path, r.seq)
	if _, err := os.Lstat(old); err == nil {
		return &brokenError{fmt.Errorf("sessionlog: cannot rotate: %s exists", old)}
	}
	if err := os.Rename(r.path, old); err != nil {
		return fmt.Errorf("sessionlog: rotate: %w", err) // nothing changed; keep writing the old file
	}
	f, err := os.OpenFile(r.path, os.O_APPEND|os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err == nil {
		if err = lockFile(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		// Put the old segment back so writes go on where readers expect them.
		if rerr := os.Rename(old, r.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return &brokenError{fmt.Errorf("sessionlog: rotate: %w (and restoring %s: %v)", err, r.path, rerr)}
		}
		return fmt.Errorf("sessionlog: rotate: %w", err)
	}
	syncDir(filepath.Dir(r.path))
	l.f.Close()
	l.f, l.size = f, 0
	r.seq++
	r.first = time.Time{}
	return nil
}
