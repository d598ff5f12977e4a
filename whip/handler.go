// Package whip serves WHIP (RFC 9725) ingest and WHEP playback: HTTP
// clients that offer SDP once and join a room as a participant like any
// other. Each resource is a room.Client, so the room treats it exactly as
// a WebSocket participant: it joins, its tracks are forwarded, and it
// leaves through the room's one leave path (reason "deleted" on DELETE,
// "pc-failed" when its ICE/DTLS dies). See docs/whip.md.
package whip

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/internal/ids"
	"github.com/switchyard-sfu/switchyard/internal/origin"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// Kind tells WHIP (publish) and WHEP (play) resources apart.
type Kind string

// The two kinds, which are also the URL prefixes.
const (
	WHIP Kind = "whip"
	WHEP Kind = "whep"
)

// Content types of the protocol.
const (
	contentSDP     = "application/sdp"
	contentSDPFrag = "application/trickle-ice-sdpfrag"
)

// maxSDPSize bounds an offer or PATCH body; OBS and GStreamer offers are
// a few kilobytes.
const maxSDPSize = 64 << 10

// gatherTimeout bounds the wait for the server's own candidates, which
// the answer must carry; with the UDP mux they are ready at once.
const gatherTimeout = 5 * time.Second

// Options configure a Handler.
type Options struct {
	Rooms *room.Manager
	Auth  *auth.Authority // nil when auth is off
	// ICEServers gives the STUN/TURN servers for a participant, sent in
	// Link headers; nil sends none.
	ICEServers func(participantID string, expires time.Time) []webrtc.ICEServer
	Log        *zap.Logger
	// Origins is which browser pages may call the endpoints (cors.go).
	Origins origin.Policy
}

// Handler serves the WHIP and WHEP endpoints.
type Handler struct {
	opts Options
	log  *zap.Logger

	mu       sync.Mutex
	sessions map[string]*session // by resource id
}

// New makes a Handler.
func New(opts Options) *Handler {
	return &Handler{opts: opts, log: cmp.Or(opts.Log, zap.NewNop()), sessions: map[string]*session{}}
}

// Register adds the endpoints to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, k := range []Kind{WHIP, WHEP} {
		base := "/v1/" + string(k) + "/{room}"
		mux.HandleFunc("POST "+base, h.withOrigin(h.post(k)))
		mux.HandleFunc("OPTIONS "+base, h.withOrigin(h.options(k)))
		mux.HandleFunc("DELETE "+base+"/{session}", h.withOrigin(h.delete(k)))
		mux.HandleFunc("PATCH "+base+"/{session}", h.withOrigin(h.patch(k)))
		mux.HandleFunc("OPTIONS "+base+"/{session}", h.withOrigin(h.options(k)))
	}
}

// Sessions counts the live WHIP and WHEP resources, for tests.
func (h *Handler) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

func (h *Handler) post(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := h.serveOffer(w, r, kind); e != nil {
			h.log.Info("offer refused", zap.String("kind", string(kind)), zap.String("room", r.PathValue("room")),
				zap.Int("status", e.status), zap.String("code", e.code), zap.String("error", e.message))
			writeError(w, e)
		}
	}
}

func (h *Handler) serveOffer(w http.ResponseWriter, r *http.Request, kind Kind) *httpError {
	roomName := r.PathValue("room")
	offer, e := readBody(w, r, contentSDP)
	if e != nil {
		return e
	}
	if err := checkOffer(offer); err != nil {
		return fail(http.StatusBadRequest, CodeBadSDP, err.Error())
	}
	req, err := h.admit(r, roomName, kind)
	if err != nil {
		return classify(err)
	}
	s := &session{id: ids.Secret(), kind: kind, roomName: roomName, forget: h.forget}
	h.mu.Lock()
	h.sessions[s.id] = s
	h.mu.Unlock()
	p, err := h.opts.Rooms.JoinWith(req, s)
	if err != nil {
		h.forget(s)
		return classify(err)
	}
	s.participant = p
	ctx, cancel := context.WithTimeout(r.Context(), gatherTimeout)
	defer cancel()
	var answer string
	if kind == WHIP {
		answer, err = p.PublishOffer(ctx, offer)
	} else {
		answer, err = p.WatchOffer(ctx, offer, r.URL.Query().Get("participant"))
	}
	if err != nil {
		p.Leave(room.ReasonOfferRejected)
		if errors.Is(err, room.ErrNoSource) {
			return fail(http.StatusNotFound, CodeNoSource, err.Error())
		}
		return fail(http.StatusBadRequest, CodeBadSDP, fmt.Sprintf("offer not accepted: %v", err))
	}
	if s.ended.Load() { // its ICE already failed, or the server is stopping
		return fail(http.StatusServiceUnavailable, CodeUnavailable, "the session ended before it was answered")
	}
	hdr := w.Header()
	hdr.Set("Content-Type", contentSDP)
	hdr.Set("Location", resourcePath(kind, roomName, s.id))
	hdr.Set("ETag", etag(answer))
	hdr.Set("Switchyard-Participant-Id", p.ID())
	hdr.Set("Accept-Patch", contentSDPFrag)
	if h.opts.ICEServers != nil {
		for _, l := range linkHeaders(h.opts.ICEServers(p.ID(), req.Expires)) {
			hdr.Add("Link", l)
		}
	}
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
	h.log.Info("http session started", zap.String("kind", string(kind)), zap.String("room", roomName), zap.String("participant", p.ID()))
	return nil
}

// admit turns the request into a join: with auth off, every permission
// and the ?name= display name; with auth on, the Bearer token's room,
// identity, name and permissions. WHIP needs publish, WHEP subscribe;
// the participant gets only that one, so the room never forwards to a
// WHIP publisher nor takes tracks from a WHEP viewer.
func (h *Handler) admit(r *http.Request, roomName string, kind Kind) (room.JoinRequest, error) {
	if err := room.ValidateRoomName(roomName); err != nil {
		return room.JoinRequest{}, err
	}
	req := room.JoinRequest{Room: roomName, Name: cmp.Or(r.URL.Query().Get("name"), defaultName(kind))}
	may := room.AllPermissions
	if h.opts.Auth != nil {
		token, ok := bearer(r)
		if !ok {
			return req, auth.ErrMissing
		}
		g, err := h.opts.Auth.VerifyJoin(token, roomName)
		if err != nil {
			return req, err
		}
		req.Name, req.Identity, req.Expires = g.DisplayName(), g.Identity, g.Expires
		may = room.Permissions(g.Permissions)
	}
	if kind == WHIP {
		if !may.Publish {
			return req, fmt.Errorf("%w: the token does not allow publishing", room.ErrPermissionDenied)
		}
		req.Permissions = room.Permissions{Publish: true}
	} else {
		if !may.Subscribe {
			return req, fmt.Errorf("%w: the token does not allow subscribing", room.ErrPermissionDenied)
		}
		// Subscribe stays false: the room's automatic forwarding would
		// renegotiate, which WHEP cannot; WatchOffer picks the tracks.
		req.Permissions = room.Permissions{}
	}
	return req, room.ValidateJoin(req.Room, req.Name)
}

func defaultName(kind Kind) string {
	if kind == WHIP {
		return "WHIP publisher"
	}
	return "WHEP viewer"
}

func bearer(r *http.Request) (string, bool) {
	v := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func (h *Handler) delete(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, e := h.lookup(r, kind)
		if e != nil {
			writeError(w, e)
			return
		}
		s.participant.Leave(room.ReasonDeleted)
		w.WriteHeader(http.StatusOK)
	}
}

// lookup finds the live resource the URL names.
func (h *Handler) lookup(r *http.Request, kind Kind) (*session, *httpError) {
	h.mu.Lock()
	s := h.sessions[r.PathValue("session")]
	h.mu.Unlock()
	if s == nil || s.kind != kind || s.roomName != r.PathValue("room") || s.participant == nil || s.ended.Load() {
		return nil, fail(http.StatusNotFound, CodeNoSession, fmt.Sprintf("no such %s session (it ended, or never existed)", strings.ToUpper(string(kind))))
	}
	return s, nil
}

func (h *Handler) forget(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] == s {
		delete(h.sessions, s.id)
	}
}

// options answers CORS pre-flights and discovery: what may be sent, and
// the STUN servers (TURN credentials are per participant, so they come
// only with the 201).
func (h *Handler) options(kind Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		if r.PathValue("session") != "" {
			hdr.Set("Allow", "OPTIONS, PATCH, DELETE")
			hdr.Set("Accept-Patch", contentSDPFrag)
		} else {
			hdr.Set("Allow", "OPTIONS, POST")
			hdr.Set("Accept-Post", contentSDP)
			if h.opts.ICEServers != nil {
				var stun []webrtc.ICEServer
				for _, s := range h.opts.ICEServers("", time.Time{}) {
					if s.Username == "" {
						stun = append(stun, s)
					}
				}
				for _, l := range linkHeaders(stun) {
					hdr.Add("Link", l)
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// readBody reads a request body of the one content type allowed.
func readBody(w http.ResponseWriter, r *http.Request, want string) (string, *httpError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return "", fail(http.StatusUnsupportedMediaType, CodeBadContentType,
			fmt.Sprintf("Content-Type must be %s, not %q", want, r.Header.Get("Content-Type")))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSDPSize))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", fail(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body exceeds %d bytes", maxSDPSize))
		}
		return "", fail(http.StatusBadRequest, CodeBadSDP, fmt.Sprintf("reading body: %v", err))
	}
	return string(body), nil
}

func resourcePath(kind Kind, roomName, id string) string {
	return "/v1/" + string(kind) + "/" + roomName + "/" + id
}

// linkHeaders renders ICE servers as RFC 9725 §4.6 Link header values.
func linkHeaders(servers []webrtc.ICEServer) []string {
	var out []string
	for _, s := range servers {
		for _, u := range s.URLs {
			v := "<" + u + `>; rel="ice-server"`
			if cred, ok := s.Credential.(string); ok && s.Username != "" {
				v += fmt.Sprintf(`; username=%q; credential=%q; credential-type="password"`, s.Username, cred)
			}
			out = append(out, v)
		}
	}
	return out
}
