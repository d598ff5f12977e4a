// Package testclient is a real signaling and WebRTC client built on pion,
// used by the integration tests and the bench tool to drive a server the
// way a browser does: one WebSocket, a publish PC and a subscribe PC.
package testclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
	"github.com/switchyard-sfu/switchyard/signal"
)

// errClosed is what a step the client can no longer take returns.
var errClosed = errors.New("testclient: client closed")

// Message is one decoded server message; Raw keeps the whole JSON.
type Message struct {
	Type string
	Raw  json.RawMessage
	At   time.Time // when the client read it off the socket
}

// Decode unmarshals the message into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Raw, v) }

// Packet is one RTP payload received on the subscribe PC.
type Packet struct {
	StreamID string // the publisher's participant id
	Kind     string
	Payload  []byte
}

// Client is one participant. Its methods are safe for concurrent use.
type Client struct {
	ws  *websocket.Conn
	api *webrtc.API

	writeMu sync.Mutex

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever messages grows
	messages []Message
	pub, sub *webrtc.PeerConnection
	guards   map[*webrtc.PeerConnection]*sfu.ICEGuard
	trackers map[*webrtc.PeerConnection]*streamTracker // streams.go
	closed   bool
	// sdpMu makes SDP steps and ClosePeers take turns: pion v3.3.6 creates
	// a PC's ICE agent at its first SDP step, and one created just after
	// the PC's close is never closed (see sfu/sdpstep.go).
	sdpMu sync.Mutex

	iceServers []signal.ICEServer // from joined, for new peer connections
	relayOnly  bool
	held       map[string]bool // PCs whose local candidates are not sent

	frozen atomic.Bool // pings go unanswered while set

	// offerMu is held while a publish restart offer is made and sent;
	// publish candidates wait on it (icerestart.go).
	offerMu sync.Mutex
	// ICERestarts counts publish-PC restart offers sent at the server's request.
	ICERestarts atomic.Int32

	// raw, when set, takes every received RTP packet instead of Packets.
	raw atomic.Pointer[RawHandler]
	// rewrite, when set, edits the server's candidates: rewrite.go.
	rewrite atomic.Pointer[func(string) string]

	// Packets receives every RTP payload; when full, packets are dropped.
	Packets chan Packet

	readDone chan struct{}
	wg       sync.WaitGroup
}

// NewAPI returns a pion API confined to loopback: no mDNS, UDP4, lo only,
// so tests never send traffic off the machine.
func NewAPI() (*webrtc.API, error) { return NewAPIFor(webrtc.NetworkTypeUDP4) }

// Dial opens a signaling connection to url (ws://host/v1/rtc).
func Dial(ctx context.Context, api *webrtc.API, url string) (*Client, error) {
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	c := &Client{
		ws: ws, api: api, changed: make(chan struct{}), guards: map[*webrtc.PeerConnection]*sfu.ICEGuard{}, trackers: map[*webrtc.PeerConnection]*streamTracker{},
		Packets: make(chan Packet, 4096), readDone: make(chan struct{}),
	}
	ws.SetPingHandler(func(data string) error {
		if c.frozen.Load() {
			return nil
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	go c.readLoop()
	return c, nil
}

// Send writes one message as JSON.
func (c *Client) Send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendRaw(websocket.TextMessage, data)
}

// SendRaw writes one frame as is, for tests of malformed input.
func (c *Client) SendRaw(kind int, data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(kind, data)
}

func (c *Client) readLoop() {
	defer close(c.readDone)
	for {
		_, data, err := c.ws.ReadMessage()
		at := time.Now()
		if err != nil {
			c.record(Message{Type: "socket-closed", Raw: json.RawMessage(fmt.Sprintf("%q", err.Error())), At: at})
			return
		}
		var env signal.Envelope
		if err := json.Unmarshal(data, &env); err != nil {
			continue
		}
		c.handle(Message{Type: env.Type, Raw: data, At: at})
	}
}

func (c *Client) record(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages = append(c.messages, m)
	close(c.changed)
	c.changed = make(chan struct{})
}

// handle applies SDP and candidates, then records every message.
func (c *Client) handle(m Message) {
	var err error
	switch m.Type {
	case signal.TypeOffer:
		err = c.answerSubscribe(m)
	case signal.TypeAnswer:
		var msg signal.SDP
		if err = m.Decode(&msg); err == nil && c.publishPC() == nil {
			err = fmt.Errorf("answer without a publish PC (the test sent a raw offer)")
		} else if err == nil {
			err = c.publishPC().SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP})
		}
	case signal.TypeCandidate:
		err = c.addCandidate(m)
	case signal.TypeICERestart:
		err = c.restartPublish(m)
	}
	if err != nil {
		c.record(Message{Type: "client-error", Raw: json.RawMessage(fmt.Sprintf("%q", err.Error()))})
	}
	c.record(m)
}

func (c *Client) publishPC() *webrtc.PeerConnection {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pub
}

func (c *Client) addCandidate(m Message) error {
	var msg signal.Candidate
	if err := m.Decode(&msg); err != nil || msg.Candidate == nil {
		return err
	}
	c.mu.Lock()
	pc := c.pub
	if msg.PC == signal.PCSubscribe {
		pc = c.sub
	}
	c.mu.Unlock()
	if pc == nil {
		return fmt.Errorf("candidate for %s before its PC exists", msg.PC)
	}
	return pc.AddICECandidate(webrtc.ICECandidateInit{
		Candidate: c.rewritten(msg.Candidate.Candidate), SDPMid: msg.Candidate.SDPMid,
		SDPMLineIndex: msg.Candidate.SDPMLineIndex, UsernameFragment: msg.Candidate.UsernameFragment,
	})
}

// Messages returns a copy of everything received so far.
func (c *Client) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.messages...)
}

// WaitFor blocks until a message at index from or later satisfies match,
// returning it and its index, or fails when ctx ends.
func (c *Client) WaitFor(ctx context.Context, from int, match func(Message) bool) (Message, int, error) {
	for {
		c.mu.Lock()
		msgs, changed := c.messages, c.changed
		c.mu.Unlock()
		for i := from; i < len(msgs); i++ {
			if match(msgs[i]) {
				return msgs[i], i, nil
			}
		}
		from = max(from, len(msgs))
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, -1, fmt.Errorf("waiting for a message: %w", ctx.Err())
		}
	}
}

// WaitType waits for the next message of type typ at or after from.
func (c *Client) WaitType(ctx context.Context, from int, typ string) (Message, int, error) {
	return c.WaitFor(ctx, from, func(m Message) bool { return m.Type == typ })
}

// Join sends join and waits for joined (or an error message).
func (c *Client) Join(ctx context.Context, room, name string) (signal.Joined, error) {
	from := len(c.Messages())
	if err := c.Send(signal.Join{Type: signal.TypeJoin, Room: room, Name: name}); err != nil {
		return signal.Joined{}, err
	}
	m, _, err := c.WaitFor(ctx, from, func(m Message) bool { return m.Type == signal.TypeJoined || m.Type == signal.TypeError })
	if err != nil {
		return signal.Joined{}, err
	}
	if m.Type == signal.TypeError {
		return signal.Joined{}, fmt.Errorf("join refused: %s", m.Raw)
	}
	var joined signal.Joined
	if err := m.Decode(&joined); err != nil {
		return signal.Joined{}, err
	}
	c.setICEServers(joined.ICEServers)
	return joined, nil
}

// Freeze stops answering pings, as a frozen browser does; the socket
// stays open.
func (c *Client) Freeze() { c.frozen.Store(true) }

// CloseSocket closes the WebSocket with a close frame, as a closing tab does.
func (c *Client) CloseSocket() error {
	c.writeMu.Lock()
	err := c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"))
	c.writeMu.Unlock()
	return errors.Join(err, c.ws.Close())
}

// DropSocket closes the TCP connection without a close frame, as a
// crashed browser's kernel does.
func (c *Client) DropSocket() error { return c.ws.UnderlyingConn().Close() }

// ClosePeers closes both peer connections but keeps the WebSocket.
func (c *Client) ClosePeers() error {
	c.sdpMu.Lock()
	defer c.sdpMu.Unlock()
	c.mu.Lock()
	pub, sub := c.pub, c.sub
	c.mu.Unlock()
	var errs []error
	for _, pc := range []*webrtc.PeerConnection{pub, sub} {
		if pc != nil {
			c.mu.Lock()
			guard, tracker := c.guards[pc], c.trackers[pc]
			c.mu.Unlock()
			errs = append(errs, guard.Close())
			if tracker != nil {
				tracker.sweep(pc) // pion's Close stopped them all
			}
		}
	}
	return errors.Join(errs...)
}

// Close ends everything and waits for the client's goroutines.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	_ = c.ClosePeers()
	_ = c.ws.Close()
	<-c.readDone
	c.wg.Wait()
}
