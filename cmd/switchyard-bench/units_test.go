package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestTrailerRoundTripsThroughRTP(t *testing.T) {
	payload := make([]byte, 100)
	n := vp8Descriptor(payload, true, true, 3000)
	putTrailer(payload, 70000, 123456789)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 9, SSRC: 1}, Payload: payload}
	pkt.Header.SetExtension(1, []byte{1, 2, 3})
	raw, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, ok := rtpPayload(raw)
	if !ok || len(got) != len(payload) {
		t.Fatalf("payload of %d bytes, ok=%v; want %d", len(got), ok, len(payload))
	}
	seq, sent, ok := readTrailer(got)
	if !ok || seq != 70000 || sent != 123456789 {
		t.Errorf("trailer %d %d %v", seq, sent, ok)
	}
	if n != 11 || !isVP8Keyframe(got) {
		t.Errorf("keyframe descriptor of %d bytes not seen as a keyframe", n)
	}
	vp8Descriptor(payload, true, false, 3000)
	if isVP8Keyframe(payload) {
		t.Error("interframe seen as a keyframe")
	}
	if _, _, ok := readTrailer(make([]byte, 40)); ok {
		t.Error("payload without trailer accepted")
	}
	if _, ok := rtpPayload([]byte{0x80, 0}); ok {
		t.Error("truncated packet accepted")
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * 10 * time.Microsecond) // 10 µs … 10 ms
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {0.01, 100 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if diff := float64(got-tc.want) / float64(tc.want); diff < -0.02 || diff > 0.02 {
			t.Errorf("q%.2f = %v, want %v ±2%%", tc.q, got, tc.want)
		}
	}
	var other histogram
	other.add(time.Second)
	h.merge(&other)
	if h.count != 1001 || h.quantile(1) < 990*time.Millisecond {
		t.Errorf("after merge: count %d, max quantile %v", h.count, h.quantile(1))
	}
}

func TestStreamStatsCountsLossReorderAndDuplicates(t *testing.T) {
	var s streamStats
	s.record(1, 0, 1000) // before the window: ignored
	s.start(10)
	for _, seq := range []uint32{10, 12, 11, 11, 14} {
		s.record(seq, 0, 1000)
	}
	exp, got, reord, dups, lat := s.result(16)
	if exp != 6 || got != 4 || reord != 1 || dups != 1 || lat.count != 5 {
		t.Errorf("expected %d received %d reordered %d dups %d latency samples %d; want 6 4 1 1 5", exp, got, reord, dups, lat.count)
	}
}

func TestParseSettingsReportsEveryProblem(t *testing.T) {
	_, err := parseSettings([]string{"--n", "0,x", "--fps", "0", "--room-size", "1"}, io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{`"0"`, `"x"`, "--fps", "--room-size"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	s, err := parseSettings(nil, io.Discard)
	if err != nil || s.scenario != "fanout" || len(s.ns) != 3 {
		t.Errorf("defaults: %+v, %v", s, err)
	}
}

func TestSDPOffersFindsThePublishersSection(t *testing.T) {
	sdp := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=msid:p_ann t_1\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=msid:p_bob t_2\r\n"
	for _, tc := range []struct {
		k    streamKey
		want bool
	}{
		{streamKey{"p_ann", "audio"}, true},
		{streamKey{"p_ann", "video"}, false},
		{streamKey{"p_bob", "video"}, true},
		{streamKey{"p_an", "audio"}, false},
	} {
		if got := sdpOffers(sdp, tc.k); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestScrapeReadsLeavesByReason(t *testing.T) {
	body := "# HELP x\ngo_goroutines 42\nswitchyard_leaves_total{reason=\"ping-timeout\"} 3\n" +
		"switchyard_leaves_total{reason=\"leave\"} 0\nswitchyard_rtp_packets_forwarded_total 1.5e+06\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }))
	defer srv.Close()
	m, err := scrape(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if m.goroutines != 42 || m.forwarded != 1.5e6 || m.leaves["ping-timeout"] != 3 || len(m.leaves) != 2 {
		t.Errorf("scraped %+v", m)
	}
}
