//go:build unix

package sessionlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	helperPathEnv  = "SESSIONLOG_HELPER_LOG"
	helperRoundEnv = "SESSIONLOG_HELPER_ROUND"
	// helperRotateEnv, when set, is the helper's rotation size in bytes:
	// the kill then also lands during and between rotations.
	helperRotateEnv = "SESSIONLOG_HELPER_ROTATE_BYTES"
)

// TestHelperWriter is not a test: TestKill9 runs the test binary again
// with only this selected and the env var set, and it becomes a writer
// that appends until killed, announcing each append that returned.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(helperPathEnv)
	if path == "" {
		t.Skip("helper process for TestKill9")
	}
	round := os.Getenv(helperRoundEnv)
	var rot Rotation
	if v := os.Getenv(helperRotateEnv); v != "" {
		fmt.Sscan(v, &rot.MaxBytes)
	}
	l, _, err := OpenRotating(path, nil, rot)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	name := strings.Repeat("long-name-", 40) // wider lines, more chances to tear one
	for i := 0; ; i++ {
		id := fmt.Sprintf("r%s-p%d", round, i)
		if err := l.Append(Record{Event: EventJoin, Room: "kill", ParticipantID: id, Name: name}); err != nil {
			fmt.Printf("error %v\n", err)
			os.Exit(3)
		}
		fmt.Printf("ok join %s\n", id) // os.Stdout is unbuffered: one write
		if i%3 == 0 {
			if err := l.Append(Record{Event: EventLeave, Room: "kill", ParticipantID: id, Name: name, Reason: "leave", DurationSec: 0.001}); err != nil {
				fmt.Printf("error %v\n", err)
				os.Exit(3)
			}
			fmt.Printf("ok leave %s\n", id)
		}
	}
}

// TestKill9 kills a writer with SIGKILL while it appends as fast as it
// can, then checks that every append it saw complete is in the file, that
// the file parses, and that Open closes the sessions it left open. Several
// rounds on the same file, so recovery also runs on a recovered file.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	t.Run("one file", func(t *testing.T) { kill9(t, 0) })
	// ~450-byte lines: a segment every ~20 records, so each round's
	// appends span many rotations and the kill may land in one.
	t.Run("rotating", func(t *testing.T) { kill9(t, 9000) })
}

func kill9(t *testing.T, rotateBytes int64) {
	const rounds, minAppends = 3, 300
	path := filepath.Join(t.TempDir(), "data", "sessions.jsonl")
	for round := range rounds {
		completed := runAndKill(t, path, round, minAppends, rotateBytes)

		records, skipped, err := ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(records) < len(completed) || len(completed) < minAppends {
			t.Fatalf("round %d: %d records in file, %d appends completed (want >= %d)", round, len(records), len(completed), minAppends)
		}
		if skipped > 1 {
			t.Fatalf("round %d: %d unparseable lines; a kill can tear at most the last", round, skipped)
		}
		inFile := map[appended]bool{}
		open := map[string]bool{}
		for _, r := range records {
			inFile[appended{r.Event, r.ParticipantID}] = true
			switch r.Event {
			case EventJoin:
				open[r.ParticipantID] = true
			case EventLeave:
				delete(open, r.ParticipantID)
			}
		}
		for _, c := range completed {
			if !inFile[c] {
				t.Fatalf("round %d: completed append %v missing from the file", round, c)
			}
		}
		if len(open) == 0 {
			t.Fatalf("round %d: no open sessions at the kill; the test checks nothing about recovery", round)
		}

		// The kill also released the writer's lock, or this would fail.
		l, rec, err := OpenRotating(path, nil, Rotation{MaxBytes: rotateBytes})
		if err != nil {
			t.Fatalf("round %d: Open after kill: %v", round, err)
		}
		t.Logf("round %d: %d appends reported, %d records in file, %d torn bytes cut, %d sessions closed",
			round, len(completed), len(records), rec.TornBytes, len(rec.Closed))
		if (rec.TornBytes > 0) != (skipped == 1) {
			t.Errorf("round %d: cut %d torn bytes, but Read skipped %d lines", round, rec.TornBytes, skipped)
		}
		if rec.Records != len(records) || len(rec.Closed) != len(open) {
			t.Errorf("round %d: recovery read %d records and closed %d; want %d and %d", round, rec.Records, len(rec.Closed), len(records), len(open))
		}
		for _, c := range rec.Closed {
			if !open[c.ParticipantID] || c.Reason != ReasonServerCrash {
				t.Errorf("round %d: unexpected closing leave %+v", round, c)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		after, skipped, err := ReadAll(path)
		if err != nil {
			t.Fatal(err)
		}
		if files, _ := Files(path); rotateBytes > 0 && len(files) < 2*(round+1) {
			t.Errorf("round %d: %d segments; the rotation under test did not happen", round, len(files))
		}
		if s := Summarize(after, SummaryOptions{}); skipped != 0 || s.Current != 0 {
			t.Errorf("round %d: after recovery %d skipped, %d still present; want 0, 0", round, skipped, s.Current)
		}
		for _, c := range rec.Closed {
			if rec.LastAlive.IsZero() || !c.Time.Equal(rec.LastAlive) {
				t.Fatalf("round %d: closing leave dated %v, want last alive %v", round, c.Time, rec.LastAlive)
			}
		}
	}
}

// appended is one append the helper reported as completed.
type appended struct{ event, id string }

// runAndKill starts the helper writer on path, SIGKILLs it once it has
// reported at least n completed appends, and returns every append it
// reported, including any it managed to report between the kill being
// sent and it dying.
func runAndKill(t *testing.T, path string, round, n int, rotateBytes int64) []appended {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperPathEnv+"="+path, fmt.Sprintf("%s=%d", helperRoundEnv, round),
		fmt.Sprintf("%s=%d", helperRotateEnv, rotateBytes))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type line struct {
		s   string
		err error
	}
	lines := make(chan line)
	stop := make(chan struct{})
	defer close(stop) // lets the reader go if we fail before EOF
	send := func(l line) bool {
		select {
		case lines <- l:
			return true
		case <-stop:
			return false
		}
	}
	go func() {
		br := bufio.NewReader(out)
		for {
			s, err := br.ReadString('\n')
			if err != nil {
				// A partial last line is a report cut by the kill: the
				// append may or may not have finished, so claim nothing.
				send(line{err: err})
				return
			}
			if !send(line{s: strings.TrimSuffix(s, "\n")}) {
				return
			}
		}
	}()

	var done []appended
	killed := false
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("round %d: helper reported only %d appends in time", round, len(done))
		case l := <-lines:
			if l.err != nil {
				if !errors.Is(l.err, io.EOF) {
					t.Fatalf("reading helper: %v", l.err)
				}
				err := cmd.Wait()
				var ee *exec.ExitError
				if !killed || !errors.As(err, &ee) {
					t.Fatalf("round %d: helper ended on its own: %v", round, err)
				}
				if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
					t.Fatalf("round %d: helper exited with %v, want killed by SIGKILL", round, err)
				}
				return done
			}
			event, id, ok := strings.Cut(strings.TrimPrefix(l.s, "ok "), " ")
			if !strings.HasPrefix(l.s, "ok ") || !ok {
				if strings.HasPrefix(l.s, "error") {
					t.Fatalf("helper: %s", l.s)
				}
				continue // test framework chatter
			}
			done = append(done, appended{event, id})
			if len(done) >= n && !killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
	}
}
