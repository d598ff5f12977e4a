package sfu

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v2"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/ids"
)

// EngineConfig is the network side of the media engine.
type EngineConfig struct {
	// UDPListen is host:port of the one UDP socket all ICE traffic shares;
	// an empty host means that port on every allowed local address, port 0
	// lets the OS choose. Empty disables the mux: each peer connection then
	// takes its own port from PortMin..PortMax (any port if both are 0).
	UDPListen        string
	PortMin, PortMax uint16
	// TCPListen is host:port of the ICE-TCP listener; empty disables ICE-TCP.
	TCPListen string
	// PublicIPs replace local addresses in host candidates (1:1 NAT).
	PublicIPs []string
	// STUNServers are handed to clients; the server's own peer connections
	// gather no server-reflexive candidates (PublicIPs covers NAT).
	STUNServers []string
	Interfaces  []string
	// IPs, when non-empty, is the allow-list of local addresses to use.
	IPs      []string
	Loopback bool
	UDP4Only bool
	// DisconnectedTimeout, FailedTimeout and KeepaliveInterval tune how fast
	// ICE notices a silent peer; zero keeps the defaults below.
	DisconnectedTimeout time.Duration
	FailedTimeout       time.Duration
	KeepaliveInterval   time.Duration
	// MaxRemoteCandidates caps each peer connection's remote candidates
	// per ICE generation; 0 means DefaultMaxRemoteCandidates.
	MaxRemoteCandidates int
	// ICERestartLimit bounds how long a peer whose ICE failed may spend
	// restarting it before Failed is reported (icerestart.go); 0 means
	// DefaultICERestartLimit.
	ICERestartLimit time.Duration
	// Net replaces the host network stack; nil (always, in production)
	// uses the real one. Tests pass a pion vnet to inject loss.
	Net transport.Net
}

// ICE defaults: a peer silent for 2 s is disconnected and after 2 s more it
// has failed. Signaling pings usually notice a dead client first; these
// bound the case where only the media path died.
const (
	defaultDisconnectedTimeout = 2 * time.Second
	defaultFailedTimeout       = 2 * time.Second
	defaultKeepaliveInterval   = 500 * time.Millisecond
)

// Engine builds peer connections that all share one codec table,
// interceptor chain and network setting.
type Engine struct {
	api        *webrtc.API
	iceServers []webrtc.ICEServer
	stats      counters
	groups     groupTable // per-group (room) video figures: groupstats.go
	bwe        *bweHandoff
	sockets    *listeners
	fan        *fanPool // fan-out helpers: fanpool.go
	closeOnce  sync.Once

	maxRemoteCandidates int
	iceRestartLimit     time.Duration
	silentToFail        time.Duration // the longest ICE takes from silence to failed (lastheard.go)
}

// NewEngine prepares the WebRTC API: codecs (Opus, VP8, VP9, H.264, …;
// see registerCodecs), interceptors (see registerInterceptors), and the ICE
// settings from cfg. mDNS is off because the server has real addresses.
// It opens the configured ICE listeners; Close releases them.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	media := &webrtc.MediaEngine{}
	if err := registerCodecs(media); err != nil {
		return nil, fmt.Errorf("register codecs: %w", err)
	}
	if err := registerHeaderExtensions(media); err != nil {
		return nil, err
	}
	registry := &interceptor.Registry{}
	bwe := &bweHandoff{}
	if err := registerInterceptors(media, registry, bwe); err != nil {
		return nil, fmt.Errorf("register interceptors: %w", err)
	}

	settings := webrtc.SettingEngine{}
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	settings.SetIncludeLoopbackCandidate(cfg.Loopback)
	if cfg.UDPListen == "" && (cfg.PortMin != 0 || cfg.PortMax != 0) {
		if err := settings.SetEphemeralUDPPortRange(cfg.PortMin, cfg.PortMax); err != nil {
			return nil, fmt.Errorf("ice port range: %w", err)
		}
	}
	if len(cfg.PublicIPs) > 0 {
		settings.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	f := filters{interfaces: slices.Clone(cfg.Interfaces)}
	for _, s := range cfg.IPs {
		ip := net.ParseIP(s)
		if ip == nil {
			return nil, fmt.Errorf("ice ips: %q is not an IP address", s)
		}
		f.ips = append(f.ips, ip)
	}
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	if !cfg.UDP4Only {
		networks = append(networks, webrtc.NetworkTypeUDP6)
	}
	if cfg.TCPListen != "" {
		networks = append(networks, webrtc.NetworkTypeTCP4)
		if !cfg.UDP4Only {
			networks = append(networks, webrtc.NetworkTypeTCP6)
		}
	}
	settings.SetNetworkTypes(networks)
	// The server never dials a client: with active ICE-TCP on, a remote
	// "tcptype passive" candidate makes pion connect to whatever address
	// it names, a connect-scanner for anyone who can join.
	settings.DisableActiveTCP(true)
	settings.SetSRTPReplayProtectionWindow(srtpReplayWindow)
	if cfg.Net != nil {
		settings.SetNet(cfg.Net)
	}
	settings.SetICETimeouts(
		cmp.Or(cfg.DisconnectedTimeout, defaultDisconnectedTimeout),
		cmp.Or(cfg.FailedTimeout, defaultFailedTimeout),
		cmp.Or(cfg.KeepaliveInterval, defaultKeepaliveInterval),
	)
	nominateWithoutPrflxWait(&settings)

	ln, err := openListeners(cfg, f, &settings)
	if err != nil {
		return nil, err
	}
	var servers []webrtc.ICEServer
	if len(cfg.STUNServers) > 0 {
		servers = []webrtc.ICEServer{{URLs: slices.Clone(cfg.STUNServers)}}
	}
	return &Engine{
		api:        webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithInterceptorRegistry(registry), webrtc.WithSettingEngine(settings)),
		iceServers: servers,
		bwe:        bwe,
		sockets:    ln,
		fan:        newFanPool(defaultFanHelpers()),

		maxRemoteCandidates: cmp.Or(cfg.MaxRemoteCandidates, DefaultMaxRemoteCandidates),
		iceRestartLimit:     cmp.Or(cfg.ICERestartLimit, DefaultICERestartLimit),
		silentToFail: cmp.Or(cfg.DisconnectedTimeout, defaultDisconnectedTimeout) + cmp.Or(cfg.FailedTimeout, defaultFailedTimeout) +
			cmp.Or(cfg.KeepaliveInterval, defaultKeepaliveInterval),
	}, nil
}

// ICEServers are the STUN servers clients should use.
func (e *Engine) ICEServers() []webrtc.ICEServer { return e.iceServers }

func (e *Engine) newPeerConnection() (*webrtc.PeerConnection, error) {
	// No ICE servers: the server's candidates are its own (or PublicIPs),
	// and STUN gathering would open sockets outside the UDP mux.
	return e.api.NewPeerConnection(webrtc.Configuration{
		SDPSemantics: webrtc.SDPSemanticsUnifiedPlan,
	})
}

// Stats returns the media totals since the engine started.
func (e *Engine) Stats() Stats {
	s := e.stats.snapshot()
	if e.sockets != nil {
		s.EgressPackets = e.sockets.egress.packets.Load()
		s.EgressBatches = e.sockets.egress.batches.Load()
		s.EgressWaits = e.sockets.egress.waits.Load()
		s.EgressFailed = e.sockets.egress.failed.Load()
	}
	return s
}

func (e *Engine) newTrackID() string { return ids.New("t_") }
