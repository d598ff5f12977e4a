package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux this runs on.
const clockTicks = 100

// statTicks reads utime+stime from a /proc/.../stat file.
func statTicks(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	// After the comm: state is field 3, utime 14, stime 15.
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, true
}

// cpuSnap is the CPU time used so far by each of the lab's parts.
type cpuSnap struct {
	at                      time.Time
	server, relay, pub, sub int64 // clock ticks
}

// browserTicks sums the CPU time of the browser's live processes: its
// process group, and whatever names its profile directory (see scanProc).
func (b *browser) browserTicks() int64 {
	var sum int64
	for _, p := range b.procs() {
		sum += p.ticks
	}
	return sum
}

// snapCPU reads every part's CPU time. The server shares this process
// with the relay's threads (subtracted) and the test's own DevTools
// polling (not subtracted: small).
func snapCPU(relay *qlabRelay, pub, sub *browser) cpuSnap {
	s := cpuSnap{at: time.Now(), pub: pub.browserTicks(), sub: sub.browserTicks()}
	for _, tid := range relay.tids() {
		if n, ok := statTicks(fmt.Sprintf("/proc/self/task/%d/stat", tid)); ok {
			s.relay += n
		}
	}
	self, _ := statTicks("/proc/self/stat")
	s.server = self - s.relay
	return s
}

// cpuShare is the CPU each part used between two snapshots, in percent of
// one core.
type cpuShare struct{ server, relay, pub, sub float64 }

func cpuBetween(a, b cpuSnap) cpuShare {
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return cpuShare{}
	}
	pct := func(d int64) float64 { return float64(d) / clockTicks / secs * 100 }
	return cpuShare{server: pct(b.server - a.server), relay: pct(b.relay - a.relay), pub: pct(b.pub - a.pub), sub: pct(b.sub - a.sub)}
}

func (c cpuShare) String() string {
	return fmt.Sprintf("srv %3.0f%% pub %3.0f%% sub %3.0f%% relay %2.0f%%", c.server, c.pub, c.sub, c.relay)
}

// loadAvg is the first field of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
