//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package sessionlog

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on f. The kernel drops
// it when the file is closed or the process dies (kill -9 included), so a
// crashed writer never leaves a stale lock behind.
func lockFile(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("sessionlog: lock: %w", err)
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return fmt.Errorf("sessionlog: lock: %w", err)
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %s", ErrLocked, f.Name())
	}
	if lerr != nil {
		return fmt.Errorf("sessionlog: lock %s: %w", f.Name(), lerr)
	}
	return nil
}
