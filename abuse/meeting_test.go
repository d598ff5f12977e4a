package abuse

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

var activeDirection = regexp.MustCompile(`(?m)^a=(sendonly|sendrecv)\r?$`)

// receiving counts the active m-sections of the server's offer that the
// client has answered: one per track it is being sent now (departed
// tracks' m-sections are inactive until reused).
func receiving(c *testclient.Client) int {
	return len(activeDirection.FindAllString(c.SubscribeSDP(), -1))
}

// waitReceiving waits until c's subscribe answer receives on want tracks
// (exactly, or at least with atLeast).
func waitReceiving(ctx context.Context, t *testing.T, c *testclient.Client, want int, atLeast bool) {
	t.Helper()
	for {
		n := receiving(c)
		if n == want || (atLeast && n > want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("subscribe answer receives on %d tracks, want %d: negotiation never completed (errors %v%s)", n, want, errorCodes(c, 0), lastError(c))
		case <-time.After(10 * time.Millisecond): // the answer is set by the client's own goroutine; no event to await
		}
	}
}

// sendingBoth publishes c's audio and video and sends both until the
// server reports both started.
func sendingBoth(ctx context.Context, t *testing.T, c *testclient.Client, stream string) {
	t.Helper()
	tracks, err := c.Publish(ctx, stream)
	if err != nil {
		t.Error(err)
		return
	}
	for seq := uint16(1); countType(c, 0, signal.TypePublished) < 2; seq++ {
		h := rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 960}
		h.PayloadType = 111
		_ = tracks.Audio.WriteRTP(&rtp.Packet{Header: h, Payload: []byte{0}})
		h.PayloadType, h.Timestamp = 96, uint32(seq)*3000
		// A VP8 keyframe's first bytes: enough for the server to start the track.
		_ = tracks.Video.WriteRTP(&rtp.Packet{Header: h, Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}})
		select {
		case <-ctx.Done():
			t.Errorf("%s: tracks never started: %v", stream, ctx.Err())
			return
		case <-time.After(20 * time.Millisecond): // the packet interval
		}
	}
}

// A room filled to room.max_participants, everyone publishing
// limits.max_tracks tracks: every subscriber's negotiation completes
// (its answer fits the limit the configuration derived), and one more
// participant is refused with room-full.
func TestFullRoomAtTheTrackLimitNegotiatesForEveryone(t *testing.T) {
	const load = 10 // publishers besides the control pair
	h := start(t, func(c *config.Config) {
		c.Room.MaxParticipants = load + 2
		c.Limits.MaxTracks = 2 // the test client publishes audio and video
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	base := warmUp(ctx, t, h, ctl, load)
	var clients []*testclient.Client
	var sizes []int
	groups := goroutineGroups()
	ctl.attack(fmt.Sprintf("full room: %d participants × %d tracks", load+2, h.cfg.Limits.MaxTracks), func() {
		var wg sync.WaitGroup
		for i := range load {
			c := h.joined(ctx, "main", fmt.Sprintf("full-%d", i))
			clients = append(clients, c)
			wg.Add(1)
			go func() { defer wg.Done(); sendingBoth(ctx, t, c, fmt.Sprintf("full-%d", i)) }()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		extra := h.dial(ctx)
		if _, err := extra.Join(ctx, "main", "one-too-many"); err == nil || !strings.Contains(err.Error(), signal.CodeRoomFull) {
			t.Errorf("join beyond room.max_participants: %v, want room-full", err)
		}
		// Every load client receives the others' two tracks (and the
		// control's audio, at least); the control subscriber all of them.
		for _, c := range clients {
			waitReceiving(ctx, t, c, 2*(load-1), true)
			sizes = append(sizes, len(c.SubscribeSDP()))
		}
		waitReceiving(ctx, t, ctl.sub, base+2*load, true)
		for _, c := range clients {
			if codes := errorCodes(c, 0); len(codes) > 0 {
				t.Errorf("a publisher got errors %v", codes)
			}
			c.Close()
		}
		extra.Close()
		waitReceiving(ctx, t, ctl.sub, base, false)
	})
	if t.Failed() {
		logGoroutines(t, groups)
	}
	t.Logf("subscribe answers: %d tracks each, %d–%d bytes (signaling.max_message_size %d)",
		2*(load-1), minOf(sizes), maxOf(sizes), h.cfg.Signaling.MaxMessageSize)
}

// A long meeting: 200 people come and go in batches while the control
// pair stays. The control subscriber's SDP depends on the tracks present,
// not on how many ever came: m-sections of departed tracks are reused.
func TestLongMeetingKeepsSDPBounded(t *testing.T) {
	// Back to baseline afterwards within the harness's slack
	// (goroutineSlack, fileSlack, rssSlackKiB). That held only once the
	// test client stopped leaking pion's first-packet goroutines on its
	// subscribe PC (internal/testclient/streams.go has the pion code
	// path): with the server's goroutines labelled (start), every leaked
	// one was the clients'. MEETING_PEOPLE overrides the head count.
	total, batch := 200, 10
	if raceDetector {
		total = 60 // the same shape; -race makes pion several times slower
	}
	if v, err := strconv.Atoi(os.Getenv("MEETING_PEOPLE")); err == nil {
		total = v
	}
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 4*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	base := warmUp(ctx, t, h, ctl, batch)
	var peaks []int
	groups := goroutineGroups()
	var cs []*testclient.Client // the batch present; closed however the test ends
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	ctl.attack(fmt.Sprintf("long meeting: %d come and go, %d at a time", total, batch), func() {
		for b := 0; b < total/batch; b++ {
			var wg sync.WaitGroup
			cs = nil
			for i := range batch {
				name := fmt.Sprintf("m%d-%d", b, i)
				c := h.transient(ctx, "main", name)
				cs = append(cs, c)
				wg.Add(1)
				go func() { defer wg.Done(); publishing(ctx, t, c, name) }()
			}
			wg.Wait()
			if b%5 == 0 {
				t.Logf("batch %d: control receives %d tracks, SDP %d bytes", b, receiving(ctl.sub), len(ctl.sub.SubscribeSDP()))
			}
			waitReceiving(ctx, t, ctl.sub, base+batch, true)
			peaks = append(peaks, len(ctl.sub.SubscribeSDP()))
			for _, c := range cs {
				c.Close()
			}
			waitReceiving(ctx, t, ctl.sub, base, false)
		}
	})
	if t.Failed() {
		logGoroutines(t, groups)
	}
	if len(peaks) == 0 {
		t.Fatal("no batch completed")
	}
	mlines := strings.Count(ctl.sub.SubscribeSDP(), "\nm=")
	t.Logf("control subscribe SDP at each batch's peak: first %d bytes, last %d, max %d; m-sections now %d (%d tracks came and went)",
		peaks[0], peaks[len(peaks)-1], maxOf(peaks), mlines, total)
	// Ids and SSRCs grow by a few digits over the meeting; history would
	// add an m-section (~400 bytes) per departed track.
	if len(peaks) == 0 {
		return
	}
	if last, first := peaks[len(peaks)-1], peaks[0]; last > first+first/5 {
		t.Errorf("control SDP grew from %d to %d bytes over the meeting", first, last)
	}
	if mlines > base+2*batch+2 {
		t.Errorf("control SDP has %d m-sections; at most %d tracks were ever present at once", mlines, base+batch+2)
	}
}

func minOf(v []int) int {
	m := 0
	for i, x := range v {
		if i == 0 || x < m {
			m = x
		}
	}
	return m
}

func maxOf(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// logGoroutines logs how many goroutines sit in each function, and on
// which side (the server's, labelled by start, or the test clients'),
// beyond those of base, for a failed back-to-baseline.
func logGoroutines(t *testing.T, base []goroutineGroup) {
	was := map[[2]string]int{}
	for _, g := range base {
		was[[2]string{g.side, g.fn}] = g.n
	}
	sides := map[string]int{}
	for _, g := range goroutineGroups() {
		extra := g.n - was[[2]string{g.side, g.fn}]
		sides[g.side] += extra
		if extra >= 3 {
			t.Logf("goroutines: %+4d %-6s in %s", extra, g.side, g.fn)
		}
	}
	t.Logf("goroutines over the base: server %+d, test clients %+d", sides["server"], sides["client"])
}

type goroutineGroup struct {
	side, fn string
	n        int
}

// goroutineGroups counts goroutines by side and by the first function on
// their stack outside the runtime and the standard library's waits, from
// the goroutine profile (which, unlike runtime.Stack, shows labels).
func goroutineGroups() []goroutineGroup {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	count := map[[2]string]int{}
	_, profile, _ := strings.Cut(buf.String(), "\n") // after "goroutine profile: total N"
	for _, block := range strings.Split(profile, "\n\n") {
		lines := strings.Split(block, "\n")
		n, err := strconv.Atoi(strings.Fields(lines[0] + " x")[0])
		if err != nil {
			continue
		}
		side, fn := "client", ""
		for _, line := range lines[1:] {
			if strings.HasPrefix(line, "# labels:") {
				if strings.Contains(line, `"side":"server"`) {
					side = "server"
				}
				continue
			}
			f := strings.Fields(line)
			if fn != "" || len(f) < 3 || f[0] != "#" {
				continue
			}
			name, _, _ := strings.Cut(f[2], "+0x")
			if !strings.HasPrefix(name, "runtime.") && !strings.HasPrefix(name, "sync.") && !strings.HasPrefix(name, "internal/") && !strings.HasPrefix(name, "time.") {
				fn = name
			}
		}
		count[[2]string{side, fn}] += n
	}
	var out []goroutineGroup
	for k, n := range count {
		out = append(out, goroutineGroup{side: k[0], fn: k[1], n: n})
	}
	slices.SortFunc(out, func(a, b goroutineGroup) int { return b.n - a.n })
	return out
}

// lastError is the last error message c received, for a failure message.
func lastError(c *testclient.Client) string {
	msgs := c.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Type == signal.TypeError {
			return "; last: " + string(msgs[i].Raw)
		}
	}
	return ""
}

// warmUp has n people publish at once and leave, so that before the
// baseline is taken the control publisher owns its subscribe connection
// and the control subscriber's connection has the m-sections (and pion's
// per-transceiver readers) that n publishers need: later arrivals reuse
// them, so they are not the attack's cost.
func warmUp(ctx context.Context, t *testing.T, h *harness, ctl *control, n int) int {
	t.Helper()
	base := receiving(ctl.sub)
	var ws []*testclient.Client
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprintf("warm-up-%d", i)
		w := h.joined(ctx, "main", name)
		ws = append(ws, w)
		wg.Add(1)
		go func() { defer wg.Done(); publishing(ctx, t, w, name) }()
	}
	wg.Wait()
	waitReceiving(ctx, t, ctl.pub, 1, true)
	waitReceiving(ctx, t, ctl.sub, base+n, true)
	for _, w := range ws {
		w.Close()
	}
	waitReceiving(ctx, t, ctl.sub, base, false)
	return base
}
