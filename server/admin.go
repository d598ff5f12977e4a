package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/switchyard-sfu/switchyard/adminapi"
	"github.com/switchyard-sfu/switchyard/auth"
	"go.uber.org/zap"
)

// maxAdminBody bounds admin request bodies; the largest is {"muted":false}.
const maxAdminBody = 1 << 10

// Admin API error codes, in the JSON body of every non-2xx answer.
const (
	adminDisabled     = "admin-disabled"            // auth is off, so there are no admin tokens
	adminUnauthorized = "unauthorized"              // no bearer token, or one that does not verify
	adminForbidden    = "forbidden"                 // a valid token without admin permission for that room
	adminNotFound     = "not-found"                 // no such room, participant or track
	adminBadRequest   = "bad-request"               // the body is not what the endpoint takes
	adminConflict     = "conflict"                  // the target changed under the request (e.g. left)
	adminTokenPrefix  = "Bearer "                   // RFC 6750 scheme
	adminRealm        = `Bearer realm="switchyard"` // WWW-Authenticate on 401
)

func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /v1/admin/rooms", s.admin(s.handleAdminRooms))
	mux.Handle("POST /v1/admin/rooms/{room}/close", s.admin(s.handleAdminCloseRoom))
	mux.Handle("POST /v1/admin/rooms/{room}/participants/{participant}/kick", s.admin(s.handleAdminKick))
	mux.Handle("POST /v1/admin/rooms/{room}/participants/{participant}/tracks/{track}/mute", s.admin(s.handleAdminMute))
	s.clusterAdminRoutes(mux)
}

type adminHandler func(w http.ResponseWriter, r *http.Request, g auth.Grant)

// admin checks the bearer token: 403 when auth is off (there is no way to
// prove who is asking), 401 without a token that verifies, 403 without
// admin permission for the room in the path.
func (s *Server) admin(h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.auth == nil {
			s.adminError(w, http.StatusForbidden, adminDisabled,
				"the admin API is disabled because auth is off; set auth.secret and use a token with admin permission")
			return
		}
		header := r.Header.Get("Authorization")
		if len(header) < len(adminTokenPrefix) || !strings.EqualFold(header[:len(adminTokenPrefix)], adminTokenPrefix) {
			w.Header().Set("WWW-Authenticate", adminRealm)
			s.adminError(w, http.StatusUnauthorized, adminUnauthorized, "send Authorization: Bearer <token with admin permission>")
			return
		}
		g, err := s.auth.Verify(strings.TrimSpace(header[len(adminTokenPrefix):]))
		if err != nil {
			w.Header().Set("WWW-Authenticate", adminRealm+`, error="invalid_token"`)
			s.adminError(w, http.StatusUnauthorized, adminUnauthorized, err.Error())
			return
		}
		if !g.Permissions.Admin {
			s.adminError(w, http.StatusForbidden, adminForbidden, "the token has no admin permission")
			return
		}
		if name := r.PathValue("room"); name != "" && !g.CoversRoom(name) {
			s.adminError(w, http.StatusForbidden, adminForbidden, "the token's admin permission is for room "+g.Room+" only")
			return
		}
		h(w, r, g)
	})
}

func (s *Server) handleAdminRooms(w http.ResponseWriter, _ *http.Request, g auth.Grant) {
	rooms := []adminapi.Room{}
	for _, info := range s.rooms.Rooms() {
		if g.CoversRoom(info.Name) {
			rooms = append(rooms, adminapi.FromRoom(info))
		}
	}
	writeJSON(w, s.log, map[string]any{"rooms": rooms})
}

func (s *Server) handleAdminKick(w http.ResponseWriter, r *http.Request, g auth.Grant) {
	name, who := r.PathValue("room"), r.PathValue("participant")
	kicked, err := s.rooms.Kick(name, who)
	if err != nil {
		s.adminError(w, http.StatusNotFound, adminNotFound, err.Error())
		return
	}
	s.log.Info("admin kicked", zap.String("room", name), zap.Strings("participants", kicked), zap.String("by", g.Identity))
	writeJSON(w, s.log, map[string]any{"room": name, "kicked": kicked})
}

// muteRequest is the mute body; an empty body mutes.
type muteRequest struct {
	Muted *bool `json:"muted"`
}

func (s *Server) handleAdminMute(w http.ResponseWriter, r *http.Request, g auth.Grant) {
	name, who, track := r.PathValue("room"), r.PathValue("participant"), r.PathValue("track")
	var body muteRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		s.adminError(w, http.StatusBadRequest, adminBadRequest, `body must be empty or {"muted": true|false}`)
		return
	}
	muted := body.Muted == nil || *body.Muted
	found, err := s.rooms.Find(name, who)
	if err != nil {
		s.adminError(w, http.StatusNotFound, adminNotFound, err.Error())
		return
	}
	// Only SetTrackMuted's signature is relied on here: which participant
	// has the track is checked first, so its errors need no decoding.
	for _, p := range found {
		if !p.HasTrack(track) {
			continue
		}
		if err := p.SetTrackMuted(track, muted); err != nil {
			s.adminError(w, http.StatusConflict, adminConflict, err.Error())
			return
		}
		s.log.Info("admin muted track", zap.String("room", name), zap.String("participant", p.ID()),
			zap.String("track", track), zap.Bool("muted", muted), zap.String("by", g.Identity))
		writeJSON(w, s.log, map[string]any{"room": name, "participant": p.ID(), "track": track, "muted": muted})
		return
	}
	s.adminError(w, http.StatusNotFound, adminNotFound, "participant "+who+" publishes no track "+track)
}

func (s *Server) handleAdminCloseRoom(w http.ResponseWriter, r *http.Request, g auth.Grant) {
	name := r.PathValue("room")
	n, err := s.rooms.CloseRoom(name)
	if err != nil {
		s.adminError(w, http.StatusNotFound, adminNotFound, err.Error())
		return
	}
	s.log.Info("admin closed room", zap.String("room", name), zap.Int("participants", n), zap.String("by", g.Identity))
	writeJSON(w, s.log, map[string]any{"room": name, "participants_removed": n})
}

// adminErrorBody is every admin API error.
type adminErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) adminError(w http.ResponseWriter, status int, code, message string) {
	writeJSONStatus(w, s.log, status, adminErrorBody{Code: code, Message: message})
}

func writeJSONStatus(w http.ResponseWriter, log *zap.Logger, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Debug("write response", zap.Error(err))
	}
}
