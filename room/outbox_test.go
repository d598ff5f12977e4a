package room

import (
	"errors"
	"slices"
	"sync"
	"testing"
)

type testCommit struct {
	done chan struct{}
	err  error
}

func newTestCommit() *testCommit            { return &testCommit{done: make(chan struct{})} }
func (c *testCommit) Done() <-chan struct{} { return c.done }
func (c *testCommit) Err() error            { return c.err }

func TestOutboxHoldsEverythingBehindAnUndurableEvent(t *testing.T) {
	var o outbox
	var mu sync.Mutex
	var got []string
	say := func(s string) func() {
		return func() { mu.Lock(); got = append(got, s); mu.Unlock() }
	}
	seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(got) }

	o.post(nil, say("before")) // nothing pending: delivered at once
	if g := seen(); !slices.Equal(g, []string{"before"}) {
		t.Fatalf("got %v, want the first message at once", g)
	}
	first, second := newTestCommit(), newTestCommit()
	o.post(first, say("join durable"))
	o.post(nil, say("participant-joined"))
	o.post(nil, say("offer"))
	mine := o.last()
	o.post(second, say("leave durable"))
	o.post(nil, say("participant-left"))
	if g := seen(); len(g) != 1 {
		t.Fatalf("delivered %v before the join was durable", g)
	}

	delivered := make(chan struct{})
	go func() { o.deliverThrough(mine); close(delivered) }()
	close(first.done)
	<-delivered
	if g := seen(); !slices.Equal(g, []string{"before", "join durable", "participant-joined", "offer"}) {
		t.Fatalf("after the join's commit: %v", g)
	}
	second.err = errors.New("disk full") // a failed commit still releases the queue
	close(second.done)
	o.deliverThrough(o.last())
	want := []string{"before", "join durable", "participant-joined", "offer", "leave durable", "participant-left"}
	if g := seen(); !slices.Equal(g, want) {
		t.Fatalf("got %v, want %v", g, want)
	}
	o.post(nil, say("after")) // queue empty again: at once
	if g := seen(); g[len(g)-1] != "after" {
		t.Fatalf("got %v, want the last message at once", g)
	}
}
