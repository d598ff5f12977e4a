package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// target is the server under test for one step: a child the bench
// started, or an external one given by --url.
type target struct {
	wsURL      string
	metricsURL string
	child      *serverChild
	pid        string // "" when the server's CPU can only come from /metrics
}

func openTarget(ctx context.Context, s settings) (*target, error) {
	if s.url == "" {
		child, err := startChild(ctx)
		if err != nil {
			return nil, err
		}
		return &target{
			wsURL: "ws://" + child.addr + "/v1/rtc", metricsURL: "http://" + child.addr + "/metrics",
			child: child, pid: strconv.Itoa(child.pid()),
		}, nil
	}
	u, err := url.Parse(s.url)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") {
		return nil, fmt.Errorf("--url must be ws://HOST/v1/rtc, got %q", s.url)
	}
	scheme := "http"
	if u.Scheme == "wss" {
		scheme = "https"
	}
	t := &target{wsURL: s.url, metricsURL: scheme + "://" + u.Host + "/metrics"}
	if s.serverPID > 0 {
		t.pid = strconv.Itoa(s.serverPID)
	}
	return t, nil
}

// cpuSource says where server CPU figures come from.
func (t *target) cpuSource() string {
	if t.pid != "" {
		return "/proc/" + t.pid + "/stat (utime+stime, 10 ms ticks)"
	}
	return "process_cpu_seconds_total from the server's /metrics"
}

// snapshot is everything sampled at one edge of a measurement window.
type snapshot struct {
	at          time.Time
	serverCPU   time.Duration
	benchCPU    time.Duration
	machineBusy uint64
	machineAll  uint64
	metrics     serverMetrics
	err         error
}

func (t *target) snapshot() snapshot {
	s := snapshot{at: time.Now()}
	s.metrics, s.err = scrape(t.metricsURL)
	if t.pid != "" {
		cpu, err := processCPU(t.pid)
		if err != nil && s.err == nil {
			s.err = err
		}
		s.serverCPU = cpu
	} else {
		s.serverCPU = time.Duration(s.metrics.cpuSeconds * float64(time.Second))
	}
	s.benchCPU, _ = processCPU("self")
	s.machineBusy, s.machineAll = machineCPU()
	return s
}

func (t *target) close() error {
	if t.child == nil {
		return nil
	}
	return t.child.stop()
}
