package sfu

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/waitfor"
	"golang.org/x/net/ipv4"
)

func listenLoopback(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetReadBuffer(4 << 20)
	return c
}

// gatedWriter records every batch. Each call waits for gate (from call
// later on, for later), so tests can pile packets up behind a busy
// sender.
type gatedWriter struct {
	mu      sync.Mutex
	gate    chan struct{}
	later   chan struct{}
	from    int
	entered chan struct{}                  // one value per call, before waiting
	batches [][]uint32                     // first 4 payload bytes of each packet
	fail    func(call, n int) (int, error) // what the kernel did with call's n packets
}

func newGatedWriter() *gatedWriter {
	return &gatedWriter{gate: make(chan struct{}), entered: make(chan struct{}, 1024), from: -1}
}

func (w *gatedWriter) WriteBatch(ms []ipv4.Message, _ int) (int, error) {
	w.entered <- struct{}{}
	w.mu.Lock()
	gate := w.gate
	if w.from >= 0 && len(w.batches) >= w.from {
		gate = w.later
	}
	w.mu.Unlock()
	<-gate
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(ms)
	var err error
	if w.fail != nil {
		n, err = w.fail(len(w.batches), n)
	}
	var ids []uint32
	for _, m := range ms[:max(n, 0)] {
		ids = append(ids, binary.BigEndian.Uint32(m.Buffers[0]))
	}
	w.batches = append(w.batches, ids)
	return n, err
}

func (w *gatedWriter) sent() (ids []uint32, batches int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, b := range w.batches {
		ids = append(ids, b...)
	}
	return ids, len(w.batches)
}

func numbered(i uint32) []byte {
	b := make([]byte, 200)
	binary.BigEndian.PutUint32(b, i)
	return b
}

func waitExited(t *testing.T, c *egressConn) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("sender goroutine did not exit")
	}
}

// writeFirst writes packet 0 from its own goroutine, which becomes the
// sender and is held in w's first call; the returned channel closes when
// that WriteTo returns.
func writeFirst(t *testing.T, c *egressConn, w *gatedWriter, to net.Addr) chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := c.WriteTo(numbered(0), to); err != nil {
			t.Error(err)
		}
	}()
	<-w.entered
	return done
}

// Packets queued behind a busy sender leave with it in batches of up to
// 32, in the order they were written, while their writers return at once.
func TestEgressBatchesWhatQueuesBehindABusySender(t *testing.T) {
	var stats egressCounters
	w := newGatedWriter()
	c := startEgress(listenLoopback(t), nil, false, w, &stats)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}

	first := writeFirst(t, c, w, to) // a batch of its own, held
	const n = 100
	var wg sync.WaitGroup
	for g := range 4 { // concurrent writers, each in its own order
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 4 {
				if _, err := c.WriteTo(numbered(uint32(1+g*(n/4)+i)), to); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait() // none of them waited for a send
	close(w.gate)
	<-first
	if err := c.Close(); err != nil { // after the last send
		t.Fatal(err)
	}
	waitExited(t, c)
	ids, batches := w.sent()
	if len(ids) != n+1 {
		t.Fatalf("sent %d packets, want %d", len(ids), n+1)
	}
	// 1 lone packet, then 100 queued ones: 4 batches of ≤ 32.
	if want := 1 + (n+egressBatch-1)/egressBatch; batches != want {
		t.Fatalf("%d sendmmsg calls for %d packets, want %d", batches, n+1, want)
	}
	last := map[int]int{}
	for _, id := range ids[1:] {
		g := int(id-1) / (n / 4)
		if prev, ok := last[g]; ok && int(id) <= prev {
			t.Fatalf("writer %d: packet %d sent after %d", g, id, prev)
		}
		last[g] = int(id)
	}
	if got := stats.packets.Load(); got != n+1 {
		t.Fatalf("packets counter %d, want %d", got, n+1)
	}
	if got := stats.batches.Load(); got != uint64(batches) {
		t.Fatalf("batches counter %d, want %d", got, batches)
	}
}

// A writer sends at most egressInlineBatches for others, then hands the
// rest to the socket's sender goroutine and returns.
func TestEgressHandsALongQueueToTheSender(t *testing.T) {
	var stats egressCounters
	w := newGatedWriter()
	w.later, w.from = make(chan struct{}), 1+egressInlineBatches
	c := startEgress(listenLoopback(t), nil, false, w, &stats)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	first := writeFirst(t, c, w, to)
	const n = 200
	for i := 1; i <= n; i++ {
		_, _ = c.WriteTo(numbered(uint32(i)), to)
	}
	close(w.gate)
	select {
	case <-first: // while the sender goroutine is held in call 5
	case <-time.After(5 * time.Second):
		t.Fatal("the first writer kept sending for the others")
	}
	close(w.later)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	ids, batches := w.sent()
	wantNumbered(t, ids, n+1)
	if want := 1 + (n+egressBatch-1)/egressBatch; batches != want {
		t.Fatalf("%d sendmmsg calls, want %d", batches, want)
	}
}

// fillBehindBusySender queues egressQueueLength packets (0 held in the
// sender's first batch), then starts a write of one more, which must
// wait; it returns that write's result channel.
func fillBehindBusySender(t *testing.T, c *egressConn, w *gatedWriter, stats *egressCounters) chan error {
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	writeFirst(t, c, w, to)
	for i := 1; i < egressQueueLength; i++ {
		if n, err := c.WriteTo(numbered(uint32(i)), to); err != nil || n != 200 {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	extra := make(chan error, 1)
	go func() {
		_, err := c.WriteTo(numbered(egressQueueLength), to)
		extra <- err
	}()
	// Its only sign of waiting is the counter.
	if err := waitfor.Poll(5*time.Second, time.Millisecond, "the extra write to find the queue full", func() bool { return stats.waits.Load() == 1 }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-extra:
		t.Fatalf("write to a full queue returned (%v) before the kernel took anything", err)
	default:
	}
	return extra
}

// A full queue makes the writer wait until the sender frees a slot, as a
// full socket buffer would; nothing is lost and the order holds.
func TestEgressFullQueueWaitsForRoom(t *testing.T) {
	var stats egressCounters
	w := newGatedWriter()
	c := startEgress(listenLoopback(t), nil, false, w, &stats)
	extra := fillBehindBusySender(t, c, w, &stats)
	close(w.gate)
	if err := <-extra; err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	ids, _ := w.sent()
	wantNumbered(t, ids, egressQueueLength+1)
}

// wantNumbered fails unless ids are exactly 0, 1, … n-1: every packet
// sent once, in order.
func wantNumbered(t *testing.T, ids []uint32, n int) {
	t.Helper()
	if len(ids) != n {
		t.Fatalf("sent %d, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != uint32(i) {
			t.Fatalf("packet %d is %d", i, id)
		}
	}
}

// Close releases a writer waiting on a full queue, even while the send
// under way has not returned yet.
func TestEgressCloseReleasesAWaitingWriter(t *testing.T) {
	var stats egressCounters
	w := newGatedWriter()
	c := startEgress(listenLoopback(t), nil, false, w, &stats)
	extra := fillBehindBusySender(t, c, w, &stats)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-extra:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("waiting write after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left the writer waiting")
	}
	close(w.gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
}

// A packet the kernel refuses is skipped; the rest of its batch is sent.
func TestEgressSkipsARefusedPacket(t *testing.T) {
	var stats egressCounters
	w := newGatedWriter()
	w.fail = func(call, n int) (int, error) {
		switch call {
		case 1:
			return 2, nil // a partial send: the next call starts at 3
		case 2:
			return -1, errors.New("sendmmsg: message too long") // as x/net returns it
		}
		return n, nil
	}
	c := startEgress(listenLoopback(t), nil, false, w, &stats)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	writeFirst(t, c, w, to)
	for i := 1; i <= 5; i++ {
		_, _ = c.WriteTo(numbered(uint32(i)), to)
	}
	close(w.gate)
	_ = c.Close()
	waitExited(t, c)
	ids, _ := w.sent()
	// 0 alone; then 1,2 sent; 3 refused; then 4,5.
	want := []uint32{0, 1, 2, 4, 5}
	if len(ids) != len(want) {
		t.Fatalf("sent %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("sent %v, want %v", ids, want)
		}
	}
	if stats.failed.Load() != 1 || stats.packets.Load() != 5 {
		t.Fatalf("failed %d packets %d, want 1 and 5", stats.failed.Load(), stats.packets.Load())
	}
}

// Through a real socket: everything arrives, in order, and a lone packet
// on an idle socket leaves at once in a batch of one.
func TestEgressRealSocketDeliversInOrder(t *testing.T) {
	var stats egressCounters
	rcv := listenLoopback(t)
	snd, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newEgressConn(snd, &stats)
	defer c.Close()
	to := rcv.LocalAddr()
	buf := make([]byte, 2048)

	if _, err := c.WriteTo(numbered(0), to); err != nil {
		t.Fatal(err)
	}
	_ = rcv.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := rcv.ReadFrom(buf); err != nil || n != 200 || binary.BigEndian.Uint32(buf) != 0 {
		t.Fatalf("lone packet: %d bytes, %v", n, err)
	}
	if b := stats.batches.Load(); b != 1 {
		t.Fatalf("lone packet took %d sendmmsg calls", b)
	}

	const n = 100 // fits a default socket receive buffer, read or not
	for i := 1; i <= n; i++ {
		if _, err := c.WriteTo(numbered(uint32(i)), to); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		m, from, err := rcv.ReadFrom(buf)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if got := binary.BigEndian.Uint32(buf); m != 200 || got != uint32(i) {
			t.Fatalf("packet %d arrived as %d (%d bytes)", i, got, m)
		}
		if from.String() != snd.LocalAddr().String() {
			t.Fatalf("from %s, want the socket's own %s", from, snd.LocalAddr())
		}
	}
	if stats.waits.Load() != 0 || stats.failed.Load() != 0 {
		t.Fatalf("waits %d failed %d", stats.waits.Load(), stats.failed.Load())
	}
}

// Reads pass through, Close closes the socket and ends the sender, and a
// write after Close fails as a closed socket's would.
func TestEgressCloseEndsSenderAndSocket(t *testing.T) {
	var stats egressCounters
	snd, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newEgressConn(snd, &stats)
	peer := listenLoopback(t)
	if _, err := peer.WriteTo([]byte("ping"), snd.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := c.ReadFrom(buf); err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read through the wrapper: %q, %v", buf[:n], err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.WriteTo(numbered(1), peer.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v, want net.ErrClosed", err)
	}
	if _, _, err := snd.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("socket still open after Close: %v", err)
	}
}

// Per-packet cost of the wrapper against a plain sendto of the same 1128
// bytes (an 1100-byte payload with RTP header and GCM tag). One writer:
// the lone-packet path, a batch of one (the wrapper's overhead is a copy
// and a lock). parallel: 8 paced writers, each sealing its packet with
// AES-GCM first as SRTP does, so batches form; cpu-ns/pkt is the
// process's CPU time per packet sent (the reader's share is the same in
// every mode).
func BenchmarkEgressWriteTo(b *testing.B) {
	for _, mode := range []string{"plain", "batched", "plain-parallel", "batched-parallel"} {
		b.Run(mode, func(b *testing.B) {
			rcv := listenLoopback(b)
			go func() {
				buf := make([]byte, 2048)
				for {
					if _, err := rcv.Read(buf); err != nil { // Read: no address to allocate
						return
					}
				}
			}()
			snd, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			var stats egressCounters
			var w net.PacketConn = snd
			batched := strings.HasPrefix(mode, "batched")
			if batched {
				w = newEgressConn(snd, &stats)
			}
			to := rcv.LocalAddr()
			b.ReportAllocs()
			b.SetBytes(1128)
			cpu0 := processCPU(b)
			b.ResetTimer()
			if strings.HasSuffix(mode, "parallel") {
				var wg sync.WaitGroup
				for g := range benchWriters {
					wg.Add(1)
					go func() {
						defer wg.Done()
						aead := benchAEAD(b)
						nonce := make([]byte, aead.NonceSize())
						plain := make([]byte, 1112)
						pkt := make([]byte, 0, 1128)
						for i := g; i < b.N; i += benchWriters {
							pkt = aead.Seal(pkt[:0], nonce, plain, nil)
							if _, err := w.WriteTo(pkt, to); err != nil {
								b.Error(err)
								return
							}
							if i/benchWriters%benchBurst == benchBurst-1 {
								// Pacing, as frames arrive: every writer
								// has a burst, then the socket rests.
								time.Sleep(benchPause)
							}
						}
					}()
				}
				wg.Wait()
			} else {
				pkt := make([]byte, 1128)
				for range b.N {
					if _, err := w.WriteTo(pkt, to); err != nil {
						b.Fatal(err)
					}
				}
			}
			_ = w.Close() // waits for the queue to drain: its sends count
			b.StopTimer()
			sent := uint64(b.N)
			if batched {
				sent = stats.packets.Load()
				b.ReportMetric(float64(sent)/float64(stats.batches.Load()), "pkts/batch")
				b.ReportMetric(float64(stats.waits.Load())/float64(b.N), "waits/op")
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(sent), "cpu-ns/pkt")
		})
	}
}

// The parallel benchmarks' writers: 8 of them, each writing bursts of 8
// then resting 200 µs — 320 k packets/s at most, more than one core sends.
const (
	benchWriters = 8
	benchBurst   = 8
	benchPause   = 200 * time.Microsecond
)

func benchAEAD(b *testing.B) cipher.AEAD {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		b.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
