package sfu

import (
	"testing"
	"time"
)

func TestHeardBeforePlacesTheLastPacket(t *testing.T) {
	e, err := NewEngine(EngineConfig{Loopback: true, UDP4Only: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Close() }()
	// 2 s disconnected + 2 s failed + the 0.5 s between ICE's checks.
	if e.silentToFail != 4500*time.Millisecond {
		t.Fatalf("silentToFail %v, want 4.5s from the defaults", e.silentToFail)
	}
	at := time.Unix(1_000_000, 0)
	p := &peer{silentToFail: e.silentToFail}
	if got := p.heardBefore(true, at); !got.IsZero() {
		t.Fatalf("a peer that never connected was heard at %v", got)
	}
	p.up.Store(true)
	if got := p.heardBefore(true, at); !got.Equal(at.Add(-4500 * time.Millisecond)) {
		t.Fatalf("after an ICE failure: heard at %v, want 4.5 s before %v", got, at)
	}
	if got := p.heardBefore(false, at); !got.Equal(at) {
		t.Fatalf("after a DTLS end: heard at %v, want %v", got, at)
	}
}
