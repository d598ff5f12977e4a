package sfu

import "runtime"

// waitForWriter yields so a writer goroutine can drain its queue; the
// caller loops on the queue's own state, so this is not a timed sleep.
func waitForWriter() { runtime.Gosched() }
