package adminapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// The listing's JSON names are the admin API's (docs/api.md); a renamed
// room field must not change them.
func TestRoomListingWireNames(t *testing.T) {
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	infos := []room.Info{{Name: "r1", Participants: []room.ParticipantInfo{{ID: "p2", Identity: "u2", Name: "bob", JoinedAt: at, ResumedFrom: "p1",
		Tracks: []room.TrackInfo{{ID: "t1", Kind: "video", StreamID: "p2", Codec: "video/VP8", Muted: true}}}}}}
	data, err := json.Marshal(Rooms(infos))
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"room":"r1","participants":[{"id":"p2","identity":"u2","name":"bob","joined_at":"2026-12-02T01:00:00Z",` +
		`"tracks":[{"id":"t1","kind":"video","stream_id":"p2","codec":"video/VP8","muted":true}],"resumed_from":"p1"}]}]`
	if string(data) != want {
		t.Errorf("listing = %s\nwant      %s", data, want)
	}
	// Empty lists stay lists: a dashboard iterates them.
	data, _ = json.Marshal(Rooms([]room.Info{{Name: "r2"}}))
	if string(data) != `[{"room":"r2","participants":[]}]` {
		t.Errorf("empty room = %s", data)
	}
	data, _ = json.Marshal(Rooms(nil))
	if string(data) != `[]` {
		t.Errorf("no rooms = %s", data)
	}
}
