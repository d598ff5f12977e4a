package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is a whole run: the settings that produced it and its figures.
type report struct {
	Started  time.Time      `json:"started"`
	Settings map[string]any `json:"settings"`
	Machine  map[string]any `json:"machine"`
	Steps    []stepResult   `json:"steps,omitempty"`
	Churn    *churnResult   `json:"churn,omitempty"`
}

func newReport(s settings) *report {
	load, _ := os.ReadFile("/proc/loadavg")
	return &report{
		Started: time.Now().UTC(),
		Settings: map[string]any{
			"scenario": s.scenario, "n": s.ns, "duration_s": s.duration.Seconds(), "settle_s": s.settle.Seconds(),
			"url": s.url, "server": map[bool]string{true: "child process started by the bench", false: "external"}[s.url == ""],
			"audio": s.media.audio, "audio_pps": 50, "audio_payload_bytes": audioPayloadSize,
			"video_kbps": s.media.videoKbps, "fps": s.media.fps, "keyframe_interval_s": s.media.keyframeInterval.Seconds(),
			"max_payload_bytes": s.media.maxPayload, "room_size": s.roomSize, "join_concurrency": s.joinConcurrency,
			"churn_rate_per_s": s.churn.rate, "churn_duration_s": s.churn.duration.Seconds(), "churn_hold_s": s.churn.hold.Seconds(),
		},
		Machine: map[string]any{
			"cores": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version(),
			"loadavg_at_start": strings.TrimSpace(string(load)),
		},
	}
}

func f3(s summary) string {
	if s.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f/%.2f/%.2f", s.P50, s.P95, s.P99)
}

func f3int(s summary) string {
	if s.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f/%.0f/%.0f", s.P50, s.P95, s.P99)
}

func printTable(w io.Writer, r *report) {
	fmt.Fprintf(w, "switchyard-bench  %s  scenario=%s  cores=%d  loadavg %s\n",
		r.Started.Format(time.RFC3339), r.Settings["scenario"], r.Machine["cores"], r.Machine["loadavg_at_start"])
	fmt.Fprintf(w, "media per publisher: audio %v (50 pkt/s, %d B), video %v kbit/s at %v fps, keyframe every %vs\n",
		r.Settings["audio"], audioPayloadSize, r.Settings["video_kbps"], r.Settings["fps"], r.Settings["keyframe_interval_s"])
	if len(r.Steps) > 0 {
		printSteps(w, r.Steps)
	}
	if r.Churn != nil {
		printChurn(w, r.Churn)
	}
}

func printSteps(w io.Writer, steps []stepResult) {
	fmt.Fprintf(w, "window %.1fs per step; server CPU from %s\n", steps[0].WindowSeconds, steps[0].CPUSource)
	fmt.Fprintln(w, "latency = publisher send → subscriber read, both on loopback, including both pion stacks (an upper bound on what the server adds)")
	fmt.Fprintln(w, "others % = share of all CPU used by processes other than this server and bench during the window")
	fmt.Fprintln(w, "floor = this machine's sendmmsg(32) send per packet + one SRTP AES-GCM encrypt, measured right before each step; ×floor = srv µs/pkt ÷ floor")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tsubs\tfwd pps\tsrv cores\tsrv µs/pkt\tfloor µs\t×floor\tpps/core\tbench cores\tlatency ms p50/p95/p99\tjoin ms p50/p95/p99\tloss %\treord\tsrv drop\tRSS MB\tKB/sub\tgor/sub\tothers %\t")
	for _, s := range steps {
		fmt.Fprintf(tw, "%d\t%d\t%.0f\t%.2f\t%.1f\t%s\t%s\t%.0f\t%.2f\t%s\t%s\t%.3f\t%d\t%.0f\t%.0f\t%.0f\t%.1f\t%.0f\t\n",
			s.N, s.Subscribers, s.ForwardedPPS, s.ServerCPUCores, s.ServerCPUPerPacket, floorUS(s.Floor), floorRatio(s.Floor), s.PacketsPerCoreSec, s.BenchCPUCores,
			f3(s.Latency), f3int(s.JoinTime), s.LossPct, s.Reordered, s.ServerDropped, s.ServerRSSMB, s.RSSPerSubscriberKB,
			s.GoroutinesPerSubscr, s.OtherBusyPct)
	}
	tw.Flush()
	for _, s := range steps {
		if f := s.Floor; f != nil {
			fmt.Fprintf(w, "N=%d floor (%d-byte payload): sendto %.2f µs, sendmmsg(32) %.2f µs/pkt, SRTP encrypt %.2f µs → floor %.2f µs/pkt\n",
				s.N, f.PayloadBytes, f.SendtoUS, f.BatchedUS, f.SRTPUS, f.FloorUS)
		}
		for _, n := range s.Notes {
			fmt.Fprintf(w, "N=%d: %s\n", s.N, n)
		}
		if s.Profile != "" {
			fmt.Fprintf(w, "N=%d: server CPU profile in %s (go tool pprof -top %s)\n", s.N, s.Profile, s.Profile)
		}
	}
}

func printChurn(w io.Writer, c *churnResult) {
	fmt.Fprintf(w, "churn: %d joins (%d failed), join ms p50/p95/p99 %s; server CPU %.2fs = %.1f ms per join+leave (incl. forwarding), from %s\n",
		c.Joins, c.JoinFailures, f3int(c.JoinTime), c.ServerCPUSecond, c.ServerCPUPerJoinMs, c.CPUSource)
	fmt.Fprintf(w, "server goroutines %0.f → %0.f after all left; RSS %.0f → %.0f MB; bench %.2f cores\n\n",
		c.GoroutinesBase, c.GoroutinesAfter, c.RSSBaseMB, c.RSSAfterMB, c.BenchCPUCores)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "leave cause\tcount\texpected reason\treasons told\tpropagation ms p50/p95/p99\tmissing\t")
	for _, lc := range leaveCauses {
		l := c.Leaves[lc.cause]
		var told []string
		for r, n := range l.Reasons {
			told = append(told, fmt.Sprintf("%s×%d", r, n))
		}
		sort.Strings(told)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t\n", lc.cause, l.Count, l.Expected, strings.Join(told, ","), f3(l.Propagation), l.Missing)
	}
	tw.Flush()
	for _, n := range c.Notes {
		fmt.Fprintln(w, "note:", n)
	}
}

func writeOutputs(s settings, r *report) error {
	var errs []error
	if s.jsonPath != "" {
		data, err := json.MarshalIndent(r, "", "  ")
		if err == nil {
			err = os.WriteFile(s.jsonPath, append(data, '\n'), 0o644)
		}
		errs = append(errs, err)
	}
	if s.plotPath != "" && len(r.Steps) > 0 {
		errs = append(errs, writePlot(s.plotPath, r.Steps))
	}
	return errors.Join(errs...)
}

func floorUS(f *floorResult) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", f.FloorUS)
}

func floorRatio(f *floorResult) string {
	if f == nil || f.Ratio == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", f.Ratio)
}
