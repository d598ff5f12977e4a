package abuse

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/cpulock"
	"github.com/switchyard-sfu/switchyard/internal/servertest"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/server"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/goleak"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) {
	// Latencies are asserted: take turns with the other timing-bound
	// packages (the lock goes with the process).
	if _, err := cpulock.Acquire(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// Bounds for the control pair while an attack runs. They are loose for a
// shared 2-core machine under -race, and still far below what the attacks
// did before the limits (ping-timeout drops, seconds of delay).
const (
	mediaP99Bound = 300 * time.Millisecond
	chatP99Bound  = 500 * time.Millisecond
	waitLimit     = 30 * time.Second
)

type harness struct {
	t   *testing.T
	srv *server.Server
	api *webrtc.API
	url string
	cfg config.Config
}

func baseConfig() config.Config {
	cfg := servertest.Loopback()
	cfg.ICE.DetectPublicIP = false
	return cfg
}

func start(t *testing.T, mutate func(*config.Config)) *harness {
	t.Helper()
	cfg := baseConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Every goroutine the server starts, and every one those start,
	// carries the label side=server; the test clients' carry none. A
	// goroutine dump (logGoroutines) then says which side leaked.
	var srv *server.Server
	var addr string
	pprof.Do(context.Background(), pprof.Labels("side", "server"), func(context.Context) {
		var err error
		if srv, err = server.New(cfg, server.Options{Log: zap.NewNop(), Version: "abuse"}); err != nil {
			t.Fatal(err)
		}
		addr = servertest.Start(t, srv, waitLimit)
	})
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, api: api, url: "ws://" + addr + "/v1/rtc", cfg: cfg}
	return h
}

func (h *harness) dial(ctx context.Context) *testclient.Client {
	h.t.Helper()
	c, err := testclient.Dial(ctx, h.api, h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}

func (h *harness) joined(ctx context.Context, roomName, name string) *testclient.Client {
	h.t.Helper()
	c := h.dial(ctx)
	if _, err := c.Join(ctx, roomName, name); err != nil {
		h.t.Fatal(err)
	}
	return c
}

// transient is joined for a client the test closes itself: nothing keeps
// it once closed (joined's cleanup would hold every client, and the
// memory of its closed peer connections, to the end of the test).
func (h *harness) transient(ctx context.Context, roomName, name string) *testclient.Client {
	h.t.Helper()
	c, err := testclient.Dial(ctx, h.api, h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := c.Join(ctx, roomName, name); err != nil {
		c.Close()
		h.t.Fatal(err)
	}
	return c
}

// control is the pair that must not notice the attack: the publisher
// sends an audio packet every 20 ms and a chat line every 100 ms, each
// stamped with its send time; the subscriber measures the delays.
type control struct {
	h        *harness
	pub, sub *testclient.Client
	tracks   testclient.Tracks

	mu    sync.Mutex
	media []time.Duration
	chat  []time.Duration

	stop chan struct{}
	wg   sync.WaitGroup
}

func startControl(ctx context.Context, h *harness, roomName string) *control {
	h.t.Helper()
	c := &control{h: h, stop: make(chan struct{})}
	c.sub = h.joined(ctx, roomName, "control-sub")
	c.pub = h.joined(ctx, roomName, "control-pub")
	var err error
	if c.tracks, err = c.pub.Publish(ctx, "control"); err != nil {
		h.t.Fatal(err)
	}
	c.wg.Add(3)
	go c.sendLoop()
	go c.receiveMedia()
	go c.receiveChat()
	// Media flows before the attack starts.
	c.waitMedia(ctx, 10)
	h.t.Cleanup(c.halt)
	return c
}

func stamp() []byte { return binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano())) }

func since(b []byte) (time.Duration, bool) {
	if len(b) < 8 {
		return 0, false
	}
	return time.Since(time.Unix(0, int64(binary.BigEndian.Uint64(b)))), true
}

func (c *control) sendLoop() {
	defer c.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	for n := 0; ; n++ {
		select {
		case <-c.stop:
			return
		case <-tick.C:
		}
		seq++
		_ = c.tracks.Audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: stamp()})
		if n%5 == 0 {
			_ = c.pub.Send(signal.Chat{Type: signal.TypeChat, Text: strconv.FormatInt(time.Now().UnixNano(), 10)})
		}
	}
}

func (c *control) receiveMedia() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stop:
			return
		case p := <-c.sub.Packets:
			if p.Kind != "audio" {
				continue
			}
			if d, ok := since(p.Payload); ok {
				c.mu.Lock()
				c.media = append(c.media, d)
				c.mu.Unlock()
			}
		}
	}
}

func (c *control) receiveChat() {
	defer c.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-c.stop; cancel() }()
	from := 0
	for {
		m, i, err := c.sub.WaitType(ctx, from, signal.TypeChat)
		if err != nil {
			return
		}
		from = i + 1
		var relay signal.ChatRelay
		if m.Decode(&relay) != nil || relay.Name != "control-pub" {
			continue
		}
		if ns, err := strconv.ParseInt(relay.Text, 10, 64); err == nil {
			c.mu.Lock()
			c.chat = append(c.chat, time.Since(time.Unix(0, ns)))
			c.mu.Unlock()
		}
	}
}

func (c *control) waitMedia(ctx context.Context, n int) { c.waitSamples(ctx, window{media: n}) }

// waitSamples waits until the control has n media and chat samples. The
// samples arrive on the control's own goroutines; polling them every 10 ms
// costs nothing next to the 20 ms packet interval.
func (c *control) waitSamples(ctx context.Context, n window) {
	c.h.t.Helper()
	for {
		got := c.mark()
		if got.media >= n.media && got.chat >= n.chat {
			return
		}
		select {
		case <-ctx.Done():
			c.h.t.Fatalf("control subscriber got %d of %d media packets, %d of %d chat lines", got.media, n.media, got.chat, n.chat)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *control) halt() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.wg.Wait()
}

// window marks where an attack starts in the control's samples.
type window struct{ media, chat int }

func (c *control) mark() window {
	c.mu.Lock()
	defer c.mu.Unlock()
	return window{len(c.media), len(c.chat)}
}

// check asserts the control pair kept receiving, within bounds, since w,
// and logs the figures for the report table.
func (c *control) check(w window, attack string) {
	t := c.h.t
	t.Helper()
	c.mu.Lock()
	media := slices.Clone(c.media[w.media:])
	chat := slices.Clone(c.chat[w.chat:])
	c.mu.Unlock()
	if len(media) < 10 || len(chat) < 2 {
		t.Fatalf("%s: control received %d media packets and %d chat lines during the attack", attack, len(media), len(chat))
	}
	m50, m99 := pct(media, 50), pct(media, 99)
	c50, c99 := pct(chat, 50), pct(chat, 99)
	t.Logf("CONTROL %s: media n=%d p50=%s p99=%s; chat n=%d p50=%s p99=%s", attack, len(media), m50, m99, len(chat), c50, c99)
	if m99 > mediaP99Bound {
		boundMissed(t, "%s: control media p99 %s > %s", attack, m99, mediaP99Bound)
	}
	if c99 > chatP99Bound {
		boundMissed(t, "%s: control chat p99 %s > %s", attack, c99, chatP99Bound)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}

// usage is what the process holds: goroutines, open files, resident memory.
type usage struct {
	goroutines, files int
	rssKiB            int
}

func measure() usage {
	runtime.GC()
	debug.FreeOSMemory()
	u := usage{goroutines: runtime.NumGoroutine()}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		u.files = len(fds)
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				u.rssKiB, _ = strconv.Atoi(strings.Fields(v)[0])
			}
		}
	}
	return u
}

// Slack over the baseline once an attack is over: goroutines and files
// of connections still closing in pion's background, and heap the Go
// runtime keeps.
const (
	goroutineSlack = 10
	fileSlack      = 4
	rssSlackKiB    = 48 << 10
)

// raceBaselineWait is how long a -race build waits for the baseline
// before logging where usage stands.
const raceBaselineWait = 5 * time.Second

// backToBaseline waits until usage returns near base, then reports the
// peak seen during the attack for the table.
func backToBaseline(t *testing.T, attack string, base, peak usage) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	if raceDetector {
		// Nothing here is asserted under -race (boundMissed), and pion's
		// slowed teardown there may never get back within waitLimit (the
		// long meeting: +14 goroutines after 30 s, every run); the build
		// without -race in .ci/run waits the full limit and asserts.
		deadline = time.Now().Add(raceBaselineWait)
	}
	var u usage
	for {
		u = measure()
		// Under -race the detector's shadow memory is never handed back,
		// so RSS cannot return and waiting for it only burns waitLimit;
		// the bound is not asserted there anyway (boundMissed), and the
		// build without -race in .ci/run still waits for and asserts it.
		rssBack := raceDetector || u.rssKiB <= base.rssKiB+rssSlackKiB
		if u.goroutines <= base.goroutines+goroutineSlack && u.files <= base.files+fileSlack && rssBack {
			if raceDetector && u.rssKiB > base.rssKiB+rssSlackKiB {
				t.Logf("-race, not awaited: %s: RSS %d KiB (base %d)", attack, u.rssKiB, base.rssKiB)
			}
			break
		}
		if time.Now().After(deadline) {
			boundMissed(t, "%s: not back to baseline: goroutines %d (base %d), files %d (base %d), RSS %d KiB (base %d)",
				attack, u.goroutines, base.goroutines, u.files, base.files, u.rssKiB, base.rssKiB)
			return
		}
		time.Sleep(100 * time.Millisecond) // polling a process counter: there is no event to await
	}
	t.Logf("COST %s: peak goroutines +%d, files +%d, RSS +%d KiB; after: goroutines %+d, files %+d, RSS %+d KiB",
		attack, peak.goroutines-base.goroutines, peak.files-base.files, peak.rssKiB-base.rssKiB,
		u.goroutines-base.goroutines, u.files-base.files, u.rssKiB-base.rssKiB)
}

// peakDuring samples usage every 50 ms until done is closed.
func peakDuring(done <-chan struct{}) <-chan usage {
	out := make(chan usage, 1)
	go func() {
		var peak usage
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			u := measure()
			peak.goroutines = max(peak.goroutines, u.goroutines)
			peak.files = max(peak.files, u.files)
			peak.rssKiB = max(peak.rssKiB, u.rssKiB)
			select {
			case <-done:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// attack runs fn with the control pair watching and checks the control's
// latency and the return to baseline afterwards.
func (c *control) attack(name string, fn func()) {
	t := c.h.t
	t.Helper()
	base := measure()
	w := c.mark()
	done := make(chan struct{})
	peak := peakDuring(done)
	fn()
	// Measure the control over at least a second (50 packets, 10 chat
	// lines) from the attack's start, aftermath included.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	c.waitSamples(ctx, window{w.media + 50, w.chat + 10})
	cancel()
	close(done)
	c.check(w, name)
	backToBaseline(t, name, base, <-peak)
}

// errorCodes counts the error codes c received since from.
func errorCodes(c *testclient.Client, from int) map[string]int {
	out := map[string]int{}
	for _, m := range c.Messages()[from:] {
		if m.Type != signal.TypeError {
			continue
		}
		var e signal.Error
		if m.Decode(&e) == nil {
			out[e.Code]++
		}
	}
	return out
}

func countType(c *testclient.Client, from int, typ string) int {
	n := 0
	for _, m := range c.Messages()[from:] {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// flush waits until the server has read everything c sent before it: the
// read loop handles messages in order, and an unknown type is always
// answered.
func flush(ctx context.Context, t *testing.T, c *testclient.Client) {
	t.Helper()
	typ := "flush-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	from := len(c.Messages())
	if err := c.Send(map[string]string{"type": typ}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WaitFor(ctx, from, func(m testclient.Message) bool {
		var e signal.Error
		return m.Type == signal.TypeError && m.Decode(&e) == nil && e.Ref == typ
	}); err != nil {
		t.Fatalf("server never read the flush marker: %v", err)
	}
}

// publishing publishes c's two tracks and sends audio until the server
// reports the first one started; it returns that track's server id.
func publishing(ctx context.Context, t *testing.T, c *testclient.Client, stream string) string {
	t.Helper()
	tracks, err := c.Publish(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint16(1); ; seq++ {
		for _, m := range c.Messages() {
			var p signal.Published
			if m.Type == signal.TypePublished && m.Decode(&p) == nil {
				return p.Track.ID
			}
		}
		_ = tracks.Audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq, Timestamp: uint32(seq) * 960}, Payload: []byte{0}})
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no published: %v", stream, ctx.Err())
		case <-time.After(20 * time.Millisecond): // the packet interval
		}
	}
}

// boundMissed fails the test for a latency or resource bound, except in a
// -race build: the race detector slows pion and the server several times
// over, so there the bound is only logged, and .ci/run runs this package
// again without -race, where it is asserted.
func boundMissed(t *testing.T, format string, args ...any) {
	t.Helper()
	if raceDetector {
		t.Logf("-race, not asserted: "+format, args...)
		return
	}
	t.Errorf(format, args...)
}
