package e2e

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/config"
)

// The quality lab (issue 15): one call, a Chromium publisher and a
// Chromium subscriber, each in its own namespace, through four network
// conditions in sequence (qlab_net_test.go draws the network). The
// subscriber's getStats is sampled every qlSample; each scenario gets a
// row of figures with every process's CPU beside them, since on two
// shared cores part of what an estimator sees may be CPU, not network.
const (
	qlClean   = 120 * time.Second
	qlLossy   = 60 * time.Second
	qlLimited = 45 * time.Second
	qlLifted  = 20 * time.Second
	// qlSettle bounds the clean spell that brings the call back to the
	// top layer before the limit; it ends at the first sample there. 20 s
	// was too short after the lossy link had left the call on the lowest
	// layer: gcc climbs about 8 %/s, so from 300 kbit/s to what the top
	// layer needs (about 1 Mbit/s with headroom) takes some 16 s, then the
	// upswitch sustains; three runs of three began the limit below the top.
	qlSettle = 45 * time.Second
	qlSample = 250 * time.Millisecond
	// qlWarmup: switches before it, on the clean link, are the climb to
	// the top layer, not flapping.
	qlWarmup = 20 * time.Second
	// qlShortScale shortens the scenarios unless the bounds are asked
	// for: a plain run only checks that the lab works and prints its table.
	qlShortScale = 0.2
	// envQlabScale overrides the scale (e.g. 0.25 for a quick look);
	// bounds are asserted only at scale 1.
	envQlabScale = "SWITCHYARD_QLAB_SCALE"
	// envQlabBounds=1 runs the lab at full length and asserts issue 15's
	// bounds (without -race). Not yet in .ci/run: on this 2-core machine
	// the allocator meets them in some runs, not all (see the closing
	// notes of issue 15).
	envQlabBounds = "SWITCHYARD_QLAB_BOUNDS"
)

// Bounds from issue 15.
const (
	qlCleanMaxSwitches   = 1
	qlCleanMaxFreezes    = 0
	qlLossyMaxSwitches   = 2
	qlLossyMaxLossPct    = 0.5
	qlLossyMaxFreezes    = 1
	qlLimitedMaxDown     = 2 * time.Second
	qlLimitedMaxLossyUps = 1
	// "Audio never interrupted": at most this share of samples concealed.
	qlLimitedMaxConcealPct = 2.0
	qlLiftedMaxRecover     = 15 * time.Second
	// qlLossyUpWindow: packets lost this soon after an upswitch count
	// against it.
	qlLossyUpWindow = 3 * time.Second
)

// qlStatsJS reads the subscriber's inbound video and audio.
const qlStatsJS = `(async () => {
	const o = {v: false};
	for (const pc of window.__pcs || []) {
		if (pc.connectionState === 'closed') continue;
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'transport') o.tbytes = (o.tbytes || 0) + (r.bytesReceived || 0);
			if (r.type !== 'inbound-rtp') return;
			if (r.kind === 'video') Object.assign(o, {v: true, w: r.frameWidth || 0, h: r.frameHeight || 0, dec: r.framesDecoded || 0,
				fps: r.framesPerSecond || 0, fc: r.freezeCount || 0, fd: r.totalFreezesDuration || 0,
				lost: r.packetsLost || 0, recv: r.packetsReceived || 0, nack: r.nackCount || 0, pli: r.pliCount || 0, vbytes: r.bytesReceived || 0,
				frecv: r.framesReceived || 0, fdrop: r.framesDropped || 0, kfdec: r.keyFramesDecoded || 0,
				jbd: r.jitterBufferDelay || 0, jbe: r.jitterBufferEmittedCount || 0});
			if (r.kind === 'audio') Object.assign(o, {conc: r.concealedSamples || 0, asmp: r.totalSamplesReceived || 0});
		});
	}
	return o;
})()`

// qlPubJS reads what the publisher sends per simulcast layer.
const qlPubJS = `(async () => {
	const out = [];
	for (const pc of window.__pcs || []) {
		if (pc.connectionState === 'closed') continue;
		(await pc.getStats()).forEach((r) => {
			if (r.type === 'outbound-rtp' && r.kind === 'video') out.push({rid: r.rid || '', w: r.frameWidth || 0, h: r.frameHeight || 0, limit: r.qualityLimitationReason || '', bytes: r.bytesSent || 0, frames: r.framesEncoded || 0,
				sent: r.framesSent || 0, pkts: r.packetsSent || 0, delay: r.totalPacketSendDelay || 0, kf: r.keyFramesEncoded || 0, pli: r.pliCount || 0});
		});
	}
	return out;
})()`

// denyCameraJS: the subscriber publishes its mic only, so that the CPU
// goes to receiving (as Chromium answers for a blocked camera).
const denyCameraJS = `(() => {
	const md = navigator.mediaDevices, gum = md.getUserMedia.bind(md);
	md.getUserMedia = (c) => c && c.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : gum(c);
})()`

type qlStats struct {
	V        bool    `json:"v"`
	W        int     `json:"w"`
	H        int     `json:"h"`
	Decoded  int64   `json:"dec"`
	FPS      float64 `json:"fps"`
	Freezes  int     `json:"fc"`
	FreezeS  float64 `json:"fd"`
	Lost     int64   `json:"lost"`
	Recv     int64   `json:"recv"`
	NACKs    int64   `json:"nack"`
	PLIs     int64   `json:"pli"`
	Conceal  int64   `json:"conc"`
	ASamples int64   `json:"asmp"`
	VBytes   int64   `json:"vbytes"` // video payload received
	TBytes   int64   `json:"tbytes"` // everything the transports received: media, RTX, padding, RTCP
	// For telling a decoder that waits (frames received, not decoded)
	// from frames that come late (jitter buffer delay per emitted frame).
	FramesRecv    int64   `json:"frecv"`
	FramesDropped int64   `json:"fdrop"`
	KeysDecoded   int64   `json:"kfdec"`
	JitterDelay   float64 `json:"jbd"` // seconds, summed over emitted frames
	JitterEmitted int64   `json:"jbe"`
}

type qlPubLayer struct {
	RID    string `json:"rid"`
	W      int    `json:"w"`
	H      int    `json:"h"`
	Limit  string `json:"limit"`
	Bytes  int64  `json:"bytes"`
	Frames int64  `json:"frames"` // encoded
	// Sent, Packets, SendDelay (seconds summed over packets: the
	// publisher's pacing), Keys and PLIs: for the lab's dump.
	Sent      int64   `json:"sent"`
	Packets   int64   `json:"pkts"`
	SendDelay float64 `json:"delay"`
	Keys      int64   `json:"kf"`
	PLIs      int64   `json:"pli"`
}

// qlSampleAt is one getStats sample, with the layer it shows.
type qlSampleAt struct {
	at    time.Duration // since the scenario began
	st    qlStats
	layer int // index into the publisher's layers by width; -1: no video
}

// qlLab is the running call.
type qlLab struct {
	t        *testing.T
	pub, sub *browser
	relay    *qlabRelay
	layers   []qlPubLayer     // the publisher's now, lowest first
	order    []string         // rids of every layer seen at the start, lowest first: a sample's layer is its rank here
	top      int              // rank of the layer the subscriber's tile wants
	pubSizes int              // publisher resolution changes seen
	pubLimit string           // last quality limitation the publisher reported
	pubBytes map[string]int64 // bytes sent per rid at pubAt
	pubAt    time.Time
	// pubFrames and pubMinFPS: frames encoded per rid at pubAt, and the
	// lowest rate a rid was encoded at between two reads this scenario
	// (a publisher starved of CPU freezes every subscriber, whatever the
	// server does).
	pubFrames map[string]int64
	pubMinFPS map[string]float64
	pubRaw    []qlPubLayer // every layer, as last read
	dump      *qlDump
}

// qlRun is one scenario's samples and what was measured beside them.
type qlRun struct {
	name      string
	dur       time.Duration
	samples   []qlSampleAt
	cpu       cpuShare
	load      string
	pubSizes  int // publisher resolution changes during the scenario
	pubLimit  string
	relayDrop int64
	pubKbps   string // what the publisher sent per layer during the scenario
	pubFPS    string // the publisher's lowest encoded frame rate per layer
}

func qlScale() float64 {
	if v := os.Getenv(envQlabScale); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return f
		}
	}
	if qlBounds() {
		return 1
	}
	return qlShortScale
}

// qlBounds reports whether this run asserts the bounds.
func qlBounds() bool { return os.Getenv(envQlabBounds) == "1" }

// TestQualityLab runs the call through a clean link, 40 ms each way with
// 2 % loss, a 600 kbit/s limit and the limit lifted, prints a row per
// scenario and asserts issue 15's bounds (without -race, at full length).
func TestQualityLab(t *testing.T) {
	if raceDetector {
		// The lab measures time: under the detector its table is noise, and
		// its 50 s held the whole -race suite. .ci/run runs it at real speed.
		t.Skip("the quality lab runs without -race (.ci/run)")
	}
	needBrowser(t)
	scale := qlScale()
	assert := scale == 1 && qlBounds()
	d := func(x time.Duration) time.Duration { return time.Duration(float64(x) * scale) }

	setupQlabNet(t)
	relay, err := startRelay(qlRelayNS, qlRelaySrv, qlRelaySub)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.close)
	s := startServerWith(t, func(c *config.Config) {
		c.Listen = "0.0.0.0:0"
		c.ICE.Interfaces = []string{qlPubSrv, qlSubSrv}
		c.ICE.UDPListen = "0.0.0.0:0"
		c.ICE.Loopback = false
	})
	_, port, err := net.SplitHostPort(s.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pubBase, subBase := "http://"+qlPubSrvIP+":"+port, "http://"+qlSubSrvIP+":"+port
	// The last of a repeated switch wins: these replace chromiumFlags'
	// resolver rules, which would refuse the server's lab address.
	labFlags := func(origin, ip string) []string {
		return []string{"--unsafely-treat-insecure-origin-as-secure=" + origin, "--disable-features=WebRtcHideLocalIpsWithMdns",
			"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE " + ip, "--window-size=1280,800"}
	}
	var pub, sub *browser
	var perr, serr error
	parallel(2, func(i int) {
		if i == 0 {
			pub, perr = launchBrowserWith(t, "pub", browserOpts{netns: qlPubNS, flags: labFlags(pubBase, qlPubSrvIP)})
		} else {
			logFlags, logTo := qlChromiumLog(t)
			sub, serr = launchBrowserWith(t, "sub", browserOpts{netns: qlSubNS, flags: append(labFlags(subBase, qlSubSrvIP), logFlags...), stderrTo: logTo})
		}
	})
	if perr != nil || serr != nil {
		t.Fatal(perr, serr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pub page trace:\n%s\nsub page trace:\n%s", pub.traceText(), sub.traceText())
		}
	})
	for _, b := range []*browser{pub, sub} {
		if err := b.recordPeerConnections(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(sub.page, evalTimeout)
	_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: denyCameraJS})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	const roomName = "qlab"
	pubID, err := pub.join(pubBase, roomName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.join(subBase, roomName); err != nil {
		t.Fatal(err)
	}
	if _, err := eval[bool](sub, `(window.switchyardQuality.setTileSize('large'), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.waitPlaying(map[string]string{pubID: "pub"}, true, 0.5); err != nil {
		t.Fatal(err)
	}

	lab := &qlLab{t: t, pub: pub, sub: sub, relay: relay, dump: openQlDump(t, "http://127.0.0.1:"+port+"/metrics")}
	if err := lab.waitLayers(); err != nil {
		t.Fatal(err)
	}
	// Pinned, the publisher's tile is the stage, which wants the top
	// layer; unpinned it shares a row with the subscriber's own tile and
	// wants the middle one, which fits under the limit and leaves that
	// scenario nothing to test.
	tile, err := evalAwait[[]int](sub, `(async () => {
		const el = document.querySelector('.tile[data-participant-id="`+pubID+`"]');
		el.querySelector('.pin').click();
		await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
		const v = el.querySelector('video'), r = devicePixelRatio || 1;
		return [Math.round(v.clientWidth * r), Math.round(v.clientHeight * r)];
	})()`)
	if err != nil || len(tile) != 2 {
		t.Fatalf("tile size: %v %v", tile, err)
	}
	lab.top = len(lab.layers) - 1
	for i, l := range lab.layers {
		lab.order = append(lab.order, l.RID)
		if l.W >= tile[0] && l.H >= tile[1] && lab.top == len(lab.layers)-1 {
			lab.top = i
		}
	}
	t.Logf("publisher layers %v; subscriber tile %dx%d wants %s; scale %.2f, bounds asserted: %v",
		lab.layers, tile[0], tile[1], lab.layerName(lab.top), scale, assert)

	clean := lab.run("clean", d(qlClean), func() error { relay.set(0, 0); return nil })
	lossy := lab.run("40ms+2%", d(qlLossy), func() error { relay.set(40*time.Millisecond, 0.02); return nil })
	// The limit must find the call on the top layer for "down" to mean
	// anything: a clean spell first, ended by the top layer.
	settle := lab.runUntil("settle", d(qlSettle), func() error { relay.set(0, 0); return nil },
		func(s qlSampleAt) bool { return s.layer == lab.top })
	limited := lab.run("600kbit", d(qlLimited), func() error { return setRateLimit("600kbit") })
	lifted := lab.run("lifted", d(qlLifted), func() error { return setRateLimit("") })
	runs := []*qlRun{clean, lossy, settle, limited, lifted}
	lab.logTable(runs)

	var decoded int64
	if n := len(lifted.samples); n > 0 && len(clean.samples) > 0 {
		decoded = lifted.samples[n-1].st.Decoded - clean.samples[0].st.Decoded
	}
	if decoded <= 0 {
		t.Fatalf("the subscriber decoded no video during the lab")
	}
	if !assert {
		t.Logf("bounds not asserted (scale %.2f; %s=1 asserts them at full length)", scale, envQlabBounds)
		for _, v := range lab.violations(clean, lossy, settle, limited, lifted) {
			t.Logf("would miss: %s", v)
		}
		return
	}
	for _, v := range lab.violations(clean, lossy, settle, limited, lifted) {
		t.Error(v)
	}
}

// waitLayers waits until the publisher sends all three layers (its own
// estimate ramps up first), or settles for two after mediaTimeout.
func (l *qlLab) waitLayers() error {
	deadline := time.Now().Add(mediaTimeout)
	for {
		if err := l.readPub(); err != nil {
			return err
		}
		if len(l.layers) >= 3 {
			return nil
		}
		if time.Now().After(deadline) {
			if len(l.layers) == 2 {
				l.t.Logf("publisher sends only %v after %v", l.layers, mediaTimeout)
				return nil
			}
			return fmt.Errorf("publisher sends %v after %v, want at least 2 layers", l.layers, mediaTimeout)
		}
		time.Sleep(pollEvery) // polling across CDP: no event to await
	}
}

// readPub refreshes the publisher's layer sizes, counting changes.
func (l *qlLab) readPub() error {
	got, err := evalAwait[[]qlPubLayer](l.pub, qlPubJS)
	if err != nil {
		return fmt.Errorf("publisher getStats: %w", err)
	}
	l.pubRaw = got
	var live []qlPubLayer
	for _, g := range got {
		if g.W > 0 {
			live = append(live, g)
		}
		if g.Limit != "" && g.Limit != "none" {
			l.pubLimit = g.Limit
		}
	}
	slices.SortFunc(live, func(a, b qlPubLayer) int { return a.W - b.W })
	if len(l.layers) > 0 && !slices.EqualFunc(live, l.layers, func(a, b qlPubLayer) bool { return a.RID == b.RID && a.W == b.W }) {
		l.pubSizes++
	}
	l.layers = live
	now, frames := time.Now(), map[string]int64{}
	for _, g := range got {
		frames[g.RID] = g.Frames
		if prev, ok := l.pubFrames[g.RID]; ok && g.W > 0 && l.pubMinFPS != nil {
			if secs := now.Sub(l.pubAt).Seconds(); secs >= 0.5 {
				fps := float64(g.Frames-prev) / secs
				if m, ok := l.pubMinFPS[g.RID]; !ok || fps < m {
					l.pubMinFPS[g.RID] = fps
				}
			}
		}
	}
	l.pubBytes, l.pubFrames, l.pubAt = map[string]int64{}, frames, now
	for _, g := range got {
		l.pubBytes[g.RID] = g.Bytes
	}
	return nil
}

// layerOf maps a received width to the publisher's layer of nearest
// width now (the publisher may scale a layer down for CPU), as its rank.
func (l *qlLab) layerOf(st qlStats) int {
	if !st.V || st.W == 0 || len(l.layers) == 0 {
		return -1
	}
	best := 0
	for i, p := range l.layers {
		if abs(p.W-st.W) < abs(l.layers[best].W-st.W) {
			best = i
		}
	}
	return slices.Index(l.order, l.layers[best].RID)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (l *qlLab) layerName(i int) string {
	if i < 0 || i >= len(l.order) {
		return "-"
	}
	return l.order[i]
}

// run applies a network condition and samples the subscriber for dur.
func (l *qlLab) run(name string, dur time.Duration, apply func() error) *qlRun {
	l.t.Helper()
	return l.runUntil(name, dur, apply, nil)
}

// runUntil is run that ends early at the first sample done accepts.
func (l *qlLab) runUntil(name string, dur time.Duration, apply func() error, done func(qlSampleAt) bool) *qlRun {
	l.t.Helper()
	if err := apply(); err != nil {
		l.t.Fatalf("%s: %v", name, err)
	}
	r := &qlRun{name: name, dur: dur}
	l.t.Logf("%s begins at %s", name, time.Now().UTC().Format("15:04:05.0"))
	sizes0 := l.pubSizes
	_, drop0, _ := l.relay.counts()
	bytes0, at0 := l.pubBytes, l.pubAt
	cpu0 := snapCPU(l.relay, l.pub, l.sub)
	start := time.Now()
	tick := time.NewTicker(qlSample)
	defer tick.Stop()
	l.pubLimit = ""
	l.pubMinFPS = map[string]float64{}
	for i := 0; ; i++ {
		st, err := evalAwait[qlStats](l.sub, qlStatsJS)
		if err != nil {
			l.t.Fatalf("%s: subscriber getStats at %v: %v", name, time.Since(start).Round(time.Millisecond), err)
		}
		var pubNow []qlPubLayer
		if i%4 == 0 {
			if err := l.readPub(); err != nil {
				l.t.Fatalf("%s: %v", name, err)
			}
			pubNow = l.pubRaw
		}
		r.samples = append(r.samples, qlSampleAt{at: time.Since(start), st: st, layer: l.layerOf(st)})
		l.dump.write(name, r.samples[len(r.samples)-1], pubNow)
		if time.Since(start) >= dur || (done != nil && done(r.samples[len(r.samples)-1])) {
			break
		}
		<-tick.C
	}
	r.cpu = cpuBetween(cpu0, snapCPU(l.relay, l.pub, l.sub))
	r.load = loadAvg()
	r.pubSizes = l.pubSizes - sizes0
	r.pubLimit = l.pubLimit
	if secs := l.pubAt.Sub(at0).Seconds(); secs >= 1 {
		var parts []string
		for _, rid := range l.order {
			parts = append(parts, fmt.Sprintf("%s %.0f", rid, float64(l.pubBytes[rid]-bytes0[rid])*8/secs/1000))
		}
		r.pubKbps = strings.Join(parts, ", ")
	}
	var fps []string
	for _, rid := range l.order {
		if m, ok := l.pubMinFPS[rid]; ok {
			fps = append(fps, fmt.Sprintf("%s %.0f", rid, m))
		}
	}
	r.pubFPS = strings.Join(fps, ", ")
	_, drop1, _ := l.relay.counts()
	r.relayDrop = drop1 - drop0
	return r
}

// switches counts layer changes from from on; gaps without video do not
// end a layer.
func (r *qlRun) switches(from time.Duration) int {
	n, last := 0, -1
	for _, s := range r.samples {
		if s.layer < 0 {
			continue
		}
		if last >= 0 && s.layer != last && s.at >= from {
			n++
		}
		last = s.layer
	}
	return n
}

func (r *qlRun) first() qlStats { return r.samples[0].st }
func (r *qlRun) last() qlStats  { return r.samples[len(r.samples)-1].st }

func (r *qlRun) freezes() (int, float64) {
	return r.last().Freezes - r.first().Freezes, r.last().FreezeS - r.first().FreezeS
}

// lossPct is the share of video packets lost for good (after NACK repair).
func (r *qlRun) lossPct() float64 {
	lost, recv := r.last().Lost-r.first().Lost, r.last().Recv-r.first().Recv
	if lost+recv <= 0 {
		return 0
	}
	return float64(lost) / float64(lost+recv) * 100
}

// kbps is the scenario's mean receive rate of video and of the whole
// link (which includes probes).
func (r *qlRun) kbps() (video, link float64) {
	secs := (r.samples[len(r.samples)-1].at - r.samples[0].at).Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return float64(r.last().VBytes-r.first().VBytes) * 8 / secs / 1000, float64(r.last().TBytes-r.first().TBytes) * 8 / secs / 1000
}

func (r *qlRun) concealPct() float64 {
	c, n := r.last().Conceal-r.first().Conceal, r.last().ASamples-r.first().ASamples
	if n <= 0 {
		return 0
	}
	return float64(c) / float64(n) * 100
}

// firstAt is when a sample first satisfied ok, or -1.
func (r *qlRun) firstAt(ok func(qlSampleAt) bool) time.Duration {
	for _, s := range r.samples {
		if ok(s) {
			return s.at
		}
	}
	return -1
}

// upswitches counts layer increases, and those followed within
// qlLossyUpWindow by packets lost.
func (r *qlRun) upswitches() (ups, lossy int) {
	last := -1
	for i, s := range r.samples {
		if s.layer < 0 {
			continue
		}
		if last >= 0 && s.layer > last {
			ups++
			base := r.samples[max(i-1, 0)].st.Lost
			for _, later := range r.samples[i:] {
				if later.at > s.at+qlLossyUpWindow {
					break
				}
				if later.st.Lost > base {
					lossy++
					break
				}
			}
		}
		last = s.layer
	}
	return ups, lossy
}

// timeline is one character per second: the layer shown at its end (its
// rid; upper case if a freeze began in that second; '-' for no video).
func (l *qlLab) timeline(r *qlRun) string {
	var b strings.Builder
	sec, freezes, ch := time.Second, r.first().Freezes, byte('.')
	frozen := false
	for _, s := range r.samples {
		for s.at >= sec {
			b.WriteByte(ch)
			sec += time.Second
			frozen = false
		}
		if s.st.Freezes > freezes {
			frozen, freezes = true, s.st.Freezes
		}
		ch = '-'
		if s.layer >= 0 && l.order[s.layer] != "" {
			ch = l.order[s.layer][0]
			if frozen {
				ch -= 'a' - 'A'
			}
		}
	}
	b.WriteByte(ch)
	return b.String()
}

func durOrNever(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func (l *qlLab) logTable(runs []*qlRun) {
	var b strings.Builder
	fmt.Fprintf(&b, "quality lab (top layer %s of %v; switches: all in the scenario, on the clean link (after the first 20 s); top-at: first sample on the top layer):\n", l.layerName(l.top), l.layers)
	fmt.Fprintf(&b, "%-8s %5s %8s %12s %7s %8s %6s %6s %7s %9s %6s %11s  %-40s %5s\n",
		"scenario", "dur", "switches", "freezes(n/s)", "down", "top-at", "loss%", "nacks", "conc%", "ups/lossy", "pubres", "kbps v/link", "cpu (% of one core)", "load")
	for _, r := range runs {
		fc, fs := r.freezes()
		down := "-" // only the limit's scenario starts on the top layer for a reason to leave it
		if r == runs[3] {
			down = durOrNever(r.firstAt(func(s qlSampleAt) bool { return s.layer >= 0 && s.layer < l.top }))
			if r.samples[0].layer != l.top {
				down = "not-top"
			}
		}
		topAt := r.firstAt(func(s qlSampleAt) bool { return s.layer == l.top })
		ups, lossy := r.upswitches()
		sw := strconv.Itoa(r.switches(0))
		if r == runs[0] {
			sw += fmt.Sprintf(" (%d)", r.switches(qlWarmup))
		}
		vk, lk := r.kbps()
		cpuText := r.cpu.String()
		if r.samples[len(r.samples)-1].at < 2*time.Second {
			cpuText = "- (too short to read)" // clock ticks are 10 ms
		}
		fmt.Fprintf(&b, "%-8s %4.0fs %8s %5d/%5.2fs %7s %8s %6.2f %6d %7.2f %5d/%-3d %6d %5.0f/%-5.0f  %-40s %5s\n",
			r.name, r.dur.Seconds(), sw, fc, fs, down, durOrNever(topAt), r.lossPct(),
			r.last().NACKs-r.first().NACKs, r.concealPct(), ups, lossy, r.pubSizes, vk, lk, cpuText, r.load)
	}
	b.WriteString("timelines (one char per second: layer rid, upper case = a freeze began):\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "  %-8s %s\n", r.name, l.timeline(r))
		if r.pubKbps != "" || r.pubLimit != "" {
			fmt.Fprintf(&b, "  %-8s publisher sends kbps: %s; quality limitation: %s; lowest fps encoded: %s\n", "", r.pubKbps, cmp.Or(r.pubLimit, "none"), cmp.Or(r.pubFPS, "-"))
		}
		fmt.Fprintf(&b, "  %-8s %s (frames decoded per second / 3, 9 = 27 or more)\n", "", decodedLine(r))
	}
	passed, dropped, overflow := l.relay.counts()
	fmt.Fprintf(&b, "relay: %d frames passed, %d dropped on purpose, %d overflowed", passed, dropped, overflow)
	l.t.Log(b.String())
}

// violations lists every bound a scenario broke, with its figure.
func (l *qlLab) violations(clean, lossy, settle, limited, lifted *qlRun) []string {
	var out []string
	bad := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	cpu := func(r *qlRun) string { return fmt.Sprintf("(cpu %s, load %s)", r.cpu, r.load) }
	if n := clean.switches(qlWarmup); n > qlCleanMaxSwitches {
		bad("clean link: %d layer switches after the first %v, bound %d %s", n, qlWarmup, qlCleanMaxSwitches, cpu(clean))
	}
	if n, s := clean.freezes(); n > qlCleanMaxFreezes {
		bad("clean link: %d freezes (%.2fs), bound %d %s", n, s, qlCleanMaxFreezes, cpu(clean))
	}
	if n := lossy.switches(0); n > qlLossyMaxSwitches {
		bad("40ms+2%%: %d layer switches, bound %d %s", n, qlLossyMaxSwitches, cpu(lossy))
	}
	if p := lossy.lossPct(); p >= qlLossyMaxLossPct {
		bad("40ms+2%%: %.2f%% of video packets lost after NACK repair, bound < %.1f%% %s", p, qlLossyMaxLossPct, cpu(lossy))
	}
	if n, s := lossy.freezes(); n > qlLossyMaxFreezes {
		bad("40ms+2%%: %d freezes (%.2fs), bound %d %s", n, s, qlLossyMaxFreezes, cpu(lossy))
	}
	down := limited.firstAt(func(s qlSampleAt) bool { return s.layer >= 0 && s.layer < l.top })
	switch {
	case limited.samples[0].layer != l.top:
		bad("600kbit: the call was on %s, not the top layer, when the limit began (settle: %s) %s",
			l.layerName(limited.samples[0].layer), l.timeline(settle), cpu(settle))
	case down < 0 || down > qlLimitedMaxDown:
		bad("600kbit: down from the top layer after %s, bound %v %s", durOrNever(down), qlLimitedMaxDown, cpu(limited))
	}
	if _, lossyUps := limited.upswitches(); lossyUps > qlLimitedMaxLossyUps {
		bad("600kbit: %d upswitch attempts lost packets, bound %d %s", lossyUps, qlLimitedMaxLossyUps, cpu(limited))
	}
	if p := limited.concealPct(); p > qlLimitedMaxConcealPct {
		bad("600kbit: %.2f%% of audio samples concealed, bound %.1f%% %s", p, qlLimitedMaxConcealPct, cpu(limited))
	}
	up := lifted.firstAt(func(s qlSampleAt) bool { return s.layer == l.top })
	if up < 0 || up > qlLiftedMaxRecover {
		bad("limit lifted: back on the top layer (%s) after %s, bound %v %s", l.layerName(l.top), durOrNever(up), qlLiftedMaxRecover, cpu(lifted))
	}
	return out
}

// decodedLine is one digit per second: the frames the subscriber decoded
// in that second over 3, capped at 9; a freeze shows as low digits
// whatever the layer.
func decodedLine(r *qlRun) string {
	var b strings.Builder
	sec, from := time.Second, r.first().Decoded
	prev := r.first().Decoded
	for _, s := range r.samples {
		for s.at >= sec {
			b.WriteByte(byte('0' + min(9, (prev-from)/3)))
			sec += time.Second
			from = prev
		}
		prev = s.st.Decoded
	}
	b.WriteByte(byte('0' + min(9, (prev-from)/3)))
	return b.String()
}
