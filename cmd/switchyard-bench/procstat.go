package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc/*/stat.
const clockTicks = 100

// processCPU returns user+system CPU time of a process from
// /proc/<pid>/stat ("self" for the bench itself), including its finished
// threads.
func processCPU(pid string) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces; fields resume after its ')'.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%s/stat", pid)
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/%s/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// machineCPU returns busy and total jiffies over all CPUs from /proc/stat,
// to show how loaded the shared machine was during a window.
func machineCPU() (busy, total uint64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	for i, f := range fields[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// serverMetrics are the figures read from the server's /metrics.
type serverMetrics struct {
	forwarded, received, dropped float64
	goroutines, rss, cpuSeconds  float64
	leaves                       map[string]float64 // switchyard_leaves_total by reason
}

const leavesPrefix = `switchyard_leaves_total{reason="`

var metricNames = map[string]func(*serverMetrics) *float64{
	"switchyard_rtp_packets_forwarded_total": func(m *serverMetrics) *float64 { return &m.forwarded },
	"switchyard_rtp_packets_received_total":  func(m *serverMetrics) *float64 { return &m.received },
	"switchyard_rtp_packets_dropped_total":   func(m *serverMetrics) *float64 { return &m.dropped },
	"go_goroutines":                          func(m *serverMetrics) *float64 { return &m.goroutines },
	"process_resident_memory_bytes":          func(m *serverMetrics) *float64 { return &m.rss },
	"process_cpu_seconds_total":              func(m *serverMetrics) *float64 { return &m.cpuSeconds },
}

var metricsClient = &http.Client{Timeout: 5 * time.Second}

// scrape reads the server's Prometheus text exposition.
func scrape(url string) (serverMetrics, error) {
	var m serverMetrics
	resp, err := metricsClient.Get(url)
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	s := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		if field, known := metricNames[name]; known {
			*field(&m), _ = strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
		if reason, ok := strings.CutPrefix(name, leavesPrefix); ok {
			if m.leaves == nil {
				m.leaves = map[string]float64{}
			}
			m.leaves[strings.TrimSuffix(reason, `"}`)], _ = strconv.ParseFloat(strings.TrimSpace(value), 64)
		}
	}
	return m, s.Err()
}
