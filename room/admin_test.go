package room

import (
	"errors"
	"slices"
	"testing"
)

func TestKickByIDAndByIdentity(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.joinWith(JoinRequest{Room: "r", Name: "ann", Identity: "user-1", Permissions: AllPermissions})
	ann2 := f.joinWith(JoinRequest{Room: "r", Name: "ann's phone", Identity: "user-1", Permissions: AllPermissions})
	bob := f.join("r", "bob")
	n := bob.heard.count()

	kicked, err := f.m.Kick("r", "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ann.id, ann2.id}; !slices.Equal(kicked, want) {
		t.Fatalf("kicked %v, want %v (join order)", kicked, want)
	}
	expect(t, "bob", bob.heard, n, "participant-left "+ann.id+" kicked", "participant-left "+ann2.id+" kicked")
	if _, err := f.m.Kick("r", bob.id); err != nil {
		t.Fatal(err)
	}
	bob.heard.waitFor(t, n, "left kicked")

	f.join("r", "cat")
	if _, err := f.m.Kick("r", ann.id); !errors.Is(err, ErrNoSuchParticipant) {
		t.Fatalf("kick of someone gone: %v, want ErrNoSuchParticipant", err)
	}
	if _, err := f.m.Kick("nowhere", "x"); !errors.Is(err, ErrNoSuchRoom) {
		t.Fatalf("kick in no room: %v, want ErrNoSuchRoom", err)
	}
}

// Closing a room makes everyone leave with room-closed; the name can be
// used again at once.
func TestCloseRoomEmptiesItAndKeepsTheName(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	bob := f.join("r", "bob")
	stay := f.join("other", "cat")
	n, err := f.m.CloseRoom("r")
	if err != nil || n != 2 {
		t.Fatalf("CloseRoom = %d, %v; want 2, nil", n, err)
	}
	ann.heard.waitFor(t, 0, "left room-closed")
	bob.heard.waitFor(t, 0, "left room-closed")
	if stay.hasLeft() {
		t.Fatal("closing r ended a session in another room")
	}
	if rooms := f.m.Rooms(); len(rooms) != 1 || rooms[0].Name != "other" {
		t.Fatalf("rooms after close: %+v", rooms)
	}
	if _, err := f.m.CloseRoom("r"); !errors.Is(err, ErrNoSuchRoom) {
		t.Fatalf("closing a closed room: %v, want ErrNoSuchRoom", err)
	}
	f.join("r", "dan")
}
