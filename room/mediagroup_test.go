package room

import "testing"

// TestSubscriberNamesItsRoom: the subscribe PC is told its room, which the
// engine groups /metrics' per-room adaptive-video series by.
func TestSubscriberNamesItsRoom(t *testing.T) {
	f := newFixture(t, Options{})
	f.join("alpha", "ann")
	f.join("beta", "bob")
	f.media.mu.Lock()
	defer f.media.mu.Unlock()
	var rooms []string
	for _, s := range f.media.subs {
		rooms = append(rooms, s.events.Room)
	}
	if len(rooms) != 2 || rooms[0] != "alpha" || rooms[1] != "beta" {
		t.Errorf("subscribers' rooms %q, want [alpha beta]", rooms)
	}
}
