package sessionlog

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Many writers at once, as when a room empties: every record is on disk
// when its Append returns, each writer's records are in its order, and
// the fsyncs are shared.
func TestConcurrentAppendsShareFsyncs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openT(t, path, nil)
	const writers, each = 48, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf("w%02d-%03d", w, i)
				if err := l.Append(Record{Event: EventJoin, Room: "r", ParticipantID: id, Name: id}); err != nil {
					errs <- err
					return
				}
				// Durable means readable by anyone now, not only after
				// Close; sampled, since each check reads the whole file.
				if i%5 == 4 && !fileHas(t, path, id) {
					errs <- fmt.Errorf("Append of %s returned before the record was in the file", id)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, skipped := readT(t, path)
	if len(got) != writers*each || skipped != 0 {
		t.Fatalf("%d records, %d skipped; want %d", len(got), skipped, writers*each)
	}
	next := map[int]int{}
	for _, r := range got {
		var w, i int
		if _, err := fmt.Sscanf(r.ParticipantID, "w%02d-%03d", &w, &i); err != nil {
			t.Fatal(err)
		}
		if i != next[w] {
			t.Fatalf("writer %d's record %d came where %d was due", w, i, next[w])
		}
		next[w]++
	}
	l.mu.Lock()
	syncs, records := l.syncs, l.records
	l.mu.Unlock()
	if records != writers*each || syncs >= records {
		t.Errorf("%d fsyncs for %d records: concurrent appends were not group-committed", syncs, records)
	}
	t.Logf("%d records in %d fsyncs (%.2f fsyncs per record)", records, syncs, float64(syncs)/float64(records))
}

// Close writes everything Submit accepted, even if nobody waited.
func TestCloseWritesWhatWasSubmitted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pending []Pending
	for i := range 100 {
		pending = append(pending, l.Submit(join(float64(i), "r", fmt.Sprintf("p%d", i))))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for i, p := range pending {
		select {
		case <-p.Done():
		default:
			t.Fatalf("record %d still pending after Close", i)
		}
		if p.Err() != nil {
			t.Fatalf("record %d: %v", i, p.Err())
		}
	}
	if got, _ := readT(t, path); len(got) != 100 {
		t.Fatalf("%d records after Close, want 100", len(got))
	}
	if err := l.Submit(join(0, "r", "late")).Wait(); err != ErrClosed {
		t.Errorf("Submit after Close = %v, want ErrClosed", err)
	}
}

// A bad record fails at once and does not hold up or spoil the others.
func TestSubmitRejectsBadRecordAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openT(t, path, nil)
	bad := l.Submit(Record{Event: "wave", ParticipantID: "p"})
	select {
	case <-bad.Done():
	case <-time.After(time.Second):
		t.Fatal("a rejected record is still pending")
	}
	if bad.Err() == nil {
		t.Fatal("bad record accepted")
	}
	if err := l.Append(join(1, "r", "good")); err != nil {
		t.Fatal(err)
	}
	if got, _ := readT(t, path); len(got) != 1 {
		t.Fatalf("%d records, want 1", len(got))
	}
}

func fileHas(t *testing.T, path, id string) bool {
	t.Helper()
	got, _ := readT(t, path)
	for _, r := range got {
		if r.ParticipantID == id {
			return true
		}
	}
	return false
}

// BenchmarkAppendChurn measures the log under churn: many sessions
// joining and leaving at once, each waiting until its record is durable.
// It reports records/s and fsyncs per record; b.SetParallelism sets how
// many appends are in flight (GOMAXPROCS × p).
func BenchmarkAppendChurn(b *testing.B) {
	for _, par := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("inflight=%dxGOMAXPROCS", par), func(b *testing.B) {
			l, _, err := Open(filepath.Join(b.TempDir(), "s.jsonl"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			b.SetParallelism(par)
			var mu sync.Mutex
			n := 0
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					n++
					id := fmt.Sprintf("p%d", n)
					mu.Unlock()
					if err := l.Append(Record{Event: EventJoin, Room: "bench", ParticipantID: id, Name: "guest"}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			l.mu.Lock()
			syncs, records := l.syncs, l.records
			l.mu.Unlock()
			b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(syncs)/float64(records), "fsyncs/record")
		})
	}
}
