package room

import (
	"slices"
	"testing"
	"time"
)

func speakerIDs(s []Speaker) []string {
	ids := []string{}
	for _, x := range s {
		ids = append(ids, x.ParticipantID)
	}
	return ids
}

func TestSpeakerWatchAnnouncesChangesAtMostEvery300ms(t *testing.T) {
	var w speakerWatch
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	loud, silent := 117.0, 0.0
	steps := []struct {
		ms       int
		levels   map[string]float64
		wantSend bool
		want     []string
	}{
		{0, map[string]float64{"a": loud, "b": silent}, false, nil},               // a smoothed to 58: not yet
		{100, map[string]float64{"a": loud, "b": silent}, true, []string{"a"}},    // 88: speaking
		{200, map[string]float64{"a": loud, "b": loud}, false, nil},               // b at 58, a still: no change
		{300, map[string]float64{"a": loud, "b": loud}, false, nil},               // b speaks, but 200 ms since the last
		{400, map[string]float64{"a": loud, "b": loud}, true, []string{"a", "b"}}, // now due
		{500, map[string]float64{"a": silent, "b": loud}, false, nil},             // a falls slowly: 86
		{600, map[string]float64{"a": silent, "b": loud}, false, nil},             // a 65 gone, but too soon
		{700, map[string]float64{"a": silent, "b": loud}, true, []string{"b"}},
		{800, map[string]float64{"b": loud}, false, nil}, // a left: b is still all
		{1000, map[string]float64{}, true, []string{}},   // nobody publishes
	}
	for _, s := range steps {
		got, send := w.update(at(s.ms), s.levels)
		if send != s.wantSend || send && !slices.Equal(speakerIDs(got), s.want) {
			t.Fatalf("at %d ms: sent %v %v, want %v %v", s.ms, send, speakerIDs(got), s.wantSend, s.want)
		}
		if send && got == nil {
			t.Fatalf("at %d ms: nil list; the wire needs []", s.ms)
		}
	}
}

func TestSpeakersAreOrderedLoudestFirst(t *testing.T) {
	var w speakerWatch
	now := time.Unix(1000, 0)
	for range 5 {
		now = now.Add(speakerSampleInterval)
		w.update(now, map[string]float64{"a": 100, "b": 127, "c": 110})
	}
	if got := speakerIDs(w.sent); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("order %v, want loudest first", got)
	}
}

func TestChatTokenBucket(t *testing.T) {
	var b tokenBucket
	now := time.Unix(1000, 0)
	for i := range ChatBurst {
		if !b.allow(now) {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	if b.allow(now) {
		t.Fatal("message past the burst allowed")
	}
	now = now.Add(time.Second / ChatRate)
	if !b.allow(now) || b.allow(now) {
		t.Fatal("after 1/rate seconds exactly one more message must pass")
	}
	now = now.Add(time.Hour)
	for i := range ChatBurst {
		if !b.allow(now) {
			t.Fatalf("after a long pause, message %d refused: the bucket must refill to the burst", i+1)
		}
	}
	if b.allow(now) {
		t.Fatal("the bucket refilled past the burst")
	}
}
