package sfu

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v2"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Batched egress under the ICE UDP mux. Every packet the server sends on
// the mux's socket — RTP, RTCP, DTLS, STUN, to every subscriber — goes
// through egressConn.WriteTo, which copies it into a slot of a ring. A
// writer that finds nobody sending becomes the sender: it sends its own
// packet at once, then whatever other writers queued meanwhile, up to
// egressBatch packets per sendmmsg. Writers that find a send under way
// only queue and return. So a lone packet leaves at once (no added
// latency), batches form by themselves when writers outpace the kernel,
// and no goroutine is woken per packet: on loopback a wake-up costs more
// than sendmmsg saves over sendto. A writer sends at most
// egressInlineBatches for others; if more is queued it hands the rest to
// the socket's sender goroutine, so a subscriber's writer (or pion's ICE
// loop) is never kept sending for everyone under sustained load. One FIFO
// per socket keeps every destination's order.
//
// UDP GSO is left out: it needs every segment of a send to go to the same
// destination, and a batch here holds one or two packets per subscriber.
const (
	egressBatch = 32
	// egressInlineBatches bounds the batches a writer sends for others.
	egressInlineBatches = 4
	// egressQueueLength bounds the packets waiting per socket. They queue
	// only while one writer is in the kernel, so the depth follows how
	// many writers run at once (the cores), not the subscribers; 512 is
	// far beyond that on any machine we run on. The slots are 768 KB per
	// socket; free ones are reused newest first, so the memory in use
	// follows the deepest the queue has been.
	egressQueueLength = 512
	// egressSlotSize fits any packet of an Ethernet MTU; a larger one is
	// sent directly (see WriteTo).
	egressSlotSize = 1536
	// egressDrainTimeout bounds how long Close waits for queued packets.
	egressDrainTimeout = 100 * time.Millisecond
)

// batchWriter is the sendmmsg of x/net's ipv4/ipv6 PacketConn; tests
// substitute their own to count calls.
type batchWriter interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// egressCounters are shared by every egress socket of an engine.
type egressCounters struct {
	packets atomic.Uint64 // packets handed to the kernel
	batches atomic.Uint64 // sendmmsg calls
	waits   atomic.Uint64 // writes that found the queue full and waited
	failed  atomic.Uint64 // packets the kernel refused
}

type egressSlot struct {
	n    int
	addr net.UDPAddr // IP points into ip: no allocation per packet
	ip   [net.IPv6len]byte
	buf  [egressSlotSize]byte
}

// egressConn is a UDP socket whose writes are queued and batched; reads
// and everything else go to the socket untouched. Its goroutine ends at
// Close.
type egressConn struct {
	transport.UDPConn
	udp   *net.UDPConn
	ipv6  bool // the socket's family: sendmmsg takes only its own
	batch batchWriter
	stats *egressCounters

	mu      sync.Mutex
	wake    sync.Cond // the sender goroutine waits on it for a handoff
	space   sync.Cond // writers wait on it while the queue is full
	full    int       // writers waiting on space
	idle    sync.Cond // Close waits on it for the last send to end
	sending bool      // someone owns msgs and is sending; count > 0 implies it
	handoff bool      // the sender goroutine is asked to take over sending
	closed  bool
	free    []*egressSlot // a stack: the most recently used on top
	queue   []*egressSlot // a ring of queued packets
	head    int           // oldest queued packet
	count   int           // queued packets, including the batch being sent

	msgs      []ipv4.Message // one batch, the current sender's
	closeOnce sync.Once
	closeErr  error
	exited    chan struct{}
}

// newEgressConn takes over conn's writes and starts its sender
// goroutine; Close stops it and closes conn.
func newEgressConn(conn *net.UDPConn, stats *egressCounters) *egressConn {
	local, _ := conn.LocalAddr().(*net.UDPAddr)
	v6 := local != nil && local.IP.To4() == nil && len(local.IP) == net.IPv6len
	var bw batchWriter = ipv4.NewPacketConn(conn)
	if v6 {
		bw = ipv6.NewPacketConn(conn)
	}
	return startEgress(conn, conn, v6, bw, stats)
}

func startEgress(sock transport.UDPConn, udp *net.UDPConn, v6 bool, bw batchWriter, stats *egressCounters) *egressConn {
	c := &egressConn{
		UDPConn: sock,
		udp:     udp,
		ipv6:    v6,
		batch:   bw,
		stats:   stats,
		free:    make([]*egressSlot, egressQueueLength),
		queue:   make([]*egressSlot, egressQueueLength),
		msgs:    make([]ipv4.Message, egressBatch),
		exited:  make(chan struct{}),
	}
	c.wake.L = &c.mu
	c.idle.L = &c.mu
	c.space.L = &c.mu
	slots := make([]egressSlot, egressQueueLength)
	for i := range slots {
		c.free[len(slots)-1-i] = &slots[i] // the first slot on top
	}
	for i := range c.msgs {
		c.msgs[i].Buffers = make([][]byte, 1)
	}
	go c.send()
	return c
}

// WriteTo queues b for to and reports it written. A full queue makes the
// writer wait for a slot, as a plain write waits for room in a full
// socket buffer: the queue fills only when the writer that is sending
// has lost its core (a saturated machine), and dropping there lost 2-10 %
// of all packets in the fan-out bench at N=100, where plain sendto lost
// none. The wait is for the kernel to take packets and nothing else, and
// Close ends it; a subscriber whose writer waits too long drops in its
// own DownTrack queue, as with a plain socket.
func (c *egressConn) WriteTo(b []byte, to net.Addr) (int, error) {
	dst, ok := to.(*net.UDPAddr)
	if !ok || len(b) > egressSlotSize || c.ipv6 != (dst.IP.To4() == nil) {
		// Not something sendmmsg on this socket takes (never on the
		// media path): the socket says what is wrong with it.
		return c.UDPConn.WriteTo(b, to)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	if len(c.free) == 0 {
		c.stats.waits.Add(1)
		for len(c.free) == 0 && !c.closed {
			c.full++
			c.space.Wait()
			c.full--
		}
		if c.closed {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
	}
	s := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	c.queue[(c.head+c.count)%len(c.queue)] = s
	s.n = copy(s.buf[:], b)
	s.addr.IP = s.ip[:copy(s.ip[:], dst.IP)]
	s.addr.Port, s.addr.Zone = dst.Port, dst.Zone
	c.count++
	if c.sending {
		c.mu.Unlock() // the sender takes it with the next batch
		return len(b), nil
	}
	c.sending = true
	c.flush(egressInlineBatches)
	return len(b), nil
}

// WriteToUDP is WriteTo: the socket's one write path keeps the order.
func (c *egressConn) WriteToUDP(b []byte, to *net.UDPAddr) (int, error) { return c.WriteTo(b, to) }

// send is the socket's sender goroutine: it sends only what a writer
// handed off, and exits at Close.
func (c *egressConn) send() {
	defer close(c.exited)
	for {
		c.mu.Lock()
		for !c.handoff && !c.closed {
			c.wake.Wait()
		}
		if !c.handoff { // closed
			c.mu.Unlock()
			return
		}
		c.handoff = false
		c.flush(0)
	}
}

// flush sends what is queued, at most limit batches (0: until empty),
// then hands what is left to the sender goroutine. The caller holds mu,
// which flush releases, and owns sending, which flush ends or hands on.
func (c *egressConn) flush(limit int) {
	for batches := 0; c.count > 0; batches++ {
		if batches == limit && limit > 0 {
			c.handoff = true
			c.mu.Unlock()
			c.wake.Signal()
			return
		}
		n := min(c.count, egressBatch)
		for i := range n {
			s := c.queue[(c.head+i)%len(c.queue)]
			c.msgs[i].Buffers[0] = s.buf[:s.n]
			c.msgs[i].Addr = &s.addr
		}
		c.mu.Unlock()

		// Writers only take free slots, so the batch is the sender's
		// alone until it returns them.
		sent := c.writeBatch(c.msgs[:n])
		c.stats.packets.Add(uint64(sent))
		if sent < n {
			c.stats.failed.Add(uint64(n - sent))
		}

		c.mu.Lock()
		for i := range n {
			c.free = append(c.free, c.queue[(c.head+i)%len(c.queue)])
		}
		c.head = (c.head + n) % len(c.queue)
		c.count -= n
		if c.full > 0 {
			c.space.Broadcast()
		}
	}
	c.sending = false
	c.mu.Unlock()
	c.idle.Broadcast()
}

// writeBatch sends ms, resuming after a partial send, and skipping a
// packet the kernel refuses (as a failed sendto would lose it). It
// returns how many were sent.
func (c *egressConn) writeBatch(ms []ipv4.Message) int {
	sent := 0
	for len(ms) > 0 {
		n, err := c.batch.WriteBatch(ms, 0)
		c.stats.batches.Add(1)
		n = max(n, 0) // x/net passes sendmmsg's -1 on through
		sent += n
		ms = ms[n:]
		if err != nil && (errors.Is(err, net.ErrClosed) || isTimeout(err)) {
			return sent
		}
		if (err != nil || n == 0) && len(ms) > 0 {
			ms = ms[1:] // sendmmsg's error is for the first unsent message
		}
	}
	return sent
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Close waits for what is queued to be sent (at most egressDrainTimeout
// on a full socket buffer), stops the sender goroutine and closes the
// socket.
func (c *egressConn) Close() error {
	c.closeOnce.Do(func() {
		if c.udp != nil {
			// A send blocked on a full socket buffer gives up here.
			_ = c.udp.SetWriteDeadline(time.Now().Add(egressDrainTimeout))
		}
		c.mu.Lock()
		c.closed = true
		c.space.Broadcast()
		for c.sending {
			c.idle.Wait()
		}
		c.mu.Unlock()
		c.wake.Broadcast()
		<-c.exited
		c.closeErr = c.UDPConn.Close()
	})
	return c.closeErr
}

// egressNet is the host network stack with every UDP socket it opens
// batched; NewMultiUDPMuxFromPort opens its sockets through it.
type egressNet struct {
	transport.Net
	stats *egressCounters
}

func (n egressNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	udp, ok := conn.(*net.UDPConn)
	if !ok {
		return conn, nil
	}
	return newEgressConn(udp, n.stats), nil
}
