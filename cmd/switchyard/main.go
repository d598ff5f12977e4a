// Command switchyard runs the Switchyard SFU: the web client at /,
// WebSocket signaling at /v1/rtc, and media over WebRTC.
//
//	switchyard [--config FILE] [--listen :7880] [--<key> value …]
//	switchyard sessions [--log FILE] [--from …] [--to …] [--room …] [--json]
//	switchyard token --room R --identity I [--name N] [--ttl 1h] [--can-publish=false …]
//	switchyard admin rooms|kick|mute|close-room [--url …] [--token …] …
//	switchyard --version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/switchyard-sfu/switchyard/cluster"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/server"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// shutdownLimit keeps the whole graceful stop under the 5 s that
// orchestrators usually allow between SIGTERM and SIGKILL.
const shutdownLimit = 4 * time.Second

func main() {
	args := os.Args[1:]
	var stop chan os.Signal
	if !isTool(args) { // the tools keep the default: Ctrl-C ends them at once
		// Buffered for two: the first starts the graceful stop, the second
		// cuts a drain short.
		stop = make(chan os.Signal, 2)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	}
	os.Exit(run(stop, args, os.Stdout, os.Stderr))
}

// isTool reports whether args run a command-line tool rather than the server.
func isTool(args []string) bool {
	return len(args) > 0 && slices.Contains([]string{"token", "admin", "sessions"}, args[0])
}

func run(stop <-chan os.Signal, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "token" {
		return runToken(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "admin" {
		return runAdmin(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "sessions" {
		cliArgs := args[1:]
		// Read the log the server writes (e.g. in the Docker image); a
		// --log given on the command line still wins, being parsed last.
		if path := os.Getenv("SWITCHYARD_SESSION_LOG_PATH"); path != "" {
			cliArgs = append([]string{"--log", path}, cliArgs...)
		}
		if slices.ContainsFunc(cliArgs, isClusterFlag) {
			return cluster.RunSessionsCLI(args[1:], stdout, stderr)
		}
		return sessionlog.RunCLI(cliArgs, stdout, stderr)
	}
	fs := flag.NewFlagSet("switchyard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print the version and exit")
	cfg, err := config.Load(fs, args, os.LookupEnv)
	if *showVersion {
		fmt.Fprintln(stdout, "switchyard", version)
		return 0
	}
	if err != nil {
		return reportConfigError(stderr, err)
	}
	log, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintln(stderr, "switchyard:", err)
		return 2
	}
	defer func() { _ = log.Sync() }()

	srv, err := server.New(cfg, server.Options{Log: log, Version: version})
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	if err := srv.Start(); err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	<-stop
	drain(stop, srv, cfg.Shutdown.DrainTimeout, log)
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownLimit)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Warn("shutdown incomplete", zap.Error(err))
		return 1
	}
	log.Info("stopped")
	return 0
}

func reportConfigError(stderr io.Writer, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var invalid *config.ValidationError
	if errors.As(err, &invalid) {
		fmt.Fprintln(stderr, "switchyard: invalid configuration:")
		for _, p := range invalid.Problems {
			fmt.Fprintln(stderr, "  "+p)
		}
		return 2
	}
	fmt.Fprintln(stderr, "switchyard:", err)
	return 2
}

func newLogger(cfg config.LogConfig) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	zc := zap.NewProductionConfig()
	if cfg.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	return zc.Build()
}
