package main

import (
	"context"
	"io"
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary serve as the bench's server child, as the
// real binary does when it re-executes itself.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			os.Stderr.WriteString("server child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func quietProgress() *progress { return &progress{w: io.Discard} }

// smokeSettings is a load small enough for any CI machine.
func smokeSettings(t *testing.T, scenario string, args ...string) settings {
	t.Helper()
	s, err := parseSettings(append([]string{"--scenario", scenario, "--duration", "1s", "--settle", "200ms",
		"--video-kbps", "300", "--fps", "15"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSmokeFanout runs one tiny fan-out step end to end: a server child,
// one publisher, two subscribers. It checks that every figure is produced
// and that nothing was lost at this load; speed is the benchmark's business.
func TestSmokeFanout(t *testing.T) {
	t.Parallel()
	s := smokeSettings(t, "fanout", "--n", "2")
	s.jsonPath = t.TempDir() + "/bench.json"
	s.plotPath = t.TempDir() + "/bench.png"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, s, quietProgress())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Steps) != 1 {
		t.Fatalf("%d steps, want 1", len(rep.Steps))
	}
	r := rep.Steps[0]
	if r.Subscribers != 2 || r.Streams != 4 {
		t.Errorf("subscribers %d, streams %d; want 2 and 4 (audio+video each)", r.Subscribers, r.Streams)
	}
	if r.Expected == 0 || r.Received != r.Expected {
		t.Errorf("received %d of %d packets; want all of a non-zero count", r.Received, r.Expected)
	}
	if r.Latency.Count != r.Received || r.Latency.P50 <= 0 || r.Latency.P99 < r.Latency.P50 {
		t.Errorf("latency %+v for %d packets", r.Latency, r.Received)
	}
	if r.JoinTime.Count != 2 || r.JoinTime.P50 <= 0 {
		t.Errorf("join time %+v, want one per subscriber", r.JoinTime)
	}
	if r.ForwardedPackets <= 0 || r.ForwardedPPS <= 0 || r.CPUSource == "" {
		t.Errorf("server figures missing: forwarded %v, pps %v, cpu source %q", r.ForwardedPackets, r.ForwardedPPS, r.CPUSource)
	}
	if r.ServerRSSMB <= 0 || r.Goroutines <= 0 || r.GoroutinesBase <= 0 {
		t.Errorf("server memory/goroutines missing: rss %v, goroutines %v (base %v)", r.ServerRSSMB, r.Goroutines, r.GoroutinesBase)
	}
	if err := writeOutputs(s, rep); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{s.jsonPath, s.plotPath} {
		if info, err := os.Stat(path); err != nil || info.Size() == 0 {
			t.Errorf("%s not written: %v", path, err)
		}
	}
}

// TestSmokeChurn joins one participant per leave cause and checks the
// room was told of each leave, with the reason that cause must produce.
func TestSmokeChurn(t *testing.T) {
	t.Parallel()
	s := smokeSettings(t, "churn", "--churn-rate", "8", "--churn-duration", "500ms", "--churn-hold", "300ms", "--video-kbps", "0")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, s, quietProgress())
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Churn
	if c == nil || c.Joins != len(leaveCauses) || c.JoinFailures != 0 {
		t.Fatalf("churn result %+v; want %d joins, none failed", c, len(leaveCauses))
	}
	for _, lc := range leaveCauses {
		l := c.Leaves[lc.cause]
		if l.Count != 1 || l.Missing != 0 || l.Reasons[lc.reason] != 1 || l.Propagation.Count != 1 {
			t.Errorf("%s: %+v; want one leave told as %s", lc.cause, l, lc.reason)
		}
	}
	if c.JoinTime.Count != uint64(len(leaveCauses)) {
		t.Errorf("join times %+v; want one per joiner", c.JoinTime)
	}
}
