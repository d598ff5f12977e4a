package signal

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// dispatch handles one client message. Every failure is answered with an
// error message; none ends the session.
func (s *session) dispatch(data []byte) {
	// encoding/json would replace invalid UTF-8 with U+FFFD and carry on:
	// a name or chat line must arrive as sent or not at all.
	if !utf8.Valid(data) {
		s.sendError(CodeBadMessage, "message is not valid UTF-8", "")
		return
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		s.sendError(CodeBadMessage, "not a JSON object: "+err.Error(), "")
		return
	}
	if !s.allow(env.Type) { // ratelimit.go
		return
	}
	var err error
	switch env.Type {
	case TypeJoin:
		err = s.handleJoin(data)
	case TypeOffer:
		err = s.handleOffer(data)
	case TypeAnswer:
		err = s.handleAnswer(data)
	case TypeCandidate:
		err = s.handleCandidate(data)
	case TypeLeave:
		err = s.handleLeave()
	case TypeMute:
		err = s.handleMute(data)
	case TypeChat:
		err = s.handleChat(data)
	case TypeSubscription:
		err = s.handleSubscription(data)
	case "":
		err = badMessage("missing type")
	default:
		s.sendError(CodeUnknownType, fmt.Sprintf("unknown message type %q", env.Type), env.Type)
		return
	}
	if err != nil {
		code := errorCode(err)
		if code == CodeInternal {
			s.log.Error("request failed", zap.String("type", env.Type), zap.Error(err))
		}
		if code == CodeBadCandidate && !s.limits.replies.Allow() {
			return // a candidate flood gets a flood of refusals only up to replyRate
		}
		s.sendError(code, err.Error(), env.Type)
	}
}

func decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return badMessage("malformed message: %v", err)
	}
	return nil
}

// joined returns the live participant, or errNotJoined.
func (s *session) joined() (member, error) {
	m := s.current
	if m == nil || m.ended.Load() || m.participant == nil {
		return nil, errNotJoined
	}
	return m.participant, nil
}

func (s *session) handleJoin(data []byte) error {
	var msg Join
	if err := decode(data, &msg); err != nil {
		return err
	}
	req, err := s.admit(msg)
	if err != nil {
		return err
	}
	if req.Resume, err = resumeClaim(msg.Resume); err != nil {
		return err
	}
	if err := s.rooms.JoinsRefused(); err != nil {
		return err // before leaving: a refused switch keeps the current room
	}
	if p, err := s.joined(); err == nil {
		p.Leave(room.ReasonSwitchedRoom)
	}
	m := &roomClient{s: s}
	p, err := s.rooms.JoinWith(req, m)
	if err != nil {
		return s.redirectOr(err)
	}
	m.participant = p
	s.current = m
	s.everJoined.Store(true)
	return nil
}

func (s *session) handleOffer(data []byte) error {
	var msg SDP
	if err := decode(data, &msg); err != nil {
		return err
	}
	if msg.PC != PCPublish {
		return badMessage("offers are accepted for pc %q only; the server offers on %q", PCPublish, PCSubscribe)
	}
	if msg.SDP == "" {
		return badMessage("missing sdp")
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	return p.HandleOffer(msg.SDP)
}

func (s *session) handleAnswer(data []byte) error {
	var msg SDP
	if err := decode(data, &msg); err != nil {
		return err
	}
	if msg.PC != PCSubscribe {
		return badMessage("answers are accepted for pc %q only", PCSubscribe)
	}
	if msg.SDP == "" {
		return badMessage("missing sdp")
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	return p.HandleAnswer(msg.SDP)
}

func (s *session) handleCandidate(data []byte) error {
	var msg Candidate
	if err := decode(data, &msg); err != nil {
		return err
	}
	if msg.PC != PCPublish && msg.PC != PCSubscribe {
		return badMessage("pc must be %q or %q", PCPublish, PCSubscribe)
	}
	p, err := s.joined()
	if err != nil {
		return err
	}
	var c *webrtc.ICECandidateInit
	if msg.Candidate != nil {
		c = &webrtc.ICECandidateInit{
			Candidate:        msg.Candidate.Candidate,
			SDPMid:           msg.Candidate.SDPMid,
			SDPMLineIndex:    msg.Candidate.SDPMLineIndex,
			UsernameFragment: msg.Candidate.UsernameFragment,
		}
	}
	return p.AddCandidate(room.PC(msg.PC), c)
}

func (s *session) handleLeave() error {
	p, err := s.joined()
	if err != nil {
		return err
	}
	p.Leave(room.ReasonLeave)
	return nil
}
