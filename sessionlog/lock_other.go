//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sessionlog

import "os"

// lockFile is a no-op where flock is unavailable: the caller must make sure
// only one process writes a given log.
func lockFile(*os.File) error { return nil }
