package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// massLeaveBound is the bound for one leave, socket closed to
// participant-left at the one who stays; it holds for simultaneous ones too.
const massLeaveBound = 150 * time.Millisecond

// TestFortyEightSimultaneousLeavesAreEachToldWithinTheSingleLeaveBound
// empties a full room at once, the end of every large meeting: 48
// participants (8 of them publishing) close their sockets at the same
// moment. The one who stays must hear each participant-left within the
// single-leave bound of that socket closing, /healthz and /metrics must
// never count someone whose leave was already told, and the session log
// must hold every leave, timed honestly.
func TestFortyEightSimultaneousLeavesAreEachToldWithinTheSingleLeaveBound(t *testing.T) {
	if testing.Short() {
		t.Skip("49 participants; skipped with -short")
	}
	const leavers, publishers = 48, 8
	cfg := testConfig()
	cfg.Room.MaxParticipants = leavers + 2
	cfg.SessionLog.Path = filepath.Join(t.TempDir(), "sessions.jsonl")
	// The test client answers pings from the loop that applies its
	// offers, and 50 of them renegotiating on 2 loaded cores fell behind
	// the 3 s ping timeout before the leaves (seen as ping-timeout leaves
	// in the settle). Pings are not what this test is about.
	cfg.Signaling.PingTimeout = 30 * time.Second
	h := startServerWithLog(t, cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Two stay: a full client that publishes, so every leaver has a
	// subscribe PC, and a bare signaling client, the one the bound is
	// checked on. The test client applies each offer before it reads the
	// next frame, so its receive times include its own renegotiations; a
	// browser's do not.
	stayer, js := h.joined(ctx, "big", "Stayer")
	watch := watchLeaves(ctx, t, h.url, "big")
	var media sync.WaitGroup
	mediaCtx, stopMedia := context.WithCancel(ctx)
	defer func() { stopMedia(); media.Wait() }()
	publish := func(c *testclient.Client, id string) {
		tracks, err := c.Publish(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Slow packets: enough to start the tracks, cheap on 2 cores.
		sendMediaEvery(mediaCtx, &media, id, tracks, 200*time.Millisecond)
	}
	publish(stayer, js.ParticipantID)

	clients := make([]*testclient.Client, leavers)
	ids := make([]string, leavers)
	for i := range leavers {
		var j signal.Joined
		clients[i], j = h.joined(ctx, "big", fmt.Sprintf("guest-%02d", i))
		ids[i] = j.ParticipantID
	}
	streams := []string{js.ParticipantID}
	for i := range publishers {
		publish(clients[i], ids[i])
		streams = append(streams, ids[i])
	}
	// Settle: everyone has been told of every other publisher's two
	// tracks, which the server sends as it adds them to their subscribe
	// PCs, so each publisher's leave has real renegotiation work to cause.
	// (Waiting for every client to apply every offer as well takes minutes
	// under -race on 2 cores.)
	// Should the settle fail, say who left before the leaves and why.
	settled := false
	defer func() {
		if settled {
			return
		}
		_, n := h.srv.Rooms().Counts()
		t.Logf("the server counts %d participants", n)
		for _, l := range h.recorder.Leaves() {
			t.Logf("left before the leaves: %s (%s) at %s", l.ParticipantID, l.Reason, l.At.Format("15:04:05.000"))
		}
	}()
	for i, c := range clients {
		waitPublished(ctx, t, c, slices.DeleteFunc(slices.Clone(streams[1:]), func(s string) bool { return s == ids[i] }))
	}
	waitPublished(ctx, t, stayer, streams[1:])
	settled = true
	const stay = 2
	if _, n := h.srv.Rooms().Counts(); n != leavers+stay {
		t.Fatalf("server counts %d participants before the leaves, want %d", n, leavers+stay)
	}

	from := len(stayer.Messages())
	told := func() int {
		n := 0
		for _, m := range stayer.Messages()[from:] {
			if m.Type == signal.TypeParticipantLeft {
				n++
			}
		}
		return n
	}
	pollDone := make(chan struct{})
	stopPoll := make(chan struct{})
	var ghosts []string
	samples := 0
	go func() {
		defer close(pollDone)
		for {
			select {
			case <-stopPoll:
				return
			default:
			}
			untold := leavers - told()
			health, metrics, err := h.presenceCounts(ctx)
			if err != nil {
				ghosts = append(ghosts, err.Error())
				return
			}
			if health > stay+untold || metrics > stay+untold {
				ghosts = append(ghosts, fmt.Sprintf("/healthz %d, /metrics %d with %d leaves still untold", health, metrics, untold))
			}
			samples++
		}
	}()

	closedAt := make([]time.Time, leavers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			closedAt[i] = time.Now()
			_ = c.CloseSocket()
		}()
	}
	close(start)
	wg.Wait()

	toldAt := map[string]time.Time{}
	for i := from; len(toldAt) < leavers; i++ {
		m, at, err := stayer.WaitType(ctx, i, signal.TypeParticipantLeft)
		if err != nil {
			t.Fatalf("the stayer heard %d of %d leaves: %v", len(toldAt), leavers, err)
		}
		var left signal.ParticipantLeft
		if err := m.Decode(&left); err != nil {
			t.Fatal(err)
		}
		if left.Reason != string(room.ReasonSocketClosed) {
			t.Errorf("participant-left %s with reason %s, want %s", left.ParticipantID, left.Reason, room.ReasonSocketClosed)
		}
		toldAt[left.ParticipantID] = m.At
		i = at
	}
	close(stopPoll)
	<-pollDone
	watched := watch.wait(ctx, t, leavers)
	if health, metrics, err := h.presenceCounts(ctx); err != nil || health != stay || metrics != stay {
		t.Errorf("after every leave was told: /healthz %d, /metrics %d participants (%v), want %d", health, metrics, err, stay)
	}
	for _, g := range ghosts {
		t.Errorf("ghost: %s", g)
	}

	records, _, err := sessionlog.ReadFile(cfg.SessionLog.Path)
	if err != nil {
		t.Fatal(err)
	}
	leftAt := map[string]time.Time{}
	for _, r := range records {
		if r.Event == sessionlog.EventLeave {
			leftAt[r.ParticipantID] = r.Time
		}
	}
	var delays, stayerDelays, lags []time.Duration
	for i, id := range ids {
		stayerDelays = append(stayerDelays, toldAt[id].Sub(closedAt[i]))
		d := watched[id].Sub(closedAt[i])
		delays = append(delays, d)
		// The race detector slows pion several times over: there the
		// bound is only reported; .ci/run checks it in a plain build.
		if d > massLeaveBound && !raceDetector {
			t.Errorf("%s: participant-left reached the one who stays %v after its socket closed, bound %v", id, d, massLeaveBound)
		}
		rec, ok := leftAt[id]
		if !ok {
			t.Errorf("%s: the session log has no leave, yet the stayer was told of it", id)
			continue
		}
		// The leave's time is when the room acted on it, so whatever the
		// leave waited for is inside detection_delay_s; only the commit
		// and the message's trip may lie between it and the telling.
		lags = append(lags, watched[id].Sub(rec))
		if rec.Before(closedAt[i]) {
			t.Errorf("%s: the log dates the leave %v before the socket closed", id, closedAt[i].Sub(rec))
		}
	}
	t.Logf("48 simultaneous leaves, socket closed → participant-left at the one who stays: %s (race detector: %v)", percentiles(delays), raceDetector)
	t.Logf("same, at the publishing test client (after its own renegotiations): %s", percentiles(stayerDelays))
	t.Logf("leave record time → told (commit + delivery): %s", percentiles(lags))
	t.Logf("%d /healthz + /metrics samples during the leaves", samples)
}

// leaveWatch is a bare signaling client that only reads: it times each
// participant-left as it comes off the socket.
type leaveWatch struct {
	ws   *websocket.Conn
	left chan leftAt
	done chan struct{}
}

type leftAt struct {
	id string
	at time.Time
}

func watchLeaves(ctx context.Context, t *testing.T, url, roomName string) *leaveWatch {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &leaveWatch{ws: ws, left: make(chan leftAt, 1024), done: make(chan struct{})}
	t.Cleanup(func() { ws.Close(); <-w.done })
	if err := ws.WriteJSON(signal.Join{Type: signal.TypeJoin, Room: roomName, Name: "Watcher"}); err != nil {
		t.Fatal(err)
	}
	joined := make(chan struct{})
	go func() {
		defer close(w.done)
		for {
			_, data, err := ws.ReadMessage() // the default ping handler answers pings
			at := time.Now()
			if err != nil {
				return
			}
			var msg signal.ParticipantLeft
			if json.Unmarshal(data, &msg) != nil {
				continue
			}
			switch msg.Type {
			case signal.TypeJoined:
				close(joined)
			case signal.TypeParticipantLeft:
				w.left <- leftAt{msg.ParticipantID, at}
			}
		}
	}()
	select {
	case <-joined:
	case <-ctx.Done():
		t.Fatal("the watcher was never joined")
	}
	return w
}

// wait returns when each of n participant-lefts arrived.
func (w *leaveWatch) wait(ctx context.Context, t *testing.T, n int) map[string]time.Time {
	t.Helper()
	got := map[string]time.Time{}
	for len(got) < n {
		select {
		case l := <-w.left:
			got[l.id] = l.at
		case <-ctx.Done():
			t.Fatalf("the watcher heard %d of %d leaves", len(got), n)
		}
	}
	return got
}

// waitPublished waits until c has been told of both tracks of every
// participant in streams.
func waitPublished(ctx context.Context, t *testing.T, c *testclient.Client, streams []string) {
	t.Helper()
	count := map[string]int{}
	for from := 0; ; from++ {
		done := true
		for _, s := range streams {
			if count[s] < 2 {
				done = false
			}
		}
		if done {
			return
		}
		m, at, err := c.WaitType(ctx, from, signal.TypeTrackPublished)
		if err != nil {
			t.Fatalf("not told of every track of %v (got %v): %v", streams, count, err)
		}
		var msg signal.TrackPublished
		if err := m.Decode(&msg); err != nil {
			t.Fatal(err)
		}
		count[msg.ParticipantID]++
		from = at
	}
}

var participantsGauge = regexp.MustCompile(`(?m)^switchyard_participants (\d+)$`)

// presenceCounts reads the participant count from /healthz, then from
// /metrics. It only returns errors: it runs beside the test goroutine.
func (h *harness) presenceCounts(ctx context.Context) (health, metrics int, err error) {
	base := "http://" + h.srv.Addr().String()
	fetch := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	b, err := fetch("/healthz")
	if err != nil {
		return 0, 0, err
	}
	var body struct {
		Participants int `json:"participants"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return 0, 0, fmt.Errorf("/healthz: %w", err)
	}
	if b, err = fetch("/metrics"); err != nil {
		return 0, 0, err
	}
	m := participantsGauge.FindSubmatch(b)
	if m == nil {
		return 0, 0, fmt.Errorf("/metrics has no switchyard_participants")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return body.Participants, n, nil
}

// percentiles formats p50, p99 and max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Sorted(slices.Values(ds))
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n=%d)", ms(at(0.50)), ms(at(0.99)), ms(s[len(s)-1]), len(s))
}
