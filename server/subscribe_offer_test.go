package server

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/signal"
)

// TestSubscribeOfferAsksForTheFeedbackTheServerUses checks the subscribe
// offer carries transport-cc (congestion control), nack and pli for the
// video, and transport-cc for the audio, even when the publisher (here pion, like GStreamer) offered no
// transport-cc of its own.
func TestSubscribeOfferAsksForTheFeedbackTheServerUses(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ann, ja := h.joined(ctx, "fb", "Ann")
	defer publishMedia(ctx, t, ann, ja.ParticipantID)()
	bob, jb := h.joined(ctx, "fb", "Bob")
	collect(ctx, t, jb.ParticipantID, bob, atLeast(5, ja.ParticipantID))

	// The first offer carrying each kind: later offers follow what the
	// subscriber's answer accepted (pion's client accepts no transport-cc).
	first := map[string][]string{}
	for _, m := range bob.Messages() {
		var o signal.SDP
		if m.Type != signal.TypeOffer || m.Decode(&o) != nil {
			continue
		}
		for _, kind := range []string{"audio", "video"} {
			if first[kind] == nil && strings.Contains(o.SDP, "m="+kind) {
				first[kind] = strings.Split(o.SDP, "\r\n")
				for i := range first[kind] {
					first[kind][i] = strings.TrimSpace(first[kind][i])
				}
			}
		}
	}
	for kind, wants := range map[string][]string{
		"video": {"a=rtcp-fb:96 transport-cc", "a=rtcp-fb:96 nack", "a=rtcp-fb:96 nack pli"},
		"audio": {"a=rtcp-fb:111 transport-cc"},
	} {
		if first[kind] == nil {
			t.Fatalf("no subscribe offer with %s", kind)
		}
		for _, want := range wants {
			if !slices.Contains(first[kind], want) {
				t.Errorf("subscribe offer lacks %q:\n%s", want, feedbackLines(strings.Join(first[kind], "\r\n")))
			}
		}
	}
	if pub := ann.PublishSDP(); strings.Contains(pub, "transport-cc") {
		t.Fatalf("the test's publisher offered transport-cc itself, so this proves nothing:\n%s", feedbackLines(pub))
	}
}

func feedbackLines(sdp string) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=rtcp-fb") || strings.HasPrefix(l, "m=") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
