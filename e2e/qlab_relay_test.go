package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// qlabRelay is the lab's netem: an L2 bridge in user space between two
// interfaces of one namespace (AF_PACKET sockets), which delays every
// frame and drops a share of the UDP ones (media; signaling over TCP is
// only delayed). Each direction is a leg with a reader and a writer, each
// on an OS thread of its own so that the relay's CPU can be told apart
// from the server's in the same process.
type qlabRelay struct {
	legs [2]*relayLeg // [0] toward the subscriber, [1] toward the server
	done chan struct{}
	wg   sync.WaitGroup
}

type relayLeg struct {
	in, out int // AF_PACKET sockets
	delay   atomic.Int64
	lossPPM atomic.Int64 // UDP frames dropped per million
	rng     *rand.Rand   // reader goroutine only
	queue   chan relayFrame

	passed, dropped, overflow atomic.Int64
	tids                      [2]atomic.Int32 // reader, writer threads
}

type relayFrame struct {
	data []byte
	due  time.Time
}

// relayQueue bounds the frames in flight per leg: 40 ms of a few Mbit/s
// is far below it; more means the writer cannot keep up.
const relayQueue = 8192

// startRelay bridges devSrv and devSub in namespace ns until closed.
func startRelay(ns, devSrv, devSub string) (*qlabRelay, error) {
	var fds [2]int
	err := inNetns(ns, func() error {
		for i, dev := range []string{devSrv, devSub} {
			fd, err := packetSocket(dev)
			if err != nil {
				return fmt.Errorf("%s: %w", dev, err)
			}
			fds[i] = fd
		}
		return nil
	})
	if err != nil {
		for _, fd := range fds {
			if fd > 0 {
				_ = unix.Close(fd)
			}
		}
		return nil, err
	}
	r := &qlabRelay{done: make(chan struct{})}
	r.legs[0] = &relayLeg{in: fds[0], out: fds[1], rng: rand.New(rand.NewPCG(15, 1)), queue: make(chan relayFrame, relayQueue)}
	r.legs[1] = &relayLeg{in: fds[1], out: fds[0], rng: rand.New(rand.NewPCG(15, 2)), queue: make(chan relayFrame, relayQueue)}
	for _, l := range r.legs {
		r.wg.Go(func() { l.read(r.done) })
		r.wg.Go(func() { l.write(r.done) })
	}
	return r, nil
}

// packetSocket opens a raw AF_PACKET socket bound to dev, with a receive
// timeout so that its reader can notice the relay closing.
func packetSocket(dev string) (int, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return -1, err
	}
	proto := int(htons(unix.ETH_P_ALL))
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	tv := unix.Timeval{Usec: 100_000}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// set changes both legs' delay and UDP loss.
func (r *qlabRelay) set(delay time.Duration, loss float64) {
	for _, l := range r.legs {
		l.delay.Store(int64(delay))
		l.lossPPM.Store(int64(loss * 1e6))
	}
}

// tids lists the relay's OS threads.
func (r *qlabRelay) tids() []int {
	var out []int
	for _, l := range r.legs {
		for i := range l.tids {
			if tid := l.tids[i].Load(); tid != 0 {
				out = append(out, int(tid))
			}
		}
	}
	return out
}

// counts reports frames passed, dropped on purpose, and dropped because a
// leg's queue was full.
func (r *qlabRelay) counts() (passed, dropped, overflow int64) {
	for _, l := range r.legs {
		passed += l.passed.Load()
		dropped += l.dropped.Load()
		overflow += l.overflow.Load()
	}
	return
}

func (r *qlabRelay) close() {
	close(r.done)
	r.wg.Wait()
	for _, l := range r.legs {
		_ = unix.Close(l.in)
	}
}

func (l *relayLeg) read(done <-chan struct{}) {
	runtime.LockOSThread() // stays locked: the thread's CPU is the relay's
	l.tids[0].Store(int32(unix.Gettid()))
	buf := make([]byte, 65536)
	for {
		select {
		case <-done:
			return
		default:
		}
		n, from, err := unix.Recvfrom(l.in, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return // the interface went away
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue // what the other leg wrote here
		}
		if isUDP(buf[:n]) {
			if ppm := l.lossPPM.Load(); ppm > 0 && l.rng.Int64N(1_000_000) < ppm {
				l.dropped.Add(1)
				continue
			}
		}
		f := relayFrame{data: append([]byte(nil), buf[:n]...), due: time.Now().Add(time.Duration(l.delay.Load()))}
		select {
		case l.queue <- f:
		default:
			l.overflow.Add(1)
		}
	}
}

func (l *relayLeg) write(done <-chan struct{}) {
	runtime.LockOSThread()
	l.tids[1].Store(int32(unix.Gettid()))
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var f relayFrame
		select {
		case <-done:
			return
		case f = <-l.queue:
		}
		// The frame's delay itself, not a wait for an event.
		if d := time.Until(f.due); d > 0 {
			timer.Reset(d)
			select {
			case <-done:
				return
			case <-timer.C:
			}
		}
		if _, err := unix.Write(l.out, f.data); err == nil {
			l.passed.Add(1)
		}
	}
}

// isUDP reports whether an Ethernet frame holds an IPv4 UDP packet.
func isUDP(frame []byte) bool {
	return len(frame) >= 14+20 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14+9] == unix.IPPROTO_UDP
}
