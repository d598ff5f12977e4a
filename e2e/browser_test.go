package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
)

// Bounds on the browser's own start and stop.
const (
	launchTimeout  = 30 * time.Second
	reapTimeout    = 5 * time.Second
	stderrKeptTail = 60
)

// chromiumFlags are the flags every participant's browser runs with.
//
// Debian's Chromium also starts two chrome_crashpad_handler daemons in
// sessions of their own, outside the browser's process group; they exit
// by themselves once the browser is gone. (--disable-crashpad-for-testing
// would avoid them but makes the network service crash with "FD ownership
// violation" in Chromium 156.) HOME is the profile directory, so their
// command lines name it and the leftover check below covers them too.
var chromiumFlags = []string{
	"--headless=new",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-quic",
	"--use-fake-device-for-media-stream",
	"--use-fake-ui-for-media-stream",
	"--allow-loopback-in-peer-connection",
	"--autoplay-policy=no-user-gesture-required",
	"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
	"--remote-debugging-port=0",
}

// browser is one independent Chromium process (one participant), in a
// process group of its own so that it can be killed or frozen whole.
type browser struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	pgid    int
	dataDir string
	stderr  *tailBuffer
	exited  chan struct{} // closed when cmd.Wait returned

	allocCtx    context.Context
	allocCancel context.CancelFunc
	page        context.Context // the participant's tab
	pageCancel  context.CancelFunc

	mu      sync.Mutex
	stopped bool // SIGSTOPped: no CDP call can be answered
	killed  bool
}

// launchBrowser starts Chromium, connects to its DevTools endpoint and
// opens one tab; extraFlags go after chromiumFlags. Cleanup kills the
// whole process group and checks that
// nothing of it is left running.
func launchBrowser(t *testing.T, name string, extraFlags ...string) (*browser, error) {
	return launchBrowserWith(t, name, browserOpts{flags: extraFlags})
}

// launchBrowserFlags is launchBrowser with the flags as a slice.
func launchBrowserFlags(t *testing.T, name string, extra []string) (*browser, error) {
	return launchBrowser(t, name, extra...)
}

// browserOpts place a browser elsewhere than the test's own namespace.
type browserOpts struct {
	netns string   // run Chromium in this network namespace; "" is the test's own
	flags []string // added to chromiumFlags
	// stderrTo, if set, gets every line Chromium writes to stderr (the
	// quality lab's WebRTC log), beside the tail kept for failures.
	stderrTo io.Writer
}

// launchBrowserWith is launchBrowser with the browser placed by opts.
func launchBrowserWith(t *testing.T, name string, opts browserOpts) (*browser, error) {
	extraFlags := opts.flags
	path, err := chromiumPath()
	if err != nil {
		return nil, err
	}
	b := &browser{
		t:       t,
		name:    name,
		dataDir: t.TempDir(),
		stderr:  &tailBuffer{max: stderrKeptTail},
		exited:  make(chan struct{}),
	}
	// Extra flags come after the common ones: Chromium keeps a switch's last value.
	args := append(append(append([]string{}, chromiumFlags...), extraFlags...), "--user-data-dir="+b.dataDir, "about:blank")
	b.cmd = exec.Command(path, args...)
	if opts.netns != "" {
		// ip execs Chromium in place: the pid, and so the process group, stay.
		b.cmd = exec.Command("ip", append([]string{"netns", "exec", opts.netns, path}, args...)...)
	}
	b.cmd.Env = append(os.Environ(), "HOME="+b.dataDir)
	b.cmd.Stdout = io.Discard
	pr, pw := io.Pipe()
	b.cmd.Stderr = pw
	// A process group (and session) of its own: signals to -pgid reach the
	// browser and every helper it forks. Should this test process die
	// without cleaning up, the kernel kills the browser (its helpers then
	// exit on their own).
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	// Should a helper keep stderr open after the group is killed, Wait
	// gives up on it after this long instead of hanging.
	b.cmd.WaitDelay = 2 * time.Second
	if err := b.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	b.pgid = b.cmd.Process.Pid
	go func() {
		_ = b.cmd.Wait()
		_ = pw.Close()
		close(b.exited)
	}()
	t.Cleanup(b.close)

	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			b.stderr.add(line)
			if opts.stderrTo != nil {
				fmt.Fprintln(opts.stderrTo, line)
			}
			if rest, ok := strings.CutPrefix(line, "DevTools listening on "); ok && !found {
				found = true
				wsURL <- strings.TrimSpace(rest)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()

	timer := time.NewTimer(launchTimeout)
	defer timer.Stop()
	var url string
	select {
	case url = <-wsURL:
	case <-b.exited:
		return nil, fmt.Errorf("%s: chromium exited before listening: %s\n%s", name, b.cmd.ProcessState, b.stderr)
	case <-timer.C:
		return nil, fmt.Errorf("%s: no DevTools URL within %v\n%s", name, launchTimeout, b.stderr)
	}

	if opts.netns != "" {
		// DevTools listens on the namespace's own loopback.
		if url, err = forwardDevTools(t, opts.netns, url, b.stderr.add); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	b.allocCtx, b.allocCancel = remote.NewAllocator(context.Background(), url, remote.NoModifyURL)
	if b.page, b.pageCancel, err = b.openTab(); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, b.stderr)
	}
	if err := b.installTrace(); err != nil {
		return nil, err
	}
	return b, nil
}

// openTab connects to the browser (again, if an earlier tab's context took
// the connection with it) and opens a new tab. chromedp's own complaints
// go to the browser's log tail, shown if the test fails.
func (b *browser) openTab() (context.Context, context.CancelFunc, error) {
	logf := func(format string, args ...any) { b.stderr.add("chromedp: " + fmt.Sprintf(format, args...)) }
	ctx, cancel := chromedp.NewContext(b.allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))
	// The first Do binds the tab (and connection) to ctx, so it must not
	// get a deadline of its own; a stuck one is cancelled instead.
	stuck := time.AfterFunc(launchTimeout, cancel)
	err := chromedp.Do(ctx)
	if !stuck.Stop() {
		return nil, nil, fmt.Errorf("%s: no DevTools tab within %v", b.name, launchTimeout)
	}
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: open a tab: %w", b.name, err)
	}
	return ctx, cancel, nil
}

// signal sends sig to the browser's whole process group.
func (b *browser) signal(sig syscall.Signal) error {
	b.mu.Lock()
	switch sig {
	case syscall.SIGSTOP:
		b.stopped = true
	case syscall.SIGCONT:
		b.stopped = false
	case syscall.SIGKILL:
		b.killed = true
	}
	b.mu.Unlock()
	return syscall.Kill(-b.pgid, sig)
}

// alive reports whether the browser can still answer DevTools calls.
func (b *browser) alive() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.stopped && !b.killed
}

// close lets the page's ICE checks end (settleICE), kills the process
// group (waking it first, should it be frozen), reaps the browser, drops the DevTools connection and checks that no
// process of this browser is left running.
func (b *browser) close() {
	b.settleICE()
	_ = b.signal(syscall.SIGCONT)
	_ = b.signal(syscall.SIGKILL)
	select {
	case <-b.exited:
	case <-time.After(reapTimeout):
		b.t.Errorf("%s: browser pid %d not reaped within %v", b.name, b.pgid, reapTimeout)
	}
	// The connection is dead now, so cancelling returns at once.
	if b.pageCancel != nil {
		b.pageCancel()
	}
	if b.allocCancel != nil {
		b.allocCancel()
	}
	if left := b.leftovers(reapTimeout); len(left) > 0 {
		b.t.Errorf("%s: processes still running after SIGKILL of group %d: %s", b.name, b.pgid, strings.Join(left, "; "))
		for _, p := range left {
			if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if b.t.Failed() {
		b.t.Logf("%s: last lines of chromium's stderr:\n%s", b.name, b.stderr)
	}
}

// leftovers lists live (not zombie) processes that belong to this browser,
// by process group or by its unique profile directory on the command line,
// waiting up to timeout for them to go.
func (b *browser) leftovers(timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		left := b.scanProc()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		<-tick.C
	}
}

func (b *browser) scanProc() []string {
	var left []string
	for _, p := range b.procs() {
		if p.state == "Z" || p.state == "X" {
			continue
		}
		c := strings.ReplaceAll(p.cmdline, "\x00", " ")
		if len(c) > 120 {
			c = c[:120]
		}
		left = append(left, fmt.Sprintf("%d %s %s", p.pid, p.state, c))
	}
	return left
}

// tailBuffer keeps the last lines written to it.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (tb *tailBuffer) add(line string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.lines = append(tb.lines, line)
	if len(tb.lines) > tb.max {
		tb.lines = tb.lines[len(tb.lines)-tb.max:]
	}
}

func (tb *tailBuffer) String() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return strings.Join(tb.lines, "\n")
}

// parallel runs f(0) … f(n-1) at once and waits for all of them.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// launchBrowsers starts n browsers named prefix1..prefixN in parallel.
func launchBrowsers(t *testing.T, prefix string, n int) []*browser {
	t.Helper()
	bs := make([]*browser, n)
	errs := make([]error, n)
	parallel(n, func(i int) { bs[i], errs[i] = launchBrowser(t, fmt.Sprintf("%s%d", prefix, i+1)) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Runs before the browsers are killed (cleanups run last-in first-out).
	logTracesOnFailure(t, bs)
	return bs
}

// logTracesOnFailure prints each page's trace at t's end if t failed.
// Register it after the browsers' and tabs' cleanups, so that it runs first.
func logTracesOnFailure(t *testing.T, bs []*browser) {
	t.Cleanup(func() {
		if t.Failed() {
			for _, b := range bs {
				t.Logf("%s: page trace:\n%s", b.name, b.traceText())
			}
		}
	})
}

// freshTab gives b, a browser launched by an outer test, a new tab (the
// old one closes) with the trace installed, and closes that tab when t
// ends. A subtest gets a fresh page without paying for a browser launch;
// register it after startServer, so that the page is gone before the
// server shuts down, as a killed browser's would be.
func (b *browser) freshTab(t *testing.T) error {
	t.Helper()
	if b.pageCancel != nil {
		b.pageCancel()
	}
	var err error
	if b.page, b.pageCancel, err = b.openTab(); err != nil {
		return err
	}
	t.Cleanup(func() {
		b.settleICE()
		if b.pageCancel != nil {
			b.pageCancel()
		}
	})
	return b.installTrace()
}
