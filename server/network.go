package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/sfu"
	"github.com/switchyard-sfu/switchyard/turnserver"
	"go.uber.org/zap"
)

// stunDetectLimit bounds public IP detection, so a dead STUN server delays
// startup by seconds, not forever.
const stunDetectLimit = 5 * time.Second

// newEngine opens the media engine with its ICE listeners, after learning
// the public IP from STUN when asked to.
func newEngine(cfg config.ICEConfig, maxCandidates int, iceTimeout, restartLimit time.Duration, log *zap.Logger) (*sfu.Engine, []string, error) {
	publicIPs, err := publicIPs(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if cfg.UDPListen != "" && (cfg.PortMin != 0 || cfg.PortMax != 0) {
		log.Warn("ice.port_min/ice.port_max ignored: all ICE UDP uses ice.udp_listen",
			zap.String("udp_listen", cfg.UDPListen), zap.Uint16("port_min", cfg.PortMin), zap.Uint16("port_max", cfg.PortMax))
	}
	engine, err := sfu.NewEngine(sfu.EngineConfig{
		UDPListen:   cfg.UDPListen,
		PortMin:     cfg.PortMin,
		PortMax:     cfg.PortMax,
		TCPListen:   cfg.TCPListen,
		PublicIPs:   publicIPs,
		STUNServers: cfg.STUNServers,
		Interfaces:  cfg.Interfaces,
		IPs:         cfg.IPs,
		Loopback:    cfg.Loopback,
		UDP4Only:    cfg.UDP4Only,

		MaxRemoteCandidates: maxCandidates,
		DisconnectedTimeout: iceTimeout,
		FailedTimeout:       iceTimeout,
		ICERestartLimit:     restartLimit,
	})
	if err != nil {
		return nil, nil, err
	}
	fields := []zap.Field{zap.Strings("public_ips", publicIPs)}
	if addrs := engine.UDPAddrs(); len(addrs) > 0 {
		fields = append(fields, zap.Stringers("udp", addrs))
	} else {
		fields = append(fields, zap.Uint16("udp_port_min", cfg.PortMin), zap.Uint16("udp_port_max", cfg.PortMax))
	}
	if addr := engine.TCPAddr(); addr != nil {
		fields = append(fields, zap.Stringer("tcp", addr))
	}
	log.Info("ice listening", fields...)
	return engine, publicIPs, nil
}

// publicIPs are the configured ones, or the one a STUN server sees.
func publicIPs(cfg config.ICEConfig, log *zap.Logger) ([]string, error) {
	if len(cfg.PublicIPs) > 0 || !cfg.DetectPublicIP || len(cfg.STUNServers) == 0 {
		return cfg.PublicIPs, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), stunDetectLimit)
	defer cancel()
	ip, via, err := sfu.DetectPublicIP(ctx, cfg.STUNServers)
	if err != nil {
		return nil, fmt.Errorf("ice.detect_public_ip: no STUN server told this host's public IP within %s "+
			"(set ice.public_ips, or ice.detect_public_ip: false): %w", stunDetectLimit, err)
	}
	if isLocal(ip) {
		log.Info("public IP detected: a local address, so no NAT to announce", zap.Stringer("ip", ip), zap.String("stun", via))
		return nil, nil
	}
	log.Info("public IP detected", zap.Stringer("ip", ip), zap.String("stun", via))
	return []string{ip.String()}, nil
}

func isLocal(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(addrs, func(a net.Addr) bool {
		n, ok := a.(*net.IPNet)
		return ok && n.IP.Equal(ip)
	})
}

// startTURN starts the embedded relay, reachable at turn.host, else the
// first public IP, else its relay address.
func startTURN(cfg config.Config, publicIPs []string, engine *sfu.Engine, log *zap.Logger) (*turnserver.Server, error) {
	relayIP, err := relayIP(cfg)
	if err != nil {
		return nil, err
	}
	host := cfg.TURN.Host
	if host == "" && len(publicIPs) > 0 {
		host = publicIPs[0]
	}
	if host == "" {
		host = relayIP.String()
	}
	var public []net.IP
	for _, s := range publicIPs {
		public = append(public, net.ParseIP(s))
	}
	return turnserver.Start(turnserver.Config{
		UDPListen: cfg.TURN.UDPListen,
		TCPListen: cfg.TURN.TCPListen,
		TLSListen: cfg.TURN.TLSListen,
		CertFile:  cfg.TURN.CertFile,
		KeyFile:   cfg.TURN.KeyFile,
		Realm:     cfg.TURN.Realm,
		Host:      host,
		RelayIP:   relayIP,
		Secret:    []byte(cfg.TURN.Secret),
		TTL:       cfg.TURN.CredentialTTL,
		PublicIPs: public,
		PeerPorts: icePorts(cfg.ICE, engine, log),
		Log:       log.Named("turn"),
	})
}

// icePorts are the UDP ports the relay may send to: the mux's, else the
// configured range, else (OS-chosen ports) every unprivileged one.
func icePorts(cfg config.ICEConfig, engine *sfu.Engine, log *zap.Logger) []turnserver.PortRange {
	if addrs := engine.UDPAddrs(); len(addrs) > 0 {
		var ports []turnserver.PortRange
		for _, a := range addrs {
			if u, ok := a.(*net.UDPAddr); ok {
				ports = append(ports, turnserver.PortRange{Min: uint16(u.Port), Max: uint16(u.Port)})
			}
		}
		return ports
	}
	if cfg.PortMin != 0 {
		return []turnserver.PortRange{{Min: cfg.PortMin, Max: cfg.PortMax}}
	}
	log.Warn("turn relays to any port from 1024 up on this host's addresses: set ice.udp_listen or ice.port_min/port_max to narrow it to the ICE ports")
	return []turnserver.PortRange{{Min: 1024, Max: 65535}}
}

// relayIP is turn.relay_ip, or the first local address the ICE filters
// allow: IPv4 before IPv6, loopback only when nothing else is there.
func relayIP(cfg config.Config) (net.IP, error) {
	if cfg.TURN.RelayIP != "" {
		return net.ParseIP(cfg.TURN.RelayIP), nil
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("turn.relay_ip: %w", err)
	}
	var candidates []net.IP
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || (len(cfg.ICE.Interfaces) > 0 && !slices.Contains(cfg.ICE.Interfaces, iface.Name)) {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || n.IP.IsLinkLocalUnicast() || (cfg.ICE.UDP4Only && n.IP.To4() == nil) {
				continue
			}
			if len(cfg.ICE.IPs) > 0 && !slices.ContainsFunc(cfg.ICE.IPs, func(s string) bool { return net.ParseIP(s).Equal(n.IP) }) {
				continue
			}
			candidates = append(candidates, n.IP)
		}
	}
	rank := func(ip net.IP) int {
		r := 0
		if ip.IsLoopback() {
			r += 2
		}
		if ip.To4() == nil {
			r++
		}
		return r
	}
	slices.SortStableFunc(candidates, func(a, b net.IP) int { return rank(a) - rank(b) })
	if len(candidates) == 0 {
		return nil, fmt.Errorf("turn.relay_ip: no local address passes ice.interfaces %v and ice.ips %v; set turn.relay_ip", cfg.ICE.Interfaces, cfg.ICE.IPs)
	}
	return candidates[0], nil
}

// ICEServersFor is what a participant is told to use in "joined": the
// STUN servers, and TURN credentials (when the relay runs) valid until
// expiry — the join token's, when auth is on — or for
// turn.credential_ttl when expiry is zero.
func (s *Server) ICEServersFor(participantID string, expiry time.Time) []webrtc.ICEServer {
	servers := slices.Clone(s.engine.ICEServers())
	if s.turn != nil {
		servers = append(servers, s.turn.ICEServers(participantID, expiry)...)
	}
	return servers
}

// TURN is the embedded relay, or nil when turn.enabled is false.
func (s *Server) TURN() *turnserver.Server { return s.turn }

// closeNetwork releases the ICE listeners and the relay, once.
func (s *Server) closeNetwork() error {
	var err error
	s.closeNet.Do(func() {
		if s.turn != nil {
			err = s.turn.Close()
		}
		if e := s.engine.Close(); e != nil && err == nil {
			err = e
		}
	})
	return err
}
