package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// Ctrl-C must stop the command-line tools at once: only the server turns
// signals into a graceful stop.
func TestInterruptStopsAdminCommand(t *testing.T) {
	bin := binary(t)
	// A server that accepts the connection and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()

	cmd := exec.Command(bin, "admin", "rooms", "--url", "http://"+ln.Addr().String(), "--token", "any")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case c := <-accepted:
		defer c.Close()
	case err := <-exited:
		t.Fatalf("admin exited before its request arrived: %v", err)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = <-exited // the request's own timeout is 10 s
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !exit.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("admin after SIGINT: %v, want killed by the signal", err)
	}
}
