package servertest

import "github.com/switchyard-sfu/switchyard/config"

// Loopback is config.Default() for a server on 127.0.0.1 that tests run
// many of at once: every port chosen by the OS (one UDP mux each), ICE on
// lo over UDP only, no ICE-TCP, no session log. Callers add what their
// tests need on top.
func Loopback() config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ICE.Interfaces = []string{"lo"}
	cfg.ICE.UDPListen = "127.0.0.1:0"
	cfg.ICE.TCPListen = ""
	cfg.ICE.UDP4Only = true
	cfg.SessionLog.Path = ""
	return cfg
}
