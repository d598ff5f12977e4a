package sessionlog

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func trackRec(sec float64, event, room, id, trackID, kind string, layers ...string) Record {
	return Record{Time: at(sec), Event: event, Room: room, ParticipantID: id, Name: "name-" + id,
		Track: &Track{ID: trackID, Kind: kind, Mime: "video/VP8", Layers: layers}}
}

func TestTrackRecordsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openT(t, path, nil)
	want := []Record{
		join(0, "a", "p"),
		trackRec(1, EventTrackPublished, "a", "p", "t_1", "video", "q", "h", "f"),
		trackRec(2, EventTrackPublished, "a", "p", "t_2", "audio"),
		trackRec(3, EventTrackUnpublished, "a", "p", "t_1", "video", "q", "h", "f"),
		leave(4, "a", "p", "leave", 4),
	}
	for _, r := range want {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, skipped, err := ReadFile(path)
	if err != nil || skipped != 0 {
		t.Fatalf("ReadFile: %v, %d skipped", err, skipped)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Time.Equal(want[i].Time) || got[i].Event != want[i].Event || !reflect.DeepEqual(got[i].Track, want[i].Track) {
			t.Errorf("record %d: got %+v track %+v, want %+v track %+v", i, got[i], got[i].Track, want[i], want[i].Track)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The field names are an interface for anyone tailing the file.
	if line := strings.Split(string(raw), "\n")[1]; !strings.Contains(line, `"event":"track_published"`) ||
		!strings.Contains(line, `"track":{"id":"t_1","kind":"video","mime":"video/VP8","layers":["q","h","f"]}`) {
		t.Errorf("track line is %s", line)
	}
}

func TestTrackRecordsAreValidated(t *testing.T) {
	good := trackRec(0, EventTrackPublished, "a", "p", "t_1", "video")
	cases := map[string]func(*Record){
		"no track":            func(r *Record) { r.Track = nil },
		"no track id":         func(r *Record) { r.Track.ID = "" },
		"no kind":             func(r *Record) { r.Track.Kind = "" },
		"no participant":      func(r *Record) { r.ParticipantID = "" },
		"with a reason":       func(r *Record) { r.Reason = "leave" },
		"with a duration":     func(r *Record) { r.DurationSec = 1 },
		"with a resumed from": func(r *Record) { r.ResumedFrom = "p_0" },
	}
	if err := good.validate(); err != nil {
		t.Fatalf("a good track record is refused: %v", err)
	}
	for name, spoil := range cases {
		r := good
		track := *good.Track
		r.Track = &track
		spoil(&r)
		if r.validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	j := join(0, "a", "p")
	j.Track = &Track{ID: "t_1", Kind: "audio"}
	if j.validate() == nil {
		t.Error("a join carrying a track is accepted")
	}
}

// Track records interleaved with base() change no session figure and are
// counted on their own.
func TestSummarizeIgnoresTracksForSessions(t *testing.T) {
	withTracks := slices.Clone(base())
	withTracks = slices.Insert(withTracks, 1, trackRec(30, EventTrackPublished, "a", "A", "t_1", "audio"))
	withTracks = slices.Insert(withTracks, 4, trackRec(150, EventTrackUnpublished, "a", "A", "t_1", "audio"))
	withTracks = append(withTracks, trackRec(599, EventTrackPublished, "a", "D", "t_2", "video"))
	for _, opt := range []SummaryOptions{{}, {From: at(120)}, {Room: "a"}, {To: at(100)}} {
		plain, tracked := Summarize(base(), opt), Summarize(withTracks, opt)
		if plain.TracksPublished != 0 || plain.TracksUnpublished != 0 {
			t.Errorf("%+v: a log without track records counts tracks", opt)
		}
		wantPub, wantUnpub := 0, 0
		for _, r := range withTracks {
			inRange := (opt.From.IsZero() || !r.Time.Before(opt.From)) && (opt.To.IsZero() || !r.Time.After(opt.To))
			if inRange && r.Event == EventTrackPublished {
				wantPub++
			} else if inRange && r.Event == EventTrackUnpublished {
				wantUnpub++
			}
		}
		if tracked.TracksPublished != wantPub || tracked.TracksUnpublished != wantUnpub {
			t.Errorf("%+v: tracks %d/%d, want %d/%d", opt, tracked.TracksPublished, tracked.TracksUnpublished, wantPub, wantUnpub)
		}
		tracked.TracksPublished, tracked.TracksUnpublished = 0, 0
		if !reflect.DeepEqual(plain, tracked) {
			t.Errorf("%+v: track records changed the session figures:\n got %+v\nwant %+v", opt, tracked, plain)
		}
	}
}

// A crash with tracks open closes the session once; the track record is
// the last sign of life.
func TestCrashRecoveryWithTrackRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	file := []Record{join(0, "a", "p"), trackRec(5, EventTrackPublished, "a", "p", "t_1", "audio")}
	if err := os.WriteFile(path, encodeLines(t, file...), 0o640); err != nil {
		t.Fatal(err)
	}
	l, rec, err := Open(path, fixedNow(at(65)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if len(rec.Closed) != 1 || rec.Closed[0].ParticipantID != "p" || !rec.LastAlive.Equal(at(5)) || rec.Closed[0].DurationSec != 5 {
		t.Fatalf("recovery %+v, want p closed at the track record (5 s)", rec)
	}
}
