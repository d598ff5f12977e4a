package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// churnSettings shape the churn scenario.
type churnSettings struct {
	rate     float64       // joins per second
	duration time.Duration // how long joins keep coming
	hold     time.Duration // how long each joiner stays before leaving
}

// Leave causes, rotated over the joiners, and the reason the room must be
// told for each.
var leaveCauses = []struct{ cause, reason string }{
	{"leave", "leave"},                // the client sends leave
	{"socket-close", "socket-closed"}, // WebSocket close frame, as a closing tab
	{"socket-drop", "socket-closed"},  // TCP closed without a close frame, as a crash
	{"silent", "ping-timeout"},        // socket open but pings unanswered, as a frozen tab
}

// leaveResult is the propagation of one leave cause to the rest of the room.
type leaveResult struct {
	Count       int            `json:"count"`
	Propagation summary        `json:"propagation"` // cause → participant-left at another member
	Missing     int            `json:"missing"`     // no participant-left within the bound
	Expected    string         `json:"expected_reason"`
	Reasons     map[string]int `json:"reasons"`
}

// churnResult is every figure of a churn run.
type churnResult struct {
	Scenario           string                 `json:"scenario"`
	Joins              int                    `json:"joins"`
	JoinFailures       int                    `json:"join_failures"`
	JoinTime           summary                `json:"join_time"`
	Leaves             map[string]leaveResult `json:"leaves"`
	ServerCPUSecond    float64                `json:"server_cpu_s"`
	ServerCPUPerJoinMs float64                `json:"server_cpu_ms_per_join_leave"`
	CPUSource          string                 `json:"server_cpu_source"`
	BenchCPUCores      float64                `json:"bench_cpu_cores"`
	GoroutinesBase     float64                `json:"server_goroutines_baseline"`
	GoroutinesAfter    float64                `json:"server_goroutines_after"`
	RSSBaseMB          float64                `json:"server_rss_baseline_mb"`
	RSSAfterMB         float64                `json:"server_rss_after_mb"`
	Notes              []string               `json:"notes,omitempty"`
}

// leaveSeen is a participant-left as another member received it.
type leaveSeen struct {
	at     int64
	reason string
}

// watcher is a member who stays for the whole run and timestamps every
// participant-left it is told.
type watcher struct {
	p       *participant
	mu      sync.Mutex
	seen    map[string]leaveSeen
	waiters map[string]chan leaveSeen
	done    chan struct{}
}

func newWatcher(ctx context.Context, p *participant) *watcher {
	w := &watcher{p: p, seen: map[string]leaveSeen{}, waiters: map[string]chan leaveSeen{}, done: make(chan struct{})}
	go w.run(ctx)
	return w
}

// run ends when ctx ends (the run's own deadline bounds it).
func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	for from := 0; ; {
		m, i, err := w.p.client.WaitType(ctx, from, signal.TypeParticipantLeft)
		if err != nil {
			return
		}
		at := nowNanos()
		from = i + 1
		var left signal.ParticipantLeft
		if m.Decode(&left) != nil {
			continue
		}
		seen := leaveSeen{at: at, reason: left.Reason}
		w.mu.Lock()
		w.seen[left.ParticipantID] = seen
		if ch := w.waiters[left.ParticipantID]; ch != nil {
			ch <- seen
			delete(w.waiters, left.ParticipantID)
		}
		w.mu.Unlock()
	}
}

// wait returns when the room was told id left, or false after limit.
func (w *watcher) wait(id string, limit time.Duration) (leaveSeen, bool) {
	w.mu.Lock()
	if s, ok := w.seen[id]; ok {
		w.mu.Unlock()
		return s, true
	}
	ch := make(chan leaveSeen, 1)
	w.waiters[id] = ch
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case s := <-ch:
		return s, true
	case <-t.C:
		return leaveSeen{}, false
	}
}

// churnOutcome is one joiner's life.
type churnOutcome struct {
	cause   int
	join    time.Duration
	leave   time.Duration
	reason  string
	err     error
	missing bool
}

// runChurn joins participants at a steady rate into a room with one
// publisher and one watcher; each stays a while and leaves by the next
// cause in turn.
func runChurn(ctx context.Context, s settings, prog *progress) (res churnResult, err error) {
	res = churnResult{Scenario: "churn", Leaves: map[string]leaveResult{}}
	ctx, cancel := context.WithTimeout(ctx, s.churn.duration+s.churn.hold+90*time.Second)
	defer cancel()
	tgt, err := openTarget(ctx, s)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, tgt.close()) }()
	res.CPUSource = tgt.cpuSource()
	api, err := testclient.NewAPI()
	if err != nil {
		return res, err
	}
	prog.phase("[churn] publisher and watcher joining")
	pub, err := joinOne(ctx, api, tgt.wsURL, "churn", "publisher", s.media, true)
	if err != nil {
		return res, fmt.Errorf("publisher: %w", err)
	}
	defer pub.close()
	wp, err := joinOne(ctx, api, tgt.wsURL, "churn", "watcher", s.media, false)
	if err != nil {
		return res, fmt.Errorf("watcher: %w", err)
	}
	defer wp.close()
	w := newWatcher(ctx, wp)
	defer func() { cancel(); <-w.done }()

	// The baseline is taken once the watcher receives media, so the two
	// steady members' peer connections are all set up in it.
	room := &roomRun{publishers: []*participant{pub}, listeners: []*participant{wp}, plan: roomPlan{listeners: 1}}
	if missing := waitReady(ctx, s, []*roomRun{room}, prog, 1); missing > 0 {
		return res, fmt.Errorf("the watcher got no media from the publisher")
	}
	if err := sleepCtx(ctx, s.settle); err != nil {
		return res, err
	}
	base := tgt.snapshot()
	if base.err != nil {
		return res, base.err
	}
	total := min(max(int(s.churn.rate*s.churn.duration.Seconds()), 1), 1000)
	interval := time.Duration(float64(time.Second) / s.churn.rate)
	outcomes := make([]churnOutcome, total)
	var wg sync.WaitGroup
	var finished atomic.Int64
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range total {
		if i > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-tick.C:
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i] = churnOne(ctx, s, api, tgt.wsURL, w, i)
			finished.Add(1)
		}()
		prog.tick("[churn] %s joined %d/%d, finished %d", bar(float64(i+1)/float64(total), 30), i+1, total, finished.Load())
	}
	prog.phase("[churn] waiting for the last leaves")
	wg.Wait()
	// Let the server finish tearing the last sessions down before
	// counting goroutines, bounded.
	var after snapshot
	for range 50 {
		after = tgt.snapshot()
		if after.err != nil || after.metrics.goroutines <= base.metrics.goroutines {
			break
		}
		if sleepCtx(ctx, 100*time.Millisecond) != nil {
			break
		}
	}
	res.summarize(s, outcomes, base, after)
	if res.GoroutinesAfter > res.GoroutinesBase && tgt.child != nil {
		dump := fmt.Sprintf("%s/switchyard-bench-goroutines-%d.txt", os.TempDir(), tgt.child.pid())
		if err := tgt.child.dumpGoroutines(dump); err == nil {
			res.Notes = append(res.Notes, "server goroutine dump: "+dump)
		}
	}
	return res, nil
}

func churnOne(ctx context.Context, s settings, api *webrtc.API, url string, w *watcher, i int) churnOutcome {
	out := churnOutcome{cause: i % len(leaveCauses)}
	p, err := joinOne(ctx, api, url, "churn", fmt.Sprintf("churner-%d", i), s.media, false)
	if err != nil {
		out.err = err
		return out
	}
	defer p.close()
	// Join time: wait, bounded, for the first media packet.
	for range 200 {
		if out.join = p.joinTime(); out.join > 0 || sleepCtx(ctx, 50*time.Millisecond) != nil {
			break
		}
	}
	if sleepCtx(ctx, s.churn.hold) != nil {
		out.err = ctx.Err()
		return out
	}
	cause := leaveCauses[out.cause].cause
	at := nowNanos()
	switch cause {
	case "leave":
		err = p.leave()
	case "socket-close":
		err = p.client.CloseSocket()
	case "socket-drop":
		err = p.client.DropSocket()
	case "silent":
		p.client.Freeze()
	}
	if err != nil {
		out.err = fmt.Errorf("%s: %w", cause, err)
		return out
	}
	seen, ok := w.wait(p.id, 15*time.Second)
	if !ok {
		out.missing = true
		return out
	}
	out.leave = time.Duration(seen.at - at)
	out.reason = seen.reason
	return out
}

func (r *churnResult) summarize(s settings, outcomes []churnOutcome, base, after snapshot) {
	var joins histogram
	lat := make([]histogram, len(leaveCauses))
	for _, o := range outcomes {
		c := leaveCauses[o.cause]
		lr := r.Leaves[c.cause]
		if lr.Reasons == nil {
			lr.Reasons = map[string]int{}
			lr.Expected = c.reason
		}
		switch {
		case o.err != nil:
			r.JoinFailures++
			if len(r.Notes) < 5 {
				r.Notes = append(r.Notes, o.err.Error())
			}
		case o.missing:
			r.Joins++
			lr.Count++
			lr.Missing++
		default:
			r.Joins++
			lr.Count++
			lr.Reasons[o.reason]++
			lat[o.cause].add(o.leave)
		}
		if o.join > 0 {
			joins.add(o.join)
		}
		r.Leaves[c.cause] = lr
	}
	for i, c := range leaveCauses {
		lr := r.Leaves[c.cause]
		lr.Propagation = lat[i].summary()
		r.Leaves[c.cause] = lr
		if wrong := lr.Count - lr.Missing - lr.Reasons[c.reason]; wrong > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %d leaves reported with another reason than %s", c.cause, wrong, c.reason))
		}
	}
	r.JoinTime = joins.summary()
	wall := after.at.Sub(base.at).Seconds()
	r.ServerCPUSecond = (after.serverCPU - base.serverCPU).Seconds()
	if r.Joins > 0 {
		r.ServerCPUPerJoinMs = 1000 * r.ServerCPUSecond / float64(r.Joins)
	}
	r.BenchCPUCores = (after.benchCPU - base.benchCPU).Seconds() / wall
	const mb = 1 << 20
	r.GoroutinesBase, r.GoroutinesAfter = base.metrics.goroutines, after.metrics.goroutines
	r.RSSBaseMB, r.RSSAfterMB = base.metrics.rss/mb, after.metrics.rss/mb
	if r.GoroutinesAfter > r.GoroutinesBase {
		r.Notes = append(r.Notes, fmt.Sprintf("server goroutines did not return to baseline: %.0f → %.0f", r.GoroutinesBase, r.GoroutinesAfter))
	}
}
