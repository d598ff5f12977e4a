package room

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// A new track: its publisher learns the server's id and mid, the others
// hear track-published and get it on their subscribe PCs; when it ends
// they hear track-unpublished and lose it.
func TestTrackPublishAndEnd(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	bob := f.join("r", "bob")
	annSaid, bobSaid := ann.heard.count(), bob.heard.count()
	video := ann.publish(webrtc.RTPCodecTypeVideo, 1)
	expect(t, "ann", ann.heard, annSaid, "published "+video.id+" mid 1")
	expect(t, "bob", bob.heard, bobSaid, "track-published "+ann.id+" "+video.id)
	if !ann.HasTrack(video.id) || !slices.Equal(bob.subFake().trackIDs(), []string{video.id}) {
		t.Fatal("the track is not held and forwarded")
	}
	if got := ann.subFake().trackIDs(); len(got) != 0 {
		t.Fatalf("a publisher receives its own tracks: %v", got)
	}

	ann.pubFake().end(video)
	ann.pubFake().end(video) // a second end is ignored
	expect(t, "bob", bob.heard, bobSaid+1, "track-unpublished "+ann.id+" "+video.id)
	if ann.HasTrack(video.id) || len(bob.subFake().trackIDs()) != 0 {
		t.Fatal("an ended track is still held or forwarded")
	}
}

// Negotiation passes through to the right PC; the client hears the
// publish answer, and candidates come back labelled with their PC.
func TestNegotiationReachesTheRightPeerConnection(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	n := ann.heard.count()
	offer := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n"
	if err := ann.HandleOffer(offer); err != nil {
		t.Fatal(err)
	}
	expect(t, "ann", ann.heard, n, "answer answer to "+offer)
	if ann.RemoteSDP(PCPublish) != offer || ann.LocalSDP(PCPublish) != "answer to "+offer {
		t.Fatal("the publish PC's descriptions are not the offer and its answer")
	}
	if err := ann.HandleAnswer("sub answer"); err != nil || ann.RemoteSDP(PCSubscribe) != "sub answer" {
		t.Fatalf("subscribe answer: %v, remote %q", err, ann.RemoteSDP(PCSubscribe))
	}
	for _, pc := range []PC{PCPublish, PCSubscribe} {
		if err := ann.AddCandidate(pc, &webrtc.ICECandidateInit{Candidate: "c-" + string(pc)}); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(ann.pubFake().candidateList(), []string{"c-publish"}) ||
		!slices.Equal(ann.subFake().candidateList(), []string{"c-subscribe"}) {
		t.Fatal("candidates reached the wrong PC")
	}
	if err := ann.AddCandidate("sideways", &webrtc.ICECandidateInit{}); !errors.Is(err, sfu.ErrBadCandidate) {
		t.Fatalf("candidate for an unknown PC: %v, want sfu.ErrBadCandidate", err)
	}
	n = ann.heard.count()
	ann.subFake().events.Candidate(&webrtc.ICECandidateInit{Candidate: "server"})
	ann.subFake().events.Offer("server offer")
	expect(t, "ann", ann.heard, n, "candidate subscribe server", "offer server offer")
	if err := ann.SetSubscription("t1", 640, 360); err != nil || ann.subFake().sizes["t1"] != [2]int{640, 360} {
		t.Fatalf("SetSubscription: %v, sizes %v", err, ann.subFake().sizes)
	}
}

// An offer sending more tracks than the limit is refused before it
// reaches the publish PC.
func TestOfferOverTheTrackLimitIsRefused(t *testing.T) {
	f := newFixture(t, Options{MaxTracks: 2})
	ann := f.join("r", "ann")
	offer := "v=0\r\n" + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n", 3)
	if err := ann.HandleOffer(offer); !errors.Is(err, ErrTooManyTracks) {
		t.Fatalf("offer of 3 tracks with a limit of 2: %v, want ErrTooManyTracks", err)
	}
	if ann.RemoteSDP(PCPublish) != "" {
		t.Fatal("the refused offer reached the publish PC")
	}
}

// A WHEP viewer gets the tracks of the named publisher, or of the first
// one publishing; nobody publishing is ErrNoSource.
func TestWatchOfferPicksTheSource(t *testing.T) {
	f := newFixture(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.join("r", "ann") // publishes nothing
	viewer := f.join("r", "viewer")
	if _, err := viewer.WatchOffer(ctx, "offer", ""); !errors.Is(err, ErrNoSource) {
		t.Fatalf("nobody publishing: %v, want ErrNoSource", err)
	}
	if _, err := viewer.WatchOffer(ctx, "offer", "ann"); !errors.Is(err, ErrNoSource) {
		t.Fatalf("named source publishing nothing: %v, want ErrNoSource", err)
	}
	bob := f.join("r", "bob")
	audio := bob.publish(webrtc.RTPCodecTypeAudio, 0)
	answer, err := viewer.WatchOffer(ctx, "offer", "")
	if err != nil || answer != "whep answer" {
		t.Fatalf("WatchOffer = %q, %v", answer, err)
	}
	if got := viewer.subFake().watched; !slices.Equal(got, []string{audio.id}) {
		t.Fatalf("the viewer watches %v, want bob's %v", got, audio.id)
	}
}
