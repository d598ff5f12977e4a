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
	"github.com/switchyard-sfu/switchyard/internal/servertest"
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
	cfg := servertest.Loopback()
	cfg.ICE.Loopback = true
	modify(&cfg)
	rec := newRecorder()
	quiet := &quietAfterEnd{TestingT: t}
	t.Cleanup(quiet.end) // registered first, so it runs after the shutdown below
	log := zaptest.NewLogger(quiet, zaptest.Level(zap.InfoLevel))
	srv, err := server.New(cfg, server.Options{Log: log, Version: "e2e", Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	addr := servertest.Start(t, srv, 10*time.Second)
	return &e2eServer{cfg: cfg, srv: srv, base: "http://" + addr, rec: rec}
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
type leftEvent = servertest.Left

// recorder is the shared harness's Observer (internal/servertest), with
// the names these tests were written against.
type recorder struct{ *servertest.Recorder }

func newRecorder() *recorder { return &recorder{servertest.NewRecorder()} }

// waitLeft returns the leave event of participant id, waiting for it
// until ctx ends.
func (r *recorder) waitLeft(ctx context.Context, id string) (leftEvent, error) {
	return r.WaitLeft(ctx, id)
}

// leftCount is how many leave events there were.
func (r *recorder) leftCount() int { return r.LeftCount() }

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
