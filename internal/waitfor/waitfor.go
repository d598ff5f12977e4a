// Package waitfor waits for a sync.WaitGroup within a context, for the
// shutdown paths that must give up at a deadline.
package waitfor

import (
	"context"
	"sync"
)

// Group waits until wg's count is zero (nil) or ctx ends (its error). On
// ctx's end the helper goroutine stays until wg is done: callers wait
// only for goroutines that are already ending.
func Group(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
