package sfu

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
)

// slowWrite is how long one inline write may take before its subscriber
// connection is moved to the queued path for slowBackoff: a UDP send
// takes microseconds, so a write this slow means the socket pushed back
// (a full buffer) and the next one could stall the read loop, and with it
// every other subscriber of the track. The move is not for good: on a
// busy machine a read loop descheduled mid-write looks the same.
const (
	slowWrite   = 10 * time.Millisecond
	slowBackoff = time.Second
)

// connWriter is the one goroutine per subscriber connection that writes
// for it when the track's read loop must not: its transport can block
// (ICE-TCP, whose writes wait for the peer to read), a write was slow, or
// the down track's write lock is taken (two simulcast layers' read loops
// meeting at one subscriber during a switch). Over UDP it sleeps: the read
// loops write to every subscriber themselves (DownTrack.deliver), so
// wake-ups do not grow with the number of subscribers. Its queues are the
// down tracks' rings; pending lists the down tracks with packets waiting,
// each at most once (DownTrack.scheduled).
type connWriter struct {
	// queued sends every packet through the rings: the selected candidate
	// pair is not UDP.
	queued atomic.Bool
	// slowUntil (unix ns) does the same for a while after a slow write.
	slowUntil atomic.Int64
	// ignoreSlow is for tests and benchmarks whose writers never block:
	// on a busy machine one descheduled mid-write is not a slow socket.
	ignoreSlow bool

	mu      sync.Mutex
	pending []*DownTrack
	spare   []*DownTrack // the other half of pending, reused

	wake   chan struct{} // capacity 1: "pending is not empty"
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
}

func newConnWriter() *connWriter {
	return &connWriter{wake: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
}

// startConnWriter makes a connWriter and starts its goroutine, which ends
// at close.
func startConnWriter() *connWriter {
	w := newConnWriter()
	go w.loop()
	return w
}

// watch follows pc's selected candidate pair: a TCP pair can block, so
// its packets go through the writer; a new UDP pair writes inline again.
func (w *connWriter) watch(pc *webrtc.PeerConnection) {
	pc.SCTP().Transport().ICETransport().OnSelectedCandidatePairChange(func(pair *webrtc.ICECandidatePair) {
		w.queued.Store(pair != nil && pair.Local != nil && pair.Local.Protocol != webrtc.ICEProtocolUDP)
	})
}

// inline reports whether read loops may write to this connection at now.
func (w *connWriter) inline(now int64) bool {
	return !w.queued.Load() && now >= w.slowUntil.Load()
}

// wroteSlowly notes a write that began at start and ended at end.
func (w *connWriter) wroteSlowly(start, end int64) bool {
	if w.ignoreSlow || end-start <= int64(slowWrite) {
		return false
	}
	w.slowUntil.Store(end + int64(slowBackoff))
	return true
}

// schedule puts d on the writer's list, unless it is on it already.
func (w *connWriter) schedule(d *DownTrack) {
	if !d.scheduled.CompareAndSwap(false, true) {
		return
	}
	w.mu.Lock()
	w.pending = append(w.pending, d)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *connWriter) loop() {
	defer close(w.exited)
	for {
		select {
		case <-w.done:
			return
		case <-w.wake:
		}
		w.mu.Lock()
		list := w.pending
		w.pending = w.spare[:0]
		w.mu.Unlock()
		for i, d := range list {
			d.drain()
			list[i] = nil // a removed down track is not kept alive here
		}
		w.mu.Lock()
		w.spare = list
		w.mu.Unlock()
	}
}

// close stops the goroutine and waits for it. The down tracks are closed
// first (Subscriber.Close), so nothing is queued any more.
func (w *connWriter) close() {
	w.once.Do(func() { close(w.done) })
	<-w.exited
}
