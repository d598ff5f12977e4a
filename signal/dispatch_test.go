package signal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// codesSeen collects every error code a test in this file saw, so
// TestEveryErrorCodeIsTested can tell which have none.
var codesSeen = map[string]bool{}

func errorReply(t *testing.T, s *session) (code, ref string) {
	t.Helper()
	msgs := sent(t, s)
	if len(msgs) != 1 || msgs[0]["type"] != TypeError {
		t.Fatalf("want one error reply, got %v", msgs)
	}
	code, _ = msgs[0]["code"].(string)
	ref, _ = msgs[0]["ref"].(string)
	codesSeen[code] = true
	return code, ref
}

// Each client message reaches the participant as the right call, and
// nothing is sent back when it succeeds.
func TestDispatchCallsTheParticipant(t *testing.T) {
	cases := []struct{ msg, call string }{
		{`{"type":"offer","pc":"publish","sdp":"o"}`, "offer o"},
		{`{"type":"answer","pc":"subscribe","sdp":"a"}`, "answer a"},
		{`{"type":"candidate","pc":"publish","candidate":{"candidate":"c1","sdpMid":"0"}}`, "candidate publish c1"},
		{`{"type":"candidate","pc":"subscribe","candidate":null}`, "candidate subscribe end"},
		{`{"type":"mute","track":"t1","muted":true}`, "mute t1 true"},
		{`{"type":"chat","text":"hi"}`, "chat hi"},
		{`{"type":"subscription","track":"t1","width":640,"height":360}`, "subscription t1 640x360"},
		{`{"type":"leave"}`, "leave leave"},
	}
	for _, c := range cases {
		rooms := &fakeRooms{}
		s := testSession(t, rooms, Options{})
		m := joinSession(t, s, rooms)
		s.dispatch([]byte(c.msg))
		if got := sent(t, s); len(got) != 0 {
			t.Errorf("%s: replied %v", c.msg, got)
		}
		if got := m.lastCall(); got != c.call {
			t.Errorf("%s: participant got %q, want %q", c.msg, got, c.call)
			continue
		}
		var env Envelope
		_ = json.Unmarshal([]byte(c.msg), &env)
		typesSeen[env.Type] = true
	}
}

// A join asks the room manager with the client's names and every
// permission (auth off); joining again first leaves with switched-room.
func TestDispatchJoinAndSwitch(t *testing.T) {
	rooms := &fakeRooms{}
	s := testSession(t, rooms, Options{})
	first := joinSession(t, s, rooms)
	s.dispatch([]byte(`{"type":"join","room":"other","name":"ann","resume":{"participant_id":"p_1","leave_secret":"s"}}`))
	if got := first.lastCall(); got != "leave switched-room" {
		t.Fatalf("the first membership got %q, want leave switched-room", got)
	}
	req := rooms.requests[1]
	if req.Room != "other" || req.Name != "ann" || req.Permissions != room.AllPermissions ||
		req.Resume == nil || req.Resume.ParticipantID != "p_1" || req.Resume.Secret != "s" {
		t.Fatalf("join request %+v", req)
	}
	// A refused switch keeps the current room.
	rooms.refused = room.ErrDraining
	s.dispatch([]byte(`{"type":"join","room":"third","name":"ann"}`))
	if code, _ := errorReply(t, s); code != CodeDraining {
		t.Fatalf("join while draining: %s", code)
	}
	if got := rooms.members[1].lastCall(); got != "" {
		t.Fatalf("a refused switch made the current member %q", got)
	}
}

// Malformed or misdirected messages get their codes and the session goes
// on; ref names the request's type when it has one.
func TestDispatchRefusesBadMessages(t *testing.T) {
	cases := []struct {
		joined   bool
		msg      string
		code     string
		ref      string
		contains string
	}{
		{false, "not json", CodeBadMessage, "", "not a JSON object"},
		{false, "[1,2]", CodeBadMessage, "", "not a JSON object"},
		{false, "{\"type\":\"chat\",\"text\":\"\xff\"}", CodeBadMessage, "", "UTF-8"},
		{false, `{"room":"r"}`, CodeBadMessage, "", "missing type"},
		{false, `{"type":"dance"}`, CodeUnknownType, "dance", "dance"},
		{false, `{"type":"join","room":"bad room","name":"ann"}`, CodeBadMessage, TypeJoin, "room name"},
		{false, `{"type":"join","room":"r","name":""}`, CodeBadMessage, TypeJoin, "display name"},
		{false, `{"type":"join","room":"r","name":"ann","resume":{"participant_id":"p"}}`, CodeBadMessage, TypeJoin, "leave_secret"},
		{false, `{"type":"join","room":5}`, CodeBadMessage, TypeJoin, "malformed"},
		{false, `{"type":"offer","pc":"publish","sdp":"o"}`, CodeNotJoined, TypeOffer, ""},
		{false, `{"type":"answer","pc":"subscribe","sdp":"a"}`, CodeNotJoined, TypeAnswer, ""},
		{false, `{"type":"candidate","pc":"publish","candidate":null}`, CodeNotJoined, TypeCandidate, ""},
		{false, `{"type":"leave"}`, CodeNotJoined, TypeLeave, ""},
		{false, `{"type":"mute","track":"t","muted":false}`, CodeNotJoined, TypeMute, ""},
		{false, `{"type":"chat","text":"hi"}`, CodeNotJoined, TypeChat, ""},
		{false, `{"type":"subscription","track":"t","width":1,"height":1}`, CodeNotJoined, TypeSubscription, ""},
		{true, `{"type":"offer","pc":"subscribe","sdp":"o"}`, CodeBadMessage, TypeOffer, "publish"},
		{true, `{"type":"offer","pc":"publish"}`, CodeBadMessage, TypeOffer, "missing sdp"},
		{true, `{"type":"offer","pc":"publish","sdp":5}`, CodeBadMessage, TypeOffer, "malformed"},
		{true, `{"type":"answer","pc":"publish","sdp":"a"}`, CodeBadMessage, TypeAnswer, "subscribe"},
		{true, `{"type":"answer","pc":"subscribe"}`, CodeBadMessage, TypeAnswer, "missing sdp"},
		{true, `{"type":"candidate","pc":"sideways","candidate":null}`, CodeBadMessage, TypeCandidate, "pc must be"},
		{true, `{"type":"mute","track":"t"}`, CodeBadMessage, TypeMute, "muted"},
		{true, `{"type":"mute","muted":true}`, CodeBadMessage, TypeMute, "track"},
		{true, `{"type":"subscription","width":1,"height":1}`, CodeBadMessage, TypeSubscription, "missing track"},
		{true, `{"type":"subscription","track":"t","width":-1,"height":1}`, CodeBadMessage, TypeSubscription, "between"},
		{true, `{"type":"subscription","track":"t","width":1,"height":99999}`, CodeBadMessage, TypeSubscription, "between"},
	}
	for _, c := range cases {
		rooms := &fakeRooms{}
		s := testSession(t, rooms, Options{})
		var m *fakeMember
		if c.joined {
			m = joinSession(t, s, rooms)
		}
		s.dispatch([]byte(c.msg))
		msgs := sent(t, s)
		if len(msgs) != 1 || msgs[0]["type"] != TypeError {
			t.Errorf("%s: replies %v, want one error", c.msg, msgs)
			continue
		}
		codesSeen[c.code] = true
		text, _ := msgs[0]["message"].(string)
		if msgs[0]["code"] != c.code || (msgs[0]["ref"] != nil || c.ref != "") && msgs[0]["ref"] != c.ref || !strings.Contains(text, c.contains) {
			t.Errorf("%s: got %v, want code %s ref %q mentioning %q", c.msg, msgs[0], c.code, c.ref, c.contains)
		}
		if m != nil && m.lastCall() != "" {
			t.Errorf("%s: a refused message reached the participant as %q", c.msg, m.lastCall())
		}
		typesSeen[TypeError] = true
		if c.ref != "" {
			typesSeen[c.ref] = true // a client message type, seen refused
		}
	}
}

// Every error the lower layers return for a request maps to its code.
func TestDispatchMapsEveryLayersErrors(t *testing.T) {
	offer := `{"type":"offer","pc":"publish","sdp":"o"}`
	cases := []struct {
		msg  string
		err  error
		code string
	}{
		{offer, room.ErrTooManyTracks, CodeTooManyTracks},
		{offer, fmt.Errorf("apply: %w", sfu.ErrBadSDP), CodeBadSDP},
		{offer, room.ErrPermissionDenied, CodePermissionDenied},
		{offer, room.ErrLeft, CodeNotJoined},
		{offer, errors.New("disk on fire"), CodeInternal},
		{`{"type":"answer","pc":"subscribe","sdp":"a"}`, sfu.ErrWrongState, CodeWrongState},
		{`{"type":"candidate","pc":"publish","candidate":{"candidate":"x"}}`, sfu.ErrBadCandidate, CodeBadCandidate},
		{`{"type":"subscription","track":"t","width":1,"height":1}`, sfu.ErrUnknownTrack, CodeUnknownTrack},
		{`{"type":"mute","track":"t","muted":true}`, room.ErrUnknownTrack, CodeUnknownTrack},
		{`{"type":"chat","text":"x"}`, room.ErrChatTooLong, CodeChatTooLong},
		{`{"type":"chat","text":"x"}`, room.ErrRateLimited, CodeRateLimited},
		{`{"type":"chat","text":"x"}`, room.ErrChatEmpty, CodeBadMessage},
		{`{"type":"chat","text":"x"}`, room.ErrChatBadText, CodeBadMessage},
		{`{"type":"chat","text":"x"}`, room.ErrPermissionDenied, CodePermissionDenied},
	}
	for _, c := range cases {
		rooms := &fakeRooms{}
		s := testSession(t, rooms, Options{})
		m := joinSession(t, s, rooms)
		m.err = c.err
		s.dispatch([]byte(c.msg))
		if code, _ := errorReply(t, s); code != c.code {
			t.Errorf("%s failing with %v: code %s, want %s", c.msg, c.err, code, c.code)
		}
	}
}

// Joins refused by the room manager get their codes; a room on another
// node gets a redirect instead of an error.
func TestDispatchJoinRefusals(t *testing.T) {
	join := []byte(`{"type":"join","room":"r","name":"ann"}`)
	cases := []struct {
		refused, joinErr error
		code             string
	}{
		{nil, room.ErrRoomFull, CodeRoomFull},
		{room.ErrShuttingDown, nil, CodeShuttingDown},
		{room.ErrDraining, nil, CodeDraining},
		{nil, room.ErrClusterLost, CodeClusterLost},
		{nil, room.ErrBadName, CodeBadMessage},
	}
	for _, c := range cases {
		rooms := &fakeRooms{refused: c.refused, joinErr: c.joinErr}
		s := testSession(t, rooms, Options{})
		s.dispatch(join)
		if code, ref := errorReply(t, s); code != c.code || ref != TypeJoin {
			t.Errorf("join refused with %v/%v: code %s ref %s, want %s", c.refused, c.joinErr, code, ref, c.code)
		}
		s.dispatch([]byte(`{"type":"leave"}`))
		if code, _ := errorReply(t, s); code != CodeNotJoined {
			t.Errorf("after a refused join, leave got %s, want not-joined", code)
		}
		// The refusal ended nothing: the same session joins another room.
		rooms.mu.Lock()
		rooms.refused, rooms.joinErr = nil, nil
		rooms.mu.Unlock()
		s.dispatch([]byte(`{"type":"join","room":"other","name":"ann"}`))
		if got := sent(t, s); len(got) != 0 || len(rooms.members) != 1 || rooms.requests[len(rooms.requests)-1].Room != "other" {
			t.Errorf("after a join refused with %v/%v, joining another room: replies %v, %d members", c.refused, c.joinErr, got, len(rooms.members))
		}
	}

	rooms := &fakeRooms{joinErr: fmt.Errorf("placing: %w", &room.Redirect{Room: "r", Node: "n2", Incarnation: 7, URL: "wss://n2/ws"})}
	s := testSession(t, rooms, Options{})
	s.dispatch(join)
	msgs := sent(t, s)
	if len(msgs) != 1 || msgs[0]["type"] != TypeRedirect || msgs[0]["url"] != "wss://n2/ws" || msgs[0]["node"] != "n2" || msgs[0]["incarnation"] != 7.0 {
		t.Fatalf("redirected join answered %v", msgs)
	}
	typesSeen[TypeRedirect] = true
}

// Token errors (auth on) map to their own codes.
func TestErrorCodeOfTokenErrors(t *testing.T) {
	cases := map[error]string{
		auth.ErrMissing:      CodeTokenMissing,
		auth.ErrMalformed:    CodeTokenMalformed,
		auth.ErrBadSignature: CodeTokenBadSignature,
		auth.ErrExpired:      CodeTokenExpired,
		auth.ErrNotYetValid:  CodeTokenNotYetValid,
		auth.ErrWrongRoom:    CodeTokenWrongRoom,
	}
	for err, want := range cases {
		if got := errorCode(fmt.Errorf("verify: %w", err)); got != want {
			t.Errorf("errorCode(%v) = %s, want %s", err, got, want)
		}
		codesSeen[want] = true
	}
}

// Past the burst, a limited message type is dropped with rate-limited;
// other types are not held up.
func TestDispatchRateLimitsPerType(t *testing.T) {
	rooms := &fakeRooms{}
	s := testSession(t, rooms, Options{MessageRate: 1, MessageBurst: 2})
	m := joinSession(t, s, rooms)
	for i := range 3 {
		s.dispatch(fmt.Appendf(nil, `{"type":"mute","track":"t%d","muted":true}`, i))
	}
	if code, ref := errorReply(t, s); code != CodeRateLimited || ref != TypeMute {
		t.Fatalf("third mute in a burst of 2: %s (%s)", code, ref)
	}
	if got := m.lastCall(); got != "mute t1 true" {
		t.Fatalf("the dropped mute reached the participant: %q", got)
	}
	s.dispatch([]byte(`{"type":"offer","pc":"publish","sdp":"o"}`))
	if got := m.lastCall(); got != "offer o" {
		t.Fatalf("an offer after the mute flood: %q", got)
	}
}
