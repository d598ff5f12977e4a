package server

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// sendMedia writes numbered audio and video packets every 10 ms until ctx ends.
func sendMedia(ctx context.Context, wg *sync.WaitGroup, id string, tracks testclient.Tracks) {
	sendMediaEvery(ctx, wg, id, tracks, 10*time.Millisecond)
}

// sendMediaEvery writes numbered audio and video packets every interval
// until ctx ends.
func sendMediaEvery(ctx context.Context, wg *sync.WaitGroup, id string, tracks testclient.Tracks, interval time.Duration) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for seq := 0; ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			hdr := rtp.Header{Version: 2, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 960), Marker: true}
			_ = tracks.Audio.WriteRTP(&rtp.Packet{Header: hdr, Payload: payloadFor(id, "audio", seq)})
			_ = tracks.Video.WriteRTP(&rtp.Packet{Header: hdr, Payload: payloadFor(id, "video", seq)})
		}
	}()
}

// received tallies, per sender and kind, intact packets seen by one client.
type received map[string]map[string]int

// collect reads c's packets until want(got) holds, failing on any packet
// that is corrupted, from the wrong stream, or the client's own.
func collect(ctx context.Context, t *testing.T, self string, c *testclient.Client, want func(received) bool) received {
	t.Helper()
	got := received{}
	for !want(got) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: timed out; received %v", self, got)
		case p := <-c.Packets:
			sender, kind, seq, ok := parsePayload(p.Payload)
			switch {
			case !ok || !bytes.Equal(p.Payload, payloadFor(sender, kind, seq)):
				t.Fatalf("%s: corrupted payload %q", self, p.Payload)
			case sender == self:
				t.Fatalf("%s received its own %s packet", self, kind)
			case p.StreamID != sender || p.Kind != kind:
				t.Fatalf("%s: packet from %s/%s arrived on stream %s/%s", self, sender, kind, p.StreamID, p.Kind)
			}
			if got[sender] == nil {
				got[sender] = map[string]int{}
			}
			got[sender][kind]++
		}
	}
	return got
}

func atLeast(n int, senders ...string) func(received) bool {
	return func(r received) bool {
		for _, s := range senders {
			if r[s]["audio"] < n || r[s]["video"] < n {
				return false
			}
		}
		return true
	}
}

func TestTwoParticipantsExchangeMediaAndOtherRoomSeesNothing(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	a, ja := h.joined(ctx, "main", "Ann")
	b, jb := h.joined(ctx, "main", "Bob")
	c, jc := h.joined(ctx, "elsewhere", "Cid")

	var wg sync.WaitGroup
	sendCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	for _, x := range []struct {
		client *testclient.Client
		id     string
	}{{a, ja.ParticipantID}, {b, jb.ParticipantID}, {c, jc.ParticipantID}} {
		tracks, err := x.client.Publish(ctx, x.id)
		if err != nil {
			t.Fatal(err)
		}
		sendMedia(sendCtx, &wg, x.id, tracks)
	}

	collect(ctx, t, ja.ParticipantID, a, atLeast(50, jb.ParticipantID))
	collect(ctx, t, jb.ParticipantID, b, atLeast(50, ja.ParticipantID))

	// By now A and B have exchanged hundreds of packets; the other room
	// must have been offered nothing and received nothing.
	for _, m := range c.Messages() {
		if m.Type == signal.TypeTrackPublished || m.Type == signal.TypeOffer || m.Type == signal.TypeParticipantJoined {
			t.Fatalf("a participant of another room received %s: %s", m.Type, m.Raw)
		}
	}
	if n := len(c.Packets); n != 0 {
		t.Fatalf("a participant of another room received %d packets", n)
	}
}

func TestLateJoinerReceivesExistingTracks(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	a, ja := h.joined(ctx, "main", "Ann")
	defer publishMedia(ctx, t, a, ja.ParticipantID)()

	// A watcher hears when the server has both of A's tracks; then B joins late.
	w, _ := h.joined(ctx, "main", "Wes")
	if _, i, err := w.WaitType(ctx, 0, signal.TypeTrackPublished); err != nil {
		t.Fatal(err)
	} else if _, _, err := w.WaitType(ctx, i+1, signal.TypeTrackPublished); err != nil {
		t.Fatal(err)
	}
	b, jb := h.joined(ctx, "main", "Bob")
	if len(jb.Participants) != 2 || jb.Participants[0].ID != ja.ParticipantID || len(jb.Participants[0].Tracks) != 2 {
		t.Fatalf("late joiner's joined lists %+v, want Ann with two tracks, then Wes", jb.Participants)
	}
	collect(ctx, t, jb.ParticipantID, b, atLeast(20, ja.ParticipantID))
}

// publishMedia publishes c's tracks and sends media until the returned
// stop function is called.
func publishMedia(ctx context.Context, t *testing.T, c *testclient.Client, id string) (stop func()) {
	t.Helper()
	tracks, err := c.Publish(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sendCtx, cancel := context.WithCancel(ctx)
	sendMedia(sendCtx, &wg, id, tracks)
	return func() { cancel(); wg.Wait() }
}
