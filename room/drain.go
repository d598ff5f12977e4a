package room

import "errors"

// ErrDraining refuses a join while the server drains before stopping.
var ErrDraining = errors.New("room: server is draining and takes no new joins")

// StartDrain makes every later Join fail with ErrDraining; those already
// in rooms stay until they leave or Shutdown makes them.
func (m *Manager) StartDrain() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.draining = true
}
