package sessionlog

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

var (
	// ErrClosed is returned by Append and Close after Close.
	ErrClosed = errors.New("sessionlog: log is closed")
	// ErrLocked is returned by Open when another Log (in this process or
	// another) has the file open. Two writers would each "recover" the
	// other's live sessions as crashed.
	ErrLocked = errors.New("sessionlog: log is already open by another writer")
	// ErrNotSessionLog is returned by Open for a file with several lines
	// and no record at all, which is almost certainly a wrong path; Open
	// would otherwise start cutting it.
	ErrNotSessionLog = errors.New("sessionlog: file has no records; not a session log?")
)

// Recovery describes what Open found and repaired.
type Recovery struct {
	// Records is how many whole records the log held, every segment.
	Records int `json:"records"`
	// Skipped counts unparseable lines that were not the last line. They
	// are left in place (Read skips them); only the tail is cut.
	Skipped int `json:"skipped"`
	// TornBytes is how many bytes were cut from the end: a last line with
	// no newline or that did not parse.
	TornBytes int64 `json:"torn_bytes"`
	// LastAlive is the newest record time in the file: the last moment the
	// previous run is known to have been alive. Zero for an empty file.
	LastAlive time.Time `json:"last_alive,omitzero"`
	// Closed holds the server-crash leaves appended for sessions the
	// previous run left open, ordered by join time.
	Closed []Record `json:"closed"`
}

// Log appends records to a session log file. It is safe for concurrent
// use. Records are group-committed (commit.go): Submit queues a record
// and returns at once; one writer goroutine writes everything queued with
// one write and one fsync, then reports each record durable. Append is
// Submit and wait: every Append is on disk when it returns.
type Log struct {
	now func() time.Time

	// mu guards the queue; it is never held across I/O, so Submit never
	// waits for a disk.
	mu       sync.Mutex
	queued   sync.Cond // signalled when next fills or the log closes
	next     *batch    // records waiting for the writer; nil when none
	closed   bool
	broken   error         // sticky; see writeLocked
	syncs    uint64        // batches written and fsynced, for the benchmarks
	records  uint64        // records in them
	writerOn chan struct{} // closed when the writer goroutine has ended

	// fileMu guards the file: the writer holds it across a batch's write
	// and fsync. Everything that touches f or size (recovery, a future
	// rotation) goes through writeLocked under it.
	fileMu sync.Mutex
	f      *os.File
	size   int64 // file length after the last good write, for rollback
	rs     rotationState
}

// Open opens the log at path for appending, creating it and its parent
// directories if needed, and repairs what a crash of the previous writer
// left: a torn last line is cut off, and every session with a join but no
// leave gets one leave with reason server-crash.
//
// The server-crash leave is dated at Recovery.LastAlive, the newest record
// time in the file, not at now(): the old process is known to have been
// alive then, while the time it died is unknown and the downtime until
// now() certainly had nobody connected. Dating it at now() would have the
// log claim presence during downtime, inflating durations, "current" and
// peak counts for any range that covers the outage. LastAlive is a lower
// bound, so durations are never overstated; the gap to now() is kept in
// DetectionDelaySec, which bounds how much they may be understated.
//
// now supplies the current time (time.Now if nil): for records appended
// without a Time and for the recovery's detection delay.
func Open(path string, now func() time.Time) (*Log, Recovery, error) {
	return open(path, now, Rotation{})
}

func open(path string, now func() time.Time, rot Rotation) (*Log, Recovery, error) {
	if now == nil {
		now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, Recovery{}, fmt.Errorf("sessionlog: %w", err)
	}
	// O_EXCL first, to know whether we created the file and so must make
	// its directory entry durable.
	created := true
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	}
	if err != nil {
		return nil, Recovery{}, fmt.Errorf("sessionlog: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, Recovery{}, err
	}
	if created {
		syncDir(filepath.Dir(path))
	}
	l := &Log{f: f, now: now, writerOn: make(chan struct{}), rs: rotationState{rot: rot, path: path, openJoins: map[sessionKey]int64{}}}
	l.queued.L = &l.mu
	rec, err := l.recover(path)
	if err != nil {
		f.Close()
		return nil, Recovery{}, err
	}
	go l.writeLoop()
	return l, rec, nil
}

// recover runs with the lock held, before l is shared.
func (l *Log) recover(path string) (Recovery, error) {
	var rec Recovery
	type key struct{ room, id string }
	open := map[key]Record{}
	var (
		lastOff, end int64
		lastOK       = true
		badLines     int
	)
	// Rotated segments first: a session may have joined in one of them.
	// They end on whole lines (rotate.go), so only the live one is repaired.
	seqs, err := rotatedSeqs(path)
	if err != nil {
		return rec, err
	}
	l.rs.seq = 1
	if len(seqs) > 0 {
		l.rs.seq = seqs[len(seqs)-1] + 1
	}
	track := func(r Record) {
		if r.Time.After(rec.LastAlive) {
			rec.LastAlive = r.Time
		}
		// File order is commit order, so it decides what is open, not time
		// order. A duplicate join keeps the first; a leave with no open
		// join has nothing to close.
		k := key{r.Room, r.ParticipantID}
		switch r.Event {
		case EventJoin:
			if _, dup := open[k]; !dup {
				open[k] = r
			}
		case EventLeave:
			delete(open, k)
		}
	}
	for _, seq := range seqs {
		name := rotatedName(path, seq)
		sf, err := os.Open(name)
		if err != nil {
			return rec, fmt.Errorf("sessionlog: %w", err)
		}
		err = scanLines(sf, func(_ int64, line []byte) {
			if r, ok := parseLine(line); ok {
				rec.Records++
				track(r)
			}
		})
		sf.Close()
		if err != nil {
			return rec, fmt.Errorf("sessionlog: reading %s: %w", name, err)
		}
	}
	rf, err := os.Open(path)
	if err != nil {
		return rec, fmt.Errorf("sessionlog: %w", err)
	}
	err = scanLines(rf, func(off int64, line []byte) {
		if !lastOK {
			badLines++ // the previous bad line turned out not to be the last
		}
		r, ok := parseLine(line)
		lastOff, end, lastOK = off, off+int64(len(line)), ok
		if !ok {
			return
		}
		if l.rs.first.IsZero() {
			l.rs.first = r.Time // the live segment's age counts from here
		}
		rec.Records++
		track(r)
	})
	rf.Close()
	if err != nil {
		return rec, fmt.Errorf("sessionlog: reading %s: %w", path, err)
	}
	rec.Skipped = badLines
	if rec.Records == 0 && badLines > 0 && len(seqs) == 0 {
		return rec, fmt.Errorf("%w: %s", ErrNotSessionLog, path)
	}
	dirty := false
	l.size = end
	if !lastOK {
		// Cut the torn tail so the next record starts on a clean line
		// instead of being glued onto garbage.
		if err := l.f.Truncate(lastOff); err != nil {
			return rec, fmt.Errorf("sessionlog: cutting torn line: %w", err)
		}
		rec.TornBytes = end - lastOff
		l.size = lastOff
		dirty = true
	}

	if len(open) > 0 {
		joins := make([]Record, 0, len(open))
		for _, j := range open {
			joins = append(joins, j)
		}
		slices.SortFunc(joins, func(a, b Record) int {
			return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Room, b.Room), cmp.Compare(a.ParticipantID, b.ParticipantID))
		})
		delay := max(l.now().Sub(rec.LastAlive), 0) // clamp: a clock stepped back
		var buf []byte
		for _, j := range joins {
			leave := Record{
				Time:              rec.LastAlive,
				Event:             EventLeave,
				Room:              j.Room,
				ParticipantID:     j.ParticipantID,
				Name:              j.Name,
				Identity:          j.Identity,
				Reason:            ReasonServerCrash,
				DurationSec:       rec.LastAlive.Sub(j.Time).Seconds(), // >= 0: LastAlive is the max
				DetectionDelaySec: delay.Seconds(),
			}
			line, err := json.Marshal(leave)
			if err != nil {
				return rec, fmt.Errorf("sessionlog: %w", err)
			}
			buf = append(append(buf, line...), '\n')
			rec.Closed = append(rec.Closed, leave)
		}
		// One write and one fsync for all of them: if this is torn by
		// another crash, the next Open cuts the torn line and closes
		// whatever is still open, so recovery is idempotent.
		if err := l.writeLocked(buf); err != nil {
			return rec, err // the log is not returned, so broken needs no keeping
		}
		return rec, nil // writeLocked synced, covering the truncate too
	}
	if dirty {
		if err := l.f.Sync(); err != nil {
			return rec, fmt.Errorf("sessionlog: %w", err)
		}
	}
	return rec, nil
}

// Append writes r as one line and waits until it is on disk. A zero
// r.Time is set to the log's now(); times are stored in UTC. It rejects
// records that are not a join or a leave, lack a participant id, or are
// leaves without a reason.
func (l *Log) Append(r Record) error { return l.Submit(r).Wait() }

// writeLocked appends b with a single write call, then fsyncs; callers
// hold fileMu. It is the one place bytes reach the file. One write per
// batch of whole lines means appends never interleave inside a line, and
// a kill can only tear the last one. A non-nil error with broken set
// means no later write can be trusted.
func (l *Log) writeLocked(b []byte) error {
	n, err := l.f.Write(b)
	if err != nil {
		// Take back a partial line (e.g. ENOSPC midway) so a later append
		// doesn't land on the end of it. If even that fails, stop writing:
		// everything after would be glued to garbage.
		if n > 0 {
			if terr := l.f.Truncate(l.size); terr != nil {
				return &brokenError{fmt.Errorf("sessionlog: log unusable after failed write (%v) and failed rollback: %w", err, terr)}
			}
		}
		return fmt.Errorf("sessionlog: append: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the dirty pages
		// and a retry can report success without them being on disk, so
		// no later Append could honestly claim durability.
		return &brokenError{fmt.Errorf("sessionlog: fsync failed, log no longer durable: %w", err)}
	}
	if l.size == 0 {
		l.rs.first = l.now()
	}
	l.size += int64(n)
	return nil
}

// brokenError marks a write failure that makes the log unusable.
type brokenError struct{ err error }

func (e *brokenError) Error() string { return e.err.Error() }
func (e *brokenError) Unwrap() error { return e.err }

// Close writes what is queued, closes the file and releases the writer
// lock. Appends after Close, and a second Close, return ErrClosed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.queued.Signal()
	l.mu.Unlock()
	<-l.writerOn
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	return l.f.Close()
}

// syncDir makes a newly created directory entry durable. Best effort: not
// every platform can fsync a directory, and the file's own fsyncs still
// protect its contents.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
