package e2e

import (
	"testing"
	"time"
)

// TestMediaFlowsBetweenBrowsers: three browsers join one room, and each
// sees, from inside its own page, the two others' video playing (real
// size, time advancing) and their audio live.
func TestMediaFlowsBetweenBrowsers(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	launched := time.Now()
	bs := launchBrowsers(t, "B", 3)
	t.Logf("3 browsers launched in %v", time.Since(launched).Round(time.Millisecond))

	start := time.Now()
	ids, err := joinAll(s.base, "e2e", bs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("3 browsers joined in %v", time.Since(start).Round(time.Millisecond))
	if n := s.participants(); n != 3 {
		t.Fatalf("server has %d participants after 3 joins, want 3", n)
	}

	states := make([]pageState, len(bs))
	took := make([]time.Duration, len(bs))
	errs := make([]error, len(bs))
	parallel(len(bs), func(i int) {
		states[i], errs[i] = bs[i].waitPlaying(othersOf(bs, ids, i), true, 0.25)
		took[i] = time.Since(start)
	})
	for i, err := range errs {
		if err != nil {
			t.Error(err)
			continue
		}
		t.Logf("%s (%s) plays both others after %v: %v", bs[i].name, ids[i], took[i].Round(time.Millisecond), states[i])
	}
	if t.Failed() {
		return
	}

	// The server agrees: one room, three participants, each publishing
	// one audio and one video track.
	for _, r := range s.srv.Rooms().Rooms() {
		if r.Name != "e2e" || len(r.Participants) != 3 {
			t.Errorf("server room %q has %d participants, want room e2e with 3", r.Name, len(r.Participants))
		}
		for _, p := range r.Participants {
			kinds := map[string]int{}
			for _, tr := range p.Tracks {
				kinds[tr.Kind]++
			}
			if kinds["audio"] != 1 || kinds["video"] != 1 {
				t.Errorf("server: %s (%s) publishes %v, want one audio and one video track", p.ID, p.Name, kinds)
			}
		}
	}
}
