package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the single problem; "" means valid
	}{
		// listen
		{"listen port only", func(c *Config) { c.Listen = ":7880" }, ""},
		{"listen host and port", func(c *Config) { c.Listen = "127.0.0.1:7880" }, ""},
		{"listen IPv6", func(c *Config) { c.Listen = "[::1]:7880" }, ""},
		{"listen port 0", func(c *Config) { c.Listen = "localhost:0" }, ""},
		{"listen no port", func(c *Config) { c.Listen = "localhost" }, `listen: "localhost" is not host:port`},
		{"listen empty", func(c *Config) { c.Listen = "" }, `listen: "" is not host:port`},
		{"listen bad port", func(c *Config) { c.Listen = ":http" }, `listen: port "http" in ":http" is not a number`},
		{"listen port too big", func(c *Config) { c.Listen = ":70000" }, `listen: port "70000"`},
		{"listen empty port", func(c *Config) { c.Listen = "localhost:" }, `listen: port ""`},
		{"listen bad host", func(c *Config) { c.Listen = "a b:80" }, `listen: host "a b"`},

		// ICE port range
		{"ports both 0", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 0, 0 }, ""},
		{"ports range", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 50000, 50100 }, ""},
		{"ports single", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 50000, 50000 }, ""},
		{"ports full", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 1, 65535 }, ""},
		{"ports reversed", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 60000, 50000 },
			"ice.port_min: 60000 is greater than ice.port_max 50000"},
		{"port_min only", func(c *Config) { c.ICE.PortMin = 50000 }, "ice.port_max: is 0 but ice.port_min is 50000"},
		{"port_max only", func(c *Config) { c.ICE.PortMax = 50000 }, "ice.port_min: is 0 but ice.port_max is 50000"},

		// public IPs
		{"public IPv4 and IPv6", func(c *Config) { c.ICE.PublicIPs = []string{"203.0.113.7", "2001:db8::7"} }, ""},
		{"public IP host name", func(c *Config) { c.ICE.PublicIPs = []string{"203.0.113.7", "example.com"} },
			`ice.public_ips[1]: "example.com" is not an IP address`},
		{"public IP with port", func(c *Config) { c.ICE.PublicIPs = []string{"203.0.113.7:80"} }, `ice.public_ips[0]`},
		{"public IP CIDR", func(c *Config) { c.ICE.PublicIPs = []string{"203.0.113.0/24"} }, `ice.public_ips[0]`},

		// STUN/TURN
		{"stun ok", func(c *Config) {
			c.ICE.STUNServers = []string{"stun:stun.example.com:3478", "stun:stun.example.com", "stuns:s.example.com:5349",
				"stun:[2001:db8::1]:3478", "stun:192.0.2.1"}
		}, ""},
		{"turn needs credentials", func(c *Config) { c.ICE.STUNServers = []string{"turn:t.example.com:3478?transport=tcp"} },
			`ice.stun_servers[0]: "turn:t.example.com:3478?transport=tcp" is a TURN URL, which needs a username and credential`},
		{"turns needs credentials", func(c *Config) { c.ICE.STUNServers = []string{"turns:t.example.com"} }, `is a TURN URL`},
		{"stun no scheme", func(c *Config) { c.ICE.STUNServers = []string{"stun.example.com:3478"} },
			`ice.stun_servers[0]: "stun.example.com:3478" must start with stun: or stuns:`},
		{"stun http", func(c *Config) { c.ICE.STUNServers = []string{"http://stun.example.com"} }, `must start with stun:`},
		{"stun slashes", func(c *Config) { c.ICE.STUNServers = []string{"stun://stun.example.com"} }, `without //`},
		{"stun no host", func(c *Config) { c.ICE.STUNServers = []string{"stun:"} }, `has no valid host`},
		{"stun bad port", func(c *Config) { c.ICE.STUNServers = []string{"stun:stun.example.com:99999"} }, `port`},
		{"stun second", func(c *Config) { c.ICE.STUNServers = []string{"stun:a.example.com", "a.example.com"} },
			`ice.stun_servers[1]`},

		// interfaces
		{"interfaces ok", func(c *Config) { c.ICE.Interfaces = []string{"eth0", "wlan0"} }, ""},
		{"interface blank", func(c *Config) { c.ICE.Interfaces = []string{"eth0", " "} }, "ice.interfaces[1]: is empty"},

		// ping
		{"ping zero", func(c *Config) { c.Signaling.PingInterval = 0 }, "signaling.ping_interval: 0s must be greater than 0"},
		{"ping negative", func(c *Config) { c.Signaling.PingInterval, c.Signaling.PingTimeout = -time.Second, time.Second },
			"signaling.ping_interval: -1s must be greater than 0"},
		{"timeout equal", func(c *Config) { c.Signaling.PingTimeout = c.Signaling.PingInterval },
			"signaling.ping_timeout: 1s must be greater than signaling.ping_interval 1s"},
		{"timeout smaller", func(c *Config) { c.Signaling.PingInterval, c.Signaling.PingTimeout = 5*time.Second, 2*time.Second },
			"signaling.ping_timeout: 2s must be greater than signaling.ping_interval 5s"},
		{"timeout just larger", func(c *Config) { c.Signaling.PingTimeout = c.Signaling.PingInterval + 1 }, ""},

		// max message size
		{"message size 1 KiB", func(c *Config) { c.Signaling.MaxMessageSize, c.Room.MaxParticipants = 1<<10, 2 }, ""},
		{"full room's answer too large", func(c *Config) { c.Signaling.MaxMessageSize = 8 << 10 },
			"room.max_participants: 50 × limits.max_tracks 4 needs subscribe answers up to 208896 bytes; raise signaling.max_message_size to at least 13056"},
		{"track limit zero", func(c *Config) { c.Limits.MaxTracks = 0 }, "limits.max_tracks: 0 must be greater than 0"},
		{"negative websocket cap", func(c *Config) { c.HTTP.MaxWebSocketsPerIP = -1 }, "http.max_websockets: 10000 and http.max_websockets_per_ip: -1"},
		{"bad host", func(c *Config) { c.HTTP.Hosts = []string{"a b"} }, `http.hosts[0]: "a b"`},
		{"message size 16 MiB", func(c *Config) { c.Signaling.MaxMessageSize = 16 << 20 }, ""},
		{"message size too small", func(c *Config) { c.Signaling.MaxMessageSize = 1023 },
			"signaling.max_message_size: 1023 must be between 1024 (1 KiB) and 16777216 (16 MiB) bytes"},
		{"message size too big", func(c *Config) { c.Signaling.MaxMessageSize = 16<<20 + 1 }, "signaling.max_message_size: 16777217"},
		{"message size zero", func(c *Config) { c.Signaling.MaxMessageSize = 0 }, "signaling.max_message_size: 0"},

		// origins
		{"origins ok", func(c *Config) {
			c.Signaling.AllowedOrigins = []string{"*", "https://app.example.com", "http://localhost:3000", "http://[::1]:8080"}
		}, ""},
		{"origin no scheme", func(c *Config) { c.Signaling.AllowedOrigins = []string{"app.example.com"} },
			`signaling.allowed_origins[0]: "app.example.com" must be "*" or an origin`},
		{"origin ws scheme", func(c *Config) { c.Signaling.AllowedOrigins = []string{"ws://app.example.com"} }, `allowed_origins[0]`},
		{"origin path", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://app.example.com/app"} }, `no path`},
		{"origin trailing slash", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://app.example.com/"} }, `no trailing /`},
		{"origin wildcard host", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://*.example.com"} }, `allowed_origins[0]`},
		{"origin user", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://u@app.example.com"} }, `allowed_origins[0]`},
		{"origin no host", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://"} }, `allowed_origins[0]`},
		{"origin bad port", func(c *Config) { c.Signaling.AllowedOrigins = []string{"https://a.example.com:99999"} }, `bad port`},
		{"origin empty", func(c *Config) { c.Signaling.AllowedOrigins = []string{"*", ""} }, `allowed_origins[1]: ""`},

		// room
		{"participants 1", func(c *Config) { c.Room.MaxParticipants = 1 }, ""},
		{"grace 0", func(c *Config) { c.Room.ReconnectGrace = 0 }, ""},
		{"grace 2m", func(c *Config) { c.Room.ReconnectGrace = 2 * time.Minute }, ""},
		{"grace too long", func(c *Config) { c.Room.ReconnectGrace = 3 * time.Minute }, "room.reconnect_grace: 3m0s must be between 0s and 2m0s"},
		{"grace negative", func(c *Config) { c.Room.ReconnectGrace = -time.Second }, "room.reconnect_grace: -1s must be between 0s and 2m0s"},
		{"participants 0", func(c *Config) { c.Room.MaxParticipants = 0 }, "room.max_participants: 0 must be at least 1"},
		{"participants negative", func(c *Config) { c.Room.MaxParticipants = -3 }, "room.max_participants: -3 must be at least 1"},

		// log
		{"level debug", func(c *Config) { c.Log.Level = "debug" }, ""},
		{"level warn", func(c *Config) { c.Log.Level = "warn" }, ""},
		{"level error", func(c *Config) { c.Log.Level = "error" }, ""},
		{"level warning", func(c *Config) { c.Log.Level = "warning" }, `log.level: "warning" must be one of debug, info, warn, error`},
		{"level upper case", func(c *Config) { c.Log.Level = "INFO" }, `log.level: "INFO"`},
		{"level empty", func(c *Config) { c.Log.Level = "" }, `log.level: ""`},
		{"format json", func(c *Config) { c.Log.Format = "json" }, ""},
		{"format text", func(c *Config) { c.Log.Format = "text" }, `log.format: "text" must be console or json`},

		// session log
		{"session log disabled", func(c *Config) { c.SessionLog.Path = "" }, ""},

		// auth and shutdown
		{"secret 32 bytes", func(c *Config) { c.Auth.Secret = strings.Repeat("k", 32) }, ""},
		{"secret too short", func(c *Config) { c.Auth.Secret = "hunter2" }, "auth.secret: is 7 bytes, must be at least 32"},
		{"drain 30s", func(c *Config) { c.Shutdown.DrainTimeout = 30 * time.Second }, ""},
		{"drain negative", func(c *Config) { c.Shutdown.DrainTimeout = -time.Second }, "shutdown.drain_timeout: -1s must not be negative"},
	}
	runValidateCases(t, tests)
}

// validateCase changes Default() and names the single problem expected.
type validateCase = struct {
	name   string
	modify func(*Config)
	want   string // substring of the single problem; "" means valid
}

func runValidateCases(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantProblems(t, err, tt.want)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Listen = "nowhere"
	c.ICE.PortMin, c.ICE.PortMax = 60000, 50000
	c.ICE.PublicIPs = []string{"1.2.3", "::1", "host"}
	c.ICE.STUNServers = []string{"stun.example.com"}
	c.Signaling.PingInterval = 0
	c.Signaling.PingTimeout = -1
	c.Signaling.MaxMessageSize = 1 << 30
	c.Signaling.AllowedOrigins = []string{"example.com"}
	c.Room.MaxParticipants = 0
	c.Log.Level = "trace"
	c.Log.Format = "xml"
	err := c.Validate()
	wantProblems(t, err,
		"listen:",
		"ice.port_min: 60000 is greater than ice.port_max 50000",
		"ice.public_ips[0]:",
		"ice.public_ips[2]:",
		"ice.stun_servers[0]:",
		"signaling.ping_interval:",
		"signaling.ping_timeout:",
		"signaling.max_message_size:",
		"signaling.allowed_origins[0]:",
		"room.max_participants:",
		"log.level:",
		"log.format:",
	)
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid configuration (12 problems): listen:") ||
		!strings.Contains(msg, "; ice.port_min: 60000 is greater than ice.port_max 50000; ") {
		t.Errorf("Error() = %q", msg)
	}
}

func TestLoadReportsEveryValidationProblem(t *testing.T) {
	_, err := load(t, []string{"--log.level=loud", "--room.max_participants=0"}, env{
		"SWITCHYARD_ICE_PORT_MIN": "60000",
		"SWITCHYARD_ICE_PORT_MAX": "50000",
	})
	wantProblems(t, err,
		"ice.port_min: 60000 is greater than ice.port_max 50000",
		"room.max_participants: 0 must be at least 1",
		`log.level: "loud" must be one of debug, info, warn, error`,
	)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("err = %#v", err)
	}
}

func TestValidationErrorSingle(t *testing.T) {
	err := (&ValidationError{Problems: []string{"log.level: bad"}}).Error()
	if err != "invalid configuration: log.level: bad" {
		t.Errorf("Error() = %q", err)
	}
}

// What Validate accepts in ice.stun_servers must be what pion accepts, or
// every peer connection would fail at run time.
func TestSTUNURLsAcceptedByPion(t *testing.T) {
	pionAccepts := func(u string) error {
		pc, err := webrtc.NewPeerConnection(webrtc.Configuration{ICEServers: []webrtc.ICEServer{{URLs: []string{u}}}})
		if err == nil {
			_ = pc.Close()
		}
		return err
	}
	for _, u := range []string{
		"stun:stun.example.com:3478", "stun:stun.example.com", "stuns:s.example.com:5349",
		"stun:[2001:db8::1]:3478", "stun:192.0.2.1", "STUN:stun.example.com",
	} {
		c := Default()
		c.ICE.STUNServers = []string{u}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate: %v", u, err)
		}
		if err := pionAccepts(u); err != nil {
			t.Errorf("%s: valid for Validate, not for pion: %v", u, err)
		}
	}
	for _, u := range []string{"turn:t.example.com:3478", "turns:t.example.com", "http://stun.example.com"} {
		if err := pionAccepts(u); err == nil {
			t.Errorf("%s: pion accepts it now; Validate may allow it", u)
		}
	}
}

func TestWebhookKeysAreValidated(t *testing.T) {
	cfg := Default()
	cfg.Webhooks.URLs = []string{"ftp://example.com/x"}
	cfg.Webhooks.Key = "short"
	cfg.SessionLog.Path = ""
	cfg.Webhooks.Timeout = 0
	err := cfg.Validate()
	for _, want := range []string{"webhooks.urls: \"ftp://example.com/x\"", "webhooks.key: is 5 bytes", "set session_log.path", "webhooks.timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want a problem mentioning %q", err, want)
		}
	}
}
