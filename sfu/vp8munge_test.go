package sfu

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// vp8DescPacket is one packet of a layer whose descriptor carries a
// 15-bit picture ID, TL0PICIDX and KEYIDX (as Chromium's simulcast VP8
// does), a one-packet frame.
func vp8DescPacket(layer int8, seq uint16, ts uint32, key bool, pic uint16, tl0, keyIdx uint8) *packet {
	desc := []byte{0x90, 0xf0, 0x80 | byte(pic>>8), byte(pic), tl0, keyIdx}
	payload := append(desc, vp8Payload(true, key, 320, 180, 40)[1:]...)
	raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: true, SSRC: uint32(100 + int(layer))}, Payload: payload}).Marshal()
	p := getPacket()
	p.n = copy(p.buf[:], raw)
	p.layer = layer
	return p
}

// TestVP8DescriptorContinuesAcrossASwitch: layer 1's encoder numbers its
// pictures, TL0PICIDX and KEYIDX behind layer 0's; after the switch the
// subscriber's stream still counts on by one in each, the publisher's
// (shared) packets are left as they were, and a NACK of a packet after
// the switch resends exactly what was first sent.
func TestVP8DescriptorContinuesAcrossASwitch(t *testing.T) {
	sub := newSimulcastSubscription(t)
	track, d, w, b := sub.track, sub.d, sub.w, sub.b

	type start struct {
		pic         uint16
		tl0, keyIdx uint8
	}
	starts := [2]start{{pic: 1000, tl0: 50, keyIdx: 3}, {pic: 32760, tl0: 250, keyIdx: 30}} // layer 1 wraps soon
	const frames = 6
	send := func(frame int, keyOn int8) {
		for layer := range int8(2) {
			s := starts[layer]
			ts := uint32(frame*3000) + uint32(layer)*1_000_000
			track.fanOut(vp8DescPacket(layer, uint16(2000+frame), ts, layer == keyOn,
				(s.pic+uint16(frame))&0x7fff, s.tl0+uint8(frame), s.keyIdx))
		}
	}
	sub.playSwitch(frames, send)

	w.mu.Lock()
	sentPayloads := slices.Clone(w.payloads)
	sentHeaders := slices.Clone(w.headers)
	w.mu.Unlock()
	var prev vp8Values
	for i, pl := range sentPayloads {
		f, ok := vp8DescriptorFields(pl)
		if !ok || f.pic < 0 || f.tl0 < 0 || f.keyIdx < 0 || !f.pic15 {
			t.Fatalf("packet %d: descriptor %x lost its fields", i, pl[:6])
		}
		v := f.read(pl)
		if i > 0 {
			switched := i == frames+1 // the keyframe of layer 1
			wantKey := prev.keyIdx
			if switched {
				wantKey = (prev.keyIdx + 1) & 0x1f
			}
			if v.pic != (prev.pic+1)&0x7fff || v.tl0 != prev.tl0+1 || v.keyIdx != wantKey {
				t.Errorf("packet %d (switch %v): picture %d, TL0PICIDX %d, KEYIDX %d after %d, %d, %d",
					i, switched, v.pic, v.tl0, v.keyIdx, prev.pic, prev.tl0, prev.keyIdx)
			}
		}
		prev = v
	}
	// The first layer went out as the publisher numbered it.
	if f, _ := vp8DescriptorFields(sentPayloads[0]); f.read(sentPayloads[0]).pic != starts[0].pic {
		t.Errorf("first packet's picture ID rewritten to %d, want the publisher's %d", f.read(sentPayloads[0]).pic, starts[0].pic)
	}
	// The cached packets (every subscriber's) keep the publisher's numbers.
	cached := track.history[1].get(2000 + frames)
	if cached == nil {
		t.Fatal("layer 1's keyframe is not cached")
	}
	var h rtp.Header
	n, _ := h.Unmarshal(cached.data())
	if f, _ := vp8DescriptorFields(cached.data()[n:]); f.read(cached.data()[n:]).pic != (starts[1].pic+frames)&0x7fff {
		t.Errorf("the shared packet's picture ID was changed to %d", f.read(cached.data()[n:]).pic)
	}
	cached.release()

	nacked := []uint16{sentHeaders[2].SequenceNumber, sentHeaders[frames+1].SequenceNumber, sentHeaders[frames+3].SequenceNumber}
	before := w.count()
	for _, seq := range nacked {
		d.nacks.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: seq}}}, b)
	}
	w.mu.Lock()
	resent := slices.Clone(w.payloads[before:])
	w.mu.Unlock()
	if len(resent) != len(nacked) {
		t.Fatalf("resent %d packets, want %d", len(resent), len(nacked))
	}
	for i, seq := range nacked {
		_, first, _ := w.sentBySeq(seq)
		if !slices.Equal(resent[i], first) {
			t.Errorf("NACK %d: resent descriptor %x, first sent %x", seq, resent[i][:6], first[:6])
		}
	}
}

// TestVP8DescriptorFields reads where each field sits, or that none is.
func TestVP8DescriptorFields(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    vp8Fields
		ok      bool
	}{
		{"no extension", []byte{0x10, 0x00}, vp8Fields{pic: -1, tl0: -1, keyIdx: -1, size: 1}, true},
		{"7-bit picture ID only", []byte{0x90, 0x80, 0x12, 0x00}, vp8Fields{pic: 2, tl0: -1, keyIdx: -1, size: 3}, true},
		{"15-bit picture ID, TL0PICIDX, TID and KEYIDX", []byte{0x90, 0xf0, 0x81, 0x02, 0x07, 0x45, 0x00}, vp8Fields{pic: 2, pic15: true, tl0: 4, keyIdx: 5, size: 6}, true},
		{"TID without KEYIDX", []byte{0x90, 0x20, 0x40, 0x00}, vp8Fields{pic: -1, tl0: -1, keyIdx: -1, size: 3}, true},
		{"cut short", []byte{0x90, 0xf0, 0x81}, vp8Fields{pic: 2, pic15: true, tl0: 4, keyIdx: 5}, false},
		{"empty", nil, vp8Fields{pic: -1, tl0: -1, keyIdx: -1}, false},
	}
	for _, c := range cases {
		got, ok := vp8DescriptorFields(c.payload)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// BenchmarkVP8Rewrite is what a switch onto another layer adds to each
// packet a simulcast VP8 subscriber is sent: the descriptor parse, and
// the copy into the scratch buffer once the offsets are not zero.
func BenchmarkVP8Rewrite(b *testing.B) {
	desc := []byte{0x90, 0xf0, 0x81, 0x02, 0x07, 0x45}
	payload := append(desc, vp8Payload(true, false, 0, 0, 1100)[1:]...)
	for _, o := range []vp8Offsets{{}, {pic: 300, tl0: 7, keyIdx: 3}} {
		b.Run(fmt.Sprintf("offsets=%v", !o.zero()), func(b *testing.B) {
			rw := newSeqRewriter(90000)
			rw.vp8 = o
			var scratch [maxPacketSize]byte
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for range b.N {
				if out := rw.rewriteVP8(payload, &scratch); len(out) != len(payload) {
					b.Fatal("payload length changed")
				}
			}
		})
	}
}
