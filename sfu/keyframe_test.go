package sfu

import (
	"sync"
	"testing"
	"time"
)

// A burst of requests costs one request now and one at the end of the
// interval, however many there are.
func TestKeyframeRequestsAreAggregated(t *testing.T) {
	sent := make(chan time.Time, 100)
	k := newKeyframeRequester(50*time.Millisecond, func() { sent <- time.Now() })
	defer k.stop()
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k.request()
		}()
	}
	wg.Wait()
	first := <-sent
	second := <-sent // the trailing request for those folded in
	if gap := second.Sub(first); gap < 50*time.Millisecond {
		t.Errorf("second request %v after the first, want at least the interval", gap)
	}
	k.stop()
	if n := len(sent); n != 0 {
		t.Errorf("%d more requests after the burst, want none", n)
	}
}

func TestKeyframeRequesterStopCancelsTheTrailingRequest(t *testing.T) {
	sent := make(chan struct{}, 10)
	k := newKeyframeRequester(time.Hour, func() { sent <- struct{}{} })
	k.request()
	<-sent
	k.request() // scheduled for an hour from now
	k.stop()
	k.mu.Lock()
	pending := k.pending
	k.mu.Unlock()
	if pending != nil {
		t.Error("stop left the trailing request scheduled")
	}
	k.request()
	if len(sent) != 0 {
		t.Error("a stopped requester sent a request")
	}
}
