package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// blockingWriter is a subscriber transport whose writes block until open
// is closed, as an ICE-TCP connection's do once its peer stops reading.
type blockingWriter struct {
	open    chan struct{}
	entered chan struct{} // receives once, when the first write blocks
	written atomic.Uint64
	once    atomic.Bool
}

func (w *blockingWriter) WriteRTP(_ *rtp.Header, payload []byte) (int, error) {
	if w.once.CompareAndSwap(false, true) {
		w.entered <- struct{}{}
	}
	<-w.open
	w.written.Add(1)
	return len(payload), nil
}

func (w *blockingWriter) Write(b []byte) (int, error) { return len(b), nil }

// A subscriber whose writes block (its connection queued, as an ICE-TCP
// one is) must leave the others' delivery untouched: every packet reaches
// the healthy subscriber before fanOut returns — the read loop writes it
// itself — none is lost for it, and the read loop never waits. The blocked
// one loses what overflows its queue and gets the rest once it unblocks.
func TestBlockedSubscriberLeavesTheOthersUntouched(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	downs, writers := subscribe(t, track, &stats, 2)
	healthy := writers[0]

	slowOut := startConnWriter()
	slowOut.queued.Store(true)
	t.Cleanup(slowOut.close)
	blocked := &blockingWriter{open: make(chan struct{}), entered: make(chan struct{}, 1)}
	slow := newDownTrack(track, &stats, slowOut)
	slow.bound.Store(&binding{ssrc: 9, payloadType: 96, writer: blocked})
	track.addDownTrack(slow)

	raw := testPacket(1)
	send := func() {
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		track.fanOut(p)
	}
	send()
	<-blocked.entered // the slow subscriber's writer is stuck in its first write

	const packets = 3 * videoQueueLength
	finished := make(chan int, 1)
	go func() {
		for i := range packets {
			send()
			// Delivered before fanOut returned: no latency added, whatever the slow one does.
			if got := healthy.written.Load(); got != uint64(i+2) {
				finished <- i
				return
			}
		}
		finished <- packets
	}()
	select {
	case i := <-finished:
		if i != packets {
			t.Fatalf("packet %d had not reached the healthy subscriber when fanOut returned", i)
		}
	case <-time.After(20 * time.Second): // a failing run's bound only
		t.Fatal("fanOut blocked behind the stuck subscriber")
	}
	for i, w := range writers {
		if got := w.written.Load(); got != packets+1 || w.bad.Load() != 0 {
			t.Errorf("healthy subscriber %d: %d written (%d bad), want %d", i, got, w.bad.Load(), packets+1)
		}
	}
	// The stuck one holds one packet in its write and a full ring; the
	// rest were dropped for it alone.
	if got, want := stats.packetsDropped.Load(), uint64(packets-videoQueueLength); got != want {
		t.Errorf("dropped %d, want %d", got, want)
	}

	close(blocked.open)
	deadline := time.Now().Add(20 * time.Second)
	for blocked.written.Load() != videoQueueLength+1 {
		if time.Now().After(deadline) {
			t.Fatalf("unblocked subscriber got %d packets, want its queue's %d and the first", blocked.written.Load(), videoQueueLength+1)
		}
		waitForWriter()
	}
	for _, d := range append(downs, slow) {
		d.close()
	}
}

// A write slower than slowWrite moves its connection to the queued path
// for slowBackoff, so the next stall of that socket costs the read loop
// nothing; then it writes inline again.
func TestSlowInlineWriteQueuesTheConnection(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	downs, _ := subscribe(t, track, &stats, 1)
	d := downs[0]
	d.out.ignoreSlow = false
	p := getPacket()
	p.n = copy(p.buf[:], testPacket(1))
	p.refs.Store(1)
	start := time.Now().UnixNano()
	// As if the write had begun slowWrite ago.
	d.deliver(p, start-int64(slowWrite)-1)
	end := time.Now().UnixNano()
	if d.out.inline(end) {
		t.Fatal("a write that took longer than slowWrite left the connection inline")
	}
	if !d.out.inline(end + int64(slowBackoff) + int64(slowWrite)) {
		t.Fatal("the connection stays queued after slowBackoff")
	}
	d.close()
}
