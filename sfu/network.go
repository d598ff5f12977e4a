package sfu

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/pion/ice/v2"
	"github.com/pion/transport/v2/stdnet"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/closing"
)

// listeners are the sockets the engine owns when ICE runs on fixed ports:
// one UDP mux for every peer connection and, optionally, one ICE-TCP
// listener. They live as long as the engine and close with it.
type listeners struct {
	udp    ice.UDPMux
	egress egressCounters // the UDP mux's batched sends: egress.go
	tcp    ice.TCPMux
	tcpLn  net.Listener
}

// filters are the interface and IP allow-lists, shared by candidate
// gathering and by the UDP mux (which gathers from its own sockets and so
// would ignore the setting engine's filters).
type filters struct {
	interfaces []string
	ips        []net.IP
}

func (f filters) interfaceAllowed(name string) bool {
	return len(f.interfaces) == 0 || slices.Contains(f.interfaces, name)
}

func (f filters) ipAllowed(ip net.IP) bool {
	return len(f.ips) == 0 || slices.ContainsFunc(f.ips, ip.Equal)
}

// withListenHost narrows the IP allow-list to host when a listener is bound
// to one address: candidates on other addresses would name a socket that
// is not there.
func (f filters) withListenHost(addr string) (filters, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return f, err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return f, fmt.Errorf("%q: listen host must be an IP address or empty", addr)
	}
	if ip.IsUnspecified() {
		return f, nil
	}
	if !f.ipAllowed(ip) {
		return f, fmt.Errorf("%q: %s is not in the IP allow-list", addr, ip)
	}
	f.ips = []net.IP{ip}
	return f, nil
}

// openListeners opens the UDP mux and the ICE-TCP listener that cfg asks
// for and plugs them into settings. On error nothing stays open.
func openListeners(cfg EngineConfig, f filters, settings *webrtc.SettingEngine) (_ *listeners, err error) {
	l := &listeners{}
	defer func() {
		if err != nil {
			_ = l.close()
		}
	}()
	if cfg.UDPListen != "" {
		uf, err := f.withListenHost(cfg.UDPListen)
		if err != nil {
			return nil, fmt.Errorf("ice udp: %w", err)
		}
		if l.udp, err = openUDPMux(cfg, uf, &l.egress); err != nil {
			return nil, fmt.Errorf("ice udp %s: %w", cfg.UDPListen, err)
		}
		settings.SetICEUDPMux(l.udp)
		f = uf
	}
	if cfg.TCPListen != "" {
		tf, err := f.withListenHost(cfg.TCPListen)
		if err != nil {
			return nil, fmt.Errorf("ice tcp: %w", err)
		}
		ln, err := net.Listen("tcp", cfg.TCPListen)
		if err != nil {
			return nil, fmt.Errorf("ice tcp: %w", err)
		}
		// The mux's Close waits for connections that have not sent their
		// first STUN message yet (up to 30 s) unless closing the listener
		// closes them.
		l.tcpLn = closing.Listener(ln)
		l.tcp = newRetiredTCPMux(ice.NewTCPMuxDefault(ice.TCPMuxParams{Listener: l.tcpLn, ReadBufferSize: 64, WriteBufferSize: 4 << 20}))
		settings.SetICETCPMux(l.tcp)
		f = tf
	}
	settings.SetInterfaceFilter(f.interfaceAllowed)
	settings.SetIPFilter(f.ipAllowed)
	return l, nil
}

// openUDPMux listens on one address, or, for an unspecified host, on the
// same port of every allowed local address: a socket bound to one address
// answers from that address, which a client's ICE checks require.
func openUDPMux(cfg EngineConfig, f filters, egress *egressCounters) (ice.UDPMux, error) {
	host, portText, err := net.SplitHostPort(cfg.UDPListen)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", portText, err)
	}
	if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: int(port)})
		if err != nil {
			return nil, err
		}
		return ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: newEgressConn(conn, egress)}), nil
	}
	hostNet, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNet(egressNet{Net: hostNet, stats: egress}),
		ice.UDPMuxFromPortWithInterfaceFilter(f.interfaceAllowed),
		ice.UDPMuxFromPortWithIPFilter(f.ipAllowed),
		ice.UDPMuxFromPortWithNetworks(udpNetworks(cfg)...),
	}
	if cfg.Loopback {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	mux, err := ice.NewMultiUDPMuxFromPort(int(port), opts...)
	if err != nil {
		return nil, err
	}
	if len(mux.GetListenAddresses()) == 0 {
		_ = mux.Close()
		return nil, errors.New("no local address passes the interface and IP filters")
	}
	return mux, nil
}

func udpNetworks(cfg EngineConfig) []ice.NetworkType {
	if cfg.UDP4Only {
		return []ice.NetworkType{ice.NetworkTypeUDP4}
	}
	return []ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6}
}

// close closes whatever is open; the TCP mux closes its listener.
func (l *listeners) close() error {
	var errs []error
	if l.udp != nil {
		errs = append(errs, l.udp.Close())
	}
	if l.tcp != nil {
		errs = append(errs, l.tcp.Close())
	} else if l.tcpLn != nil {
		errs = append(errs, l.tcpLn.Close())
	}
	return errors.Join(errs...)
}

// UDPAddrs are the local addresses of the ICE UDP mux; none without one.
func (e *Engine) UDPAddrs() []net.Addr {
	if e.sockets.udp == nil {
		return nil
	}
	return e.sockets.udp.GetListenAddresses()
}

// TCPAddr is the ICE-TCP listener's address, or nil when ICE-TCP is off.
func (e *Engine) TCPAddr() net.Addr {
	if e.sockets.tcpLn == nil {
		return nil
	}
	return e.sockets.tcpLn.Addr()
}

// Close releases the engine's listeners and stops its fan-out helpers.
// Close peer connections first.
func (e *Engine) Close() error {
	var err error
	e.closeOnce.Do(func() {
		err = e.sockets.close()
		e.fan.close()
	})
	return err
}
