package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(nil, []string{"--version"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), version) {
		t.Fatalf("--version: exit %d, output %q", code, out.String())
	}
}

func TestInvalidConfigListsEveryProblemByKey(t *testing.T) {
	var errOut bytes.Buffer
	code := run(nil, []string{"--listen", "nonsense", "--room.max_participants", "0", "--log.level", "loud"}, io.Discard, &errOut)
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, key := range []string{"listen:", "room.max_participants:", "log.level:"} {
		if !strings.Contains(errOut.String(), key) {
			t.Errorf("output does not name %s:\n%s", key, errOut.String())
		}
	}
}

// binary builds the server once per test run.
func binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchyard")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// process is the server running as a child process.
type process struct {
	cmd  *exec.Cmd
	addr string
	exit chan error
}

var listening = regexp.MustCompile(`switchyard listening.*"addr": "([^"]+)"`)

func start(t *testing.T, bin, logPath string, extra ...string) *process {
	t.Helper()
	args := append([]string{"--listen", "127.0.0.1:0", "--ice.interfaces", "lo", "--ice.udp4_only",
		"--ice.udp_listen", "127.0.0.1:0", "--ice.tcp_listen", "", "--session_log.path", logPath}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, exit: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			if m := listening.FindStringSubmatch(scanner.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.exit <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case p.addr = <-addr:
	case err := <-p.exit:
		t.Fatalf("server exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not report its address")
	}
	return p
}

func joinClient(ctx context.Context, t *testing.T, p *process, room, name string) *testclient.Client {
	t.Helper()
	c := dialClient(ctx, t, p)
	if _, err := c.Join(ctx, room, name); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSIGTERMTellsEveryoneAndExitsWithinFiveSeconds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, logPath, p, a := twoInARoom(ctx, t)

	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	m, _, err := a.WaitType(ctx, 0, signal.TypeLeft)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(m.Raw), "server-shutdown") {
		t.Fatalf("got %s, want reason server-shutdown", m.Raw)
	}
	select {
	case err := <-p.exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
	t.Logf("SIGTERM to exit: %v", time.Since(start))
	summary := summarize(t, logPath)
	if summary.Joins != 2 || summary.LeavesByReason["server-shutdown"] != 2 || summary.Current != 0 {
		t.Fatalf("log summary %+v, want 2 joins and 2 server-shutdown leaves", summary)
	}
}

func TestKill9ClosesOpenSessionsAsServerCrashOnRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin, logPath, p, a := twoInARoom(ctx, t)
	if err := a.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.WaitType(ctx, 0, signal.TypeLeft); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exit

	restarted := start(t, bin, logPath)
	_ = restarted.cmd.Process.Signal(syscall.SIGTERM)
	<-restarted.exit
	summary := summarize(t, logPath)
	if summary.Joins != 2 || summary.LeavesByReason["leave"] != 1 || summary.LeavesByReason["server-crash"] != 1 || summary.Current != 0 {
		t.Fatalf("log summary %+v, want 2 joins, one leave and one server-crash", summary)
	}
	if _, err := os.Stat(logPath); err != nil {
		t.Fatal(err)
	}
}

// twoInARoom starts the binary with a fresh session log and joins Ann and
// Bob to one room; it returns Ann's client.
func twoInARoom(ctx context.Context, t *testing.T) (bin, logPath string, p *process, ann *testclient.Client) {
	t.Helper()
	bin = binary(t)
	logPath = filepath.Join(t.TempDir(), "sessions.jsonl")
	p = start(t, bin, logPath)
	ann = joinClient(ctx, t, p, "r", "Ann")
	joinClient(ctx, t, p, "r", "Bob")
	return bin, logPath, p, ann
}

func summarize(t *testing.T, logPath string) sessionlog.Summary {
	t.Helper()
	records, skipped, err := sessionlog.ReadFile(logPath)
	if err != nil || skipped != 0 {
		t.Fatalf("read log: %v (skipped %d)", err, skipped)
	}
	return sessionlog.Summarize(records, sessionlog.SummaryOptions{})
}
