package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchyard-sfu/switchyard/adminapi"
	"github.com/switchyard-sfu/switchyard/web"
	"go.uber.org/zap"
)

// maxBeaconSize bounds the leave beacon body; it holds two short strings.
const maxBeaconSize = 4 << 10

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /", web.Handler())
	mux.Handle("GET /v1/rtc", s.signal)
	mux.HandleFunc("POST /v1/leave", s.handleLeaveBeacon)
	mux.HandleFunc("GET /v1/rooms", s.handleRooms)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	s.adminRoutes(mux)
	if s.cfg.HTTP.MetricsListen == "" { // else on its own listener (limits.go)
		mux.Handle("GET /metrics", metricsHandler(s.metrics.Handler(), s.cfg.HTTP.MetricsToken))
	}
	s.whip.Register(mux) // /v1/whip/, /v1/whep/
	return mux
}

// leaveBeacon is the body the page sends with navigator.sendBeacon when
// it is being closed, in case its WebSocket leave never made it.
type leaveBeacon struct {
	ParticipantID string `json:"participant_id"`
	LeaveSecret   string `json:"leave_secret"`
}

func (s *Server) handleLeaveBeacon(w http.ResponseWriter, r *http.Request) {
	if !s.beacons.allow(r, time.Now()) {
		http.Error(w, "too many leave beacons", http.StatusTooManyRequests)
		return
	}
	var body leaveBeacon
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBeaconSize)).Decode(&body); err != nil ||
		body.ParticipantID == "" || body.LeaveSecret == "" {
		http.Error(w, `body must be {"participant_id": "...", "leave_secret": "..."}`, http.StatusBadRequest)
		return
	}
	// One answer for an unknown id and a wrong secret: no id oracle.
	switch err := s.rooms.LeaveWithSecret(body.ParticipantID, body.LeaveSecret); {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	default: // unknown, wrong secret, or already left by another path
		http.Error(w, "no such participant or wrong leave secret", http.StatusNotFound)
	}
}

func (s *Server) handleRooms(w http.ResponseWriter, r *http.Request) {
	if s.auth != nil { // who is where is not public once joins need tokens
		s.admin(s.handleAdminRooms).ServeHTTP(w, r)
		return
	}
	writeJSON(w, s.log, map[string]any{"rooms": adminapi.Rooms(s.rooms.Rooms())})
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	rooms, participants := s.rooms.Counts()
	writeJSON(w, s.log, map[string]any{"status": "ok", "version": s.version, "rooms": rooms, "participants": participants})
}

func writeJSON(w http.ResponseWriter, log *zap.Logger, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Debug("write response", zap.Error(err))
	}
}
