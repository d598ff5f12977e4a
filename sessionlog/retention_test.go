package sessionlog

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// seqsOf lists path's rotated segment numbers.
func seqsOf(t *testing.T, path string) []int64 {
	t.Helper()
	seqs, err := rotatedSeqs(path)
	if err != nil {
		t.Fatal(err)
	}
	return seqs
}

// churn appends n join/leave pairs, each session closed at once.
func churn(t *testing.T, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		id := fmt.Sprintf("p%03d", i)
		if err := l.Append(join(float64(2*i), "r", id)); err != nil {
			t.Fatal(err)
		}
		if err := l.Append(leave(float64(2*i+1), "r", id, "leave", 1)); err != nil {
			t.Fatal(err)
		}
	}
}

// Beyond max_segments the oldest rotated segments go, and what is left
// still reads: ReadAll, and the sessions report.
func TestRetentionDeletesTheOldestBeyondTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 400, MaxSegments: 3})
	churn(t, l, 0, 40)
	seqs := seqsOf(t, path)
	if len(seqs) != 3 || seqs[0] == 1 {
		t.Fatalf("rotated segments %v, want the newest 3", seqs)
	}
	if want := []int64{seqs[0], seqs[0] + 1, seqs[0] + 2}; !slices.Equal(seqs, want) {
		t.Fatalf("rotated segments %v, want %v: no hole", seqs, want)
	}
	got, skipped, err := ReadAll(path)
	if err != nil || skipped != 0 || len(got) == 0 {
		t.Fatalf("ReadAll after retention: %d records, %d skipped, %v", len(got), skipped, err)
	}
	if last := got[len(got)-1]; last.ParticipantID != "p039" || last.Event != EventLeave {
		t.Fatalf("ReadAll ends with %+v, want p039's leave", last)
	}
	var out, errb bytes.Buffer
	if code := RunCLI([]string{"--log", path}, &out, &errb); code != 0 || !strings.Contains(out.String(), "leave") {
		t.Fatalf("switchyard sessions after retention: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

// 0 keeps every segment, as before retention existed.
func TestRetentionZeroKeepsAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 400})
	churn(t, l, 0, 20)
	if seqs := seqsOf(t, path); len(seqs) < 5 || seqs[0] != 1 {
		t.Fatalf("rotated segments %v, want all from 1", seqs)
	}
}

// A reader registered with Retain (a lagging webhook) keeps its segment
// and every later one until it moves on; then the next rotation deletes
// them.
func TestRetentionKeepsWhatAReaderStillNeeds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 400, MaxSegments: 2})
	var reader atomic.Int64
	reader.Store(1) // stuck in the first segment
	l.Retain(reader.Load)
	churn(t, l, 0, 40)
	seqs := seqsOf(t, path)
	if seqs[0] != 1 || len(seqs) < 6 {
		t.Fatalf("rotated segments %v: the reader's segment 1 and after must stay", seqs)
	}
	reader.Store(seqs[3]) // delivered up to there
	churn(t, l, 40, 4)
	after := seqsOf(t, path)
	if after[0] != seqs[3] {
		t.Fatalf("after the reader moved to %d: rotated segments %v, want from %d on", seqs[3], after, seqs[3])
	}
	reader.Store(0) // caught up with the live segment
	churn(t, l, 44, 4)
	if left := seqsOf(t, path); len(left) != 2 {
		t.Fatalf("reader caught up: rotated segments %v, want the newest 2", left)
	}
}

// A session still open keeps the segment of its join: recovery after a
// crash must see the join to close it as server-crash.
func TestRetentionKeepsTheJoinOfAnOpenSession(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	rot := Rotation{MaxBytes: 400, MaxSegments: 2}
	l, _ := openRotT(t, path, nil, rot)
	if err := l.Append(join(0, "r", "stays")); err != nil {
		t.Fatal(err)
	}
	churn(t, l, 1, 40)
	if seqs := seqsOf(t, path); seqs[0] != 1 {
		t.Fatalf("rotated segments %v: segment 1 holds an open session's join", seqs)
	}
	l.Close() // a crash: "stays" never left
	l2, rec := openRotT(t, path, nil, rot)
	if len(rec.Closed) != 1 || rec.Closed[0].ParticipantID != "stays" {
		t.Fatalf("recovery closed %v, want stays", ids(rec.Closed))
	}
	// Closed now, its segment goes at the next rotation.
	churn(t, l2, 41, 4)
	if seqs := seqsOf(t, path); len(seqs) != 2 {
		t.Fatalf("rotated segments %v, want the newest 2 once stays is closed", seqs)
	}
}
