package sfu

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v2/vnet"
	"github.com/pion/webrtc/v3"
)

// lab is a virtual network (pion's vnet: no sockets, nothing leaves the
// process) holding the server engine and pion clients, with random loss
// switchable on each client's leg. Signaling goes straight to the sfu
// API: these tests are about media.
type lab struct {
	t      *testing.T
	router *vnet.Router
	engine *Engine

	nextHost atomic.Int32
	lossOn   atomic.Bool

	mu      sync.Mutex
	rng     *rand.Rand
	loss    map[string]float64 // client IP → loss rate on its leg, both ways
	dropped map[string]int     // client IP → media packets dropped
}

// newLab makes a lab whose network delays every packet by delay.
func newLab(t *testing.T, delay time.Duration) *lab {
	t.Helper()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", MinDelay: delay, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	serverNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := router.AddNet(serverNet); err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, router: router, rng: rand.New(rand.NewPCG(7, 11)), loss: map[string]float64{}, dropped: map[string]int{}}
	l.nextHost.Store(1)
	router.AddChunkFilter(l.filter)
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs last: after every peer has closed.
	t.Cleanup(func() { _ = router.Stop() })
	// Patient ICE: with fifty peers under the race detector on a busy
	// machine, keepalives can be late without anything being wrong.
	l.engine, err = NewEngine(EngineConfig{Net: serverNet, UDP4Only: true, DisconnectedTimeout: 10 * time.Second, FailedTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// filter drops RTP and RTCP (first byte 0x80–0xBF) on lossy legs while
// loss is on. ICE and DTLS pass, so only media repair is under test.
func (l *lab) filter(c vnet.Chunk) bool {
	if !l.lossOn.Load() {
		return true
	}
	data := c.UserData()
	if len(data) == 0 || data[0] < 0x80 || data[0] > 0xBF {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, addr := range []string{c.SourceAddr().String(), c.DestinationAddr().String()} {
		ip, _, _ := splitHostPort(addr)
		if rate, ok := l.loss[ip]; ok && l.rng.Float64() < rate {
			l.dropped[ip]++
			return false
		}
	}
	return true
}

func splitHostPort(addr string) (string, string, bool) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:], true
		}
	}
	return addr, "", false
}

// labClient is a pion peer with pion's default interceptors (NACK
// generator and responder, reports, TWCC), as a browser would have, and a
// tap counting the RTCP it sends and receives.
type labClient struct {
	ip  string
	pc  *webrtc.PeerConnection
	tap *rtcpTap

	ops  chan func() // signaling steps, applied in order by one goroutine
	done chan struct{}
	wg   sync.WaitGroup
}

func (l *lab) newClient(lossRate float64) *labClient {
	l.t.Helper()
	return l.newClientWith(lossRate, clientOptions{})
}

// clientOptions adapt a lab client; the zero value is newClient's.
type clientOptions struct {
	media func(*webrtc.MediaEngine) error   // more codecs or extensions
	nic   func(*vnet.Net) (vnet.NIC, error) // e.g. a rate limit on its downlink
}

func (l *lab) newClientWith(lossRate float64, opts clientOptions) *labClient {
	t := l.t
	t.Helper()
	ip := fmt.Sprintf("10.0.0.%d", l.nextHost.Add(1))
	n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
	if err != nil {
		t.Fatal(err)
	}
	var nic vnet.NIC = n
	if opts.nic != nil {
		if nic, err = opts.nic(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.router.AddNet(nic); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.loss[ip] = lossRate
	l.mu.Unlock()

	media := &webrtc.MediaEngine{}
	if err := media.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if opts.media != nil {
		if err := opts.media(media); err != nil {
			t.Fatal(err)
		}
	}
	tap := &rtcpTap{gotRR: make(chan struct{})}
	registry := &interceptor.Registry{}
	// First, so it wraps the raw writer and sees what the others write.
	registry.Add(tap)
	if err := webrtc.RegisterDefaultInterceptors(media, registry); err != nil {
		t.Fatal(err)
	}
	var settings webrtc.SettingEngine
	settings.SetNet(n)
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	settings.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	settings.SetSRTPReplayProtectionWindow(srtpReplayWindow) // as Chrome's
	// Patient, like the server in the lab: fifty handshakes at once under
	// the race detector on a loaded machine are slow, not broken.
	settings.SetICETimeouts(10*time.Second, 60*time.Second, time.Second)
	settings.SetDTLSConnectContextMaker(func() (context.Context, func()) {
		return context.WithTimeout(context.Background(), 90*time.Second)
	})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithInterceptorRegistry(registry), webrtc.WithSettingEngine(settings))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &labClient{ip: ip, pc: pc, tap: tap, ops: make(chan func(), 64), done: make(chan struct{})}
	guard := NewICEGuard(pc)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case f := <-c.ops:
				f()
			case <-c.done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = guard.Close()
		close(c.done)
		c.wg.Wait()
	})
	return c
}

func (c *labClient) do(f func()) {
	select {
	case c.ops <- f:
	case <-c.done:
	}
}

// addCandidate applies a server candidate in signaling order.
func (c *labClient) addCandidate(init *webrtc.ICECandidateInit) {
	if init == nil {
		return
	}
	cand := *init
	c.do(func() { _ = c.pc.AddICECandidate(cand) })
}

// readRTCP drains a sender's or receiver's RTCP so pion's interceptors
// (and the tap) see it, handing each packet to handle if set.
func (c *labClient) readRTCP(read func() ([]rtcp.Packet, interceptor.Attributes, error), handle func(rtcp.Packet)) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			pkts, _, err := read()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if handle != nil {
					handle(p)
				}
			}
		}
	}()
}

// labPublisher is a publishing client and its server side.
type labPublisher struct {
	*labClient
	server  *Publisher
	local   *webrtc.TrackLocalStaticRTP
	started chan *Track
	ended   chan *Track

	keyframeWanted atomic.Bool   // set by a PLI; the next packet is a "keyframe"
	next           atomic.Uint32 // next sequence number to send
	start          time.Time     // the media clock's zero (see labTimestamp)
	stop           chan struct{}
}

// keyframeMark is the first payload byte of packets the test publisher
// sends in answer to a PLI; the payload is opaque to the server.
const keyframeMark = 0xAA

// publish starts a client sending one video track, a packet every
// interval, and its server side.
func (l *lab) publish(lossRate float64, interval time.Duration) *labPublisher {
	t := l.t
	t.Helper()
	c := l.newClient(lossRate)
	local, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := c.pc.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	p := &labPublisher{labClient: c, local: local, started: make(chan *Track, 4), ended: make(chan *Track, 4), stop: make(chan struct{})}
	c.readRTCP(tr.Sender().ReadRTCP, func(pkt rtcp.Packet) {
		if _, ok := pkt.(*rtcp.PictureLossIndication); ok {
			p.keyframeWanted.Store(true)
		}
	})
	p.server, err = l.engine.NewPublisher("p_pub", PublisherEvents{
		PeerEvents:   PeerEvents{Candidate: c.addCandidate, Failed: func(webrtc.PeerConnectionState, time.Time) {}},
		TrackStarted: func(tr *Track) { p.started <- tr },
		TrackEnded:   func(tr *Track) { p.ended <- tr },
		Answer: func(sdp string) {
			c.do(func() {
				_ = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.server.Close() })
	c.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			init := cand.ToJSON()
			_ = p.server.AddCandidate(&init)
		}
	})
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := p.server.HandleOffer(offer.SDP); err != nil {
		t.Fatal(err)
	}
	p.next.Store(65000) // so the tests cross the sequence number wrap
	p.start = time.Now()
	c.wg.Add(1)
	go p.sendLoop(interval)
	t.Cleanup(p.stopSending)
	return p
}

// sendLoop sends 1000-byte packets with real-time timestamps until
// stopped.
func (p *labPublisher) sendLoop(interval time.Duration) {
	defer p.wg.Done()
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	payload := make([]byte, 1000)
	for {
		select {
		case <-p.stop:
			return
		case <-p.done:
			return
		case now := <-ticker.C:
			payload[0] = 0
			if p.keyframeWanted.Swap(false) {
				payload[0] = keyframeMark
			}
			seq := uint16(p.next.Add(1) - 1)
			h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: labTimestamp(p.start, now), Marker: true}
			binary.BigEndian.PutUint16(payload[1:3], seq)
			_ = p.local.WriteRTP(&rtp.Packet{Header: h, Payload: payload})
		}
	}
}

// labTimestamp is the 90 kHz media clock the test publisher stamps with.
func labTimestamp(start, now time.Time) uint32 {
	return 1_000_000 + uint32(now.Sub(start)*90_000/time.Second)
}

func (p *labPublisher) stopSending() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}

// waitTrack returns the server's track for the publisher's video.
func (p *labPublisher) waitTrack(ctx context.Context, t testing.TB) *Track {
	t.Helper()
	select {
	case tr := <-p.started:
		return tr
	case <-ctx.Done():
		t.Fatal("the server never started the publisher's track")
		return nil
	}
}

// labSubscriber is a subscribing client and what it received.
type labSubscriber struct {
	*labClient
	server *Subscriber
	log    *seqLog

	srMu  sync.Mutex
	srs   []*rtcp.SenderReport
	gotSR chan struct{} // closed at the first sender report
	ssrc  atomic.Uint32
}

func (l *lab) subscribe(lossRate float64, sendPLIOnTrack bool) *labSubscriber {
	l.t.Helper()
	return l.subscribeWith(lossRate, sendPLIOnTrack, clientOptions{})
}

func (l *lab) subscribeWith(lossRate float64, sendPLIOnTrack bool, opts clientOptions) *labSubscriber {
	t := l.t
	t.Helper()
	c := l.newClientWith(lossRate, opts)
	s := &labSubscriber{labClient: c, log: newSeqLog(), gotSR: make(chan struct{})}
	var err error
	s.server, err = l.engine.NewSubscriber(SubscriberEvents{
		PeerEvents: PeerEvents{Candidate: c.addCandidate, Failed: func(webrtc.PeerConnectionState, time.Time) {}},
		Offer: func(sdp string) {
			c.do(func() {
				if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
					return
				}
				answer, err := c.pc.CreateAnswer(nil)
				if err != nil {
					return
				}
				if err := c.pc.SetLocalDescription(answer); err != nil {
					return
				}
				_ = s.server.HandleAnswer(answer.SDP)
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.server.Close() })
	c.pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			init := cand.ToJSON()
			_ = s.server.AddCandidate(&init)
		}
	})
	c.pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		s.ssrc.Store(uint32(remote.SSRC()))
		c.readRTCP(receiver.ReadRTCP, s.onRTCP)
		if sendPLIOnTrack { // as browsers do when a video track starts
			_ = c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(remote.SSRC())}})
		}
		c.wg.Add(1)
		defer c.wg.Done()
		buf := make([]byte, 1500)
		var h rtp.Header
		for {
			n, _, err := remote.Read(buf)
			if err != nil {
				return
			}
			if _, err := h.Unmarshal(buf[:n]); err != nil {
				continue
			}
			s.log.add(h.SequenceNumber, n > h.MarshalSize() && buf[h.MarshalSize()] == keyframeMark)
		}
	})
	return s
}

// subscribeTo adds a subscriber of track and waits for its first packet.
func (l *lab) subscribeTo(ctx context.Context, track *Track, lossRate float64) *labSubscriber {
	l.t.Helper()
	s := l.subscribe(lossRate, false)
	if err := s.server.AddTrack(track); err != nil {
		l.t.Fatal(err)
	}
	await(ctx, l.t, s.log.first, "the first packet at a subscriber")
	return s
}

func (s *labSubscriber) onRTCP(pkt rtcp.Packet) {
	sr, ok := pkt.(*rtcp.SenderReport)
	if !ok {
		return
	}
	s.srMu.Lock()
	defer s.srMu.Unlock()
	if len(s.srs) == 0 {
		close(s.gotSR)
	}
	s.srs = append(s.srs, sr)
}

// seqLog records which sequence numbers of a window arrived.
type seqLog struct {
	mu       sync.Mutex
	first    chan struct{} // closed at the first packet
	keyframe chan struct{} // closed at the first keyframe-marked packet
	any      bool
	sawKey   bool

	from     uint16
	n        int
	got      []bool
	have     int
	complete chan struct{} // closed when every packet of the window arrived
}

func newSeqLog() *seqLog {
	return &seqLog{first: make(chan struct{}), keyframe: make(chan struct{}), complete: make(chan struct{})}
}

// window starts counting packets from, from+1, …, from+n-1.
func (l *seqLog) window(from uint16, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.from, l.n, l.got, l.have = from, n, make([]bool, n), 0
}

func (l *seqLog) add(seq uint16, keyframe bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.any {
		l.any = true
		close(l.first)
	}
	if keyframe && !l.sawKey {
		l.sawKey = true
		close(l.keyframe)
	}
	if i := int(seq - l.from); l.n > 0 && i < l.n && !l.got[i] {
		l.got[i] = true
		l.have++
		if l.have == l.n {
			close(l.complete)
		}
	}
}

// missing lists the window's sequence numbers not received.
func (l *seqLog) missing() []uint16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []uint16
	for i, ok := range l.got {
		if !ok {
			out = append(out, l.from+uint16(i))
		}
	}
	return out
}

func (l *seqLog) received() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.have
}

// rtcpTap is an interceptor that counts RTCP both ways on one client.
type rtcpTap struct {
	interceptor.NoOp
	nacksIn, nacksOut atomic.Uint64 // NACKed sequence numbers
	plisIn, plisOut   atomic.Uint64

	mu     sync.Mutex
	srsOut []rtcp.SenderReport
	rrIn   *rtcp.ReceiverReport
	gotRR  chan struct{} // closed at the first receiver report received
}

func (t *rtcpTap) NewInterceptor(string) (interceptor.Interceptor, error) { return t, nil }

func (t *rtcpTap) BindRTCPReader(reader interceptor.RTCPReader) interceptor.RTCPReader {
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err == nil {
			if pkts, perr := rtcp.Unmarshal(b[:n]); perr == nil {
				t.count(pkts, &t.nacksIn, &t.plisIn)
				t.noteReceiverReport(pkts)
			}
		}
		return n, attr, err
	})
}

func (t *rtcpTap) BindRTCPWriter(writer interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		t.count(pkts, &t.nacksOut, &t.plisOut)
		t.mu.Lock()
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				t.srsOut = append(t.srsOut, *sr)
			}
		}
		t.mu.Unlock()
		return writer.Write(pkts, a)
	})
}

func (t *rtcpTap) count(pkts []rtcp.Packet, nacks, plis *atomic.Uint64) {
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.TransportLayerNack:
			for _, pair := range p.Nacks {
				nacks.Add(uint64(len(pair.PacketList())))
			}
		case *rtcp.PictureLossIndication:
			plis.Add(1)
		}
	}
}

func (t *rtcpTap) noteReceiverReport(pkts []rtcp.Packet) {
	for _, p := range pkts {
		if rr, ok := p.(*rtcp.ReceiverReport); ok && len(rr.Reports) > 0 {
			t.mu.Lock()
			if t.rrIn == nil {
				t.rrIn = rr
				close(t.gotRR)
			}
			t.mu.Unlock()
		}
	}
}

func (t *rtcpTap) senderReports() []rtcp.SenderReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]rtcp.SenderReport(nil), t.srsOut...)
}
