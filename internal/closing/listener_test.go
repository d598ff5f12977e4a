package closing

import (
	"errors"
	"net"
	"testing"
)

func TestCloseClosesAcceptedConnections(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener(inner)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	kept, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	gone, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer gone.Close()
	closedEarly, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	// A connection closed on its own is forgotten, not closed twice.
	if err := closedEarly.Close(); err != nil {
		t.Fatal(err)
	}

	if err := ln.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := kept.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on an accepted connection after Close: %v, want net.ErrClosed", err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Fatal("Accept after Close succeeded")
	}
}
