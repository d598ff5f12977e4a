package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// streamKey names one published track: its publisher and kind.
type streamKey struct {
	publisher string
	kind      string
}

// participant is one simulated browser: a real pion client speaking the
// protocol, optionally publishing synthetic audio and video, recording
// every packet it receives.
type participant struct {
	client    *testclient.Client
	id        string
	dialStart int64 // nowNanos when the socket was opened
	firstRecv atomic.Int64

	mu      sync.Mutex
	streams map[streamKey]*streamStats
	byTrack map[*webrtc.TrackRemote]*streamStats

	pub *publisher
}

// dialParticipant opens the socket and joins; media arrives on its own.
func dialParticipant(ctx context.Context, api *webrtc.API, url, room, name string) (*participant, error) {
	p := &participant{streams: map[streamKey]*streamStats{}, byTrack: map[*webrtc.TrackRemote]*streamStats{}, dialStart: nowNanos()}
	c, err := testclient.Dial(ctx, api, url)
	if err != nil {
		return nil, err
	}
	p.client = c
	c.OnRawPacket(p.onPacket)
	joined, err := c.Join(ctx, room, name)
	if err != nil {
		c.Close()
		return nil, err
	}
	p.id = joined.ParticipantID
	return p, nil
}

// stream returns the stats of one received track, creating them so the
// measurement can start before the first packet arrives.
func (p *participant) stream(k streamKey) *streamStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.streams[k]
	if s == nil {
		s = &streamStats{}
		p.streams[k] = s
	}
	return s
}

func (p *participant) onPacket(track *webrtc.TrackRemote, pkt []byte) {
	now := nowNanos()
	p.firstRecv.CompareAndSwap(0, now)
	p.mu.Lock()
	s := p.byTrack[track]
	p.mu.Unlock()
	if s == nil {
		s = p.stream(streamKey{publisher: track.StreamID(), kind: track.Kind().String()})
		p.mu.Lock()
		p.byTrack[track] = s
		p.mu.Unlock()
	}
	payload, ok := rtpPayload(pkt)
	if !ok {
		return
	}
	if seq, sentAt, ok := readTrailer(payload); ok {
		s.record(seq, sentAt, now)
	}
}

// hasReceived reports whether a packet of k arrived before measurement.
func (p *participant) hasReceived(k streamKey) bool {
	return p.stream(k).arrived.Load()
}

// joinTime is socket open → first media packet, or 0 if none came.
func (p *participant) joinTime() time.Duration {
	first := p.firstRecv.Load()
	if first == 0 {
		return 0
	}
	return time.Duration(first - p.dialStart)
}

func (p *participant) close() {
	if p.pub != nil {
		p.pub.stop()
	}
	p.client.Close()
}

// mediaSettings shape the synthetic streams.
type mediaSettings struct {
	audio            bool
	videoKbps        int
	fps              int
	keyframeInterval time.Duration
	maxPayload       int
}

// Sizes of the synthetic media: Opus at about 64 kbit/s in 20 ms frames.
const (
	audioPayloadSize = 160
	audioInterval    = 20 * time.Millisecond
)

// publisher sends synthetic RTP on a client's publish PC until stopped.
type publisher struct {
	id       string
	tracks   testclient.Tracks
	settings mediaSettings
	audioSeq atomic.Uint32 // next trailer sequence per track
	videoSeq atomic.Uint32
	sent     atomic.Uint64
	failed   atomic.Pointer[error] // the write error that stopped a sender
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// publish adds audio and video tracks and starts sending, until ctx ends
// or stop is called.
func (p *participant) publish(ctx context.Context, m mediaSettings) error {
	tracks, err := p.client.Publish(ctx, p.id)
	if err != nil {
		return err
	}
	pub := &publisher{id: p.id, tracks: tracks, settings: m, done: make(chan struct{})}
	p.pub = pub
	if m.audio {
		pub.wg.Add(1)
		go pub.sendAudio(ctx)
	}
	if m.videoKbps > 0 && m.fps > 0 {
		pub.wg.Add(1)
		go pub.sendVideo(ctx)
	}
	return nil
}

func (pub *publisher) stop() {
	pub.stopOnce.Do(func() { close(pub.done) })
	pub.wg.Wait()
}

// next returns the next sequence of kind, i.e. where a window starting now
// begins, or where one stopped ends.
func (pub *publisher) next(kind string) uint32 {
	if kind == "audio" {
		return pub.audioSeq.Load()
	}
	return pub.videoSeq.Load()
}

func (pub *publisher) sendAudio(ctx context.Context) {
	defer pub.wg.Done()
	tick := time.NewTicker(audioInterval)
	defer tick.Stop()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: true}, Payload: make([]byte, audioPayloadSize)}
	for {
		select {
		case <-ctx.Done():
			return
		case <-pub.done:
			return
		case <-tick.C:
		}
		seq := pub.audioSeq.Load()
		pkt.SequenceNumber = uint16(seq)
		pkt.Timestamp = seq * 960
		putTrailer(pkt.Payload, seq, nowNanos())
		if err := pub.tracks.Audio.WriteRTP(&pkt); err != nil {
			pub.failed.Store(&err)
			return
		}
		pub.audioSeq.Store(seq + 1)
		pub.sent.Add(1)
	}
}

// sendVideo sends one frame per tick as a burst of packets, the way an
// encoder does; every keyframeInterval the frame is a keyframe three times
// the usual size.
func (pub *publisher) sendVideo(ctx context.Context) {
	defer pub.wg.Done()
	s := pub.settings
	interval := time.Second / time.Duration(s.fps)
	frameBytes := max(s.videoKbps*1000/8/s.fps, 64)
	keyEvery := max(int(s.keyframeInterval/interval), 1)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	buf := make([]byte, s.maxPayload)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2}}
	for frame := 0; ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-pub.done:
			return
		case <-tick.C:
		}
		keyframe := frame%keyEvery == 0
		size := frameBytes
		if keyframe {
			size *= 3
		}
		pkt.Timestamp = uint32(frame) * uint32(90000/s.fps)
		for left := size; left > 0; {
			header := vp8Descriptor(buf, left == size, keyframe, size)
			n := min(left+header+trailerSize, len(buf))
			n = max(n, header+trailerSize)
			left -= n - header - trailerSize
			seq := pub.videoSeq.Load()
			pkt.SequenceNumber = uint16(seq)
			pkt.Marker = left <= 0
			pkt.Payload = buf[:n]
			putTrailer(pkt.Payload, seq, nowNanos())
			if err := pub.tracks.Video.WriteRTP(&pkt); err != nil {
				pub.failed.Store(&err)
				return
			}
			pub.videoSeq.Store(seq + 1)
			pub.sent.Add(1)
		}
	}
}

// leave sends the protocol's leave message.
func (p *participant) leave() error {
	return p.client.Send(signal.Leave{Type: signal.TypeLeave})
}

// endedBy returns the reason of a "left" the server sent this participant
// (its session ended without the bench asking), or "".
func (p *participant) endedBy() string {
	for _, m := range p.client.Messages() {
		if m.Type == signal.TypeLeft {
			var left signal.Left
			if m.Decode(&left) == nil {
				return left.Reason
			}
		}
	}
	return ""
}
