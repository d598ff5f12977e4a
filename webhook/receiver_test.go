package webhook

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
)

// receiver is a webhook endpoint for tests: it verifies every signature,
// can fail a share of requests at random, and can be taken down (its
// port closed) and brought back on the same port.
type receiver struct {
	t        *testing.T
	key      []byte
	failRate float64

	mu       sync.Mutex
	addr     string
	ln       net.Listener
	srv      *http.Server
	byID     map[string]Event
	order    []Event // first deliveries, in arrival order
	attempts int
	bad      []string
	latency  []time.Duration // arrival minus event time, first deliveries
	changed  chan struct{}
}

func newReceiver(t *testing.T, key []byte, failRate float64) *receiver {
	r := &receiver{t: t, key: key, failRate: failRate, byID: map[string]Event{}, changed: make(chan struct{}, 1)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	t.Cleanup(r.down)
	return r
}

func (r *receiver) URL() string { return "http://" + r.addr + "/hook" }

func (r *receiver) serve(ln net.Listener) {
	r.ln = ln
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle)}
	go func() { _ = r.srv.Serve(ln) }()
}

// down closes the port: deliveries get connection refused.
func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// up listens on the same port again.
func (r *receiver) up() {
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		r.t.Fatalf("receiver back up on %s: %v", r.addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.serve(ln)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
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
	id := req.Header.Get(HeaderID)
	if err := Verify(r.key, id, req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		r.bad = append(r.bad, fmt.Sprintf("%s: %v", id, err))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev Event
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

// events returns the de-duplicated events in first-arrival order.
func (r *receiver) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.order...)
}

// checkOrder fails unless every room's events arrived with consecutive
// sequence numbers, in order, the way a receiver would check.
func checkOrder(t *testing.T, events []Event) map[string][]Event {
	t.Helper()
	byRoom := map[string][]Event{}
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
