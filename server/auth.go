package server

import (
	"fmt"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/config"
	"go.uber.org/zap"
)

// newAuthority builds the token verifier from the config, or returns nil
// (auth off) with a warning nobody can miss in the startup log.
func newAuthority(cfg config.AuthConfig, log *zap.Logger) (*auth.Authority, error) {
	key, err := cfg.Key()
	if err != nil {
		return nil, err
	}
	if key == nil {
		log.Warn("AUTH IS OFF: anyone who can reach this server may join any room under any name, " +
			"and the admin API is disabled. Set auth.secret (env SWITCHYARD_AUTH_SECRET) or auth.secret_file to require join tokens.")
		return nil, nil
	}
	a, err := auth.New(key, nil)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	log.Info("auth is on: joins need a token signed with the configured key")
	return a, nil
}
