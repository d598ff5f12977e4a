package sfu

import (
	"slices"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// storedPacket makes a pooled packet with sequence number seq holding one
// reference, as the read loop hands it to the history.
func storedPacket(seq uint16) *packet {
	p := getPacket()
	p.n = copy(p.buf[:], testPacket(seq))
	p.refs.Store(1)
	return p
}

func TestHistoryKeepsAWindowAcrossTheWrap(t *testing.T) {
	h := newPacketHistory(8)
	for seq := uint16(65530); seq != 10; seq++ { // 16 packets across 65535→0
		h.put(storedPacket(seq))
	}
	for _, tc := range []struct {
		seq  uint16
		kept bool
	}{
		{65530, false}, {1, false}, {2, true}, {9, true}, {65535, false}, {10, false},
	} {
		p := h.get(tc.seq)
		if (p != nil) != tc.kept {
			t.Errorf("get(%d) found=%v, want %v", tc.seq, p != nil, tc.kept)
		}
		if p != nil {
			if p.seq() != tc.seq {
				t.Errorf("get(%d) returned packet %d", tc.seq, p.seq())
			}
			p.release()
		}
	}
	// A late packet older than the window must not evict a newer one.
	h.put(storedPacket(1))
	if p := h.get(9); p == nil {
		t.Error("a packet from before the window evicted seq 9")
	} else {
		p.release()
	}
	h.clear()
	if p := h.get(9); p != nil {
		t.Error("clear left seq 9")
	}
}

func TestHistoryLateRepairFillsItsSlot(t *testing.T) {
	h := newPacketHistory(8)
	for _, seq := range []uint16{1, 2, 4, 5} {
		h.put(storedPacket(seq))
	}
	if h.get(3) != nil {
		t.Fatal("seq 3 was never stored")
	}
	h.put(storedPacket(3)) // the publisher's retransmission
	p := h.get(3)
	if p == nil {
		t.Fatal("the late repair was not kept")
	}
	p.release()
}

// Lookups racing the writer, run under -race, must only ever return the
// packet asked for, and every reference must come back.
func TestHistoryConcurrentLookups(t *testing.T) {
	h := newPacketHistory(16)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint16(0); ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if p := h.get(i % 64); p != nil {
					if p.seq() != i%64 {
						t.Errorf("asked for %d, got %d", i%64, p.seq())
					}
					p.release()
				}
			}
		}()
	}
	for seq := range uint16(20000) {
		h.put(storedPacket(seq % 64))
	}
	close(stop)
	wg.Wait()
}

// recordingWriter keeps what a down track wrote.
type recordingWriter struct {
	mu      sync.Mutex
	headers []rtp.Header
}

func (w *recordingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.headers = append(w.headers, *h)
	return len(payload), nil
}

func (w *recordingWriter) Write(b []byte) (int, error) { return len(b), nil }

// responderOverHistory is a NACK responder over a history holding seqs
// 100-109, writing for SSRC 777.
func responderOverHistory() (*nackResponder, *counters, *recordingWriter, *binding) {
	stats := &counters{}
	h := newPacketHistory(16)
	for seq := uint16(100); seq < 110; seq++ {
		h.put(storedPacket(seq))
	}
	w := &recordingWriter{}
	return &nackResponder{source: historySource{h}, stats: stats}, stats, w, &binding{ssrc: 777, payloadType: 96, writer: w}
}

func TestNACKResponderResendsFromHistoryRewritten(t *testing.T) {
	r, stats, w, b := responderOverHistory()
	// 103 and 105 are kept, 200 never was; 103 twice in one NACK is sent once.
	r.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 103, LostPackets: 0b10}, {PacketID: 200}, {PacketID: 103}}}, b)
	if len(w.headers) != 2 {
		t.Fatalf("resent %d packets, want 2", len(w.headers))
	}
	for i, want := range []uint16{103, 105} {
		got := w.headers[i]
		if got.SequenceNumber != want || got.SSRC != 777 || got.PayloadType != 96 || got.Extension {
			t.Errorf("resend %d: seq %d ssrc %d pt %d ext %v; want seq %d rewritten for the subscriber", i, got.SequenceNumber, got.SSRC, got.PayloadType, got.Extension, want)
		}
	}
	if got := stats.retransmitMisses.Load(); got != 1 {
		t.Errorf("%d misses, want 1 (seq 200)", got)
	}
	if got := stats.packetsRetransmitted.Load(); got != 2 {
		t.Errorf("%d retransmitted, want 2", got)
	}
}

// TestNACKResponderResendsTwiceWhenAsked: with twice set (the allocator's
// call, on a path with random loss) every resend goes out as two equal
// copies, so that one lost copy costs no second round trip.
func TestNACKResponderResendsTwiceWhenAsked(t *testing.T) {
	r, stats, w, b := responderOverHistory()
	r.twice.Store(true)
	r.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 103, LostPackets: 0b10}, {PacketID: 200}}}, b)
	var seqs []uint16
	for _, got := range w.headers {
		seqs = append(seqs, got.SequenceNumber)
	}
	if !slices.Equal(seqs, []uint16{103, 103, 105, 105}) {
		t.Fatalf("resent seqs %v, want 103 and 105 twice each", seqs)
	}
	if got := stats.packetsRetransmitted.Load(); got != 4 {
		t.Errorf("%d retransmitted, want 4 (copies count)", got)
	}
	// A repeated NACK right behind is still held back by minResendInterval.
	r.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 103}}}, b)
	if len(w.headers) != 4 {
		t.Errorf("a repeat within %v resent again: %d writes, want 4", minResendInterval, len(w.headers))
	}
}

// BenchmarkHistoryPut is what the cache adds to forwarding each video
// packet: one swap, and releasing the packet it evicts. "without" is the
// same packet cycle with no history, to subtract.
func BenchmarkHistoryPut(b *testing.B) {
	for _, keep := range []bool{false, true} {
		name := "without"
		var h *packetHistory
		if keep {
			name, h = "with", newPacketHistory(videoHistoryLength)
		}
		b.Run(name, func(b *testing.B) {
			raw := testPacket(0)
			b.ReportAllocs()
			for i := range b.N {
				p := getPacket()
				p.n = copy(p.buf[:], raw)
				p.buf[2], p.buf[3] = byte(i>>8), byte(i)
				p.refs.Store(2)
				h.put(p) // a nil history just drops the reference
				p.release()
			}
			h.clear()
		})
	}
}
