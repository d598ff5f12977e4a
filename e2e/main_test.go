// Package e2e drives real Chromium browsers against an in-process
// Switchyard server and checks "presence truth" end to end: media flows
// between browsers, and whoever leaves — by button, tab close, navigation,
// crash or freeze — disappears from everyone else's page at once.
//
// Nothing these tests send may leave loopback. TestMain therefore re-runs
// the test binary inside a private network namespace (unshare -n) whose
// only interface is lo, and the server and every browser live there. When
// that is impossible (not root, no unshare, no chromium) the browser tests
// skip, or fail when SWITCHYARD_REQUIRE_BROWSER=1.
//
// Needs: root, util-linux (unshare), iproute2 (ip) and Debian's chromium
// (apt-get install -y chromium), and firefox-esr for TestFirefoxPresence,
// which joins its own namespace to this one by a veth pair (sy12c-ff,
// 10.120.1.0/24; firefox_lab_test.go). TestQualityLab (qlab_*_test.go) puts
// two Chromiums in namespaces of their own (syq-*, 10.122.1.0/24 and
// 10.122.2.0/24) and needs tc (iproute2). Run: go test -race -v ./e2e/ — a few
// minutes; -v prints the leave-latency tables. Environment:
//
//	SWITCHYARD_REQUIRE_BROWSER=1  fail instead of skip when browsers cannot run (CI)
//	SWITCHYARD_CHROMIUM=PATH      use another Chromium binary
//	SWITCHYARD_E2E_RUNS=N         repeat each presence-edge cause N times (p50/p99 tables)
//	SWITCHYARD_QLAB_SCALE=F       run the quality lab's scenarios at F times their length (default 0.2; the lab skips under -race)
//	SWITCHYARD_QLAB_BOUNDS=1      run the quality lab at full length and assert issue 15's bounds
//	SWITCHYARD_QLAB_DUMP=FILE     write every quality-lab sample (browsers' stats, the server's counters) to FILE as JSON lines
//
// When a test fails it prints each page's wire trace (socket messages,
// peer connection states, getUserMedia; see traceJS) and the tail of each
// browser's stderr.
package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/cpulock"
)

const (
	// envNetns is set in the re-executed test binary that runs inside the
	// private network namespace.
	envNetns = "SWITCHYARD_E2E_NETNS"
	// envRequire makes a missing browser environment a failure, not a skip.
	envRequire = "SWITCHYARD_REQUIRE_BROWSER"
	// envChromium overrides the Chromium binary.
	envChromium = "SWITCHYARD_CHROMIUM"
)

// unavailable says why browser tests cannot run here; empty when they can.
var unavailable string

func TestMain(m *testing.M) {
	if os.Getenv(envNetns) != "" {
		// Inside: refuse to run anything unless loopback is all there is.
		if err := checkIsolated(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: not isolated, refusing to run browsers: %v\n", err)
			os.Exit(2)
		}
		os.Exit(m.Run())
	}
	if reason := netnsUnavailable(); reason != "" {
		unavailable = reason
		os.Exit(m.Run())
	}
	// Browsers are starved easily: keep other latency-measuring test
	// binaries from running alongside.
	os.Exit(cpulock.Run(reexecInNetns))
}

// netnsUnavailable reports what keeps this process from re-running itself
// in a private network namespace with a browser, or "" when nothing does.
func netnsUnavailable() string {
	if os.Geteuid() != 0 {
		return "not root: creating a network namespace (unshare -n) needs root"
	}
	for _, tool := range []string{"unshare", "ip", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("%s not found (needs util-linux and iproute2)", tool)
		}
	}
	if _, err := chromiumPath(); err != nil {
		return err.Error()
	}
	if out, err := exec.Command("unshare", "-n", "true").CombinedOutput(); err != nil {
		return fmt.Sprintf("unshare -n does not work here: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return ""
}

// reexecInNetns runs this test binary again, with the same arguments,
// inside a new network namespace with only lo up, streams its output and
// returns its exit code.
func reexecInNetns() int {
	args := append([]string{"-n", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"=1")
	// If this process dies (say go test kills it), so does the child; the
	// child's browsers die with it through their own cleanup or Pdeathsig.
	// Pdeathsig follows the forking thread, so keep this goroutine on it.
	runtime.LockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "e2e: running the tests in a network namespace: %v\n", err)
		return 1
	}
}

// checkIsolated verifies that lo is this namespace's only interface and
// that it is up.
func checkIsolated() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return err
	}
	if len(ifs) != 1 || ifs[0].Name != "lo" {
		names := make([]string, 0, len(ifs))
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		return fmt.Errorf("interfaces %v, want only lo", names)
	}
	if ifs[0].Flags&net.FlagUp == 0 {
		return errors.New("lo is down")
	}
	return nil
}

// needBrowser skips (or, in CI, fails) a test that cannot run browsers
// in a private network namespace.
func needBrowser(t *testing.T) {
	t.Helper()
	if unavailable == "" {
		return
	}
	if os.Getenv(envRequire) == "1" {
		t.Fatalf("browser tests required (%s=1) but cannot run: %s", envRequire, unavailable)
	}
	t.Skipf("browser tests skipped: %s (set %s=1 to make this a failure)", unavailable, envRequire)
}

// chromiumPath finds Debian's Chromium. The real binary is preferred to
// the /usr/bin/chromium wrapper script, which adds flags of its own.
func chromiumPath() (string, error) {
	if p := os.Getenv(envChromium); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s is not usable: %w", envChromium, p, err)
		}
		return path, nil
	}
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found (apt-get install -y chromium, or set " + envChromium + ")")
}
