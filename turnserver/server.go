// Package turnserver is Switchyard's embedded TURN relay (pion/turn), for
// clients that can reach neither ICE port. Each participant gets its own
// expiring credentials, and the relay reaches only this host.
package turnserver

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/pion/turn/v2"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/closing"
	"go.uber.org/zap"
)

// Config is what the relay needs; the server fills it from config.TURNConfig.
type Config struct {
	// UDPListen, TCPListen and TLSListen are host:port; "" disables each.
	UDPListen, TCPListen, TLSListen string
	CertFile, KeyFile               string
	Realm                           string
	// Host is the name clients reach the relay at, in the turn: URLs.
	Host string
	// RelayIP is the local address relayed traffic leaves from.
	RelayIP net.IP
	// Secret signs credentials; nil makes a random one.
	Secret []byte
	// TTL is the lifetime of credentials made without an expiry.
	TTL time.Duration
	// PublicIPs are this host's public addresses (1:1 NAT), which clients
	// may relay to besides its local ones: the server's candidates name them.
	PublicIPs []net.IP
	// PeerPorts are the UDP ports clients may relay to: Switchyard's ICE
	// ports. Empty refuses every peer.
	PeerPorts []PortRange
	Log       *zap.Logger
}

// PortRange is Min..Max inclusive.
type PortRange struct{ Min, Max uint16 }

// Server is a running relay.
type Server struct {
	turn  *turn.Server
	creds Credentials
	urls  []string
	ttl   time.Duration
	addrs []net.Addr
	log   *zap.Logger
}

// Start opens the listeners and serves until Close.
func Start(cfg Config) (s *Server, err error) {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.RelayIP == nil || cfg.RelayIP.IsUnspecified() {
		return nil, errors.New("turn: no relay IP")
	}
	if cfg.Host == "" {
		return nil, errors.New("turn: no host for the client URLs")
	}
	// Relay sockets are opened per allocation; a relay IP this host does
	// not have would fail each one while the server looked healthy.
	probe, err := net.ListenPacket("udp", net.JoinHostPort(cfg.RelayIP.String(), "0"))
	if err != nil {
		return nil, fmt.Errorf("turn: relay IP %s is not an address of this host (turn.relay_ip): %w", cfg.RelayIP, err)
	}
	_ = probe.Close()
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, fmt.Errorf("turn secret: %w", err)
		}
	}
	peerAllowed, err := ownAddresses(cfg.PublicIPs)
	if err != nil {
		return nil, err
	}
	s = &Server{creds: NewCredentials(secret), ttl: cfg.TTL, log: log}

	var packetConns []turn.PacketConnConfig
	var listeners []turn.ListenerConfig
	defer func() {
		if err != nil {
			for _, p := range packetConns {
				_ = p.PacketConn.Close()
			}
			for _, l := range listeners {
				_ = l.Listener.Close()
			}
		}
	}()
	relay := func() turn.RelayAddressGenerator {
		return portLimitedRelay{
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: cfg.RelayIP, Address: cfg.RelayIP.String()},
			ports:                 slices.Clone(cfg.PeerPorts),
		}
	}
	permit := func(client net.Addr, peer net.IP) bool {
		if peerAllowed(peer) {
			return true
		}
		log.Debug("turn peer refused", zap.Stringer("client", client), zap.Stringer("peer", peer))
		return false
	}
	host := cfg.Host
	if cfg.UDPListen != "" {
		conn, err := net.ListenPacket("udp", cfg.UDPListen)
		if err != nil {
			return nil, fmt.Errorf("turn udp: %w", err)
		}
		packetConns = append(packetConns, turn.PacketConnConfig{PacketConn: conn, RelayAddressGenerator: relay(), PermissionHandler: permit})
		s.addrs = append(s.addrs, conn.LocalAddr())
		s.urls = append(s.urls, "turn:"+hostPort(host, conn.LocalAddr())+"?transport=udp")
	}
	if cfg.TCPListen != "" {
		ln, err := net.Listen("tcp", cfg.TCPListen)
		if err != nil {
			return nil, fmt.Errorf("turn tcp: %w", err)
		}
		listeners = append(listeners, turn.ListenerConfig{Listener: closing.Listener(ln), RelayAddressGenerator: relay(), PermissionHandler: permit})
		s.addrs = append(s.addrs, ln.Addr())
		s.urls = append(s.urls, "turn:"+hostPort(host, ln.Addr())+"?transport=tcp")
	}
	if cfg.TLSListen != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			// A mismatched pair's error names neither file.
			return nil, fmt.Errorf("turn tls certificate %s, key %s: %w", cfg.CertFile, cfg.KeyFile, err)
		}
		ln, err := tls.Listen("tcp", cfg.TLSListen, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		if err != nil {
			return nil, fmt.Errorf("turn tls: %w", err)
		}
		listeners = append(listeners, turn.ListenerConfig{Listener: closing.Listener(ln), RelayAddressGenerator: relay(), PermissionHandler: permit})
		s.addrs = append(s.addrs, ln.Addr())
		s.urls = append(s.urls, "turns:"+hostPort(host, ln.Addr())+"?transport=tcp")
	}
	if len(s.urls) == 0 {
		return nil, errors.New("turn: no listener configured")
	}
	s.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       s.authenticate,
		PacketConnConfigs: packetConns,
		ListenerConfigs:   listeners,
	})
	if err != nil {
		return nil, fmt.Errorf("turn: %w", err)
	}
	log.Info("turn relay listening", zap.Strings("urls", s.urls), zap.Stringer("relay_ip", cfg.RelayIP))
	return s, nil
}

// authenticate is pion/turn's AuthHandler: the long-term key for a valid,
// unexpired username.
func (s *Server) authenticate(username, realm string, src net.Addr) ([]byte, bool) {
	password, ok := s.creds.Check(username, time.Now())
	if !ok {
		s.log.Debug("turn credentials refused", zap.String("username", username), zap.Stringer("client", src))
		return nil, false
	}
	return turn.GenerateAuthKey(username, realm, password), true
}

// ICEServers is the relay entry for a participant's "joined": credentials
// valid until expiry, or for the configured TTL when expiry is zero (no
// join token). Pass the join token's expiry when there is one, so
// credentials never outlive the right to be in the room.
func (s *Server) ICEServers(participantID string, expiry time.Time) []webrtc.ICEServer {
	if expiry.IsZero() {
		expiry = time.Now().Add(s.ttl)
	}
	username, password := s.creds.Make(participantID, expiry)
	return []webrtc.ICEServer{{URLs: slices.Clone(s.urls), Username: username, Credential: password, CredentialType: webrtc.ICECredentialTypePassword}}
}

// Addrs are the relay's listening addresses (UDP, then TCP, then TLS).
func (s *Server) Addrs() []net.Addr { return slices.Clone(s.addrs) }

// Close stops the relay: its listeners, client connections and
// allocations.
func (s *Server) Close() error { return s.turn.Close() }

// hostPort is host with addr's port, or addr itself when host is "".
func hostPort(host string, addr net.Addr) string {
	var port int
	switch a := addr.(type) {
	case *net.UDPAddr:
		port = a.Port
	case *net.TCPAddr:
		port = a.Port
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// ownAddresses allows relaying only to this host: the relay exists to reach
// Switchyard's own ICE ports (Config.PeerPorts narrows it to them), and
// must not become an open proxy into the operator's network.
func ownAddresses(public []net.IP) (func(net.IP) bool, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn: local addresses: %w", err)
	}
	own := slices.Clone(public)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			own = append(own, n.IP)
		}
	}
	return func(ip net.IP) bool { return slices.ContainsFunc(own, ip.Equal) }, nil
}
