package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap"
)

// Options configure a Dispatcher.
type Options struct {
	URLs    []string
	Key     []byte // HMAC-SHA256 key for the signature
	LogPath string // the session log to follow
	// StateDir holds one cursor file per URL; "" is the log's directory.
	StateDir string
	// Poll is how often the log is checked without a Wake (default 100 ms).
	Poll time.Duration
	// Timeout bounds one delivery attempt (default 5 s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, doubling
	// (with jitter) from one to the other (defaults 250 ms and 30 s).
	MinBackoff, MaxBackoff time.Duration
	Client                 *http.Client // default: one with no redirects
	Log                    *zap.Logger
}

// Dispatcher delivers the session log's events to every URL, each from
// its own cursor on its own goroutine: one receiver's outage delays only
// its own events.
type Dispatcher struct {
	opts    Options
	log     *zap.Logger
	workers []*worker
	stop    context.CancelFunc
	ctx     context.Context
	wg      sync.WaitGroup
	started bool
}

// New loads (or creates) every URL's cursor. A URL seen for the first
// time starts at the log's current end — its receiver is told what
// happens from now on — so New must run before the server takes joins.
func New(opts Options) (*Dispatcher, error) {
	opts.Poll = cmp.Or(opts.Poll, 100*time.Millisecond)
	opts.Timeout = cmp.Or(opts.Timeout, 5*time.Second)
	opts.MinBackoff = cmp.Or(opts.MinBackoff, 250*time.Millisecond)
	opts.MaxBackoff = cmp.Or(opts.MaxBackoff, 30*time.Second)
	opts.StateDir = cmp.Or(opts.StateDir, filepath.Dir(opts.LogPath))
	if opts.Client == nil {
		// A redirect would re-send the event somewhere nobody configured.
		opts.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ctx, stop := context.WithCancel(context.Background())
	d := &Dispatcher{opts: opts, log: cmp.Or(opts.Log, zap.NewNop()), ctx: ctx, stop: stop}
	for _, u := range opts.URLs {
		w, err := d.newWorker(u)
		if err != nil {
			stop()
			return nil, err
		}
		d.workers = append(d.workers, w)
	}
	return d, nil
}

// Start begins delivering in the background until Close.
func (d *Dispatcher) Start() {
	d.started = true
	for _, w := range d.workers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			w.run(d.ctx)
		}()
	}
}

// Wake tells the workers the log has grown; it never blocks. Without it
// they still notice within Options.Poll.
func (d *Dispatcher) Wake() {
	for _, w := range d.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Close gives the workers until ctx ends (at most flushLimit) to deliver
// what the log holds — the leaves a shutdown just wrote — then stops
// them and saves every cursor durably. Undelivered events go out after
// the next start.
func (d *Dispatcher) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, flushLimit)
	defer cancel()
	for _, w := range d.workers {
		if d.started {
			w.flush(ctx)
		}
	}
	d.stop()
	d.wg.Wait()
	var errs []error
	for _, w := range d.workers {
		errs = append(errs, w.cur.save(w.path, true))
	}
	return errors.Join(errs...)
}

// flushLimit bounds how long Close waits for deliveries.
const flushLimit = 2 * time.Second

// worker delivers to one URL. cur is owned by its goroutine once started.
type worker struct {
	d      *Dispatcher
	url    string
	path   string
	cur    *cursor
	wake   chan struct{}
	caught chan struct{} // receives whenever the worker reaches the log's end
	seq    atomic.Int64  // cur.Seq, for OldestSegment from other goroutines
}

func (d *Dispatcher) newWorker(url string) (*worker, error) {
	path := cursorPath(d.opts.StateDir, url)
	c, ok, err := loadCursor(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		// New subscription: replay the log silently to learn each room's
		// state, and start from its end.
		c = &cursor{URL: url, Rooms: map[string]*roomState{}}
		start, err := sessionlog.Start(d.opts.LogPath)
		if err != nil {
			return nil, fmt.Errorf("webhook: %w", err)
		}
		entries, next, err := sessionlog.ReadAt(d.opts.LogPath, start, 0) // every segment
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("webhook: reading %s: %w", d.opts.LogPath, err)
		}
		for _, e := range entries {
			derive(c.Rooms, e)
		}
		c.moveTo(next)
		if err := c.save(path, true); err != nil {
			return nil, err
		}
		d.log.Info("webhook subscription starts at the log's end", zap.String("url", url), zap.Int64("segment", next.Seq), zap.Int64("offset", next.Offset))
	}
	w := &worker{d: d, url: url, path: path, cur: c, wake: make(chan struct{}, 1), caught: make(chan struct{}, 1)}
	w.seq.Store(c.Seq)
	return w, nil
}

// OldestSegment is the lowest session log segment a URL's deliveries
// still have to read (0: none but the live one), for the log's retention
// (sessionlog.Log.Retain): a lagging receiver's events are not deleted
// before they are delivered.
func (d *Dispatcher) OldestSegment() int64 {
	var oldest int64
	for _, w := range d.workers {
		if seq := w.seq.Load(); seq > 0 && (oldest == 0 || seq < oldest) {
			oldest = seq
		}
	}
	return oldest
}

// moveTo moves the cursor and publishes its segment.
func (w *worker) moveTo(p sessionlog.Position) {
	w.cur.moveTo(p)
	w.seq.Store(p.Seq)
}

func (w *worker) run(ctx context.Context) {
	tick := time.NewTicker(w.d.opts.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		// ReadAt follows the cursor's segment when it rotates, to its end
		// and into the next: nothing between the cursor and the rotation
		// is skipped.
		entries, next, err := sessionlog.ReadAt(w.d.opts.LogPath, w.cur.pos(), 256)
		if errors.Is(err, sessionlog.ErrShrunk) {
			// The live file was replaced by hand: follow the new file from
			// its start, keeping the room state.
			w.d.log.Warn("session log shrank under the webhook cursor; following the new file", zap.String("url", w.url), zap.Error(err))
			w.cur.Offset = 0
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			w.d.log.Warn("webhook cannot read the session log", zap.Error(err))
		}
		for _, e := range entries {
			before := w.cur.Rooms[e.Room].clone()
			for _, ev := range derive(w.cur.Rooms, e) {
				if !w.deliver(ctx, ev) {
					// Stopping: put the room back as it was before e, so
					// the saved cursor (still before e) derives e again.
					w.cur.Rooms[e.Room] = before
					if before == nil {
						delete(w.cur.Rooms, e.Room)
					}
					return
				}
			}
			w.moveTo(e.Pos)
			if err := w.cur.save(w.path, false); err != nil {
				w.d.log.Warn("webhook cursor not saved", zap.Error(err))
			}
		}
		if len(entries) > 0 {
			continue // there may be more
		}
		if err == nil && next != w.cur.pos() {
			w.moveTo(next) // stepped over unparseable lines or into the next segment
		}
		select {
		case w.caught <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-tick.C:
		}
	}
}

// flush waits until the worker has reached the log's end, or ctx ends.
func (w *worker) flush(ctx context.Context) {
	select {
	case <-w.caught: // drop a stale "caught up" from before the last wake
	default:
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.caught:
	case <-ctx.Done():
	}
}

// deliver POSTs ev until the receiver answers 2xx, backing off between
// attempts; false means ctx ended first.
func (w *worker) deliver(ctx context.Context, ev Event) bool {
	body, err := json.Marshal(ev)
	if err != nil {
		w.d.log.Error("webhook event not encodable", zap.Error(err))
		return true
	}
	backoff := w.d.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, ev.ID, body)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait := backoff/2 + rand.N(backoff/2+1) // jitter: receivers coming back are not hit in lockstep
		w.d.log.Debug("webhook delivery failed", zap.String("url", w.url), zap.String("event", ev.ID),
			zap.Int("attempt", attempt), zap.Duration("retry_in", wait), zap.Error(err))
		if attempt%10 == 0 {
			w.d.log.Warn("webhook receiver keeps failing", zap.String("url", w.url), zap.Int("attempts", attempt), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		backoff = min(2*backoff, w.d.opts.MaxBackoff)
	}
}

func (w *worker) post(ctx context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchyard-Webhook/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, Sign(w.d.opts.Key, id, now, body))
	resp, err := w.d.opts.Client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", resp.Status)
	}
	return nil
}
