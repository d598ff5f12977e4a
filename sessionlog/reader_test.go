package sessionlog

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFromFollowsCommittedLinesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	join := `{"time":"2026-01-01T00:00:00.000000000Z","event":"join","room":"r","participant_id":"p1","name":"A"}` + "\n"
	leave := `{"time":"2026-01-01T00:00:01.000000000Z","event":"leave","room":"r","participant_id":"p1","name":"A","reason":"leave"}` + "\n"
	torn := `{"time":"2026-01-01T00:00:02.000000000Z","event":"jo`
	if err := os.WriteFile(path, []byte(join+"garbage\n"+leave+torn), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, next, err := ReadFrom(path, 0, 0)
	if err != nil || len(entries) != 2 || entries[0].ParticipantID != "p1" || entries[1].Reason != "leave" {
		t.Fatalf("ReadFrom = %+v, %v; want the join and the leave", entries, err)
	}
	if want := int64(len(join + "garbage\n" + leave)); next != want || entries[1].End != want || string(entries[0].Line) != join {
		t.Fatalf("next %d, end %d, want %d (the torn line is not committed)", next, entries[1].End, want)
	}
	// max bounds one call; the cursor continues where it stopped.
	first, mid, _ := ReadFrom(path, 0, 1)
	rest, _, _ := ReadFrom(path, mid, 0)
	if len(first) != 1 || len(rest) != 1 || rest[0].Event != EventLeave {
		t.Fatalf("paged reads: %+v then %+v", first, rest)
	}
	// The torn line becomes a record once its newline is written.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString(`in","room":"r","participant_id":"p2","name":"B"}` + "\n")
	f.Close()
	more, _, err := ReadFrom(path, next, 0)
	if err != nil || len(more) != 1 || more[0].ParticipantID != "p2" {
		t.Fatalf("after the newline: %+v, %v", more, err)
	}
	if _, _, err := ReadFrom(path, 1<<20, 0); !errors.Is(err, ErrShrunk) {
		t.Fatalf("cursor past the end: %v, want ErrShrunk", err)
	}
}
