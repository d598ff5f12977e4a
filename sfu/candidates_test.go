package sfu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pion/ice/v2"
)

func TestDialsOut(t *testing.T) {
	cases := map[string]bool{
		"candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host":                      false,
		"candidate:1 1 tcp 1518280447 10.0.0.1 9 typ host tcptype active":          false,
		"candidate:1 1 tcp 1518280447 10.0.0.1 22 typ host tcptype passive":        true,
		"candidate:1 1 tcp 1518280447 10.0.0.1 8080 typ host tcptype so":           true,
		"candidate:1 1 tcp 1518280447 169.254.169.254 80 typ host tcptype passive": true,
	}
	for line, want := range cases {
		c, err := ice.UnmarshalCandidate(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := dialsOut(c); got != want {
			t.Errorf("dialsOut(%s) = %v, want %v", line, got, want)
		}
	}
}

func sdpWith(ufrag string, udp, passive int) string {
	var b strings.Builder
	b.WriteString("v=0\r\na=ice-ufrag:" + ufrag + "\r\n")
	for i := range udp {
		fmt.Fprintf(&b, "a=candidate:%d 1 udp 2130706431 10.0.0.1 %d typ host\r\n", i, 5000+i)
	}
	for i := range passive {
		fmt.Fprintf(&b, "a=candidate:%d 1 tcp 1518280447 10.0.0.1 %d typ host tcptype passive\r\n", i, 1+i)
	}
	return b.String()
}

func TestFilterSDPCandidates(t *testing.T) {
	b := candidateBudget{max: 4}
	out, err := filterSDPCandidates(sdpWith("a", 3, 50), &b)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "a=candidate:"); n != 3 || strings.Contains(out, "passive") {
		t.Fatalf("kept %d candidates (passive dropped?) in\n%s", n, out)
	}
	// A renegotiation repeats the same candidates: they are not charged again.
	if _, err := filterSDPCandidates(sdpWith("a", 3, 0), &b); err != nil {
		t.Fatalf("the same 3 candidates again: %v", err)
	}
	if err := b.take("99 1 udp 1 10.0.0.9 9 typ host"); err != nil { // the fourth fits
		t.Fatal(err)
	}
	if err := b.take("99 1 udp 1 10.0.0.9 9 typ host"); err != nil { // and is free the second time
		t.Fatal(err)
	}
	if err := b.take("98 1 udp 1 10.0.0.8 8 typ host"); !errors.Is(err, ErrBadCandidate) {
		t.Fatalf("fifth candidate: %v, want ErrBadCandidate", err)
	}
	// An ICE restart (new ufrag) starts a new count.
	if _, err := filterSDPCandidates(sdpWith("b", 4, 0), &b); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if _, err := filterSDPCandidates(sdpWith("c", 5, 0), &b); !errors.Is(err, ErrBadSDP) {
		t.Fatalf("5 candidates over a cap of 4: %v, want ErrBadSDP", err)
	}
}
