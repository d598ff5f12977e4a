package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
)

// stallProxy relays ICE-TCP connections to the server. stall stops it
// reading the server's side, so the server's writes to that client fill
// the socket and then block, as when a client on a dead TCP path stops
// reading. Its receive buffer is small so that happens within a second.
type stallProxy struct {
	ln      net.Listener
	stalled chan struct{}
	once    sync.Once
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{ln: ln, stalled: make(chan struct{})}
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := dialer.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(server, client) }()
			go func() {
				defer p.wg.Done()
				buf := make([]byte, 1500)
				for {
					n, err := server.Read(buf)
					if err != nil {
						return
					}
					select {
					case <-p.stalled:
						return // leave the server's side unread from now on
					default:
					}
					if _, err := client.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *stallProxy) stall() { p.once.Do(func() { close(p.stalled) }) }

// A subscriber over ICE-TCP whose path stops taking data (the proxy stops
// reading the server's side) must leave a UDP subscriber of the same
// track untouched: it receives every video packet, in order, meanwhile.
// (A writer that blocks outright is sfu's
// TestBlockedSubscriberLeavesTheOthersUntouched.)
func TestStalledICETCPSubscriberLeavesTheUDPOneUntouched(t *testing.T) {
	cfg := testConfig()
	cfg.ICE.TCPListen = "127.0.0.1:0"
	h := startServer(t, cfg)
	tcpPort := portOf(t, h.srv.Engine().TCPAddr())
	proxy := newStallProxy(t, h.srv.Engine().TCPAddr().String())
	proxyPort := portOf(t, proxy.ln.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), networkWait)
	defer cancel()
	tcpOnly, err := testclient.NewAPIFor(webrtc.NetworkTypeTCP4)
	if err != nil {
		t.Fatal(err)
	}

	pub := h.joinAndPublish(ctx, h.api, "main", "pub", 2*time.Millisecond, nil)
	udp := h.joinWith(ctx, h.api, "main", "udp")
	tcp, err := testclient.Dial(ctx, tcpOnly, h.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tcp.Close)
	from, to := fmt.Sprintf(" %d typ host", tcpPort), fmt.Sprintf(" %d typ host", proxyPort)
	tcp.RewriteServerCandidates(func(s string) string { return strings.ReplaceAll(s, from, to) })
	j, err := tcp.Join(ctx, "main", "tcp")
	if err != nil {
		t.Fatal(err)
	}
	collect(ctx, t, j.ParticipantID, tcp, atLeast(20, pub.id))
	collect(ctx, t, udp.id, udp.c, atLeast(20, pub.id))

	proxy.stall()
	// Count what the stalled client still gets: what was in flight, then
	// nothing. Its packets pile up in the server's ICE-TCP write buffer
	// (pion's, 4 MB: sfu/network.go) and, once that is full, fail.
	var tcpAfter atomic.Int64
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for {
			select {
			case <-ctx.Done():
				return
			case p := <-tcp.Packets:
				if _, kind, _, ok := parsePayload(p.Payload); ok && kind == "video" {
					tcpAfter.Add(1)
				}
			}
		}
	}()
	const window = 500
	last, counted := -1, 0
	for counted < window {
		select {
		case <-ctx.Done():
			t.Fatalf("UDP subscriber: %d of %d video packets after the TCP one stalled", counted, window)
		case p := <-udp.c.Packets:
			sender, kind, seq, ok := parsePayload(p.Payload)
			if !ok || sender != pub.id || kind != "video" {
				continue
			}
			if last >= 0 && seq != last+1 {
				t.Fatalf("UDP subscriber: video seq %d after %d while the TCP one was stalled", seq, last)
			}
			last = seq
			counted++
		}
	}
	cancel()
	<-drained
	// The stall took: in the time the UDP subscriber got 500, the TCP one
	// got only what its buffers held (8 KB of 60-byte packets at most).
	t.Logf("after the stall: UDP subscriber %d video packets in order, TCP one %d", counted, tcpAfter.Load())
	if n := tcpAfter.Load(); n >= window/2 {
		t.Fatalf("the stalled TCP subscriber still got %d video packets", n)
	}
}
