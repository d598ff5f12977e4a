package cluster

import (
	"fmt"
	"os"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/cpulock"
)

func TestMain(m *testing.M) {
	// Leases of a second are latencies: a starved test process misses
	// its heartbeats and fences. Take turns with the other
	// timing-sensitive packages; the lock goes with the process.
	if _, err := cpulock.Acquire(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
