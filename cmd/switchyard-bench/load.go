package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
)

// roomPlan is one room of a load step: publishers send audio+video and
// receive everyone else; listeners only receive.
type roomPlan struct {
	name       string
	publishers int
	listeners  int
}

// plan lays out the rooms of one step of a sweep.
func plan(scenario string, n, roomSize int) []roomPlan {
	switch scenario {
	case "fanout":
		return []roomPlan{{name: "fanout", publishers: 1, listeners: n}}
	case "meeting":
		return []roomPlan{{name: "meeting", publishers: n}}
	default: // rooms
		rooms := make([]roomPlan, n)
		for i := range rooms {
			rooms[i] = roomPlan{name: fmt.Sprintf("room-%03d", i), publishers: roomSize}
		}
		return rooms
	}
}

// roomRun is one room's participants during a step.
type roomRun struct {
	plan       roomPlan
	publishers []*participant
	listeners  []*participant
}

// receivers are those who should get every other publisher's media.
func (r *roomRun) receivers() []*participant {
	if r.plan.listeners > 0 {
		return r.listeners
	}
	return r.publishers
}

// expected lists the streams p should receive.
func (r *roomRun) expected(p *participant, m mediaSettings) []streamKey {
	var keys []streamKey
	for _, pub := range r.publishers {
		if pub == p || pub.pub == nil {
			continue
		}
		if m.audio {
			keys = append(keys, streamKey{pub.id, "audio"})
		}
		if m.videoKbps > 0 {
			keys = append(keys, streamKey{pub.id, "video"})
		}
	}
	return keys
}

func (r *roomRun) all() []*participant {
	return append(append([]*participant(nil), r.publishers...), r.listeners...)
}

// runStep runs one load step against a fresh target and measures it.
func runStep(ctx context.Context, s settings, n int, prog *progress) (res stepResult, err error) {
	res = stepResult{Scenario: s.scenario, N: n}
	ctx, cancel := context.WithTimeout(ctx, s.stepTimeout(n))
	defer cancel()
	prog.phase("[%s N=%d] measuring the floor", s.scenario, n)
	floor, err := measureFloor(s.media.maxPayload)
	if err != nil {
		return res, fmt.Errorf("floor: %w", err)
	}
	res.Floor = &floor
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

	rooms := plan(s.scenario, n, s.roomSize)
	runs := make([]*roomRun, len(rooms))
	for i, rp := range rooms {
		runs[i] = &roomRun{plan: rp}
	}
	defer closeAll(runs)

	// Fan-out publishers join first: the baseline then holds everything
	// but the subscribers, whose cost is what the step measures.
	if s.scenario == "fanout" {
		prog.phase("[%s N=%d] publisher joining", s.scenario, n)
		for _, r := range runs {
			p, err := joinOne(ctx, api, tgt.wsURL, r.plan.name, "publisher", s.media, true)
			if err != nil {
				return res, fmt.Errorf("publisher: %w", err)
			}
			r.publishers = append(r.publishers, p)
		}
	}
	base := tgt.snapshot()
	if base.err != nil {
		return res, fmt.Errorf("server metrics: %w", base.err)
	}

	if err := joinAll(ctx, s, api, tgt.wsURL, runs, prog, n); err != nil {
		return res, err
	}
	var receivers int
	for _, r := range runs {
		receivers += len(r.receivers())
	}
	res.Subscribers = receivers
	res.Participants = receivers
	if s.scenario == "fanout" {
		res.Participants += len(runs)
	}

	if missing := waitReady(ctx, s, runs, prog, n); missing > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d expected streams never arrived before the window (counted as lost): %s",
			missing, describeMissing(runs, s.media)))
	}
	// Let the join burst (DTLS handshakes, keyframe requests) settle.
	if err := sleepCtx(ctx, s.settle); err != nil {
		return res, err
	}

	type window struct {
		stats *streamStats
		pub   *publisher
		kind  string
	}
	var windows []window
	for _, r := range runs {
		byID := map[string]*publisher{}
		for _, p := range r.publishers {
			byID[p.id] = p.pub
		}
		for _, p := range r.receivers() {
			for _, k := range r.expected(p, s.media) {
				st := p.stream(k)
				pub := byID[k.publisher]
				st.start(pub.next(k.kind))
				windows = append(windows, window{st, pub, k.kind})
			}
		}
	}
	profiling := s.cpuProfile != "" && tgt.child != nil
	if profiling {
		if err := tgt.child.send("profile-start " + profilePath(s, n)); err != nil {
			return res, err
		}
	}
	start := tgt.snapshot()
	if err := measureWindow(ctx, s, tgt, start, prog, n); err != nil {
		return res, err
	}
	end := tgt.snapshot()
	if profiling {
		if err := tgt.child.stopProfile(); err != nil {
			res.Notes = append(res.Notes, "profile: "+err.Error())
		} else {
			res.Profile = profilePath(s, n)
		}
		// Who the goroutines per participant are, beside the profile.
		if err := tgt.child.dumpGoroutines(res.Profile + ".goroutines.txt"); err != nil {
			res.Notes = append(res.Notes, "goroutine dump: "+err.Error())
		}
	}
	if end.err != nil {
		return res, fmt.Errorf("server metrics: %w", end.err)
	}

	for _, r := range runs {
		for _, p := range r.publishers {
			if p.pub != nil {
				p.pub.stop()
			}
		}
	}
	drain(ctx, windows, func(w window) uint64 { return w.stats.count() })

	var lat histogram
	var joins histogram
	perSub := map[*streamStats]bool{}
	for _, w := range windows {
		exp, got, reord, dups, h := w.stats.result(w.pub.next(w.kind))
		res.Expected += exp
		res.Received += got
		res.Reordered += reord
		res.Duplicates += dups
		lat.merge(h)
		if got < exp {
			perSub[w.stats] = true
			res.WorstStreamLossPct = max(res.WorstStreamLossPct, 100*float64(exp-got)/float64(exp))
		}
	}
	res.StreamsWithLoss = len(perSub)
	res.Streams = len(windows)
	for _, r := range runs {
		for _, p := range r.receivers() {
			if d := p.joinTime(); d > 0 {
				joins.add(d)
			}
		}
	}
	res.fill(s, base, start, end, &lat, &joins)
	res.noteFailures(runs)
	res.noteLeaves(base, end)
	return res, nil
}

// joinOne dials, joins and, for publishers, starts sending.
func joinOne(ctx context.Context, api *webrtc.API, url, room, name string, m mediaSettings, publish bool) (*participant, error) {
	p, err := dialParticipant(ctx, api, url, room, name)
	if err != nil {
		return nil, err
	}
	if publish {
		if err := p.publish(ctx, m); err != nil {
			p.close()
			return nil, err
		}
	}
	return p, nil
}

// joinAll joins the step's remaining participants, at most
// joinConcurrency at a time, as browsers arriving in a burst.
func joinAll(ctx context.Context, s settings, api *webrtc.API, url string, runs []*roomRun, prog *progress, n int) error {
	type job struct {
		run     *roomRun
		name    string
		publish bool
	}
	var jobs []job
	for _, r := range runs {
		for i := len(r.publishers); i < r.plan.publishers; i++ {
			jobs = append(jobs, job{r, fmt.Sprintf("pub-%d", i), true})
		}
		for i := range r.plan.listeners {
			jobs = append(jobs, job{r, fmt.Sprintf("sub-%d", i), false})
		}
	}
	var (
		mu     sync.Mutex
		errs   []error
		joined atomic.Int64
		wg     sync.WaitGroup
		sem    = make(chan struct{}, max(s.joinConcurrency, 1))
	)
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			p, err := joinOne(ctx, api, url, j.run.plan.name, j.name, s.media, j.publish)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if j.publish {
				j.run.publishers = append(j.run.publishers, p)
			} else {
				j.run.listeners = append(j.run.listeners, p)
			}
			prog.tick("[%s N=%d] joining %s %d/%d", s.scenario, n, bar(float64(joined.Add(1))/float64(len(jobs)), 30), joined.Load(), len(jobs))
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d joins failed; first: %w", len(errs), len(jobs), errs[0])
	}
	return nil
}

// waitReady waits, bounded, until every receiver has had a packet of every
// stream it should get; it returns how many never came.
func waitReady(ctx context.Context, s settings, runs []*roomRun, prog *progress, n int) int {
	deadline := time.Now().Add(s.readyTimeout(n))
	for {
		missing, total := 0, 0
		for _, r := range runs {
			for _, p := range r.receivers() {
				for _, k := range r.expected(p, s.media) {
					total++
					if !p.hasReceived(k) {
						missing++
					}
				}
			}
		}
		prog.tick("[%s N=%d] waiting for media %s %d/%d streams", s.scenario, n, bar(float64(total-missing)/float64(max(total, 1)), 30), total-missing, total)
		if missing == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return missing
		}
		time.Sleep(50 * time.Millisecond) // polling a count; no event to wait on
	}
}

// measureWindow runs the measured period, redrawing the progress line.
func measureWindow(ctx context.Context, s settings, tgt *target, start snapshot, prog *progress, n int) error {
	prog.phase("[%s N=%d] measuring for %s", s.scenario, n, s.duration)
	end := start.at.Add(s.duration)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	cur := start
	var pps float64
	for i, now := 0, time.Now(); now.Before(end); i, now = i+1, time.Now() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		// /metrics costs the server CPU inside the window: read it once a
		// second; CPU times come from /proc at no cost to the server.
		if i%4 == 3 {
			if m := tgt.snapshot(); m.err == nil {
				cur = m
				pps = (m.metrics.forwarded - start.metrics.forwarded) / m.at.Sub(start.at).Seconds()
			}
		} else {
			cur.at = time.Now()
			cur.benchCPU, _ = processCPU("self")
			if tgt.pid != "" {
				cur.serverCPU, _ = processCPU(tgt.pid)
			}
		}
		wall := cur.at.Sub(start.at).Seconds()
		if wall <= 0 {
			continue
		}
		prog.tick("[%s N=%d] measuring %s %.1f/%.0fs  fwd %.0f pps  server %.0f%%  bench %.0f%% cpu",
			s.scenario, n, bar(wall/s.duration.Seconds(), 20), wall, s.duration.Seconds(),
			pps,
			100*(cur.serverCPU-start.serverCPU).Seconds()/wall, 100*(cur.benchCPU-start.benchCPU).Seconds()/wall)
	}
	return nil
}

// drain waits until receivers stop counting new packets (the tail of the
// window is in flight when the publishers stop), at most two seconds.
func drain[W any](ctx context.Context, windows []W, count func(W) uint64) {
	total := func() (t uint64) {
		for _, w := range windows {
			t += count(w)
		}
		return t
	}
	last := total()
	for range 20 {
		if sleepCtx(ctx, 100*time.Millisecond) != nil {
			return
		}
		now := total()
		if now == last {
			return
		}
		last = now
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// closeAll closes every participant of a step in parallel.
func closeAll(runs []*roomRun) {
	var wg sync.WaitGroup
	for _, r := range runs {
		for _, p := range r.all() {
			wg.Add(1)
			go func() { defer wg.Done(); p.close() }()
		}
	}
	wg.Wait()
}

func cores() float64 { return float64(runtime.NumCPU()) }
