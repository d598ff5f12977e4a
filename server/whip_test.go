package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/internal/whipclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

func (h *harness) httpURL(path string) string { return "http://" + h.srv.Addr().String() + path }

// whipMedia sends numbered audio and video on a WHIP session every 10 ms
// until ctx ends, with the payloads collect checks.
func whipMedia(ctx context.Context, wg *sync.WaitGroup, s *whipclient.Session) {
	sendMedia(ctx, wg, s.ParticipantID, testclient.Tracks{Audio: s.Audio, Video: s.Video})
}

// waitParticipantLeft waits for c to hear that id left and returns when
// it did and why.
func waitParticipantLeft(ctx context.Context, c *testclient.Client, id string) (signal.ParticipantLeft, time.Time, error) {
	m, _, err := c.WaitFor(ctx, 0, func(m testclient.Message) bool {
		var l signal.ParticipantLeft
		return m.Type == signal.TypeParticipantLeft && m.Decode(&l) == nil && l.ParticipantID == id
	})
	at := time.Now()
	var l signal.ParticipantLeft
	if err == nil {
		err = m.Decode(&l)
	}
	return l, at, err
}

func TestWHIPPublisherIsAParticipantAndDeleteIsALeaveWithin100ms(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a, _ := h.joined(ctx, "main", "Ann")

	start := time.Now()
	s, err := whipclient.Publish(ctx, h.api, h.httpURL("/v1/whip/main?name=OBS"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	answered := time.Since(start)
	if err := s.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("WHIP join: 201 after %v, connected after %v", answered, time.Since(start))
	if !strings.HasPrefix(s.Location.Path, "/v1/whip/main/") || s.ParticipantID == "" || s.ETag == "" {
		t.Fatalf("201 headers: Location %q, participant %q, ETag %q", s.Location, s.ParticipantID, s.ETag)
	}

	m, _, err := a.WaitType(ctx, 0, signal.TypeParticipantJoined)
	if err != nil {
		t.Fatal(err)
	}
	var pj signal.ParticipantJoined
	if err := m.Decode(&pj); err != nil || pj.Participant.ID != s.ParticipantID || pj.Participant.Name != "OBS" {
		t.Fatalf("Ann heard %s, want the WHIP publisher %s named OBS", m.Raw, s.ParticipantID)
	}
	var wg sync.WaitGroup
	sendCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	whipMedia(sendCtx, &wg, s)
	collect(ctx, t, "Ann", a, atLeast(20, s.ParticipantID))

	// DELETE ends it as a leave everyone hears at once.
	sent := time.Now()
	if err := s.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	l, at, err := waitParticipantLeft(ctx, a, s.ParticipantID)
	if err != nil {
		t.Fatal(err)
	}
	delay := at.Sub(sent)
	t.Logf("WHIP DELETE seen as a leave after %v", delay)
	if l.Reason != string(room.ReasonDeleted) {
		t.Fatalf("leave reason %q, want %q", l.Reason, room.ReasonDeleted)
	}
	if delay > 100*time.Millisecond {
		t.Fatalf("DELETE seen as a leave after %v, want within 100 ms", delay)
	}
	// The resource is gone: a second DELETE is 404.
	if err := s.Delete(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("second DELETE: %v, want 404", err)
	}
}

// whipChildEnv, when set to a WHIP endpoint, makes the test binary a WHIP
// publisher that prints its participant id and sends media until killed.
const whipChildEnv = "SWITCHYARD_TEST_WHIP_CHILD"

// runWHIPChild is the child's whole life; TestMain calls it.
func runWHIPChild(endpoint string) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api, err := testclient.NewAPI()
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	s, err := whipclient.Publish(ctx, api, endpoint, "")
	if err == nil {
		err = s.WaitConnected(ctx)
	}
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("participant", s.ParticipantID)
	for seq := 0; ctx.Err() == nil; seq++ {
		hdr := rtp.Header{Version: 2, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 960), Marker: true}
		_ = s.Audio.WriteRTP(&rtp.Packet{Header: hdr, Payload: payloadFor(s.ParticipantID, "audio", seq)})
		_ = s.Video.WriteRTP(&rtp.Packet{Header: hdr, Payload: payloadFor(s.ParticipantID, "video", seq)})
		time.Sleep(10 * time.Millisecond) // the media clock, not synchronization
	}
	return 0
}

// whipKillBound is the documented detection bound for a WHIP publisher
// that dies without DELETE: ICE disconnected (2 s) + failed (2 s) after
// the last consent check answered, checks every 0.5 s (sfu/engine.go),
// plus scheduling slack on a loaded machine.
const whipKillBound = 5500 * time.Millisecond

func TestWHIPPublisherKilledWithoutDeleteIsSeenWithinTheICEBound(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, _ := h.joined(ctx, "main", "Ann")

	child := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), whipChildEnv+"="+h.httpURL("/v1/whip/main"))
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	id, ok := strings.CutPrefix(strings.TrimSpace(line), "participant ")
	if err != nil || !ok {
		t.Fatalf("WHIP child said %q (%v)", line, err)
	}
	collect(ctx, t, "Ann", a, atLeast(20, id))

	killed := time.Now()
	if err := child.Process.Kill(); err != nil { // SIGKILL: no DELETE, no DTLS close
		t.Fatal(err)
	}
	l, at, err := waitParticipantLeft(ctx, a, id)
	if err != nil {
		t.Fatal(err)
	}
	delay := at.Sub(killed)
	ev, _ := h.recorder.waitLeft(ctx, id)
	t.Logf("killed WHIP publisher seen as %s after %v (detection delay in the log: %v)", l.Reason, delay, ev.DetectionDelay)
	if l.Reason != string(room.ReasonPCFailed) {
		t.Fatalf("leave reason %q, want %q", l.Reason, room.ReasonPCFailed)
	}
	if delay > whipKillBound {
		t.Fatalf("killed publisher seen after %v, want within %v", delay, whipKillBound)
	}
	// The log counts from the last packet as ICE's timeouts place it (at
	// most one 0.5 s check early), not from the join.
	if ev.DetectionDelay < delay-time.Second/2 || ev.DetectionDelay > delay+time.Second {
		t.Fatalf("log's detection delay %v, but the leave was seen %v after the kill", ev.DetectionDelay, delay)
	}
}

func TestWHEPViewerGetsAPublishersTracksAndDeleteEndsIt(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a, ja := h.joined(ctx, "main", "Ann")
	defer publishMedia(ctx, t, a, ja.ParticipantID)()
	if _, i, err := a.WaitType(ctx, 0, signal.TypePublished); err != nil {
		t.Fatal(err)
	} else if _, _, err := a.WaitType(ctx, i+1, signal.TypePublished); err != nil {
		t.Fatal(err)
	}

	v, err := whipclient.Play(ctx, h.api, h.httpURL("/v1/whep/main?participant=Ann"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	got := map[string]int{}
	for got["audio"] < 20 || got["video"] < 20 {
		select {
		case p := <-v.Packets:
			sender, kind, seq, ok := parsePayload(p.Payload)
			if !ok || sender != ja.ParticipantID || kind != p.Kind || p.StreamID != ja.ParticipantID || string(p.Payload) != string(payloadFor(sender, kind, seq)) {
				t.Fatalf("WHEP got %s packet %q on stream %s", p.Kind, p.Payload, p.StreamID)
			}
			got[kind]++
		case <-ctx.Done():
			t.Fatalf("WHEP viewer received %v", got)
		}
	}
	m, _, err := a.WaitType(ctx, 0, signal.TypeParticipantJoined)
	if err != nil {
		t.Fatal(err)
	}
	var pj signal.ParticipantJoined
	_ = m.Decode(&pj)
	if err := v.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if l, _, err := waitParticipantLeft(ctx, a, pj.Participant.ID); err != nil || l.Reason != string(room.ReasonDeleted) {
		t.Fatalf("WHEP DELETE: Ann heard %+v (%v), want a leave with reason deleted", l, err)
	}
	if n := h.srv.whip.Sessions(); n != 0 {
		t.Fatalf("%d HTTP sessions live after DELETE", n)
	}
}

func TestWHEPWithNothingToPlayIs404(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, err := whipclient.Play(ctx, h.api, h.httpURL("/v1/whep/empty"), "")
	if se, ok := err.(*whipclient.StatusError); !ok || se.Status != http.StatusNotFound || !strings.Contains(se.Body, "no-source") {
		t.Fatalf("WHEP into an empty room: %v, want 404 no-source", err)
	}
}

// TestWHIPFromGStreamerWhipsink publishes through GStreamer's own WHIP
// element where the installed GStreamer has one (Debian 12's 1.22 does
// not: whipsink is in gst-plugins-rs, whipclientsink from 1.24).
func TestWHIPFromGStreamerWhipsink(t *testing.T) {
	element := ""
	for _, e := range []string{"whipclientsink", "whipsink"} {
		if exec.Command("gst-inspect-1.0", e).Run() == nil {
			element = e
			break
		}
	}
	if element == "" {
		t.Skip("GStreamer has no WHIP sink (gst-inspect-1.0 whipsink / whipclientsink fail): Debian's 1.22 ships none")
	}
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, _ := h.joined(ctx, "main", "Ann")
	sink := element + " whip-endpoint=" + h.httpURL("/v1/whip/main")
	if element == "whipclientsink" {
		sink = element + " signaller::whip-endpoint=" + h.httpURL("/v1/whip/main")
	}
	gst := exec.CommandContext(ctx, "sh", "-c", "gst-launch-1.0 videotestsrc is-live=true ! vp8enc deadline=1 ! rtpvp8pay ! "+
		"application/x-rtp,media=video,encoding-name=VP8,payload=96 ! "+sink)
	if err := gst.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = gst.Process.Kill(); _ = gst.Wait() }()
	m, _, err := a.WaitType(ctx, 0, signal.TypeParticipantJoined)
	if err != nil {
		t.Fatal(err)
	}
	var pj signal.ParticipantJoined
	_ = m.Decode(&pj)
	for n := 0; n < 20; {
		select {
		case p := <-a.Packets:
			if p.StreamID == pj.Participant.ID && p.Kind == "video" {
				n++
			}
		case <-ctx.Done():
			t.Fatal("no video from GStreamer's WHIP sink")
		}
	}
}

func TestWHIPICERestartByPATCHKeepsMediaFlowing(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a, _ := h.joined(ctx, "main", "Ann")
	s, err := whipclient.Publish(ctx, h.api, h.httpURL("/v1/whip/main"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	sendCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	whipMedia(sendCtx, &wg, s)
	collect(ctx, t, "Ann", a, atLeast(10, s.ParticipantID))
	old := s.ETag
	if err := s.RestartICE(ctx); err != nil {
		t.Fatal(err)
	}
	if s.ETag == old || s.ETag == "" {
		t.Fatalf("ETag %q after the restart, was %q: the server's ICE session did not change", s.ETag, old)
	}
	for len(a.Packets) > 0 { // only packets sent after the restart count
		<-a.Packets
	}
	collect(ctx, t, "Ann", a, atLeast(20, s.ParticipantID))
	for _, m := range a.Messages() {
		if m.Type == signal.TypeParticipantLeft {
			t.Fatalf("the ICE restart ended the session: %s", m.Raw)
		}
	}
}
