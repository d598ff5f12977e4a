// Package loopback holds the one configuration for a Switchyard that
// serves only 127.0.0.1, many at once on one machine: the tests' servers
// (internal/servertest) and the bench's child. It imports no testing
// code, so the bench binary can use it.
package loopback

import "github.com/switchyard-sfu/switchyard/config"

// Config is config.Default() for a server on 127.0.0.1 that many run at
// once: every port chosen by the OS (one UDP mux each), ICE on lo over
// UDP only, no ICE-TCP, no session log. Callers add what they need on top.
func Config() config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ICE.Interfaces = []string{"lo"}
	cfg.ICE.UDPListen = "127.0.0.1:0"
	cfg.ICE.TCPListen = ""
	cfg.ICE.UDP4Only = true
	cfg.SessionLog.Path = ""
	return cfg
}
