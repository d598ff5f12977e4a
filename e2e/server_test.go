package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// e2eServer is an in-process Switchyard on 127.0.0.1 with an observer the
// tests can wait on.
type e2eServer struct {
	cfg  config.Config
	srv  *server.Server
	base string // http://127.0.0.1:PORT
	rec  *recorder
}

func startServer(t *testing.T) *e2eServer {
	t.Helper()
	return startServerWith(t, func(*config.Config) {})
}

// startServerWith is startServer with a config change applied first.
func startServerWith(t *testing.T, modify func(*config.Config)) *e2eServer {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ICE.Interfaces = []string{"lo"}
	// Tests run in parallel: one UDP mux each, on a port the OS picks.
	cfg.ICE.UDPListen = "127.0.0.1:0"
	cfg.ICE.TCPListen = ""
	cfg.ICE.UDP4Only = true
	cfg.ICE.Loopback = true
	cfg.SessionLog.Path = ""
	modify(&cfg)
	rec := newRecorder()
	quiet := &quietAfterEnd{TestingT: t}
	t.Cleanup(quiet.end) // registered first, so it runs after the shutdown below
	log := zaptest.NewLogger(quiet, zaptest.Level(zap.InfoLevel))
	srv, err := server.New(cfg, server.Options{Log: log, Version: "e2e", Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return &e2eServer{cfg: cfg, srv: srv, base: "http://" + srv.Addr().String(), rec: rec}
}

// participants counts the participants the server has right now.
func (s *e2eServer) participants() int {
	_, n := s.srv.Rooms().Counts()
	return n
}

// inRoom lists the participant ids the server has in roomName.
func (s *e2eServer) inRoom(roomName string) map[string]bool {
	ids := map[string]bool{}
	for _, r := range s.srv.Rooms().Rooms() {
		if r.Name == roomName {
			for _, p := range r.Participants {
				ids[p.ID] = true
			}
		}
	}
	return ids
}

// leftEvent is a LeaveEvent with the moment the observer got it.
type leftEvent struct {
	room.LeaveEvent
	At time.Time
}

// recorder is a room.Observer whose events can be awaited.
type recorder struct {
	mu      sync.Mutex
	joined  []room.JoinEvent
	left    []leftEvent
	changed chan struct{} // closed and replaced on every event
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) Joined(e room.JoinEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.joined = append(r.joined, e)
	r.notify()
}

func (r *recorder) Left(e room.LeaveEvent) {
	at := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.left = append(r.left, leftEvent{LeaveEvent: e, At: at})
	r.notify()
}

func (r *recorder) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// waitLeft returns the leave event of participant id, waiting for it
// until ctx ends.
func (r *recorder) waitLeft(ctx context.Context, id string) (leftEvent, error) {
	for {
		r.mu.Lock()
		for _, e := range r.left {
			if e.ParticipantID == id {
				r.mu.Unlock()
				return e, nil
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return leftEvent{}, fmt.Errorf("no leave event for %s: %w", id, ctx.Err())
		}
	}
}

// leftCount is how many leave events there were.
func (r *recorder) leftCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.left)
}

// quietAfterEnd drops log lines that arrive after the test has ended (a
// background goroutine of the server finishing late), which would
// otherwise panic in t.Logf.
type quietAfterEnd struct {
	zaptest.TestingT
	mu   sync.Mutex
	done bool
}

func (q *quietAfterEnd) end() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.done = true
}

func (q *quietAfterEnd) Logf(format string, args ...any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.done {
		q.TestingT.Logf(format, args...)
	}
}

func (q *quietAfterEnd) Errorf(format string, args ...any) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.done {
		q.TestingT.Errorf(format, args...)
	}
}

// pagehideReport is what pagehideJS sends when the page is hidden.
type pagehideReport struct {
	At        int64  `json:"at"` // Date.now() in the page
	Persisted bool   `json:"persisted"`
	State     string `json:"state"`
	StateText string `json:"stateText"`
}

// pagehideSink receives the pages' pagehide reports on a WebSocket of
// its own, so a test can await one. (A beacon would outlive the page
// better, but the app's Content-Security-Policy allows connections only to
// its own origin and to ws: URLs; a message on an open socket is also
// exactly how the app itself says leave.)
type pagehideSink struct {
	url     string
	reports chan pagehideReport
}

func startPagehideSink(t *testing.T) *pagehideSink {
	t.Helper()
	sink := &pagehideSink{reports: make(chan pagehideReport, 16)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upgrader := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := upgrader.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			conn.SetReadLimit(4 << 10)
			for {
				var rep pagehideReport
				if err := conn.ReadJSON(&rep); err != nil {
					return
				}
				select {
				case sink.reports <- rep:
				default:
				}
			}
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	sink.url = "ws://" + ln.Addr().String() + "/pagehide"
	return sink
}

// wait returns the next report, or an error once timeout passes.
func (s *pagehideSink) wait(timeout time.Duration) (pagehideReport, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case rep := <-s.reports:
		return rep, nil
	case <-timer.C:
		return pagehideReport{}, fmt.Errorf("no pagehide report within %v", timeout)
	}
}

// trackMuted reports whether the server has participant's track of kind muted.
func (s *e2eServer) trackMuted(participant, kind string) bool {
	for _, r := range s.srv.Rooms().Rooms() {
		for _, p := range r.Participants {
			for _, tr := range p.Tracks {
				if p.ID == participant && tr.Kind == kind {
					return tr.Muted
				}
			}
		}
	}
	return false
}
