package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// stepResult is every figure of one load step; JSON names carry units.
type stepResult struct {
	Scenario     string `json:"scenario"`
	N            int    `json:"n"`
	Participants int    `json:"participants"`
	Subscribers  int    `json:"subscribers"` // participants receiving media
	Streams      int    `json:"streams"`     // (subscriber, track) pairs measured

	JoinTime summary `json:"join_time"` // socket open → first media packet
	Latency  summary `json:"latency"`   // sender's send → receiver's read, loopback

	Expected           uint64  `json:"packets_expected"`
	Received           uint64  `json:"packets_received"`
	LossPct            float64 `json:"loss_pct"`
	Reordered          uint64  `json:"packets_reordered"`
	Duplicates         uint64  `json:"packets_duplicated"`
	StreamsWithLoss    int     `json:"streams_with_loss"`
	WorstStreamLossPct float64 `json:"worst_stream_loss_pct"`

	WindowSeconds      float64 `json:"window_s"`
	ForwardedPackets   float64 `json:"server_forwarded_packets"`
	ForwardedPPS       float64 `json:"server_forwarded_pps"`
	ServerDropped      float64 `json:"server_dropped_packets"`
	ServerCPUSeconds   float64 `json:"server_cpu_s"`
	ServerCPUCores     float64 `json:"server_cpu_cores"`
	ServerCPUPerPacket float64 `json:"server_cpu_us_per_forwarded_packet"`
	PacketsPerCoreSec  float64 `json:"server_forwarded_pps_per_core"`
	CPUSource          string  `json:"server_cpu_source"`
	BenchCPUCores      float64 `json:"bench_cpu_cores"`
	BenchCPUPerPacket  float64 `json:"bench_cpu_us_per_received_packet"`
	MachineBusyPct     float64 `json:"machine_busy_pct"`       // all processes, all cores
	OtherBusyPct       float64 `json:"machine_busy_other_pct"` // not server or bench
	Cores              int     `json:"cores"`
	ClientBound        bool    `json:"client_bound"`

	ServerRSSBaseMB     float64 `json:"server_rss_baseline_mb"`
	ServerRSSMB         float64 `json:"server_rss_mb"`
	RSSPerSubscriberKB  float64 `json:"server_rss_per_subscriber_kb"`
	GoroutinesBase      float64 `json:"server_goroutines_baseline"`
	Goroutines          float64 `json:"server_goroutines"`
	GoroutinesPerSubscr float64 `json:"server_goroutines_per_subscriber"`

	EndedByServer  map[string]int `json:"sessions_ended_by_server,omitempty"`  // by reason
	ServerLeaves   map[string]int `json:"server_leaves_during_step,omitempty"` // from switchyard_leaves_total
	ServerReceived float64        `json:"server_received_packets"`

	// Floor is this machine's unavoidable cost per forwarded packet,
	// measured right before the step (floor.go).
	Floor *floorResult `json:"floor,omitempty"`

	Profile string   `json:"cpu_profile,omitempty"`
	Notes   []string `json:"notes,omitempty"`

	latency *histogram
}

// fill derives the window's rates and costs from its two snapshots.
func (r *stepResult) fill(s settings, base, start, end snapshot, lat, joins *histogram) {
	r.latency = lat
	r.Latency = lat.summary()
	r.JoinTime = joins.summary()
	if r.Expected > 0 {
		r.LossPct = 100 * float64(r.Expected-r.Received) / float64(r.Expected)
	}
	wall := end.at.Sub(start.at).Seconds()
	r.WindowSeconds = wall
	r.Cores = int(cores())
	r.ForwardedPackets = end.metrics.forwarded - start.metrics.forwarded
	r.ServerDropped = end.metrics.dropped - start.metrics.dropped
	r.ServerReceived = end.metrics.received - start.metrics.received
	r.ForwardedPPS = r.ForwardedPackets / wall
	r.ServerCPUSeconds = (end.serverCPU - start.serverCPU).Seconds()
	r.ServerCPUCores = r.ServerCPUSeconds / wall
	if r.ForwardedPackets > 0 {
		r.ServerCPUPerPacket = 1e6 * r.ServerCPUSeconds / r.ForwardedPackets
	}
	if r.Floor != nil && r.Floor.FloorUS > 0 {
		r.Floor.Ratio = r.ServerCPUPerPacket / r.Floor.FloorUS
	}
	if r.ServerCPUSeconds > 0 {
		r.PacketsPerCoreSec = r.ForwardedPackets / r.ServerCPUSeconds
	}
	bench := (end.benchCPU - start.benchCPU).Seconds()
	r.BenchCPUCores = bench / wall
	if r.Received > 0 {
		r.BenchCPUPerPacket = 1e6 * bench / float64(r.Received)
	}
	if all := end.machineAll - start.machineAll; all > 0 {
		r.MachineBusyPct = 100 * float64(end.machineBusy-start.machineBusy) / float64(all)
	}
	// The load generator decrypts every packet once per subscriber, as the
	// server encrypts it. When our two processes fill the machine and the
	// bench uses at least as much CPU as the server, client-side figures
	// (latency, loss) say more about the bench than about the server. When
	// other processes fill it, every figure includes their contention.
	ours := r.ServerCPUCores + r.BenchCPUCores
	r.OtherBusyPct = max(r.MachineBusyPct-100*ours/cores(), 0)
	r.ClientBound = ours >= 0.85*cores() && r.BenchCPUCores >= r.ServerCPUCores
	switch {
	case r.ClientBound:
		r.Notes = append(r.Notes, "client-bound: server+bench filled the machine and the bench used more CPU than the server; latency and loss reflect the load generator")
	case r.MachineBusyPct >= 90:
		r.Notes = append(r.Notes, fmt.Sprintf("machine saturated (%.0f%% of all CPU used by other processes): latency, loss and join time include their contention", r.OtherBusyPct))
	}
	if r.ServerCPUSeconds < 0.2 {
		r.Notes = append(r.Notes, fmt.Sprintf("server CPU %.2fs in the window: per-packet CPU is coarse (10 ms ticks)", r.ServerCPUSeconds))
	}

	const mb = 1 << 20
	r.ServerRSSBaseMB = base.metrics.rss / mb
	r.ServerRSSMB = end.metrics.rss / mb
	r.GoroutinesBase = base.metrics.goroutines
	r.Goroutines = end.metrics.goroutines
	if r.Subscribers > 0 {
		r.RSSPerSubscriberKB = (end.metrics.rss - base.metrics.rss) / 1024 / float64(r.Subscribers)
		r.GoroutinesPerSubscr = (end.metrics.goroutines - base.metrics.goroutines) / float64(r.Subscribers)
	}
}

// profilePath names the CPU profile of step n: the given path for a
// single step, otherwise with "-nN" before the extension.
func profilePath(s settings, n int) string {
	if len(s.ns) <= 1 {
		return s.cpuProfile
	}
	ext := filepath.Ext(s.cpuProfile)
	return fmt.Sprintf("%s-n%d%s", strings.TrimSuffix(s.cpuProfile, ext), n, ext)
}
