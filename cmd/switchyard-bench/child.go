package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/loopback"
	"github.com/switchyard-sfu/switchyard/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// childEnv, when set in the environment, makes the bench binary run the
// server instead: its CPU time is then the child's own, readable from
// /proc/<pid>/stat apart from the load generator's.
const childEnv = "SWITCHYARD_BENCH_SERVER"

// childConfig is the server the bench starts: the shipped defaults on
// loopback only (internal/loopback, as the tests' servers), with rooms
// large enough for the biggest sweep.
func childConfig() config.Config {
	cfg := loopback.Config()
	cfg.ICE.Loopback = true
	cfg.Room.MaxParticipants = 10000
	cfg.HTTP.MaxWebSocketsPerIP = 0 // every simulated client is 127.0.0.1
	return cfg
}

// runChild serves until its stdin closes. It prints "listening ADDR" once
// ready and obeys commands on stdin: "profile-start FILE" and
// "profile-stop", so a CPU profile covers only the measurement window, and
// "goroutines FILE" for a goroutine dump. pprof stays out of the
// production server's routes this way.
func runChild() error {
	log := zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()),
		zapcore.Lock(os.Stderr), zapcore.ErrorLevel))
	srv, err := server.New(childConfig(), server.Options{Log: log, Version: "bench"})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Printf("listening %s\n", srv.Addr())
	var profile *os.File
	stopProfile := func() error {
		if profile == nil {
			return nil
		}
		pprof.StopCPUProfile()
		err := profile.Close()
		profile = nil
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "profile-start":
			if err := stopProfile(); err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
			}
			f, err := os.Create(arg)
			if err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
				continue
			}
			profile = f
		case "goroutines":
			f, err := os.Create(arg)
			if err == nil {
				err = errors.Join(pprof.Lookup("goroutine").WriteTo(f, 1), f.Close())
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "goroutines:", err)
			}
			fmt.Println("goroutines-written")
		case "profile-stop":
			if err := stopProfile(); err != nil {
				fmt.Fprintln(os.Stderr, "profile:", err)
			}
			fmt.Println("profile-stopped")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(stopProfile(), srv.Shutdown(ctx))
}

// serverChild is a running child server as seen by the bench.
type serverChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	addr  string
}

// startChild re-executes this binary as a server and waits for its
// address.
func startChild(ctx context.Context) (*serverChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server child: %w", err)
	}
	c := &serverChild{cmd: cmd, stdin: stdin, lines: make(chan string, 16)}
	go func() {
		defer close(c.lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			c.lines <- s.Text()
		}
	}()
	select {
	case line, ok := <-c.lines:
		if !ok || !strings.HasPrefix(line, "listening ") {
			_ = c.stop()
			return nil, fmt.Errorf("server child did not start (said %q)", line)
		}
		c.addr = strings.TrimPrefix(line, "listening ")
	case <-ctx.Done():
		_ = c.stop()
		return nil, ctx.Err()
	case <-time.After(20 * time.Second):
		_ = c.stop()
		return nil, fmt.Errorf("server child gave no address within 20s")
	}
	return c, nil
}

func (c *serverChild) pid() int { return c.cmd.Process.Pid }

func (c *serverChild) send(cmd string) error {
	_, err := fmt.Fprintln(c.stdin, cmd)
	return err
}

// stopProfile asks the child to finish its CPU profile and waits until the
// file is written.
func (c *serverChild) stopProfile() error { return c.command("profile-stop", "profile-stopped") }

// dumpGoroutines writes the child's goroutine stacks to path.
func (c *serverChild) dumpGoroutines(path string) error {
	return c.command("goroutines "+path, "goroutines-written")
}

// command sends cmd and waits, bounded, for the child's reply line.
func (c *serverChild) command(cmd, reply string) error {
	if err := c.send(cmd); err != nil {
		return err
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				return fmt.Errorf("server child exited before answering %q", cmd)
			}
			if line == reply {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("server child did not answer %q within 10s", cmd)
		}
	}
}

// stop closes stdin, which shuts the server down, and waits for it; a
// child that does not exit in time is killed.
func (c *serverChild) stop() error {
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("server child did not exit; killed: %w", <-done)
	}
}
