package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// envRuns repeats each presence-edge cause this many times (default 1),
// for the p50/p99 table: SWITCHYARD_E2E_RUNS=5 go test -run Edges -v ./e2e/
const envRuns = "SWITCHYARD_E2E_RUNS"

func edgeRuns() int {
	if n, err := strconv.Atoi(os.Getenv(envRuns)); err == nil && n > 0 {
		return n
	}
	return 1
}

// joinedCount is how many join events there were.
func (r *recorder) joinedCount() int { return r.JoinedCount() }

// waitResumed returns the join that resumed participant id.
func (r *recorder) waitResumed(ctx context.Context, id string) (room.JoinEvent, error) {
	e, err := r.WaitJoin(ctx, func(e room.JoinEvent) bool { return e.ResumedFrom == id })
	if err != nil {
		return room.JoinEvent{}, fmt.Errorf("no join resuming %s: %w", id, err)
	}
	return e, nil
}

// leavesOf lists the leave events of participant id.
func (r *recorder) leavesOf(id string) []leftEvent { return r.LeavesOf(id) }

// edgeServer is a second web server, on another port (so another
// origin), for pages a participant navigates to: slow to answer, 204,
// or a download.
func startEdgeServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	done := make(chan struct{})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-done:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "slow page")
	})
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="notes.bin"`)
		_, _ = io.WriteString(w, "bytes")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(done); _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// clickLinkJS makes a link to url and clicks it, as a user would, and
// returns the page's clock (Date.now()) at the click: the navigation's
// start, free of the DevTools round trip.
func clickLinkJS(url string) string {
	return fmt.Sprintf(`(() => { const a = document.createElement('a'); a.href = %q; a.textContent = 'go'; document.body.append(a); const t = Date.now(); a.click(); return t; })()`, url)
}

// edgeSample is one measured run of one cause.
type edgeSample struct {
	cause  string
	server time.Duration // navigation start → server's leave (or, for drops, network back → resumed join)
	tiles  time.Duration // → the observer's tile gone (or back with media)
}

type edgeTable struct {
	mu      sync.Mutex
	samples map[string][]edgeSample
}

func (et *edgeTable) add(s edgeSample) {
	et.mu.Lock()
	defer et.mu.Unlock()
	if et.samples == nil {
		et.samples = map[string][]edgeSample{}
	}
	et.samples[s.cause] = append(et.samples[s.cause], s)
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (et *edgeTable) log(t *testing.T, what1, what2 string) {
	et.mu.Lock()
	defer et.mu.Unlock()
	causes := make([]string, 0, len(et.samples))
	for c := range et.samples {
		causes = append(causes, c)
	}
	sort.Strings(causes)
	t.Logf("  %-18s %4s  %-24s %-24s", "cause", "runs", what1+" p50/p99", what2+" p50/p99")
	for _, c := range causes {
		var a, b []time.Duration
		for _, s := range et.samples[c] {
			a, b = append(a, s.server), append(b, s.tiles)
		}
		t.Logf("  %-18s %4d  %-24s %-24s", c, len(a), ms(pct(a, 50))+" / "+ms(pct(a, 99)), ms(pct(b, 50))+" / "+ms(pct(b, 99)))
	}
}

// TestPresenceEdgesNavigation: a page that navigates away is seen leaving
// when the navigation starts, not when the next page commits — to a slow
// server (3 s) or to another page of the same server: the server within
// 150 ms, the other page's tile within 300 ms. A download link and a 204
// link start a navigation that never unloads the page: it is in the room
// again within 1 s, resuming the session, and the log holds exactly one
// short leave and one rejoin.
func TestPresenceEdgesNavigation(t *testing.T) {
	needBrowser(t)
	edge := startEdgeServer(t)
	var table edgeTable
	type cause struct {
		name   string
		url    func(s *e2eServer) string
		unload bool // the page goes; otherwise it must come back
	}
	causes := []cause{
		{"navigation slow", func(*e2eServer) string { return edge + "/slow" }, true},
		{"navigation fast", func(s *e2eServer) string { return s.base + "/healthz" }, true},
		{"download link", func(*e2eServer) string { return edge + "/download" }, false},
		{"204 link", func(*e2eServer) string { return edge + "/204" }, false},
	}
	// The causes act on pages, not on browser processes: each gets a
	// fresh server and a fresh tab in each of two shared browsers.
	bs := launchBrowsers(t, "N", 2)
	leaver, observer := bs[0], bs[1]
	for _, c := range causes {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			s := startServer(t)
			for _, b := range bs {
				if err := b.freshTab(t); err != nil {
					t.Fatal(err)
				}
			}
			logTracesOnFailure(t, bs)
			for run := range edgeRuns() {
				roomName := fmt.Sprintf("nav%d", run)
				ids, err := joinAll(s.base, roomName, bs)
				if err != nil {
					t.Fatal(err)
				}
				// Both ways, so that no peer connection is still connecting
				// when the leaver's page goes: the server would close it
				// only at its ICE failure time (sfu.ICEGuard), 4 s on.
				errs := make([]error, len(bs))
				parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, ids, i), false, 0.1) })
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				leaverID := ids[0]
				leavesBefore, joinsBefore := s.rec.leftCount(), s.rec.joinedCount()

				clicked, err := eval[int64](leaver, clickLinkJS(c.url(s)))
				if err != nil {
					t.Fatalf("click: %v", err)
				}
				t0 := time.UnixMilli(clicked) // same machine, same clock

				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				ev, err := s.rec.waitLeft(ctx, leaverID)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				sample := edgeSample{cause: c.name, server: ev.At.Sub(t0)}
				// The socket's leave and the beacon race; either is the truth.
				if ev.Reason != room.ReasonLeave && ev.Reason != room.ReasonTabClosed {
					t.Errorf("leave reason %q, want %q or %q", ev.Reason, room.ReasonLeave, room.ReasonTabClosed)
				}
				if sample.server > 150*time.Millisecond {
					t.Errorf("server saw the leave %v after the navigation started, limit 150 ms", ms(sample.server))
				}
				st, err := observer.waitPage(5*time.Second, func(st pageState) string {
					if _, ok := st.Gone[leaverID]; !ok {
						return "the leaver's tile still there"
					}
					return ""
				})
				if err != nil {
					t.Fatal(err)
				}
				sample.tiles = time.UnixMilli(int64(st.Gone[leaverID])).Sub(t0)
				if sample.tiles > 300*time.Millisecond {
					t.Errorf("the observer's tile went %v after the navigation started, limit 300 ms", ms(sample.tiles))
				}
				table.add(sample)

				if c.unload {
					// Back to the app for the next run.
					leaver.pageCancel()
					if leaver.page, leaver.pageCancel, err = leaver.openTab(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				// The page stayed: it must be back, resuming, within 1 s.
				back, err := leaver.waitPage(3*time.Second, func(st pageState) string {
					if st.State != "joined" || st.ID == "" || st.ID == leaverID {
						return "not joined again"
					}
					return ""
				})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel = context.WithTimeout(context.Background(), 3*time.Second)
				rejoin, err := s.rec.waitResumed(ctx, leaverID)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if d := rejoin.Time.Sub(t0); d > time.Second {
					t.Errorf("in the room again %v after the click, limit 1 s", ms(d))
				}
				if rejoin.ParticipantID != back.ID {
					t.Errorf("resumed join is %s, the page says %s", rejoin.ParticipantID, back.ID)
				}
				if n := len(s.rec.leavesOf(leaverID)); n != 1 {
					t.Errorf("%d leaves of %s, want exactly 1", n, leaverID)
				}
				if dl, dj := s.rec.leftCount()-leavesBefore, s.rec.joinedCount()-joinsBefore; dl != 1 || dj != 1 {
					t.Errorf("log grew by %d leaves and %d joins, want exactly 1 and 1", dl, dj)
				}
				// The observer shows the resumed participant.
				if _, err := observer.waitPage(5*time.Second, func(st pageState) string {
					for _, tl := range st.Tiles {
						if tl.ID == back.ID && tl.ResumedFrom == leaverID {
							return ""
						}
					}
					return "no tile for the resumed participant"
				}); err != nil {
					t.Error(err)
				}
				// The resumed session hears and is heard again. That also
				// has its peer connections connected before both leave for
				// the next run: one still connecting when its page leaves is
				// closed by the server only at its ICE failure time
				// (sfu.ICEGuard), which kept the test's server shutdown
				// waiting 4 s.
				resumedIDs := []string{back.ID, ids[1]}
				errs = make([]error, len(bs))
				parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, resumedIDs, i), false, 0.1) })
				if err := errors.Join(errs...); err != nil {
					t.Fatalf("after the resume: %v", err)
				}
				for _, b := range bs {
					b.settleICE()
				}
				for _, b := range bs {
					if _, err := evalAwait[bool](b, `window.switchyard.leave().then(() => true)`); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
	t.Log("presence edges: navigation start → server leave, → observer's tile gone")
	table.log(t, "server", "tile gone")
}
