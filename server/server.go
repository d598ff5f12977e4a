// Package server assembles Switchyard from its parts — media engine, room
// manager, signaling, web client, HTTP endpoints — and shuts them down in
// order. The binary, the integration tests and the bench tool all use it,
// so they run the same server.
package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/cluster"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/origin"
	"github.com/switchyard-sfu/switchyard/metrics"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/sfu"
	"github.com/switchyard-sfu/switchyard/signal"
	"github.com/switchyard-sfu/switchyard/turnserver"
	"github.com/switchyard-sfu/switchyard/webhook"
	"github.com/switchyard-sfu/switchyard/whip"
	"go.uber.org/zap"
)

// Server is one running Switchyard.
type Server struct {
	cfg      config.Config
	log      *zap.Logger
	engine   *sfu.Engine
	rooms    *room.Manager
	signal   *signal.Handler
	http     *http.Server
	listener net.Listener
	version  string
	metrics  *metrics.Metrics
	sessions *sessionlog.Log // nil when the session log is off
	closeLog sync.Once
	newConns newConns        // closed by Shutdown, which http.Server would wait for
	auth     *auth.Authority // nil when auth is off
	drain    drainState
	turn     *turnserver.Server // nil when turn.enabled is false
	closeNet sync.Once

	metricsSrv *metricsServer // nil unless http.metrics_listen is set; limits.go
	beacons    *perIPLimiter
	whip       *whip.Handler
	hooks      *webhook.Dispatcher // nil when webhooks.urls is empty
	cluster    *cluster.Node       // nil on a single node
	https      *httpsSide          // nil unless tls.listen is set; tls.go
}

// Options are the parts of a server that do not come from the config file.
type Options struct {
	Log      *zap.Logger
	Version  string
	Observer room.Observer // session log and metrics; may be nil

	// iceTimeout, when set, replaces the media engine's ICE disconnected
	// and failed timeouts: tests with dozens of peer connections in one
	// starved process must not read slowness as a dead network.
	iceTimeout time.Duration
	// iceRestartLimit, when set, replaces sfu.DefaultICERestartLimit, so a
	// test of an unrecoverable path need not wait the full bound.
	iceRestartLimit time.Duration
}

// New builds a server from a validated config; Start makes it listen.
func New(cfg config.Config, opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	// Before the engine, which holds sockets a failed New must close.
	authority, err := newAuthority(cfg.Auth, log)
	if err != nil {
		return nil, err
	}
	https, err := newHTTPS(cfg, log.Named("https"))
	if err != nil {
		return nil, err
	}
	engine, publicIPs, err := newEngine(cfg.ICE, cfg.Limits.MaxRemoteCandidates, opts.iceTimeout, opts.iceRestartLimit, log.Named("ice"))
	if err != nil {
		return nil, fmt.Errorf("media engine: %w", err)
	}
	s := &Server{engine: engine, https: https}
	if cfg.TURN.Enabled {
		if s.turn, err = startTURN(cfg, publicIPs, engine, log); err != nil {
			_ = s.closeNetwork()
			return nil, err
		}
	}
	var obs observers
	var journal room.Journal // stays a nil interface when the log is off
	var sessions *sessionlog.Log
	if cfg.SessionLog.Path != "" {
		var recovery sessionlog.Recovery
		sessions, recovery, err = sessionlog.OpenRotating(cfg.SessionLog.Path, time.Now, sessionlog.Rotation{
			MaxBytes: int64(cfg.SessionLog.MaxSizeMB) << 20, MaxAge: cfg.SessionLog.MaxAge,
			MaxSegments: cfg.SessionLog.MaxSegments})
		if err != nil {
			_ = s.closeNetwork()
			return nil, fmt.Errorf("session log: %w", err)
		}
		log.Info("session log opened", zap.String("path", cfg.SessionLog.Path), zap.Int("records", recovery.Records),
			zap.Int("skipped", recovery.Skipped), zap.Int64("torn_bytes", recovery.TornBytes),
			zap.Int("closed_after_crash", len(recovery.Closed)))
		journal = &sessionRecorder{log: sessions}
		if s.hooks, err = newWebhooks(cfg, log.Named("webhook")); err != nil {
			_ = sessions.Close()
			_ = s.closeNetwork()
			return nil, err
		}
		if s.hooks != nil {
			obs = append(obs, webhookWake{s.hooks})
			sessions.Retain(s.hooks.OldestSegment) // retention keeps what is undelivered
		}
	}
	if s.cluster, err = s.newClusterNode(cfg, log); err != nil {
		_ = s.closeNetwork()
		return nil, err
	}
	if s.cluster != nil {
		obs = append(obs, s.cluster) // the cluster session log
	}
	// Tests observe last, so metrics and the log are current when they look.
	stats := metrics.New(engine)
	departures := make(chan struct{}, 1)
	obs = append(obs, stats, departureSignal(departures))
	if opts.Observer != nil {
		obs = append(obs, opts.Observer)
	}
	rooms := room.NewManager(engine, room.Options{
		MaxParticipants: cfg.Room.MaxParticipants,
		MaxTracks:       cfg.Limits.MaxTracks,
		Observer:        obs,
		Journal:         journal,
		Log:             log.Named("room"),
		ICEServers:      s.ICEServersFor,
		Placement:       s.placement(),
	})
	s.cfg, s.log, s.rooms, s.version, s.sessions, s.metrics = cfg, log, rooms, opts.Version, sessions, stats
	s.auth, s.drain = authority, drainState{departures: departures}
	s.signal = signal.NewHandler(rooms, signal.Options{
		PingInterval:   cfg.Signaling.PingInterval,
		PingTimeout:    cfg.Signaling.PingTimeout,
		MaxMessageSize: cfg.Signaling.MaxMessageSize,
		AllowedOrigins: cfg.Signaling.AllowedOrigins,
		Auth:           authority,
		ReconnectGrace: cfg.Room.ReconnectGrace,

		AnswerLimit:        signal.AnswerLimit(cfg.Room.MaxParticipants, cfg.Limits.MaxTracks),
		MessageRate:        cfg.Limits.MessageRate,
		MessageBurst:       cfg.Limits.MessageBurst,
		JoinRate:           cfg.Limits.JoinRate,
		JoinBurst:          cfg.Limits.JoinBurst,
		MaxWebSockets:      cfg.HTTP.MaxWebSockets,
		MaxWebSocketsPerIP: cfg.HTTP.MaxWebSocketsPerIP,
		JoinTimeout:        cfg.HTTP.JoinTimeout,
		Hosts:              cfg.HTTP.Hosts,
		RequireSocketToken: cfg.Auth.RequireSocketToken,
	}, log.Named("signal"))
	s.beacons = newPerIPLimiter(cfg.HTTP.BeaconRate, cfg.HTTP.BeaconBurst)
	s.whip = whip.New(whip.Options{Rooms: rooms, Auth: authority, ICEServers: s.ICEServersFor, Log: log.Named("whip"),
		Origins: origin.Policy{Allowed: cfg.Signaling.AllowedOrigins, Hosts: cfg.HTTP.Hosts}})
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         s.newConns.track,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	applyHTTPLimits(s.http, cfg.HTTP)
	return s, nil
}

// Start listens on the configured address and serves in the background
// until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Listen, err)
	}
	s.listener = ln
	if err := s.listenTLS(); err != nil {
		_ = ln.Close()
		return err
	}
	// The cluster first: it is the start most likely to fail (NATS), and
	// nothing else has started yet that a failure would leave running.
	if err := s.startCluster(); err != nil {
		_ = ln.Close()
		s.closeTLSListener()
		return err
	}
	if s.cfg.HTTP.MetricsListen != "" {
		if s.metricsSrv, err = startMetricsServer(s.cfg.HTTP, metricsHandler(s.metrics.Handler(), s.cfg.HTTP.MetricsToken), s.log.Named("metrics")); err != nil {
			_ = ln.Close()
			s.closeTLSListener()
			return err
		}
	}
	if s.hooks != nil {
		s.hooks.Start()
	}
	if s.https != nil {
		s.serveHTTPS(ln)
		s.log.Info("switchyard listening", zap.String("https", s.https.ln.Addr().String()),
			zap.String("addr", ln.Addr().String()), zap.String("plain", "redirects to https"), zap.String("version", s.version))
		return nil
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	s.log.Info("switchyard listening", zap.String("addr", ln.Addr().String()), zap.String("version", s.version))
	return nil
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Rooms exposes the room manager, for stats and tests.
func (s *Server) Rooms() *room.Manager { return s.rooms }

// Engine exposes the media engine's counters.
func (s *Server) Engine() *sfu.Engine { return s.engine }

// Shutdown tells every participant the server is going (reason
// server-shutdown), closes their peer connections and sockets, and stops
// the HTTP server, all within ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	// Stop taking new connections first so nobody joins a closing server.
	s.drain.active.Store(true) // /readyz: 503 for as long as it still answers
	s.http.SetKeepAlivesEnabled(false)
	errs := []error{
		s.rooms.Shutdown(ctx),
		s.signal.Shutdown(ctx),
	}
	errs = append(errs, s.closeCluster(ctx)) // after every leave is queued
	s.newConns.closeAll()
	errs = append(errs, s.http.Shutdown(ctx), s.shutdownRedirect(ctx))
	if s.metricsSrv != nil {
		errs = append(errs, s.metricsSrv.srv.Shutdown(ctx))
	}
	// Peer connections are closed by now, so their sockets can go.
	errs = append(errs, s.closeNetwork())
	if s.sessions != nil {
		// Every leave has been recorded by now: rooms.Shutdown made them.
		s.closeLog.Do(func() { errs = append(errs, s.sessions.Close()) })
	}
	errs = append(errs, s.closeWebhooks(ctx))
	return errors.Join(errs...)
}
