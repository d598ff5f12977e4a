package sessionlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(secondsToDuration(sec)) }

func join(sec float64, room, id string) Record {
	return Record{Time: at(sec), Event: EventJoin, Room: room, ParticipantID: id, Name: "name-" + id}
}

func leave(sec float64, room, id, reason string, dur float64) Record {
	return Record{Time: at(sec), Event: EventLeave, Room: room, ParticipantID: id, Name: "name-" + id, Reason: reason, DurationSec: dur}
}

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func openT(t *testing.T, path string, now func() time.Time) (*Log, Recovery) {
	t.Helper()
	l, rec, err := Open(path, now)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l, rec
}

func readT(t *testing.T, path string) ([]Record, int) {
	t.Helper()
	recs, skipped, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	return recs, skipped
}

// encodeLines renders records exactly as Append writes them.
func encodeLines(t *testing.T, recs ...Record) []byte {
	t.Helper()
	var b []byte
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(b, line...), '\n')
	}
	return b
}

func TestAppendReadRoundTrip(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*3600)
	in := []Record{
		join(0, "lobby", "p1"),
		{Time: time.Date(2024, 5, 1, 12, 0, 1, 123456789, berlin), Event: EventJoin, Room: "lobby", ParticipantID: "p2",
			Name: "Zoë \"Z\" 😀\nsecond line\u2028"}, // newlines must stay escaped inside one line
		leave(60.5, "lobby", "p1", "ping-timeout", 60.5),
		{Time: at(61), Event: EventLeave, Room: "lobby", ParticipantID: "p2", Name: "x", Reason: "socket-closed", DurationSec: 1e-9, DetectionDelaySec: 12.25},
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, rec := openT(t, path, nil)
	if rec.Records != 0 || rec.TornBytes != 0 || len(rec.Closed) != 0 {
		t.Fatalf("fresh log recovery = %+v, want nothing", rec)
	}
	for _, r := range in {
		if err := l.Append(r); err != nil {
			t.Fatalf("Append(%+v): %v", r, err)
		}
	}
	got, skipped := readT(t, path)
	if skipped != 0 || len(got) != len(in) {
		t.Fatalf("read %d records, %d skipped; want %d, 0", len(got), skipped, len(in))
	}
	for i := range in {
		want := in[i]
		want.Time = want.Time.UTC()
		if got[i] != want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	raw, _ := os.ReadFile(path)
	if n := bytes.Count(raw, []byte("\n")); n != len(in) {
		t.Errorf("file has %d lines, want %d", n, len(in))
	}
	// Fixed-width UTC times: text order is time order.
	if !bytes.Contains(raw, []byte(`"time":"2024-05-01T10:00:00.000000000Z"`)) ||
		!bytes.Contains(raw, []byte(`"time":"2024-05-01T10:00:01.123456789Z"`)) {
		t.Errorf("times not in fixed-width UTC form:\n%s", raw)
	}
	// omitempty keeps leave-only fields off join lines.
	if first, _, _ := bytes.Cut(raw, []byte("\n")); bytes.Contains(first, []byte(`"reason"`)) || bytes.Contains(first, []byte(`"duration_s"`)) {
		t.Errorf("join line carries leave-only fields: %s", first)
	}
}

func TestAppendRejectsBadRecords(t *testing.T) {
	cases := []struct {
		name string
		r    Record
	}{
		{"no event", Record{Time: t0, ParticipantID: "p"}},
		{"unknown event", Record{Time: t0, Event: "joined", ParticipantID: "p"}},
		{"no participant", Record{Time: t0, Event: EventJoin}},
		{"leave without reason", Record{Time: t0, Event: EventLeave, ParticipantID: "p"}},
		{"join with reason", Record{Time: t0, Event: EventJoin, ParticipantID: "p", Reason: "leave"}},
		{"join with duration", Record{Time: t0, Event: EventJoin, ParticipantID: "p", DurationSec: 3}},
		{"negative duration", Record{Time: t0, Event: EventLeave, ParticipantID: "p", Reason: "leave", DurationSec: -1}},
	}
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openT(t, path, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := l.Append(c.r); err == nil {
				t.Errorf("Append(%+v) = nil, want error", c.r)
			}
		})
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Errorf("rejected records reached the file (%d bytes)", fi.Size())
	}
}

func TestAppendZeroTimeUsesNow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	l, _ := openT(t, path, fixedNow(now))
	if err := l.Append(Record{Event: EventJoin, Room: "r", ParticipantID: "p"}); err != nil {
		t.Fatal(err)
	}
	got, _ := readT(t, path)
	if len(got) != 1 || !got[0].Time.Equal(now) {
		t.Fatalf("got %+v, want one record at %v", got, now)
	}
}

func TestConcurrentAppends(t *testing.T) {
	const writers, each = 32, 50
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openT(t, path, nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := join(float64(i), fmt.Sprintf("room-%d", w%4), fmt.Sprintf("w%d-%d", w, i))
				r.Name = strings.Repeat("n", 50+w*13) // varied lengths make interleaving visible
				if err := l.Append(r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		t.Fatalf("file does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	seen := map[string]bool{}
	for i, line := range lines {
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d is not valid JSON (%v): %.80q", i+1, err, line)
		}
		if seen[r.ParticipantID] {
			t.Fatalf("participant %s written twice", r.ParticipantID)
		}
		seen[r.ParticipantID] = true
	}
	for w := range writers {
		for i := range each {
			if id := fmt.Sprintf("w%d-%d", w, i); !seen[id] {
				t.Errorf("record %s missing", id)
			}
		}
	}
}

func TestClosedLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := l.Append(join(0, "r", "p")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestOpenCreatesDirsAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "sessions.jsonl")
	openT(t, path, nil)
	for _, c := range []struct {
		path string
		max  os.FileMode
	}{{dir, 0o750}, {path, 0o640}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may take bits away, never add them.
		if p := fi.Mode().Perm(); p&^c.max != 0 || p&0o600 != 0o600 {
			t.Errorf("%s has mode %v, want within %v and owner rw", c.path, p, c.max)
		}
	}
}

func TestOpenIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l2, _, err := Open(path, nil); !errors.Is(err, ErrLocked) {
		if l2 != nil {
			l2.Close()
		}
		t.Skipf("second Open = %v; flock not enforced on this platform", err)
	}
	l.Close()
	l3, _, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l3.Close()
}

func TestTornLastLine(t *testing.T) {
	good := []Record{join(0, "r", "p1"), join(1, "r", "p2"), leave(2, "r", "p1", "leave", 2)}
	full := encodeLines(t, leave(3, "r", "p2", "leave", 2))
	cases := []struct {
		name string
		tail string
	}{
		{"cut mid-line", string(full[:len(full)/2])},
		{"cut one byte short", string(full[:len(full)-2])},
		// Whole JSON but no newline: not committed, so not a record.
		{"missing only the newline", string(full[:len(full)-1])},
		{"garbage with newline", "{\"time\":\"2024-05-01T10:00:0\n"},
		{"zero-filled tail (power loss)", "\x00\x00\x00\x00\x00\x00"},
		{"single byte", "{"},
		{"blank line", "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.jsonl")
			prefix := encodeLines(t, good...)
			if err := os.WriteFile(path, append(append([]byte{}, prefix...), c.tail...), 0o640); err != nil {
				t.Fatal(err)
			}

			// Unrepaired: Read keeps the whole records and counts the torn one.
			got, skipped := readT(t, path)
			if len(got) != len(good) || skipped != 1 {
				t.Fatalf("unrepaired read: %d records, %d skipped; want %d, 1", len(got), skipped, len(good))
			}

			l, rec := openT(t, path, fixedNow(at(10)))
			if rec.TornBytes != int64(len(c.tail)) || rec.Records != len(good) || rec.Skipped != 0 {
				t.Errorf("recovery = %+v, want %d torn bytes, %d records", rec, len(c.tail), len(good))
			}
			next := join(5, "r", "p3")
			if err := l.Append(next); err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(path)
			// p2 is still open, so recovery appended its server-crash leave.
			want := append(append([]byte{}, prefix...), encodeLines(t, rec.Closed...)...)
			want = append(want, encodeLines(t, next)...)
			if !bytes.Equal(raw, want) {
				t.Errorf("file after repair and append:\n%s\nwant:\n%s", raw, want)
			}
			got, skipped = readT(t, path)
			if skipped != 0 || len(got) != len(good)+len(rec.Closed)+1 {
				t.Errorf("repaired read: %d records, %d skipped", len(got), skipped)
			}
		})
	}
}

func TestOpenKeepsGarbageBeforeTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	content := append(encodeLines(t, join(0, "r", "p1")), "not json\n"...)
	content = append(content, encodeLines(t, leave(1, "r", "p1", "leave", 1))...)
	if err := os.WriteFile(path, content, 0o640); err != nil {
		t.Fatal(err)
	}
	_, rec := openT(t, path, nil)
	if rec.Skipped != 1 || rec.TornBytes != 0 || rec.Records != 2 || len(rec.Closed) != 0 {
		t.Errorf("recovery = %+v, want 2 records, 1 skipped, nothing cut or closed", rec)
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, content) {
		t.Errorf("file changed:\n%s", raw)
	}
}

func TestOpenRefusesNonLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte("shopping list\neggs\nmilk")
	if err := os.WriteFile(path, content, 0o640); err != nil {
		t.Fatal(err)
	}
	if l, _, err := Open(path, nil); !errors.Is(err, ErrNotSessionLog) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Open = %v, want ErrNotSessionLog", err)
	}
	if raw, _ := os.ReadFile(path); !bytes.Equal(raw, content) {
		t.Errorf("file changed to %q", raw)
	}
}

func TestCrashRecovery(t *testing.T) {
	file := []Record{
		join(0, "a", "closed"),
		join(1, "a", "open1"),
		join(2, "b", "open2"),
		leave(3, "a", "closed", "leave", 3),
		join(4, "a", "rejoin"),
		leave(5, "a", "rejoin", "socket-closed", 1),
		join(6, "a", "rejoin"), // second session of the same id: open
		join(7, "a", "dup"),
		join(8, "a", "dup"),   // duplicate join: still one open session
		join(9, "b", "open1"), // same id in another room: its own session
		leave(10, "c", "ghost", "leave", 1),
		join(11, "a", "late"),
		leave(12, "a", "late", "kicked", 1),
	}
	lastAlive := at(12)
	now := at(3612) // restarted an hour after the last record
	type key struct{ room, id string }
	wantClosed := map[key]time.Time{ // -> join time
		{"a", "open1"}:  at(1),
		{"b", "open2"}:  at(2),
		{"a", "rejoin"}: at(6),
		{"a", "dup"}:    at(7),
		{"b", "open1"}:  at(9),
	}

	path := filepath.Join(t.TempDir(), "s.jsonl")
	if err := os.WriteFile(path, encodeLines(t, file...), 0o640); err != nil {
		t.Fatal(err)
	}
	l, rec, err := Open(path, fixedNow(now))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Records != len(file) || !rec.LastAlive.Equal(lastAlive) {
		t.Errorf("recovery read %d records, last alive %v; want %d, %v", rec.Records, rec.LastAlive, len(file), lastAlive)
	}
	if len(rec.Closed) != len(wantClosed) {
		t.Errorf("closed %d sessions, want %d: %+v", len(rec.Closed), len(wantClosed), rec.Closed)
	}
	for i, c := range rec.Closed {
		joined, ok := wantClosed[key{c.Room, c.ParticipantID}]
		if !ok {
			t.Errorf("closed %s/%s, which was not open", c.Room, c.ParticipantID)
			continue
		}
		delete(wantClosed, key{c.Room, c.ParticipantID})
		if c.Event != EventLeave || c.Reason != ReasonServerCrash || !c.Time.Equal(lastAlive) ||
			c.Duration() != lastAlive.Sub(joined) || c.DetectionDelaySec != 3600 || c.Name != "name-"+c.ParticipantID {
			t.Errorf("closing leave %+v: want server-crash at last alive %v, duration %v, delay 3600s", c, lastAlive, lastAlive.Sub(joined))
		}
		if i > 0 && c.Time.Before(rec.Closed[i-1].Time) {
			t.Errorf("closing leaves not in order")
		}
	}
	for k := range wantClosed {
		t.Errorf("%v left open", k)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// The file now holds exactly one server-crash leave per open session
	// and nothing else new; the log says nobody is present.
	got, skipped := readT(t, path)
	if skipped != 0 || len(got) != len(file)+len(rec.Closed) {
		t.Fatalf("after recovery: %d records (%d skipped), want %d", len(got), skipped, len(file)+len(rec.Closed))
	}
	crashes := map[key]int{}
	for _, r := range got {
		if r.Reason == ReasonServerCrash {
			crashes[key{r.Room, r.ParticipantID}]++
		}
	}
	for k, n := range crashes {
		if n != 1 {
			t.Errorf("%v has %d server-crash leaves", k, n)
		}
	}
	if crashes[key{"a", "closed"}] != 0 || crashes[key{"a", "late"}] != 0 {
		t.Errorf("already-closed sessions got a server-crash leave")
	}
	if s := Summarize(got, SummaryOptions{}); s.Current != 0 || s.LeavesByReason[ReasonServerCrash] != 5 {
		t.Errorf("summary after recovery: current %d, server-crash %d; want 0, 5", s.Current, s.LeavesByReason[ReasonServerCrash])
	}

	// Reopening adds nothing.
	before, _ := os.ReadFile(path)
	_, rec2 := openT(t, path, fixedNow(now.Add(time.Hour)))
	if len(rec2.Closed) != 0 || rec2.TornBytes != 0 {
		t.Errorf("second recovery = %+v, want nothing to do", rec2)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("second Open changed the file")
	}
}

// A clock stepped back must not produce a negative detection delay.
func TestCrashRecoveryClockBehind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	if err := os.WriteFile(path, encodeLines(t, join(100, "a", "p")), 0o640); err != nil {
		t.Fatal(err)
	}
	_, rec := openT(t, path, fixedNow(at(0)))
	if len(rec.Closed) != 1 || rec.Closed[0].DetectionDelaySec != 0 || rec.Closed[0].DurationSec != 0 {
		t.Fatalf("closed = %+v, want one leave with zero delay and duration", rec.Closed)
	}
}
