// Command switchyard-bench is Switchyard's load generator: simulated
// participants made of real pion peers speak the real protocol to a
// server, publish synthetic audio and video, and measure what comes back —
// join time, added latency, loss, leave propagation — alongside the
// server's CPU per forwarded packet, memory and goroutines.
//
// By default it starts the server itself, in a child process on loopback,
// so the server's CPU time is its own; --url points it at a running one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// settings are every knob of a run; the JSON report repeats them.
type settings struct {
	scenario        string
	ns              []int
	duration        time.Duration
	settle          time.Duration
	url             string
	serverPID       int
	media           mediaSettings
	roomSize        int
	joinConcurrency int
	churn           churnSettings
	cpuProfile      string
	jsonPath        string
	plotPath        string
}

// Defaults per scenario for --n: what N means differs.
var defaultNs = map[string]string{
	"fanout":  "1,10,100", // subscribers of one publisher
	"meeting": "2,4,8",    // participants all publishing
	"rooms":   "5,10",     // rooms of --room-size publishers each
	"churn":   "",
}

func (s settings) stepTimeout(n int) time.Duration {
	return 60*time.Second + s.readyTimeout(n) + s.duration
}

// readyTimeout bounds the wait for every stream's first packet.
func (s settings) readyTimeout(n int) time.Duration {
	return 20*time.Second + time.Duration(n*max(s.roomSize, 1))*50*time.Millisecond
}

func parseSettings(args []string, stderr io.Writer) (settings, error) {
	fs := flag.NewFlagSet("switchyard-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s settings
	var ns string
	fs.StringVar(&s.scenario, "scenario", "fanout", "fanout | meeting | churn | rooms")
	fs.StringVar(&ns, "n", "", "comma-separated sweep: subscribers (fanout), participants (meeting), rooms (rooms); default per scenario")
	fs.DurationVar(&s.duration, "duration", 4*time.Second, "measured window per step")
	fs.DurationVar(&s.settle, "settle", 500*time.Millisecond, "pause between everyone receiving and the window")
	fs.StringVar(&s.url, "url", "", "ws://HOST/v1/rtc of a running server (default: start one in a child process)")
	fs.IntVar(&s.serverPID, "server-pid", 0, "with --url: the server's pid, for CPU from /proc (else from its /metrics)")
	fs.BoolVar(&s.media.audio, "audio", true, "publish audio (Opus-sized, 50 packets/s)")
	fs.IntVar(&s.media.videoKbps, "video-kbps", 800, "video bitrate per publisher; 0 for no video")
	fs.IntVar(&s.media.fps, "fps", 30, "video frames per second")
	fs.DurationVar(&s.media.keyframeInterval, "keyframe-interval", 2*time.Second, "time between video keyframes")
	fs.IntVar(&s.media.maxPayload, "max-payload", 1100, "largest RTP payload in bytes")
	fs.IntVar(&s.roomSize, "room-size", 4, "rooms scenario: publishers per room")
	fs.IntVar(&s.joinConcurrency, "join-concurrency", 8, "joins in flight at once")
	fs.Float64Var(&s.churn.rate, "churn-rate", 4, "churn: joins per second")
	fs.DurationVar(&s.churn.duration, "churn-duration", 5*time.Second, "churn: how long joins keep coming")
	fs.DurationVar(&s.churn.hold, "churn-hold", time.Second, "churn: how long each joiner stays")
	fs.StringVar(&s.cpuProfile, "cpuprofile", "", "write the server child's CPU profile of each measured window here (-nN added per step)")
	fs.StringVar(&s.jsonPath, "json", "", "write every figure and the settings to this JSON file")
	fs.StringVar(&s.plotPath, "plot", "", "write latency distribution and pps per core vs N to this PNG")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		return s, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	def, known := defaultNs[s.scenario]
	if !known {
		return s, fmt.Errorf("--scenario: unknown %q (fanout, meeting, churn, rooms)", s.scenario)
	}
	if ns == "" {
		ns = def
	}
	var problems []string
	for _, f := range strings.Split(ns, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 2000 {
			problems = append(problems, fmt.Sprintf("--n: %q is not a count from 1 to 2000", f))
			continue
		}
		s.ns = append(s.ns, n)
	}
	if s.scenario != "churn" && len(s.ns) == 0 {
		problems = append(problems, "--n: give at least one count")
	}
	if s.duration <= 0 || s.duration > 10*time.Minute {
		problems = append(problems, "--duration: must be in (0, 10m]")
	}
	if s.media.fps < 1 || s.media.fps > 120 {
		problems = append(problems, "--fps: must be 1 to 120")
	}
	if s.media.maxPayload < 64 || s.media.maxPayload > 1400 {
		problems = append(problems, "--max-payload: must be 64 to 1400")
	}
	if !s.media.audio && s.media.videoKbps <= 0 {
		problems = append(problems, "--audio=false with --video-kbps 0 leaves nothing to send")
	}
	if s.media.videoKbps < 0 || s.media.videoKbps > 50000 {
		problems = append(problems, "--video-kbps: must be 0 to 50000")
	}
	if s.roomSize < 2 || s.roomSize > 100 {
		problems = append(problems, "--room-size: must be 2 to 100")
	}
	if s.churn.rate <= 0 || s.churn.rate > 100 {
		problems = append(problems, "--churn-rate: must be in (0, 100]")
	}
	if s.serverPID != 0 && s.url == "" {
		problems = append(problems, "--server-pid: only with --url")
	}
	if len(problems) > 0 {
		return s, errors.New(strings.Join(problems, "\n"))
	}
	return s, nil
}

func main() {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "server child:", err)
			os.Exit(1)
		}
		return
	}
	s, err := parseSettings(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, s, newProgress(os.Stderr))
	if rep != nil {
		printTable(os.Stdout, rep)
		if werr := writeOutputs(s, rep); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard-bench:", err)
		os.Exit(1)
	}
}

// run executes the scenario; the report holds every step that finished,
// even when a later one failed.
func run(ctx context.Context, s settings, prog *progress) (*report, error) {
	rep := newReport(s)
	defer prog.clear()
	if s.scenario == "churn" {
		res, err := runChurn(ctx, s, prog)
		rep.Churn = &res
		return rep, err
	}
	for _, n := range s.ns {
		res, err := runStep(ctx, s, n, prog)
		if err != nil {
			return rep, fmt.Errorf("%s N=%d: %w", s.scenario, n, err)
		}
		rep.Steps = append(rep.Steps, res)
	}
	return rep, nil
}
