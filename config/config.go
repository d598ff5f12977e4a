// Package config holds Switchyard's one configuration struct, its built-in
// defaults, and the load order: defaults → YAML file → SWITCHYARD_* environment
// → command-line flags. Validate reports every problem at once, each by key.
package config

import "time"

// Config is the whole server configuration. The yaml tags are the keys
// documented in configs/switchyard.yaml.
type Config struct {
	Listen     string           `yaml:"listen"`
	ICE        ICEConfig        `yaml:"ice"`
	TURN       TURNConfig       `yaml:"turn"`
	Signaling  SignalingConfig  `yaml:"signaling"`
	Room       RoomConfig       `yaml:"room"`
	Log        LogConfig        `yaml:"log"`
	SessionLog SessionLogConfig `yaml:"session_log"`
	Auth       AuthConfig       `yaml:"auth"`
	Shutdown   ShutdownConfig   `yaml:"shutdown"`
	Limits     LimitsConfig     `yaml:"limits"` // limits.go
	HTTP       HTTPConfig       `yaml:"http"`   // limits.go
	Webhooks   WebhooksConfig   `yaml:"webhooks"`
	Cluster    ClusterConfig    `yaml:"cluster"`
	TLS        TLSConfig        `yaml:"tls"` // tls.go
}

// ICEConfig is what the media engine needs to gather and filter candidates.
type ICEConfig struct {
	// UDPListen is host:port of the one UDP socket all ICE media shares;
	// empty host = that port on every allowed address; "" turns the mux off.
	UDPListen string `yaml:"udp_listen"`
	// PortMin/PortMax bound the per-connection UDP ports when udp_listen is
	// ""; 0/0 lets the OS choose.
	PortMin uint16 `yaml:"port_min"`
	PortMax uint16 `yaml:"port_max"`
	// TCPListen is host:port of the ICE-TCP fallback; "" disables it.
	TCPListen string `yaml:"tcp_listen"`
	// PublicIPs are announced as host candidates in place of local ones (NAT 1:1).
	PublicIPs []string `yaml:"public_ips"`
	// DetectPublicIP asks the first usable STUN server for the public IP at
	// startup when PublicIPs is empty.
	DetectPublicIP bool `yaml:"detect_public_ip"`
	// STUNServers are given to clients and used for server-reflexive gathering.
	STUNServers []string `yaml:"stun_servers"`
	// Interfaces, when non-empty, limits gathering to these network interfaces.
	Interfaces []string `yaml:"interfaces"`
	// IPs, when non-empty, limits gathering to these local addresses.
	IPs []string `yaml:"ips"`
	// Loopback includes 127.0.0.1 candidates; needed for same-host testing.
	Loopback bool `yaml:"loopback"`
	// UDP4Only skips IPv6 candidates.
	UDP4Only bool `yaml:"udp4_only"`
}

// TURNConfig is the embedded TURN server, for clients that cannot reach
// the ICE ports directly. Credentials are per participant and expire.
type TURNConfig struct {
	Enabled bool `yaml:"enabled"`
	// UDPListen, TCPListen and TLSListen are host:port; "" disables each.
	UDPListen string `yaml:"udp_listen"`
	TCPListen string `yaml:"tcp_listen"`
	TLSListen string `yaml:"tls_listen"`
	// CertFile and KeyFile (PEM) are required by TLSListen.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	Realm    string `yaml:"realm"`
	// Host is put in the turn: URLs given to clients; "" uses the first
	// public IP, else RelayIP.
	Host string `yaml:"host"`
	// RelayIP is the local address relayed traffic leaves from; "" picks the
	// first address the ICE filters allow.
	RelayIP string `yaml:"relay_ip"`
	// Secret signs credentials (HMAC-SHA1); "" makes a random one per run.
	Secret string `yaml:"secret"`
	// CredentialTTL is how long credentials stay valid when no join token
	// gives an expiry.
	CredentialTTL time.Duration `yaml:"credential_ttl"`
}

// SignalingConfig governs the WebSocket side.
type SignalingConfig struct {
	PingInterval   time.Duration `yaml:"ping_interval"`
	PingTimeout    time.Duration `yaml:"ping_timeout"`
	MaxMessageSize int64         `yaml:"max_message_size"`
	// AllowedOrigins lists Origin header values allowed to open a WebSocket;
	// empty means same host only, "*" means any.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// RoomConfig limits rooms.
type RoomConfig struct {
	MaxParticipants int `yaml:"max_participants"`
	// ReconnectGrace is how long the others' pages keep the tile of a
	// participant who dropped, marked "reconnecting…", waiting for it to
	// resume; 0 removes it at once.
	ReconnectGrace time.Duration `yaml:"reconnect_grace"`
}

// LogConfig selects the zap logger.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // console or json
}

// SessionLogConfig is the durable join/leave record.
type SessionLogConfig struct {
	// Path of the JSON-lines file; empty disables it.
	Path string `yaml:"path"`
	// MaxSizeMB and MaxAge rotate the file (sessionlog/rotate.go) once it
	// holds this many MiB, or its first record is this old; 0 = never.
	MaxSizeMB int           `yaml:"max_size_mb"`
	MaxAge    time.Duration `yaml:"max_age"`
	// MaxSegments is how many rotated files to keep; older ones are
	// deleted unless a webhook still has to deliver from them or a
	// session still open joined in them (sessionlog/retention.go). 0 = all.
	MaxSegments int `yaml:"max_segments"`
}

// Default returns the built-in configuration: a server that works on
// loopback and LAN with no file, no network access and no STUN.
func Default() Config {
	return Config{
		Listen: ":7880",
		ICE: ICEConfig{
			UDPListen:      ":7882",
			PortMin:        0,
			PortMax:        0,
			TCPListen:      ":7881",
			DetectPublicIP: true,
			Loopback:       true,
		},
		TURN: TURNConfig{
			UDPListen:     ":3478",
			TCPListen:     ":3478",
			Realm:         "switchyard",
			CredentialTTL: 12 * time.Hour,
		},
		Signaling: SignalingConfig{
			PingInterval:   time.Second,
			PingTimeout:    3 * time.Second,
			MaxMessageSize: 64 << 10,
		},
		Room:       RoomConfig{MaxParticipants: 50, ReconnectGrace: 5 * time.Second},
		Log:        LogConfig{Level: "info", Format: "console"},
		SessionLog: SessionLogConfig{Path: "data/sessions.jsonl"},
		Shutdown:   ShutdownConfig{DrainTimeout: 0},
		Limits:     defaultLimits(),
		HTTP:       defaultHTTP(),
		Webhooks:   defaultWebhooks(),
		Cluster:    ClusterConfig{HeartbeatInterval: 250 * time.Millisecond, LostTimeout: time.Second},
		TLS:        defaultTLS(),
	}
}
