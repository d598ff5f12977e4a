package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/room"
)

// leaveSlack is how long past its limit a leave is still waited for, so a
// slow one is reported with its real latency rather than as a time-out.
const leaveSlack = 5 * time.Second

// leaveCause is one way a participant can leave a room.
type leaveCause struct {
	name    string
	reasons []room.Reason // reasons the server may legitimately record
	// limit is the longest the leave may take to reach everyone.
	limit func(config.Config) time.Duration
	// prepare readies the leaver and returns the action that applies the
	// cause; the clock starts just before that action.
	prepare func(e *leaveEnv) (apply func() error, err error)
	// after checks the leaver itself once the leave was seen everywhere
	// and returns a note for the table.
	after func(t *testing.T, e *leaveEnv, t0 time.Time) string
}

// leaveEnv is what a cause works with.
type leaveEnv struct {
	s      *e2eServer
	sink   *pagehideSink
	leaver *browser
}

func threeSeconds(config.Config) time.Duration { return 3 * time.Second }

var leaveCauses = []leaveCause{
	{
		name:    "leave button",
		reasons: []room.Reason{room.ReasonLeave},
		limit:   threeSeconds,
		prepare: func(e *leaveEnv) (func() error, error) {
			b := e.leaver
			ctx, cancel := context.WithTimeout(b.page, evalTimeout)
			defer cancel()
			nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.ID("leave"), chromedp.NodeEnabled))
			if err != nil || len(nodes) != 1 {
				return nil, fmt.Errorf("%s: enabled #leave button: %d found, %v", b.name, len(nodes), err)
			}
			return func() error {
				ctx, cancel := context.WithTimeout(b.page, evalTimeout)
				defer cancel()
				return chromedp.Do(ctx, chromedp.MouseClickNode(nodes[0]))
			}, nil
		},
		after: func(t *testing.T, e *leaveEnv, _ time.Time) string {
			b := e.leaver
			st, err := b.waitPage(3*time.Second, func(st pageState) string {
				if st.State != "left" {
					return "leaver not in state left"
				}
				return ""
			})
			if err != nil {
				t.Error(err)
			}
			if st.StateText != "left: leave" {
				t.Errorf("%s: state text %q after Leave, want %q", b.name, st.StateText, "left: leave")
			}
			return fmt.Sprintf("leaver shows %q", st.StateText)
		},
	},
	{
		name:    "tab closed",
		reasons: []room.Reason{room.ReasonLeave, room.ReasonTabClosed, room.ReasonSocketClosed},
		limit:   threeSeconds,
		prepare: func(e *leaveEnv) (func() error, error) {
			if err := e.leaver.armPagehide(e.sink); err != nil {
				return nil, err
			}
			// Target.closeTarget of the tab (the browser stays up): the
			// same path as closing a tab by hand, unload handlers and all.
			return func() error { return chromedp.Cancel(e.leaver.page) }, nil
		},
		after: pagehideNote,
	},
	{
		name:    "navigated away",
		reasons: []room.Reason{room.ReasonLeave, room.ReasonTabClosed, room.ReasonSocketClosed},
		limit:   threeSeconds,
		prepare: func(e *leaveEnv) (func() error, error) {
			b := e.leaver
			if err := b.armPagehide(e.sink); err != nil {
				return nil, err
			}
			return func() error {
				ctx, cancel := context.WithTimeout(b.page, joinTimeout)
				defer cancel()
				return chromedp.Do(ctx, chromedp.Navigate(e.s.base+"/healthz"))
			}, nil
		},
		after: pagehideNote,
	},
	{
		name:    "browser killed",
		reasons: []room.Reason{room.ReasonSocketClosed},
		limit:   threeSeconds,
		prepare: func(e *leaveEnv) (func() error, error) {
			return func() error { return e.leaver.signal(syscall.SIGKILL) }, nil
		},
	},
	{
		name:    "browser frozen",
		reasons: []room.Reason{room.ReasonPingTimeout},
		limit:   func(cfg config.Config) time.Duration { return cfg.Signaling.PingTimeout + 2*time.Second },
		prepare: func(e *leaveEnv) (func() error, error) {
			return func() error { return e.leaver.signal(syscall.SIGSTOP) }, nil
		},
	},
}

// pagehideNote awaits the leaver's pagehide report: proof that the page
// really went through pagehide, and that the app had ended its session by
// the end of it.
func pagehideNote(t *testing.T, e *leaveEnv, t0 time.Time) string {
	t.Helper()
	rep, err := e.sink.wait(5 * time.Second)
	if err != nil {
		t.Errorf("%s: %v: pagehide did not fire, or the page could not report it", e.leaver.name, err)
		return "no pagehide seen"
	}
	if rep.State != "left" {
		t.Errorf("%s: after pagehide the app was in state %q (%q), want left", e.leaver.name, rep.State, rep.StateText)
	}
	return fmt.Sprintf("pagehide +%v (persisted=%v), app %q", ms(time.UnixMilli(rep.At).Sub(t0)), rep.Persisted, rep.StateText)
}

// leaveResult is one row of the table.
type leaveResult struct {
	cause   string
	reason  room.Reason
	server  time.Duration // cause applied → server's Left event
	delay   time.Duration // the server's own DetectionDelay
	tiles   []time.Duration
	limit   time.Duration
	note    string
	failed  bool
	skipped bool
}

// TestEveryWayOfLeavingIsSeenAtOnce: for each way a participant can leave
// (button, tab close, navigation, browser crash, browser freeze), a fresh
// server and room of three pages: a freshly launched browser that leaves,
// and two observers, each a fresh tab in a browser shared by the causes
// (none of them acts on an observer's process); the leaver's tile must
// vanish from both other pages, and the server must count the leave,
// within the cause's limit.
func TestEveryWayOfLeavingIsSeenAtOnce(t *testing.T) {
	needBrowser(t)
	var (
		mu      sync.Mutex
		results []leaveResult
	)
	observers := make([]*browser, 2)
	errs := make([]error, len(observers))
	parallel(len(observers), func(i int) { observers[i], errs[i] = launchBrowser(t, fmt.Sprintf("P%d", i+2)) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, c := range leaveCauses {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			res := leaveResult{cause: c.name, skipped: true}
			defer func() {
				res.failed = t.Failed()
				mu.Lock()
				results = append(results, res)
				mu.Unlock()
			}()
			runLeave(t, c, observers, &res)
		})
	}

	t.Log("presence truth: cause applied → seen (server: observer Left event; tiles: tile left the DOM of each other page)")
	t.Logf("  %-15s %-14s %10s %12s %-21s %7s  %s", "cause", "reason", "server", "det. delay", "tiles gone", "limit", "notes")
	for _, r := range results {
		if r.skipped {
			t.Logf("  %-15s (did not get as far as the leave)", r.cause)
			continue
		}
		tiles := make([]string, len(r.tiles))
		for i, d := range r.tiles {
			tiles[i] = ms(d)
		}
		status := ""
		if r.failed {
			status = "FAILED "
		}
		t.Logf("  %-15s %-14s %10s %12s %-21s %7s  %s%s", r.cause, r.reason, ms(r.server), ms(r.delay), strings.Join(tiles, ", "), r.limit, status, r.note)
	}
}

func runLeave(t *testing.T, c leaveCause, observers []*browser, res *leaveResult) {
	s := startServer(t)
	limit := c.limit(s.cfg)
	res.limit = limit
	leaver, err := launchBrowser(t, "P1")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range observers {
		if err := o.freshTab(t); err != nil {
			t.Fatal(err)
		}
	}
	bs := append([]*browser{leaver}, observers...)
	logTracesOnFailure(t, bs)
	const roomName = "leave"
	ids, err := joinAll(s.base, roomName, bs)
	if err != nil {
		t.Fatal(err)
	}
	// Everyone hears everyone before anyone leaves. Video is left to
	// TestMediaFlowsBetweenBrowsers, so that a video problem does not
	// mask what this test is about.
	errs := make([]error, len(bs))
	parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, ids, i), false, 0.1) })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.participants(); n != 3 {
		t.Fatalf("server counts %d participants before the leave, want 3", n)
	}

	leaverID := ids[0]
	env := &leaveEnv{s: s, sink: startPagehideSink(t), leaver: leaver}
	apply, err := c.prepare(env)
	if err != nil {
		t.Fatal(err)
	}

	res.skipped = false
	t0 := time.Now()
	if err := apply(); err != nil {
		t.Fatalf("applying %q to %s: %v", c.name, leaver.name, err)
	}
	deadline := t0.Add(limit + leaveSlack)

	// Wait for the server and for every other page at once.
	var event leftEvent
	var serverErr error
	res.tiles = make([]time.Duration, len(observers))
	tileErrs := make([]error, len(observers))
	parallel(1+len(observers), func(i int) {
		if i == 0 {
			ctx, cancel := context.WithDeadline(context.Background(), deadline)
			defer cancel()
			event, serverErr = s.rec.waitLeft(ctx, leaverID)
			return
		}
		o := observers[i-1]
		st, err := o.waitPage(time.Until(deadline), func(st pageState) string {
			if slices.Contains(st.tileIDs(), leaverID) || slices.Contains(st.DOMTiles, leaverID) {
				return "the leaver's tile is still there"
			}
			return ""
		})
		if err != nil {
			tileErrs[i-1] = err
			return
		}
		gone, ok := st.Gone[leaverID]
		if !ok {
			tileErrs[i-1] = fmt.Errorf("%s: the leaver's tile went without the watcher seeing it leave the DOM", o.name)
			return
		}
		res.tiles[i-1] = time.UnixMilli(int64(gone)).Sub(t0)
	})

	if serverErr != nil {
		t.Errorf("server: %v (participants now %d)", serverErr, s.participants())
	} else {
		res.server = event.At.Sub(t0)
		res.reason = event.Reason
		res.delay = event.DetectionDelay
		if !slices.Contains(c.reasons, event.Reason) {
			t.Errorf("server recorded reason %q, want one of %v", event.Reason, c.reasons)
		}
		if res.server > limit {
			t.Errorf("server saw the leave after %v, limit %v", ms(res.server), limit)
		}
	}
	for i, err := range tileErrs {
		if err != nil {
			t.Error(err)
		} else if res.tiles[i] > limit {
			t.Errorf("%s: the leaver's tile went after %v, limit %v", observers[i].name, ms(res.tiles[i]), limit)
		}
	}

	// The server agrees and nobody else was dropped.
	if n := s.participants(); n != 2 {
		t.Errorf("server counts %d participants after the leave, want 2", n)
	}
	if s.inRoom(roomName)[leaverID] {
		t.Errorf("server still lists %s in room %s", leaverID, roomName)
	}
	if n := s.rec.leftCount(); n != 1 {
		t.Errorf("%d leave events, want exactly 1 (the leaver's)", n)
	}
	// The two others still see each other (observer i is bs[1+i]).
	for i, o := range observers {
		otherID := ids[2-i]
		st, err := o.state()
		if err != nil {
			t.Error(err)
			continue
		}
		if !slices.Equal(st.tileIDs(), []string{otherID}) || st.State != "joined" {
			t.Errorf("%s after the leave: %v, want joined with only %s's tile", o.name, st, otherID)
		}
	}
	if c.after != nil {
		res.note = c.after(t, env, t0)
	}
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
