package testclient

import (
	"io"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

// pion v3.3.6 (and v4 up to v4.2.x) can open an SRTP read stream that
// nobody ever closes. RTPReceiver.Stop closes a receiver's streams only if
// startReceive had run; startReceive, queued by SetLocalDescription on the
// PC's operations goroutine (PeerConnection.startRTP → startRTPReceivers →
// runIfNewReceiver → startReceiver), does not check whether the receiver
// was stopped meanwhile. A subscribe PC that applies the server's next
// offer while that queue still runs (peerconnection.go: SetRemoteDescription
// stops the transceiver of an m-line that went inactive; configureRTPReceivers
// stops a receiver whose track left) has its departed track's stream opened
// after the stop, with pion's first-packet goroutine (startReceiver.func1,
// track.peek) reading it for as long as the process lives. The long
// meeting in abuse/ left hundreds of them.
//
// streamTracker works around it on the client's subscribe PC, as an
// interceptor, which pion calls from inside startReceive (BindRemoteStream)
// and Stop (UnbindRemoteStream): a stream's reads end with io.EOF once its
// SSRC, declared by an earlier remote description, is no longer in the
// current one (or the PC closed), and a read already blocked then is woken
// by a read deadline. The streams pion closes itself are left to it, and
// an SSRC no description ever declared is never ended early.
type streamTracker struct {
	interceptor.NoOp

	closed atomic.Bool
	gone   atomic.Pointer[map[uint32]bool] // declared once, not any more; read per packet

	mu        sync.Mutex
	declared  map[uint32]bool                  // by the current remote description
	open      map[uint32]bool                  // bound by pion and not unbound
	receivers map[*webrtc.RTPReceiver]struct{} // every receiver seen, replaced ones too
}

func newStreamTracker() *streamTracker {
	s := &streamTracker{declared: map[uint32]bool{}, open: map[uint32]bool{}, receivers: map[*webrtc.RTPReceiver]struct{}{}}
	s.gone.Store(&map[uint32]bool{})
	return s
}

func (s *streamTracker) isGone(ssrc uint32) bool { return s.closed.Load() || (*s.gone.Load())[ssrc] }

// BindRemoteStream runs inside pion's RTPReceiver.startReceive.
func (s *streamTracker) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	ssrc := info.SSRC
	s.mu.Lock()
	s.open[ssrc] = true
	s.mu.Unlock()
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		if s.isGone(ssrc) {
			return 0, nil, io.EOF
		}
		return reader.Read(b, a)
	})
}

// UnbindRemoteStream runs inside pion's RTPReceiver.Stop, after it closed
// the stream.
func (s *streamTracker) UnbindRemoteStream(info *interceptor.StreamInfo) {
	s.mu.Lock()
	delete(s.open, info.SSRC)
	s.mu.Unlock()
}

// Close runs at the start of PeerConnection.Close: everything is gone.
func (s *streamTracker) Close() error {
	s.closed.Store(true)
	return nil
}

// remoteChanged takes the SSRCs pc's remote description now sends, before
// pion may start receivers for them, and remembers pc's receivers.
func (s *streamTracker) remoteChanged(pc *webrtc.PeerConnection) {
	live := map[uint32]bool{}
	if d := pc.RemoteDescription(); d != nil {
		for _, section := range strings.Split(d.SDP, "\nm=")[1:] {
			if strings.Contains(section, "\na=inactive") || strings.Contains(section, "\na=recvonly") {
				continue
			}
			for _, line := range strings.Split(section, "\n") {
				if v, ok := strings.CutPrefix(line, "a=ssrc:"); ok {
					n, err := strconv.ParseUint(strings.Fields(v + " ")[0], 10, 32)
					if err == nil {
						live[uint32(n)] = true
					}
				}
			}
		}
	}
	s.mu.Lock()
	gone := map[uint32]bool{}
	for ssrc := range *s.gone.Load() {
		gone[ssrc] = !live[ssrc]
	}
	for ssrc := range s.declared {
		gone[ssrc] = !live[ssrc]
	}
	maps.DeleteFunc(gone, func(_ uint32, g bool) bool { return !g })
	s.gone.Store(&gone)
	s.declared = live
	s.mu.Unlock()
	s.remember(pc)
}

func (s *streamTracker) remember(pc *webrtc.PeerConnection) {
	var seen []*webrtc.RTPReceiver
	for _, tr := range pc.GetTransceivers() {
		if r := tr.Receiver(); r != nil {
			seen = append(seen, r)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range seen {
		s.receivers[r] = struct{}{}
	}
}

// sweep wakes every read blocked on a stream pion opened for a track the
// remote description no longer sends, and forgets receivers that have
// nothing left but gone tracks (a late start of one is caught by its reader's check).
// It never holds mu while calling pion: pion holds a receiver's lock when
// it calls Bind/UnbindRemoteStream, which take mu.
func (s *streamTracker) sweep(pc *webrtc.PeerConnection) {
	s.remember(pc)
	s.mu.Lock()
	receivers := make([]*webrtc.RTPReceiver, 0, len(s.receivers))
	for r := range s.receivers {
		receivers = append(receivers, r)
	}
	s.mu.Unlock()
	var done []*webrtc.RTPReceiver
	for _, r := range receivers {
		keep := false
		for _, t := range r.Tracks() {
			ssrc := uint32(t.SSRC())
			if !s.isGone(ssrc) {
				keep = true
				continue
			}
			s.mu.Lock()
			open := s.open[ssrc]
			delete(s.open, ssrc)
			s.mu.Unlock()
			if open {
				wake(t)
			}
		}
		if !keep {
			done = append(done, r)
		}
	}
	s.mu.Lock()
	for _, r := range done {
		delete(s.receivers, r)
	}
	s.mu.Unlock()
}

// wake ends a read blocked on t's stream. pion bound the stream inside
// startReceive, which holds the receiver's lock that SetReadDeadline
// takes, so the stream is assigned by then — unless opening its RTCP half
// failed after the bind (the PC closing at that moment), which leaves it
// nil and SetReadDeadline dereferencing it: nothing is blocked on such a
// track, so that panic is dropped.
func wake(t *webrtc.TrackRemote) {
	defer func() { _ = recover() }()
	_ = t.SetReadDeadline(time.Now())
}

// trackers hands each new PC of a testclient API its own streamTracker:
// pion builds a PC's interceptors inside NewPeerConnection, on the calling
// goroutine, so the one built while mu is held is that PC's.
type trackers struct {
	mu   sync.Mutex
	last atomic.Pointer[streamTracker]
}

func (f *trackers) NewInterceptor(string) (interceptor.Interceptor, error) {
	t := newStreamTracker()
	f.last.Store(t)
	return t, nil
}

// apiTrackers maps each API NewAPIWithNet made to its trackers.
var apiTrackers sync.Map // *webrtc.API → *trackers

// newTrackedPC makes a PC on api and returns its tracker (nil for an API
// not made by this package).
func newTrackedPC(api *webrtc.API, cfg webrtc.Configuration) (*webrtc.PeerConnection, *streamTracker, error) {
	v, ok := apiTrackers.Load(api)
	if !ok {
		pc, err := api.NewPeerConnection(cfg)
		return pc, nil, err
	}
	f := v.(*trackers)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last.Store(nil)
	pc, err := api.NewPeerConnection(cfg)
	return pc, f.last.Load(), err
}
