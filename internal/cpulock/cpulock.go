// Package cpulock keeps CPU-hungry, timing-sensitive test binaries from
// running at the same time. `go test ./...` runs packages in parallel; on
// a 2-core machine, three headless Chromiums sharing the CPU with the
// race-instrumented 1000-join presence test were once starved for seconds
// — long enough to miss pings and be dropped as ping-timeout. Packages
// whose tests measure latencies take this lock for their whole run.
package cpulock

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// path is shared by every test binary on the machine.
var path = filepath.Join(os.TempDir(), "switchyard-cpu-heavy-tests.lock")

// Acquire blocks until no other holder is left, and returns the release
// function. The kernel drops the lock if the process dies, so a crashed
// test run never blocks the next one.
func Acquire() (release func(), err error) { return acquireAt(path) }

func acquireAt(path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("cpulock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cpulock: flock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// Run runs a test binary's tests (m.Run from TestMain) holding the lock,
// and returns their exit code.
func Run(run func() int) int {
	release, err := Acquire()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer release()
	return run()
}
