package main

import (
	"bytes"
	"strings"
	"testing"
)

// The floor is measured for real on loopback: every part costs something,
// the floor is the batched send plus the encrypt, and the report prints it
// beside the server's cost with their ratio.
func TestFloorIsMeasuredAndReported(t *testing.T) {
	f, err := measureFloor(1100)
	if err != nil {
		t.Fatal(err)
	}
	if f.SendtoUS <= 0 || f.BatchedUS <= 0 || f.SRTPUS <= 0 {
		t.Fatalf("a floor part cost nothing: %+v", f)
	}
	if f.FloorUS != f.BatchedUS+f.SRTPUS {
		t.Fatalf("floor %.3f is not batched send %.3f + SRTP %.3f", f.FloorUS, f.BatchedUS, f.SRTPUS)
	}
	step := stepResult{N: 3, Floor: &f, ServerCPUPerPacket: 2 * f.FloorUS, ForwardedPackets: 1}
	step.Floor.Ratio = step.ServerCPUPerPacket / f.FloorUS
	var out bytes.Buffer
	printSteps(&out, []stepResult{step})
	if !strings.Contains(out.String(), "×floor") || !strings.Contains(out.String(), " 2.0 ") {
		t.Fatalf("report lacks the floor ratio:\n%s", out.String())
	}
}
