package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/cluster"
	"go.uber.org/zap"
)

// clusterAdminRoutes are the admin API across nodes (docs/api.md): the
// same actions as /v1/admin, sent by request/reply to the node the room
// lives on and answered from its memory. Only on a cluster node.
func (s *Server) clusterAdminRoutes(mux *http.ServeMux) {
	if s.cluster == nil {
		return
	}
	mux.Handle("GET /v1/admin/cluster/rooms", s.admin(s.handleClusterRooms))
	mux.Handle("POST /v1/admin/cluster/rooms/{room}/close", s.admin(s.handleClusterAction("close")))
	mux.Handle("POST /v1/admin/cluster/rooms/{room}/participants/{participant}/kick", s.admin(s.handleClusterAction("kick")))
	mux.Handle("POST /v1/admin/cluster/rooms/{room}/participants/{participant}/tracks/{track}/mute", s.admin(s.handleClusterAction("mute")))
}

// clusterAdminTimeout bounds a request to other nodes.
const clusterAdminTimeout = 5 * time.Second

func (s *Server) handleClusterRooms(w http.ResponseWriter, r *http.Request, g auth.Grant) {
	ctx, cancel := context.WithTimeout(r.Context(), clusterAdminTimeout)
	defer cancel()
	replies, err := s.cluster.AllRooms(ctx)
	type nodeRooms struct {
		Node  string `json:"node"`
		Rooms any    `json:"rooms"`
	}
	out := []nodeRooms{}
	for _, rep := range replies {
		rooms := rep.Rooms[:0:0]
		for _, info := range rep.Rooms {
			if g.CoversRoom(info.Name) {
				rooms = append(rooms, info)
			}
		}
		out = append(out, nodeRooms{Node: rep.Node, Rooms: rooms})
	}
	body := map[string]any{"nodes": out}
	if err != nil {
		body["errors"] = err.Error() // the nodes that answered are still listed
	}
	writeJSON(w, s.log, body)
}

func (s *Server) handleClusterAction(op string) adminHandler {
	return func(w http.ResponseWriter, r *http.Request, g auth.Grant) {
		req := cluster.AdminRequest{Op: op, Room: r.PathValue("room"), Who: r.PathValue("participant"), Track: r.PathValue("track")}
		if op == "mute" {
			var body muteRequest
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAdminBody)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				s.adminError(w, http.StatusBadRequest, adminBadRequest, `body must be empty or {"muted": true|false}`)
				return
			}
			req.Muted = body.Muted == nil || *body.Muted
		}
		ctx, cancel := context.WithTimeout(r.Context(), clusterAdminTimeout)
		defer cancel()
		reply, err := s.cluster.Forward(ctx, req)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			s.adminError(w, http.StatusNotFound, adminNotFound, err.Error())
			return
		case err != nil:
			s.adminError(w, http.StatusBadGateway, "node-unreachable", err.Error())
			return
		}
		s.log.Info("admin action across nodes", zap.String("op", op), zap.String("room", req.Room), zap.String("node", reply.Node),
			zap.String("by", g.Identity))
		writeJSON(w, s.log, reply)
	}
}
