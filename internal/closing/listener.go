// Package closing wraps listeners so that closing one also closes the
// connections it accepted.
package closing

import (
	"errors"
	"net"
	"sync"
)

// closingListener closes the connections it accepted when it closes:
// pion/turn and pion/ice's TCP mux close only the listener, which would
// leave clients (and the goroutines reading them) running after shutdown;
// the TCP mux even waits for them in Close.
type closingListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Listener returns ln, closing every connection it accepted when it closes.
func Listener(ln net.Listener) net.Listener {
	return &closingListener{Listener: ln, conns: map[net.Conn]struct{}{}}
}

func (l *closingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = conn.Close()
		return nil, net.ErrClosed
	}
	tracked := &trackedConn{Conn: conn, owner: l}
	l.conns[tracked] = struct{}{}
	return tracked, nil
}

func (l *closingListener) Close() error {
	l.mu.Lock()
	l.closed = true
	conns := l.conns
	l.conns = map[net.Conn]struct{}{}
	l.mu.Unlock()
	errs := []error{l.Listener.Close()}
	for c := range conns {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type trackedConn struct {
	net.Conn
	owner *closingListener
	once  sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.owner.mu.Lock()
		delete(c.owner.conns, c)
		c.owner.mu.Unlock()
	})
	return c.Conn.Close()
}
