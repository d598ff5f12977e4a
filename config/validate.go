package config

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Message size bounds for signaling.max_message_size.
const (
	minMessageSize = 1 << 10
	maxMessageSize = 16 << 20
)

// Validate checks every key and returns a *ValidationError listing all the
// problems found, each starting with its key, or nil if there are none.
func (c Config) Validate() error {
	var p problems

	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		p.add("listen: %q is not host:port (e.g. :7880 or 127.0.0.1:7880)", c.Listen)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		p.add("listen: port %q in %q is not a number between 0 and 65535", port, c.Listen)
	} else if strings.ContainsAny(host, " /") {
		p.add("listen: host %q in %q is not a host name or IP address", host, c.Listen)
	}

	checkListen(&p, "ice.udp_listen", c.ICE.UDPListen)
	checkListen(&p, "ice.tcp_listen", c.ICE.TCPListen)
	switch min, max := c.ICE.PortMin, c.ICE.PortMax; {
	case min == 0 && max == 0:
	case min == 0:
		p.add("ice.port_min: is 0 but ice.port_max is %d; set both (or both 0 to let the OS choose)", max)
	case max == 0:
		p.add("ice.port_max: is 0 but ice.port_min is %d; set both (or both 0 to let the OS choose)", min)
	case min > max:
		p.add("ice.port_min: %d is greater than ice.port_max %d", min, max)
	}

	for i, ip := range c.ICE.PublicIPs {
		if net.ParseIP(ip) == nil {
			p.add("ice.public_ips[%d]: %q is not an IP address", i, ip)
		}
	}
	for i, s := range c.ICE.STUNServers {
		if msg := checkICEServerURL(s); msg != "" {
			p.add("ice.stun_servers[%d]: %q %s", i, s, msg)
		}
	}
	for i, name := range c.ICE.Interfaces {
		if strings.TrimSpace(name) == "" {
			p.add("ice.interfaces[%d]: is empty", i)
		}
	}
	for i, ip := range c.ICE.IPs {
		if net.ParseIP(ip) == nil {
			p.add("ice.ips[%d]: %q is not an IP address", i, ip)
		}
	}
	c.TURN.validate(&p)
	c.checkPortClashes(&p)

	if c.Signaling.PingInterval <= 0 {
		p.add("signaling.ping_interval: %s must be greater than 0", c.Signaling.PingInterval)
	}
	if c.Signaling.PingTimeout <= c.Signaling.PingInterval {
		p.add("signaling.ping_timeout: %s must be greater than signaling.ping_interval %s",
			c.Signaling.PingTimeout, c.Signaling.PingInterval)
	}
	if n := c.Signaling.MaxMessageSize; n < minMessageSize || n > maxMessageSize {
		p.add("signaling.max_message_size: %d must be between %d (1 KiB) and %d (16 MiB) bytes",
			n, minMessageSize, maxMessageSize)
	}
	for i, o := range c.Signaling.AllowedOrigins {
		if msg := checkOrigin(o); msg != "" {
			p.add("signaling.allowed_origins[%d]: %q %s", i, o, msg)
		}
	}

	// Past room.ResumeWindow (2m) a resume is refused, so a longer grace
	// would only show a ghost.
	if c.Room.ReconnectGrace < 0 || c.Room.ReconnectGrace > 2*time.Minute {
		p.add("room.reconnect_grace: %v must be between 0s and 2m0s", c.Room.ReconnectGrace)
	}
	if c.Room.MaxParticipants < 1 {
		p.add("room.max_participants: %d must be at least 1", c.Room.MaxParticipants)
	}

	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level: %q must be one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "console", "json":
	default:
		p.add("log.format: %q must be console or json", c.Log.Format)
	}

	p.checkAuth(c.Auth)
	p.checkSessionLogRotation(c.SessionLog)
	c.validateLimits(&p)
	p.checkWebhooks(c)
	if c.Shutdown.DrainTimeout < 0 {
		p.add("shutdown.drain_timeout: %s must not be negative (0 disables draining)", c.Shutdown.DrainTimeout)
	}
	c.Cluster.validate(&p)
	c.TLS.validate(&p)

	return p.err()
}

// checkListen reports a listen address that is not "" or [IP]:port. A
// host name is refused: the sockets bind to addresses, and the ICE
// candidates must name them.
func checkListen(p *problems, key, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add("%s: %q is not [IP]:port (e.g. :7882 or 127.0.0.1:7882), or \"\" to disable", key, addr)
		return
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		p.add("%s: port %q in %q is not a number between 0 and 65535", key, port, addr)
	}
	if host != "" && net.ParseIP(host) == nil {
		p.add("%s: host %q in %q must be an IP address or empty (all addresses)", key, host, addr)
	}
}

func (t TURNConfig) validate(p *problems) {
	checkListen(p, "turn.udp_listen", t.UDPListen)
	checkListen(p, "turn.tcp_listen", t.TCPListen)
	checkListen(p, "turn.tls_listen", t.TLSListen)
	if t.TLSListen != "" && (t.CertFile == "" || t.KeyFile == "") {
		p.add("turn.tls_listen: %q needs turn.cert_file and turn.key_file", t.TLSListen)
	}
	if t.TLSListen == "" && (t.CertFile != "" || t.KeyFile != "") {
		key := "turn.cert_file"
		if t.CertFile == "" {
			key = "turn.key_file"
		}
		p.add("%s: is set but turn.tls_listen is \"\"; set the TLS address too (e.g. :5349)", key)
	}
	if t.Enabled && t.UDPListen == "" && t.TCPListen == "" && t.TLSListen == "" {
		p.add("turn.enabled: is true but turn.udp_listen, turn.tcp_listen and turn.tls_listen are all \"\"")
	}
	if strings.TrimSpace(t.Realm) == "" {
		p.add("turn.realm: must not be empty")
	}
	if t.Host != "" && (strings.ContainsAny(t.Host, " /:@?") && net.ParseIP(t.Host) == nil) {
		p.add("turn.host: %q must be a host name or IP address, without port or scheme", t.Host)
	}
	if t.RelayIP != "" {
		if ip := net.ParseIP(t.RelayIP); ip == nil || ip.IsUnspecified() {
			p.add("turn.relay_ip: %q is not a local IP address", t.RelayIP)
		}
	}
	// Every participant holds a username and its HMAC: a short secret can
	// be found offline from them, and then credentials minted at will.
	if n := len(t.Secret); n > 0 && n < minSecretLength {
		p.add("turn.secret: is %d bytes, must be at least %d (e.g. the output of: openssl rand -hex 32)", n, minSecretLength)
	}
	if t.CredentialTTL < time.Minute {
		p.add("turn.credential_ttl: %s must be at least 1m", t.CredentialTTL)
	}
}

// checkICEServerURL returns what is wrong with a STUN URL (RFC 7064:
// stun:host[:port] or stuns:host[:port]), or "". TURN URLs (RFC 7065) are
// recognised but refused until the config can carry TURN credentials.
func checkICEServerURL(s string) string {
	scheme, rest, ok := strings.Cut(s, ":")
	switch scheme = strings.ToLower(scheme); { // as url.Parse in pion's stun.ParseURI
	case !ok || (scheme != "stun" && scheme != "stuns" && scheme != "turn" && scheme != "turns"):
		return "must start with stun: or stuns:"
	case scheme == "turn" || scheme == "turns":
		// pion (webrtc.Configuration) and browsers (RTCPeerConnection) both
		// refuse a TURN URL without a username and credential, and the
		// config has no place for them: every peer connection would fail.
		return "is a TURN URL, which needs a username and credential that the configuration cannot hold yet; use stun: or stuns:"
	case strings.HasPrefix(rest, "//"):
		return "must be scheme:host[:port] without // (e.g. stun:stun.example.com:3478)"
	}
	hostport, _, _ := strings.Cut(rest, "?")
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return "has a port that is not a number between 0 and 65535"
		}
		host = h
	}
	if host == "" || strings.ContainsAny(host, " /@") {
		return "has no valid host (e.g. stun:stun.example.com:3478)"
	}
	return ""
}

// checkOrigin returns what is wrong with an allowed Origin, or "". An origin is
// "*" or exactly what browsers send: scheme://host[:port], no path.
func checkOrigin(o string) string {
	if o == "*" {
		return ""
	}
	const want = `must be "*" or an origin such as https://app.example.com or http://localhost:3000`
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return want
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return want + " (no path, query or user)"
	}
	if u.Path == "/" {
		return want + " (no trailing /: browsers send the origin without it)"
	}
	if strings.Contains(u.Host, "*") {
		return want + " (wildcard hosts are not supported; use \"*\" for any origin)"
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return want + " (bad port)"
		}
	}
	return ""
}
