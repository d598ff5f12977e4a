package config

import "testing"

// Two listeners on one port and protocol would pass validation and then
// fail at startup with "address already in use" naming no key, or (listen
// vs ice.tcp_listen) blaming the HTTP listener for the ICE one's port.
func TestValidatePortClashes(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"defaults with turn", func(c *Config) { c.TURN.Enabled = true }, ""},
		{"udp and tcp may share a number", func(c *Config) { c.ICE.UDPListen, c.ICE.TCPListen = ":7881", ":7881" }, ""},
		{"port 0 never clashes", func(c *Config) { c.Listen, c.ICE.TCPListen = "127.0.0.1:0", ":0" }, ""},
		{"different IPs", func(c *Config) { c.Listen, c.ICE.TCPListen = "127.0.0.1:7880", "127.0.0.2:7880" }, ""},
		{"ice tcp on the http port", func(c *Config) { c.ICE.TCPListen = ":7880" },
			`ice.tcp_listen: ":7880" uses TCP port 7880, as listen ":7880" does`},
		{"ice tcp on http port, one host any", func(c *Config) { c.Listen, c.ICE.TCPListen = "127.0.0.1:7881", ":7881" },
			`ice.tcp_listen: ":7881" uses TCP port 7881, as listen "127.0.0.1:7881" does`},
		{"turn udp on the ice udp port", func(c *Config) { c.TURN.Enabled, c.TURN.UDPListen = true, ":7882" },
			`turn.udp_listen: ":7882" uses UDP port 7882, as ice.udp_listen ":7882" does`},
		{"turn tcp on the ice tcp port", func(c *Config) { c.TURN.Enabled, c.TURN.TCPListen = true, "0.0.0.0:7881" },
			`turn.tcp_listen: "0.0.0.0:7881" uses TCP port 7881, as ice.tcp_listen ":7881" does`},
		{"turn tls on the turn tcp port", func(c *Config) {
			c.TURN.Enabled, c.TURN.TLSListen, c.TURN.CertFile, c.TURN.KeyFile = true, ":3478", "c.pem", "k.pem"
		}, `turn.tls_listen: ":3478" uses TCP port 3478, as turn.tcp_listen ":3478" does`},
		{"turn off: its ports are not opened", func(c *Config) { c.TURN.UDPListen = ":7882" }, ""},
	})
}
