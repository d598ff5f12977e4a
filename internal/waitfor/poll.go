package waitfor

import (
	"fmt"
	"time"
)

// Poll checks cond every interval until it holds (nil) or within has
// passed (an error naming what). It is for state held by another process
// or service that sends no event when it changes (e.g. a NATS bucket).
func Poll(within, interval time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %s", within, what)
		}
		time.Sleep(interval)
	}
	return nil
}
