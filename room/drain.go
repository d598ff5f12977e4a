package room

// RefuseJoins makes every later Join fail with ErrDraining; those already
// in rooms stay until they leave or Shutdown makes them.
func (m *Manager) RefuseJoins() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.draining = true
}

// JoinsRefused returns the error every Join would get now for the server's
// state (ErrDraining, ErrShuttingDown), or nil. A joined client switching
// rooms is checked first, so a refusal does not end its current session.
func (m *Manager) JoinsRefused() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joinsRefused()
}

// joinsRefused is JoinsRefused for callers that hold m.mu.
func (m *Manager) joinsRefused() error {
	switch {
	case m.closing:
		return ErrShuttingDown
	case m.draining:
		return ErrDraining
	}
	return nil
}
