package signal

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// sendQueueLength bounds messages waiting for the write loop. A client
// that lets it fill is not reading; it is disconnected rather than
// allowed to block the room.
const sendQueueLength = 256

// hardLimitFactor: messages up to this many times the size limit are
// read and discarded with an error reply; anything larger closes the
// connection, so a client cannot make the server read without end.
const hardLimitFactor = 16

// outgoing is one queued frame: a text message, or a close frame after
// which the write loop stops.
type outgoing struct {
	data      []byte
	closeCode int
	closeText string
}

// session is one WebSocket connection. The read loop runs on the HTTP
// handler's goroutine and owns the room client; the write loop is the only
// writer of data frames, as gorilla/websocket requires.
type session struct {
	conn  *websocket.Conn
	rooms roomManager
	opts  Options
	log   *zap.Logger

	out       chan outgoing
	closeOnce sync.Once
	done      chan struct{} // closed when the read loop ends

	current    *roomClient // read loop only
	everJoined atomic.Bool // for the join timer; admission.go
	limits     limits      // read loop only; ratelimit.go
}

func newSession(conn *websocket.Conn, rooms roomManager, opts Options, log *zap.Logger) *session {
	return &session{
		conn:  conn,
		rooms: rooms,
		opts:  opts,
		log:   log,
		out:   make(chan outgoing, sendQueueLength),
		done:  make(chan struct{}),

		limits: newLimits(opts),
	}
}

// run serves the connection until it ends, then makes the participant
// leave with the reason the connection ended for.
func (s *session) run() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	stopJoinTimer := s.startJoinTimer()
	reason := s.readLoop()
	stopJoinTimer()
	close(s.done)
	_ = s.conn.Close()
	<-writerDone
	if m := s.current; m != nil && !m.ended.Load() && m.participant != nil {
		m.participant.Leave(reason)
	}
}

func (s *session) readLoop() room.Reason {
	s.conn.SetReadLimit(hardLimitFactor * s.opts.MaxMessageSize)
	s.extendDeadline()
	s.conn.SetPongHandler(func(string) error {
		s.extendDeadline()
		return nil
	})
	for {
		kind, r, err := s.conn.NextReader()
		if err != nil {
			return s.classify(err)
		}
		s.extendDeadline()
		if kind != websocket.TextMessage {
			s.sendError(CodeBadMessage, "messages must be JSON text frames", "")
			continue
		}
		data, err := io.ReadAll(io.LimitReader(r, s.opts.MaxMessageSize+1))
		if err != nil {
			return s.classify(err)
		}
		if int64(len(data)) > s.opts.MaxMessageSize {
			var ok bool
			if data, ok, err = s.readOversized(r, data); err != nil {
				return s.classify(err)
			}
			if !ok {
				s.sendError(CodeTooLarge, "message exceeds the size limit", "")
				continue
			}
		}
		s.dispatch(data)
		// Time spent handling the message (a slow SDP apply, a busy room)
		// is the server's, not the client's silence: restart the clock so
		// a pong queued meanwhile is not read after an expired deadline.
		s.restartDeadline()
	}
}

// classify names why reading stopped: a read deadline that passed means
// the client went silent; anything else means the socket closed.
func (s *session) classify(err error) room.Reason {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() && !s.peerClosed() {
		return room.ReasonPingTimeout
	}
	return room.ReasonSocketClosed
}

// peerClosed reports whether the client had in fact closed the connection
// when the read deadline fired — which happens when this server is starved
// of CPU and reads the close late. Naming that socket-closed keeps the
// session log honest about how the client left.
func (s *session) peerClosed() bool {
	conn := s.conn.UnderlyingConn()
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		return false
	}
	var b [1]byte
	_, err := conn.Read(b[:])
	var netErr net.Error
	return err != nil && !(errors.As(err, &netErr) && netErr.Timeout())
}

// extendDeadline gives the client another ping timeout to speak; every
// message and pong counts as a sign of life.
func (s *session) extendDeadline() {
	now := s.restartDeadline()
	if m := s.current; m != nil {
		m.touch(now)
	}
}

func (s *session) restartDeadline() time.Time {
	now := time.Now()
	_ = s.conn.SetReadDeadline(now.Add(s.opts.PingTimeout))
	return now
}

func (s *session) writeLoop() {
	ping := time.NewTicker(s.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				_ = s.conn.Close()
				return
			}
		case msg := <-s.out:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if msg.closeCode != 0 {
				_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(msg.closeCode, msg.closeText))
				_ = s.conn.Close()
				return
			}
			if err := s.conn.WriteMessage(websocket.TextMessage, msg.data); err != nil {
				_ = s.conn.Close()
				return
			}
		}
	}
}

// send queues a message without blocking; room events call it with the
// room locked.
func (s *session) send(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("encode message", zap.Error(err))
		return
	}
	s.enqueue(outgoing{data: data})
}

func (s *session) enqueue(msg outgoing) {
	select {
	case s.out <- msg:
	default:
		// The client stopped reading; drop it rather than stall the room.
		s.log.Warn("signaling client too slow, disconnecting")
		_ = s.conn.Close()
	}
}

// closeWith sends a close frame after what is already queued, then ends
// the connection; the participant leaves with the reason already given.
func (s *session) closeWith(code int, text string) {
	s.closeOnce.Do(func() { s.enqueue(outgoing{closeCode: code, closeText: text}) })
}

func (s *session) sendError(code, message, ref string) {
	s.send(Error{Type: TypeError, Code: code, Message: message, Ref: ref})
}
