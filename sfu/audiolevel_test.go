package sfu

import (
	"testing"

	"github.com/pion/rtp"
)

func levelPacket(t testing.TB, twoByte bool, csrcs int, id uint8, level byte) []byte {
	t.Helper()
	h := rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: 7, SSRC: 99}
	for i := range csrcs {
		h.CSRC = append(h.CSRC, uint32(i+1))
	}
	h.ExtensionProfile = 0xbede
	if twoByte {
		h.ExtensionProfile = 0x1000
	}
	// Another extension first, so the parser has to walk past it.
	if err := h.SetExtension(2, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := h.SetExtension(id, []byte{level}); err != nil {
		t.Fatal(err)
	}
	b, err := (&rtp.Packet{Header: h, Payload: []byte{0xaa, 0xbb}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHeaderExtensionFindsTheAudioLevel(t *testing.T) {
	cases := []struct {
		name    string
		raw     []byte
		id      uint8
		want    byte
		wantHit bool
	}{
		{"one-byte form", levelPacket(t, false, 0, 5, 0x80|30), 5, 0x80 | 30, true},
		{"two-byte form", levelPacket(t, true, 0, 5, 12), 5, 12, true},
		{"after CSRCs", levelPacket(t, false, 3, 1, 100), 1, 100, true},
		{"other id", levelPacket(t, false, 0, 5, 30), 6, 0, false},
		{"no extension", func() []byte {
			b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: []byte{1}}).Marshal()
			return b
		}(), 5, 0, false},
		{"truncated", levelPacket(t, false, 0, 5, 30)[:14], 5, 0, false},
		{"too short", []byte{0x90, 0}, 5, 0, false},
	}
	for _, tc := range cases {
		ext, ok := headerExtension(tc.raw, tc.id)
		if ok != tc.wantHit || ok && (len(ext) != 1 || ext[0] != tc.want) {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, ext, ok, tc.want, tc.wantHit)
		}
	}
}

func TestAudioLevelMeanAndReset(t *testing.T) {
	a := &audioLevel{extID: 3}
	for _, level := range []byte{0x80 | 27, 47, 127} { // -27, -47, -127 dBov; the V bit is ignored
		a.observe(levelPacket(t, false, 0, 3, level))
	}
	loud, n := a.take()
	if n != 3 || loud != float64(100+80+0)/3 {
		t.Fatalf("take = %v over %d packets, want %v over 3", loud, n, float64(180)/3)
	}
	if loud, n := a.take(); n != 0 || loud != 0 {
		t.Fatalf("second take = %v over %d, want nothing", loud, n)
	}
}

// The read loop calls admit for every packet: it must not allocate.
func TestAdmitDoesNotAllocate(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	track.state.level = &audioLevel{extID: 3}
	raw := levelPacket(t, false, 0, 3, 40)
	if allocs := testing.AllocsPerRun(1000, func() { track.forwardable(raw) }); allocs != 0 {
		t.Fatalf("admit allocates %v times per packet", allocs)
	}
	if _, n := track.TakeAudioLevel(); n == 0 {
		t.Fatal("admit did not record the level")
	}
}

func TestMutedTrackIsNotAdmitted(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	track.kind = 0 // not video: no keyframe request, which needs a publisher
	if !track.forwardable(testPacket(1)) {
		t.Fatal("unmuted packet refused")
	}
	if !track.SetMuted(true) || track.SetMuted(true) {
		t.Fatal("SetMuted must report a change exactly once")
	}
	if track.forwardable(testPacket(2)) {
		t.Fatal("muted packet admitted")
	}
	track.SetMuted(false)
	if !track.forwardable(testPacket(3)) {
		t.Fatal("packet refused after unmute")
	}
}

func BenchmarkAdmitWithAudioLevel(b *testing.B) {
	var stats counters
	track := testTrack(&stats)
	track.state.level = &audioLevel{extID: 3}
	raw := levelPacket(b, false, 0, 3, 40)
	b.ReportAllocs()
	for range b.N {
		track.forwardable(raw)
	}
}
