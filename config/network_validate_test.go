package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidateNetworkAndTURN(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"udp mux off", func(c *Config) { c.ICE.UDPListen = "" }, ""},
		{"udp mux loopback any port", func(c *Config) { c.ICE.UDPListen = "127.0.0.1:0" }, ""},
		{"udp mux IPv6", func(c *Config) { c.ICE.UDPListen = "[::1]:7882" }, ""},
		{"udp mux host name", func(c *Config) { c.ICE.UDPListen = "localhost:7882" },
			`ice.udp_listen: host "localhost" in "localhost:7882" must be an IP address`},
		{"udp mux no port", func(c *Config) { c.ICE.UDPListen = "7882" }, `ice.udp_listen: "7882" is not [IP]:port`},
		{"udp mux bad port", func(c *Config) { c.ICE.UDPListen = ":99999" }, `ice.udp_listen: port "99999"`},
		{"tcp off", func(c *Config) { c.ICE.TCPListen = "" }, ""},
		{"tcp bad", func(c *Config) { c.ICE.TCPListen = "tcp" }, `ice.tcp_listen: "tcp" is not [IP]:port`},
		{"range with mux is allowed (warned at startup)", func(c *Config) { c.ICE.PortMin, c.ICE.PortMax = 50000, 50100 }, ""},
		{"ips", func(c *Config) { c.ICE.IPs = []string{"10.0.0.5", "2001:db8::5"} }, ""},
		{"ips bad", func(c *Config) { c.ICE.IPs = []string{"10.0.0.5", "eth0"} }, `ice.ips[1]: "eth0" is not an IP address`},

		{"turn on", func(c *Config) { c.TURN.Enabled = true }, ""},
		{"turn with TLS", func(c *Config) {
			c.TURN.Enabled, c.TURN.TLSListen, c.TURN.CertFile, c.TURN.KeyFile = true, ":5349", "c.pem", "k.pem"
		}, ""},
		{"turn TLS without cert", func(c *Config) { c.TURN.TLSListen = ":5349" },
			`turn.tls_listen: ":5349" needs turn.cert_file and turn.key_file`},
		{"turn cert without TLS", func(c *Config) { c.TURN.CertFile, c.TURN.KeyFile = "c.pem", "k.pem" }, `turn.cert_file: is set but turn.tls_listen is ""`},
		{"turn key without TLS", func(c *Config) { c.TURN.KeyFile = "k.pem" }, `turn.key_file: is set but turn.tls_listen is ""`},
		{"turn no listener", func(c *Config) { c.TURN.Enabled, c.TURN.UDPListen, c.TURN.TCPListen = true, "", "" },
			`turn.enabled: is true but turn.udp_listen, turn.tcp_listen and turn.tls_listen are all ""`},
		{"turn listeners off while disabled", func(c *Config) { c.TURN.UDPListen, c.TURN.TCPListen = "", "" }, ""},
		{"turn bad udp", func(c *Config) { c.TURN.UDPListen = "3478" }, `turn.udp_listen: "3478" is not [IP]:port`},
		{"turn empty realm", func(c *Config) { c.TURN.Realm = " " }, `turn.realm: must not be empty`},
		{"turn host name", func(c *Config) { c.TURN.Host = "turn.example.com" }, ""},
		{"turn host IPv6", func(c *Config) { c.TURN.Host = "2001:db8::7" }, ""},
		{"turn host with port", func(c *Config) { c.TURN.Host = "turn.example.com:3478" }, `turn.host: "turn.example.com:3478" must be a host name or IP`},
		{"turn host URL", func(c *Config) { c.TURN.Host = "turn:turn.example.com" }, `turn.host:`},
		{"turn relay ip", func(c *Config) { c.TURN.RelayIP = "10.0.0.5" }, ""},
		{"turn relay ip unspecified", func(c *Config) { c.TURN.RelayIP = "0.0.0.0" }, `turn.relay_ip: "0.0.0.0" is not a local IP address`},
		{"turn relay ip name", func(c *Config) { c.TURN.RelayIP = "host" }, `turn.relay_ip: "host"`},
		{"turn secret", func(c *Config) { c.TURN.Secret = strings.Repeat("k", 32) }, ""},
		{"turn secret short", func(c *Config) { c.TURN.Secret = "hunter2" }, `turn.secret: is 7 bytes, must be at least 32`},
		{"turn ttl short", func(c *Config) { c.TURN.CredentialTTL = 30 * time.Second }, `turn.credential_ttl: 30s must be at least 1m`},
	})
}
