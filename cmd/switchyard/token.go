package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/config"
)

// runToken prints a join token signed with the configured key (file,
// SWITCHYARD_AUTH_SECRET or --auth.secret, as the server reads it).
func runToken(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("switchyard token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var g auth.Grant
	fs.StringVar(&g.Room, "room", "", "`room` the token admits to (required; "+auth.AnyRoom+" for an admin token over every room)")
	fs.StringVar(&g.Identity, "identity", "", "the holder's `identity` (required), stable across sessions")
	fs.StringVar(&g.Name, "name", "", "display `name` (default: the identity)")
	ttl := fs.Duration("ttl", time.Hour, "how `long` the token stays valid")
	fs.BoolVar(&g.Permissions.Publish, "can-publish", true, "may publish audio and video")
	fs.BoolVar(&g.Permissions.Subscribe, "can-subscribe", true, "may receive the others' tracks")
	fs.BoolVar(&g.Permissions.Data, "can-data", true, "may send data (chat) messages")
	fs.BoolVar(&g.Permissions.Admin, "admin", false, "may use the admin API (for its room, or every room with --room '*')")
	cfg, err := config.Load(fs, args, os.LookupEnv)
	if err != nil {
		return reportConfigError(stderr, err)
	}
	a, err := authority(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "switchyard token:", err)
		return 2
	}
	if g.Room == "" || g.Identity == "" {
		fmt.Fprintln(stderr, "switchyard token: --room and --identity are required")
		return 2
	}
	token, err := a.Issue(g, *ttl)
	if err != nil {
		fmt.Fprintln(stderr, "switchyard token:", err)
		return 2
	}
	fmt.Fprintln(stdout, token)
	return 0
}

// authority is the token signer for cfg's key, or an error saying how to
// configure one.
func authority(cfg config.Config) (*auth.Authority, error) {
	key, err := cfg.Auth.Key()
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("no key configured: set auth.secret (env SWITCHYARD_AUTH_SECRET, flag --auth.secret) or auth.secret_file")
	}
	return auth.New(key, nil)
}
