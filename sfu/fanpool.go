package sfu

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// inlineFanOut is how many subscribers a read loop writes to by itself.
// Beyond it, the read loop shares the subscriber slice with the engine's
// fan-out helpers, one part each: written by one goroutine, 100
// subscribers' SRTP and sends (≈10 µs each) would hold a frame's last
// packet a millisecond per packet before it, and use one core of many.
const inlineFanOut = 16

// fanJobQueue bounds each helper's backlog (half a second of a 500
// packet/s stream); a full one drops for its part rather than wait.
const fanJobQueue = 256

// fanPool is the engine's fan-out helpers: one per core beyond the
// first, so a packet costs at most that many wake-ups, however many
// subscribers it goes to. A helper is given the same part of a track's
// subscribers for every packet, so each subscriber's packets stay in
// order while its place in the slice does.
type fanPool struct {
	workers []chan fanJob
	next    atomic.Uint32 // spreads tracks over the helpers
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// fanJob is one part of one packet's fan-out.
type fanJob struct {
	t     *Track
	downs []*DownTrack // a part of the track's immutable snapshot
	p     *packet
}

// newFanPool starts n helpers (none: read loops write everything).
func newFanPool(n int) *fanPool {
	f := &fanPool{done: make(chan struct{})}
	for range n {
		jobs := make(chan fanJob, fanJobQueue)
		f.workers = append(f.workers, jobs)
		f.wg.Add(1)
		go f.work(jobs)
	}
	return f
}

// defaultFanHelpers is one helper per core beyond the first.
func defaultFanHelpers() int { return runtime.GOMAXPROCS(0) - 1 }

func (f *fanPool) work(jobs chan fanJob) {
	defer f.wg.Done()
	for {
		select {
		case <-f.done:
			return
		case j := <-jobs:
			j.t.deliverAll(j.downs, j.p, time.Now().UnixNano())
		}
	}
}

// adopt lets t's read loops share their fan-out with the helpers.
func (f *fanPool) adopt(t *Track) {
	if f == nil || len(f.workers) == 0 {
		return
	}
	t.pool = f
	t.spread = f.next.Add(1)
}

// share hands all but the first part of downs to the helpers and
// returns that first part, the caller's. spread is the track's own
// offset into the helpers.
func (f *fanPool) share(t *Track, downs []*DownTrack, p *packet) []*DownTrack {
	parts := min(len(f.workers)+1, (len(downs)+inlineFanOut-1)/inlineFanOut)
	if parts < 2 {
		return downs
	}
	size := (len(downs) + parts - 1) / parts
	for i := 1; i < parts; i++ {
		part := downs[i*size : min((i+1)*size, len(downs))]
		jobs := f.workers[(int(t.spread)+i-1)%len(f.workers)]
		select {
		case jobs <- fanJob{t: t, downs: part, p: p}:
		default:
			// That helper is a queue behind: drop for its part, as a full
			// ring does. Writing the part here would pass packets still
			// in the helper's queue.
			for range part {
				p.release()
			}
			t.stats.packetsDropped.Add(uint64(len(part)))
		}
	}
	return downs[:size]
}

// close stops the helpers and waits for them. Publishers are closed
// first, so no read loop hands them anything more.
func (f *fanPool) close() {
	if f == nil {
		return
	}
	f.once.Do(func() { close(f.done) })
	f.wg.Wait()
}
