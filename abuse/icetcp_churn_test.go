package abuse

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
)

// muxConnGoroutines counts goroutines parked on a TCP-mux connection
// that no agent owns any more: pion ice's createConn waiter, which only a
// RemoveConnByUfrag or the mux's Close ends.
func muxConnGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "(*TCPMuxDefault).createConn") {
			n++
		}
	}
	return n
}

// Fast join/publish/leave with ICE-TCP on: every peer connection gathers
// a passive TCP candidate from the shared mux while it may already be
// closing. Goroutines return to the baseline and no mux connection is left
// to a closed agent.
func TestICETCPChurnLeavesNoGoroutines(t *testing.T) {
	h := start(t, func(c *config.Config) { c.ICE.TCPListen = "127.0.0.1:0" })
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	owned := muxConnGoroutines() // the control pair's own agents
	const cycles = 120
	ctl.attack("ICE-TCP churn", func() {
		for i := range cycles {
			c := h.dial(ctx)
			if _, err := c.Join(ctx, "main", fmt.Sprintf("churn-%d", i)); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				if _, err := c.Publish(ctx, fmt.Sprintf("churn-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			c.Close() // at once: the server's agents may still be gathering
		}
	})
	// backToBaseline (in attack) bounds the total; this names the pion
	// path (sfu/tcpmux.go), asserted under -race too: it is no timing bound.
	deadline := time.Now().Add(waitLimit)
	for muxConnGoroutines() > owned && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // polling a goroutine dump: there is no event to await
	}
	if n := muxConnGoroutines(); n > owned {
		t.Errorf("%d TCP-mux connections left waiting for agents that closed (the control pair's own: %d)", n-owned, owned)
	}
}
