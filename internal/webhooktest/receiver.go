// Package webhooktest is a webhook receiver for tests: it verifies every
// signature, de-duplicates by event id, can fail a share of requests at
// random, and can be taken down and brought back on the same port.
package webhooktest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/webhook"
)

// Receiver is one webhook endpoint.
type Receiver struct {
	t        testing.TB
	key      []byte
	failRate float64

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	srv      *http.Server
	byID     map[string]webhook.Event
	order    []webhook.Event // first deliveries, in arrival order
	attempts int
	bad      []string
	latency  []time.Duration // arrival minus event time, first deliveries
	changed  chan struct{}
}

// New starts a receiver that fails failRate of requests with 503.
func New(t testing.TB, key []byte, failRate float64) *Receiver {
	r := &Receiver{t: t, key: key, failRate: failRate, byID: map[string]webhook.Event{}, changed: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.Down)
	return r
}

func (r *Receiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *Receiver) serve(ln net.Listener) {
	r.ln = ln
	srv := &http.Server{Handler: http.HandlerFunc(r.handle)}
	r.srv = srv // Down clears the field; the goroutine keeps its own
	go func() { _ = srv.Serve(ln) }()
}

// Down closes the port: deliveries get connection refused.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens on the same port again.
func (r *Receiver) Up() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver back up on %s: %v", r.addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serve(ln)
}

func (r *Receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	arrived := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if err != nil {
		return
	}
	if rand.Float64() < r.failRate {
		http.Error(w, "injected failure", http.StatusServiceUnavailable)
		return
	}
	id := req.Header.Get(webhook.HeaderID)
	if err := webhook.Verify(r.key, id, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, fmt.Sprintf("%s: %v", id, err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != id {
		r.bad = append(r.bad, fmt.Sprintf("%s: body %s", id, body))
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if prev, dup := r.byID[id]; dup {
		if prev.Seq != ev.Seq || prev.Type != ev.Type {
			r.bad = append(r.bad, fmt.Sprintf("%s redelivered as %s #%d, first %s #%d", id, ev.Type, ev.Seq, prev.Type, prev.Seq))
		}
	} else {
		r.byID[id] = ev
		r.order = append(r.order, ev)
		r.latency = append(r.latency, arrived.Sub(ev.Time))
	}
	w.WriteHeader(http.StatusNoContent)
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Events returns the de-duplicated events in first-arrival order.
func (r *Receiver) Events() []webhook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Event(nil), r.order...)
}

// CheckOrder fails unless every room's events arrived with consecutive
// sequence numbers, in order, the way a receiver would check.
func CheckOrder(t testing.TB, events []webhook.Event) map[string][]webhook.Event {
	t.Helper()
	byRoom := map[string][]webhook.Event{}
	for _, ev := range events {
		list := byRoom[ev.Room]
		// A subscription that began mid-way sees a room's numbers from
		// where they were; from then on they must not skip.
		if len(list) > 0 && ev.Seq != list[len(list)-1].Seq+1 {
			want := list[len(list)-1].Seq + 1
			t.Fatalf("room %s: event %s has seq %d, want %d (out of order or a gap)", ev.Room, ev.ID, ev.Seq, want)
		}
		byRoom[ev.Room] = append(list, ev)
	}
	return byRoom
}

// Wait returns the events once there are at least n, or fails t after limit.
func (r *Receiver) Wait(n int, limit time.Duration) []webhook.Event {
	r.t.Helper()
	deadline := time.After(limit)
	for {
		if ev := r.Events(); len(ev) >= n {
			return ev
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.t.Fatalf("receiver has %d of %d events", len(r.Events()), n)
		}
	}
}

// WaitFor returns the events once done(events) holds, or fails t after limit.
func (r *Receiver) WaitFor(done func([]webhook.Event) bool, limit time.Duration) []webhook.Event {
	r.t.Helper()
	deadline := time.After(limit)
	for {
		if ev := r.Events(); done(ev) {
			return ev
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.t.Fatalf("receiver gave up with %d events", len(r.Events()))
		}
	}
}

// Attempts counts every request, failed ones included.
func (r *Receiver) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Problems lists bad signatures, bodies and inconsistent redeliveries.
func (r *Receiver) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// Latencies are arrival minus event time of each first delivery.
func (r *Receiver) Latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.latency...)
}
