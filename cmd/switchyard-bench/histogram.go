package main

import (
	"math"
	"time"
)

// histogram counts durations in log-linear buckets: 1 µs wide below
// 2 ms, then 64 buckets per doubling (about 1% error) up to ~1 minute.
// Adding is allocation-free, so receivers can record every packet.
type histogram struct {
	linear [linearBuckets]uint64
	log    [logOctaves * logSteps]uint64
	over   uint64
	count  uint64
	sum    int64 // nanoseconds
	max    int64
}

const (
	linearBuckets = 2000 // µs
	logSteps      = 64
	logOctaves    = 15 // 2 ms × 2^15 ≈ 65 s
)

func (h *histogram) add(d time.Duration) {
	ns := max(int64(d), 0)
	h.count++
	h.sum += ns
	h.max = max(h.max, ns)
	us := ns / 1000
	if us < linearBuckets {
		h.linear[us]++
		return
	}
	octave := math.Log2(float64(us) / linearBuckets)
	i := int(octave * logSteps)
	if i >= len(h.log) {
		h.over++
		return
	}
	h.log[i]++
}

func (h *histogram) merge(o *histogram) {
	for i := range h.linear {
		h.linear[i] += o.linear[i]
	}
	for i := range h.log {
		h.log[i] += o.log[i]
	}
	h.over += o.over
	h.count += o.count
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

// quantile returns the upper edge of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.linear {
		if seen += c; seen >= rank {
			return time.Duration(i+1) * time.Microsecond
		}
	}
	for i, c := range h.log {
		if seen += c; seen >= rank {
			us := linearBuckets * math.Exp2(float64(i+1)/logSteps)
			return time.Duration(us * float64(time.Microsecond))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.count))
}

// summary is what reports carry of a histogram.
type summary struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Mean  float64 `json:"mean_ms"`
	Max   float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (h *histogram) summary() summary {
	return summary{
		Count: h.count, P50: ms(h.quantile(0.50)), P95: ms(h.quantile(0.95)), P99: ms(h.quantile(0.99)),
		Mean: ms(h.mean()), Max: ms(time.Duration(h.max)),
	}
}

// cdf returns up to n points (latency ms, fraction ≤) for plotting.
func (h *histogram) cdf() (xs, ys []float64) {
	if h.count == 0 {
		return nil, nil
	}
	var seen uint64
	emit := func(edge time.Duration, c uint64) {
		if c == 0 {
			return
		}
		seen += c
		xs = append(xs, ms(edge))
		ys = append(ys, float64(seen)/float64(h.count))
	}
	for i, c := range h.linear {
		emit(time.Duration(i+1)*time.Microsecond, c)
	}
	for i, c := range h.log {
		emit(time.Duration(linearBuckets*math.Exp2(float64(i+1)/logSteps)*float64(time.Microsecond)), c)
	}
	return xs, ys
}
