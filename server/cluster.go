package server

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard-sfu/switchyard/cluster"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// newClusterNode makes the cluster node for cfg.Cluster, or nil for a
// single node. It connects only in startCluster, once the server listens.
func (s *Server) newClusterNode(cfg config.Config, log *zap.Logger) (*cluster.Node, error) {
	if !cfg.Cluster.Enabled() {
		return nil, nil
	}
	id := cfg.Cluster.NodeID
	if id == "" {
		id = cluster.NewNodeID()
	}
	load := &loadSampler{s: s}
	node, err := cluster.New(cluster.Options{
		URL:          cfg.Cluster.NATSURL,
		NodeID:       id,
		AdvertiseURL: cfg.Cluster.AdvertiseURL,
		Heartbeat:    cfg.Cluster.HeartbeatInterval,
		LostTimeout:  cfg.Cluster.LostTimeout,
		Log:          log.Named("cluster"),
		Load:         load.sample,
		Draining:     s.drain.active.Load,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return node, nil
}

// startCluster registers the node once the listen address is known (the
// default advertise URL is derived from it).
func (s *Server) startCluster() error {
	if s.cluster == nil {
		return nil
	}
	if s.cluster.AdvertiseURL() == "" {
		if a := s.TLSAddr(); a != nil { // an https page may not open ws:// (mixed content)
			s.cluster.SetAdvertiseURL(defaultAdvertiseURL("wss", a))
		} else {
			s.cluster.SetAdvertiseURL(defaultAdvertiseURL("ws", s.listener.Addr()))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cluster.Start(ctx, clusterHost{s.rooms}); err != nil {
		return err
	}
	if err := s.metrics.Register(s.cluster.Collector()); err != nil {
		return fmt.Errorf("cluster metrics: %w", err)
	}
	return nil
}

func (s *Server) closeCluster(ctx context.Context) error {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.Close(ctx)
}

// Cluster is the server's cluster node, nil on a single node.
func (s *Server) Cluster() *cluster.Node { return s.cluster }

func defaultAdvertiseURL(scheme string, addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return scheme + "://" + addr.String() + "/v1/rtc"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1" // only right on one host: set cluster.advertise_url otherwise
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/v1/rtc"
}

// placement is nil (no interface value) on a single node.
func (s *Server) placement() room.Placement {
	if s.cluster == nil {
		return nil
	}
	return s.cluster
}

// clusterHost is the room manager as the cluster needs it.
type clusterHost struct{ *room.Manager }

func (h clusterHost) Mute(roomName, who, trackID string, muted bool) error {
	found, err := h.Find(roomName, who)
	if err != nil {
		return err
	}
	for _, p := range found {
		if p.HasTrack(trackID) {
			return p.SetTrackMuted(trackID, muted)
		}
	}
	return fmt.Errorf("%w: %s publishes no track %q", room.ErrUnknownTrack, who, trackID)
}

// loadSampler turns the engine's forwarded-packet counter and the
// process's CPU time into rates between heartbeats.
type loadSampler struct {
	s *Server

	mu        sync.Mutex
	at        time.Time
	forwarded uint64
	cpu       time.Duration
}

func (l *loadSampler) sample() cluster.Load {
	rooms, participants := l.s.rooms.Counts()
	forwarded := l.s.engine.Stats().PacketsForwarded
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	load := cluster.Load{Participants: participants, Rooms: rooms}
	if dt := now.Sub(l.at).Seconds(); !l.at.IsZero() && dt > 0 {
		load.ForwardedPPS = float64(forwarded-l.forwarded) / dt
		load.CPU = (cpu - l.cpu).Seconds() / dt
	}
	l.at, l.forwarded, l.cpu = now, forwarded, cpu
	return load
}
