package servertest

import (
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/loopback"
)

// Loopback is loopback.Config(): config.Default() for a server on
// 127.0.0.1 that tests run many of at once. Callers add what their tests
// need on top.
func Loopback() config.Config { return loopback.Config() }
