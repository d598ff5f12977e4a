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
	Signaling  SignalingConfig  `yaml:"signaling"`
	Room       RoomConfig       `yaml:"room"`
	Log        LogConfig        `yaml:"log"`
	SessionLog SessionLogConfig `yaml:"session_log"`
	Auth       AuthConfig       `yaml:"auth"`
	Shutdown   ShutdownConfig   `yaml:"shutdown"`
}

// ICEConfig is what the media engine needs to gather and filter candidates.
type ICEConfig struct {
	// PortMin/PortMax bound the UDP ports used for ICE; 0/0 lets the OS choose.
	PortMin uint16 `yaml:"port_min"`
	PortMax uint16 `yaml:"port_max"`
	// PublicIPs are announced as host candidates in place of local ones (NAT 1:1).
	PublicIPs []string `yaml:"public_ips"`
	// STUNServers are given to clients and used for server-reflexive gathering.
	STUNServers []string `yaml:"stun_servers"`
	// Interfaces, when non-empty, limits gathering to these network interfaces.
	Interfaces []string `yaml:"interfaces"`
	// Loopback includes 127.0.0.1 candidates; needed for same-host testing.
	Loopback bool `yaml:"loopback"`
	// UDP4Only skips IPv6 candidates.
	UDP4Only bool `yaml:"udp4_only"`
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
}

// Default returns the built-in configuration: a server that works on
// loopback and LAN with no file, no network access and no STUN.
func Default() Config {
	return Config{
		Listen: ":7880",
		ICE: ICEConfig{
			PortMin:  0,
			PortMax:  0,
			Loopback: true,
		},
		Signaling: SignalingConfig{
			PingInterval:   time.Second,
			PingTimeout:    3 * time.Second,
			MaxMessageSize: 64 << 10,
		},
		Room:       RoomConfig{MaxParticipants: 50},
		Log:        LogConfig{Level: "info", Format: "console"},
		SessionLog: SessionLogConfig{Path: "data/sessions.jsonl"},
		Shutdown:   ShutdownConfig{DrainTimeout: 0},
	}
}
