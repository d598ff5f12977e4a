package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// The Firefox lab (LAB.md §2): Firefox gathers no loopback candidates, so
// it runs in a namespace of its own, joined to the test's namespace by a
// veth pair. Names and the subnet are this test's own.
const (
	ffNetns   = "sy12c-ff"
	ffVethSrv = "sy12cs"
	ffVethFF  = "sy12cf"
	ffSrvIP   = "10.120.1.1"
	ffIP      = "10.120.1.2"
	ffBiDi    = "127.0.0.1:9222" // inside ffNetns
)

// setupVeth creates the Firefox namespace and the veth pair; cleanup
// deletes the namespace, which removes the pair.
func setupVeth(t *testing.T) {
	t.Helper()
	ipLab(t, [][]string{{"netns", "del", ffNetns}}, append([][]string{{"netns", "add", ffNetns}},
		vethInto(ffNetns, ffVethSrv, ffVethFF, ffSrvIP, ffIP)...))
}

// dialInNetns opens a TCP connection from inside namespace ns; the socket
// stays there after this thread returns to its own namespace.
func dialInNetns(ns, addr string) (net.Conn, error) {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer own.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	conn, dialErr := net.DialTimeout("tcp", addr, 2*time.Second)
	if err := setns(own); err != nil {
		// This thread is in the wrong namespace now: let it die with the
		// goroutine rather than serve another one.
		return conn, err
	}
	runtime.UnlockOSThread()
	return conn, dialErr
}

func setns(f *os.File) error {
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	return nil
}

// firefoxPrefs: fake media without prompts on the lab's plain-http origin,
// host candidates as real addresses (the server cannot resolve mDNS), and
// nothing that would contact the outside.
func firefoxPrefs(origin string) string {
	prefs := map[string]any{
		"media.navigator.streams.fake":                                true,
		"media.navigator.permission.disabled":                         true,
		"media.devices.insecure.enabled":                              true,
		"media.getusermedia.insecure.enabled":                         true,
		"dom.securecontext.allowlist":                                 origin,
		"media.autoplay.default":                                      0,
		"media.peerconnection.ice.obfuscate_host_addresses":           false,
		"app.update.enabled":                                          false,
		"app.update.auto":                                             false,
		"toolkit.telemetry.enabled":                                   false,
		"datareporting.policy.dataSubmissionEnabled":                  false,
		"datareporting.healthreport.uploadEnabled":                    false,
		"network.captive-portal-service.enabled":                      false,
		"network.connectivity-service.enabled":                        false,
		"browser.safebrowsing.malware.enabled":                        false,
		"browser.safebrowsing.phishing.enabled":                       false,
		"browser.safebrowsing.downloads.enabled":                      false,
		"browser.shell.checkDefaultBrowser":                           false,
		"browser.startup.homepage_override.mstone":                    "ignore",
		"extensions.update.enabled":                                   false,
		"browser.tabs.closeWindowWithLastTab":                         false,
		"browser.newtabpage.enabled":                                  false,
		"browser.aboutwelcome.enabled":                                false,
		"remote.prefs.recommended":                                    true,
		"network.dns.disablePrefetch":                                 true,
		"browser.topsites.contile.enabled":                            false,
		"browser.newtabpage.activity-stream.feeds.topsites":           false,
		"browser.newtabpage.activity-stream.feeds.section.topstories": false,
	}
	var b strings.Builder
	for k, v := range prefs {
		val, _ := json.Marshal(v)
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", k, val)
	}
	return b.String()
}

// firefox is one Firefox ESR process in the lab namespace, driven over
// WebDriver BiDi.
type firefox struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *tailBuffer
	exited chan struct{}
	ws     *websocket.Conn

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan bidiReply
}

type bidiReply struct {
	Type    string          `json:"type"`
	ID      int             `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
}

func launchFirefox(t *testing.T, origin string) (*firefox, error) {
	path, err := exec.LookPath("firefox-esr")
	if err != nil {
		return nil, fmt.Errorf("firefox-esr not found (apt-get install -y firefox-esr): %w", err)
	}
	profile := t.TempDir()
	if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs(origin)), 0o600); err != nil {
		return nil, err
	}
	f := &firefox{t: t, stderr: &tailBuffer{max: stderrKeptTail}, exited: make(chan struct{}), waiting: map[int]chan bidiReply{}}
	f.cmd = exec.Command("ip", "netns", "exec", ffNetns, path, "--headless", "--no-remote", "--profile", profile,
		"--remote-debugging-port", strings.Split(ffBiDi, ":")[1], "about:blank")
	f.cmd.Env = append(os.Environ(), "HOME="+profile, "MOZ_CRASHREPORTER_DISABLE=1")
	pr, pw := io.Pipe()
	f.cmd.Stdout, f.cmd.Stderr = pw, pw
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	f.cmd.WaitDelay = 2 * time.Second
	if err := f.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = f.cmd.Wait()
		_ = pw.Close()
		close(f.exited)
	}()
	t.Cleanup(f.close)
	listening := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			f.stderr.add(sc.Text())
			if strings.Contains(sc.Text(), "WebDriver BiDi listening on") {
				select {
				case listening <- struct{}{}:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case <-listening:
	case <-f.exited:
		return nil, fmt.Errorf("firefox exited before listening:\n%s", f.stderr)
	case <-time.After(launchTimeout):
		return nil, fmt.Errorf("firefox: no BiDi listener within %v:\n%s", launchTimeout, f.stderr)
	}
	dialer := websocket.Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return dialInNetns(ffNetns, ffBiDi)
	}}
	f.ws, _, err = dialer.Dial("ws://"+ffBiDi+"/session", nil)
	if err != nil {
		return nil, fmt.Errorf("firefox BiDi: %w", err)
	}
	go f.readLoop()
	if _, err := f.call("session.new", map[string]any{"capabilities": map[string]any{}}); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *firefox) readLoop() {
	for {
		var r bidiReply
		if err := f.ws.ReadJSON(&r); err != nil {
			f.mu.Lock()
			for id, ch := range f.waiting {
				close(ch)
				delete(f.waiting, id)
			}
			f.mu.Unlock()
			return
		}
		if r.Type == "event" {
			continue
		}
		f.mu.Lock()
		ch := f.waiting[r.ID]
		delete(f.waiting, r.ID)
		f.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// call runs one BiDi command and returns its result.
func (f *firefox) call(method string, params any) (json.RawMessage, error) {
	f.mu.Lock()
	f.nextID++
	id := f.nextID
	ch := make(chan bidiReply, 1)
	f.waiting[id] = ch
	err := f.ws.WriteJSON(map[string]any{"id": id, "method": method, "params": params})
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, errors.New("firefox: BiDi connection closed")
		}
		if r.Type == "error" {
			return nil, fmt.Errorf("firefox %s: %s: %s", method, r.Error, r.Message)
		}
		return r.Result, nil
	case <-time.After(joinTimeout):
		return nil, fmt.Errorf("firefox %s: no answer within %v", method, joinTimeout)
	}
}

// newTab opens a tab and returns its browsing context id.
func (f *firefox) newTab() (string, error) {
	res, err := f.call("browsingContext.create", map[string]any{"type": "tab"})
	if err != nil {
		return "", err
	}
	var r struct {
		Context string `json:"context"`
	}
	return r.Context, json.Unmarshal(res, &r)
}

func (f *firefox) navigate(ctx, url, wait string) error {
	_, err := f.call("browsingContext.navigate", map[string]any{"context": ctx, "url": url, "wait": wait})
	return err
}

// eval runs expression (whose value is JSON-stringified in the page) in
// the tab and decodes it into out.
func (f *firefox) eval(ctx, expr string, out any) error {
	res, err := f.call("script.evaluate", map[string]any{
		"expression":   fmt.Sprintf(`Promise.resolve(%s).then((v) => JSON.stringify(v === undefined ? null : v))`, expr),
		"target":       map[string]any{"context": ctx},
		"awaitPromise": true,
	})
	if err != nil {
		return err
	}
	var r struct {
		Type   string `json:"type"`
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.Type != "success" {
		return fmt.Errorf("firefox: script threw: %s", r.ExceptionDetails.Text)
	}
	return json.Unmarshal([]byte(r.Result.Value), out)
}

// waitState polls the tab's page state until ok accepts it.
func (f *firefox) waitState(ctx string, timeout time.Duration, ok func(pageState) string) (pageState, error) {
	deadline := time.Now().Add(timeout)
	for {
		var st pageState
		err := f.eval(ctx, stateJS, &st)
		missing := ""
		if err != nil {
			missing = err.Error()
		} else if missing = ok(st); missing == "" {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("firefox: after %v still %s; page: %v", timeout, missing, st)
		}
		time.Sleep(pollEvery) // polling across BiDi: there is no event to await
	}
}

func (f *firefox) close() {
	if f.ws != nil {
		_ = f.ws.Close()
	}
	if f.cmd.Process != nil {
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	}
	select {
	case <-f.exited:
	case <-time.After(reapTimeout):
		f.t.Errorf("firefox not reaped within %v", reapTimeout)
	}
	if f.t.Failed() {
		f.t.Logf("firefox output tail:\n%s", f.stderr)
	}
}
