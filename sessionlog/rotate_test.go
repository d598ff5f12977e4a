package sessionlog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openRotT(t *testing.T, path string, now func() time.Time, rot Rotation) (*Log, Recovery) {
	t.Helper()
	l, rec, err := OpenRotating(path, now, rot)
	if err != nil {
		t.Fatalf("OpenRotating(%s): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l, rec
}

func ids(recs []Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Event+" "+r.ParticipantID)
	}
	return out
}

// Segments are numbered oldest first, each within the size, and reading
// the log (ReadAll, the sessions report) sees every record once, in order.
func TestRotationBySizeKeepsEveryRecordInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	const maxBytes = 400
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: maxBytes})
	var want []string
	for i := range 20 {
		r := join(float64(i), "r", fmt.Sprintf("p%02d", i))
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
		want = append(want, "join "+r.ParticipantID)
	}
	files, err := Files(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 || files[0] != path+".000001" || files[1] != path+".000002" || files[len(files)-1] != path {
		t.Fatalf("segments %v, want %s.000001, .000002, … then %s", files, path, path)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() > maxBytes || st.Size() == 0 {
			t.Errorf("segment %s: %v, size %d (max %d, never empty)", f, err, st.Size(), maxBytes)
		}
	}
	got, skipped, err := ReadAll(path)
	if err != nil || skipped != 0 || !slices.Equal(ids(got), want) {
		t.Fatalf("ReadAll = %v, %d skipped, %v; want %v", ids(got), skipped, err, want)
	}
}

func TestRotationByAge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l, _ := openRotT(t, path, clock, Rotation{MaxAge: time.Hour})
	for i := range 5 {
		if err := l.Append(Record{Event: EventJoin, Room: "r", ParticipantID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		advance(40 * time.Minute) // records at 0, 40, 80, 120, 160 min
	}
	files, _ := Files(path)
	// 0,40 | 80,120 | 160: a segment rotates once its first record is an hour old.
	if len(files) != 3 {
		t.Fatalf("segments %v, want 3", files)
	}
	// The age survives a restart: it counts from the live file's first record.
	l.Close()
	l2, _ := openRotT(t, path, clock, Rotation{MaxAge: time.Hour})
	advance(30 * time.Minute) // the live segment's first record is now 70 min old
	if err := l2.Append(Record{Event: EventJoin, Room: "r", ParticipantID: "late"}); err != nil {
		t.Fatal(err)
	}
	if files, _ := Files(path); len(files) != 4 {
		t.Fatalf("after restart: segments %v, want 4", files)
	}
}

// A session that joined in a rotated segment and never left is closed by
// recovery like one in the live file, also when the crash came between
// the rename and the new file's creation (no live file at all).
func TestRecoveryReadsRotatedSegments(t *testing.T) {
	for _, noLive := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "sessions.jsonl")
		l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 300})
		for _, r := range []Record{join(1, "r", "stays"), join(2, "r", "goes"), leave(3, "r", "goes", "leave", 1), join(4, "r", "x"), leave(5, "r", "x", "leave", 1), join(6, "r", "y"), leave(7, "r", "y", "leave", 1)} {
			if err := l.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		l.Close() // as a kill would leave it: no leave for "stays"
		if files, _ := Files(path); len(files) < 3 {
			t.Fatalf("segments %v: the join did not rotate away", files)
		}
		if noLive {
			seqs, _ := rotatedSeqs(path)
			if err := os.Rename(path, rotatedName(path, seqs[len(seqs)-1]+1)); err != nil {
				t.Fatal(err)
			}
		}
		_, rec := openRotT(t, path, fixedNow(at(100)), Rotation{MaxBytes: 300})
		if len(rec.Closed) != 1 || rec.Closed[0].ParticipantID != "stays" || rec.Closed[0].DurationSec != 6 || rec.Records != 7 {
			t.Fatalf("noLive=%v: recovery %+v, want one server-crash leave for stays, 6 s, of 7 records", noLive, rec)
		}
		all, _, err := ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if s := Summarize(all, SummaryOptions{}); s.Current != 0 {
			t.Errorf("noLive=%v: %d still present after recovery", noLive, s.Current)
		}
	}
}

// A follower's position in the live segment stays valid when it rotates:
// ReadAt finishes the rotated file from there and goes on into the new
// one, losing and repeating nothing. A position without a segment (saved
// before rotation existed) means the live file.
func TestReadAtFollowsRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 500})
	appendN := func(from, n int) {
		for i := from; i < from+n; i++ {
			if err := l.Append(join(float64(i), "r", fmt.Sprintf("p%02d", i))); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendN(0, 2)
	legacy, next, err := ReadAt(path, Position{}, 1)
	if err != nil || len(legacy) != 1 || legacy[0].ParticipantID != "p00" || next.Seq != 1 {
		t.Fatalf("ReadAt(zero position) = %v, %+v, %v; want p00 in segment 1", legacy, next, err)
	}
	appendN(2, 20) // rotates several times past the cursor
	if files, _ := Files(path); len(files) < 3 {
		t.Fatalf("segments %v, want several", files)
	}
	var got []string
	pos := next
	for {
		es, n, err := ReadAt(path, pos, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			got = append(got, e.ParticipantID)
			if e.Pos.Seq == 0 || e.Pos.Offset != e.End {
				t.Fatalf("entry position %+v, end %d", e.Pos, e.End)
			}
		}
		if len(es) == 0 {
			break
		}
		pos = n
	}
	var want []string
	for i := 1; i < 22; i++ {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("followed %v, want %v", got, want)
	}
	start, err := Start(path)
	if err != nil || start != (Position{Seq: 1}) {
		t.Fatalf("Start = %+v, %v", start, err)
	}
	all, end, err := ReadAt(path, start, 0)
	if err != nil || len(all) != 22 {
		t.Fatalf("ReadAt(start, all) = %d records, %v; want 22", len(all), err)
	}
	if end != pos {
		t.Fatalf("end %+v, follower at %+v", end, pos)
	}
}

// The sessions report covers every segment: a stay that began in a
// rotated file and ended in the live one is one session.
func TestCLIReadsAcrossRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.jsonl")
	l, _ := openRotT(t, path, nil, Rotation{MaxBytes: 300})
	for _, r := range []Record{join(1, "r", "a"), join(2, "r", "b"), join(3, "r", "c"), leave(60, "r", "a", "leave", 59)} {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if files, _ := Files(path); len(files) < 2 {
		t.Fatalf("segments %v: nothing rotated", files)
	}
	var out, errOut strings.Builder
	if code := RunCLI([]string{"--log", path, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var s Summary
	if err := json.Unmarshal([]byte(out.String()), &s); err != nil {
		t.Fatal(err)
	}
	if s.Joins != 3 || s.Leaves != 1 || s.Current != 2 {
		t.Fatalf("summary %+v, want 3 joins, 1 leave, 2 present", s)
	}
}
