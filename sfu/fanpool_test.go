package sfu

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// seqWriter records the sequence numbers one subscriber was sent.
type seqWriter struct {
	mu   sync.Mutex
	seqs []uint16
	done chan struct{} // closed at want packets
	want int
}

func (w *seqWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	if len(w.seqs) == w.want {
		close(w.done)
	}
	return len(payload), nil
}

func (w *seqWriter) Write(b []byte) (int, error) { return len(b), nil }

// With more subscribers than a read loop writes alone, the helpers take
// parts of the fan-out: every subscriber still gets every packet, once
// and in order.
func TestFanOutSharedWithHelpersKeepsEachSubscribersOrder(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	pool := newFanPool(2)
	defer pool.close()
	pool.adopt(track)
	const subscribers, packets = 3*inlineFanOut + 5, 300
	var writers []*seqWriter
	for i := range subscribers {
		out := startConnWriter()
		t.Cleanup(out.close)
		d := newDownTrack(track, &stats, out)
		w := &seqWriter{done: make(chan struct{}), want: packets}
		d.bound.Store(&binding{ssrc: uint32(i + 1), payloadType: 96, writer: w})
		track.addDownTrack(d)
		writers = append(writers, w)
	}
	raw := testPacket(0)
	for i := range packets {
		fanOutPaced(track, pool, raw, i)
	}
	for i, w := range writers {
		select {
		case <-w.done:
		case <-time.After(10 * time.Second): // a failing run's bound only
			w.mu.Lock()
			t.Fatalf("subscriber %d got %d packets, want %d", i, len(w.seqs), packets)
		}
		w.mu.Lock()
		for j, seq := range w.seqs {
			if seq != uint16(j) {
				t.Fatalf("subscriber %d: packet %d has seq %d", i, j, seq)
			}
		}
		w.mu.Unlock()
	}
	if d := stats.packetsDropped.Load(); d != 0 {
		t.Errorf("%d dropped", d)
	}
}

// fanOutPaced fans out raw as packet number seq (a real stream's
// consecutive numbers: the history keeps a window of them pinned), and
// every half queue lets the helpers catch up, as a publisher's pace
// does: a flood would fill their queues, which then drop by design.
func fanOutPaced(track *Track, pool *fanPool, raw []byte, seq int) {
	p := getPacket()
	p.n = copy(p.buf[:], raw)
	binary.BigEndian.PutUint16(p.buf[2:4], uint16(seq))
	track.fanOut(p)
	if seq%(fanJobQueue/2) == 0 {
		for _, jobs := range pool.workers {
			for len(jobs) > 0 {
				waitForWriter()
			}
		}
	}
}
