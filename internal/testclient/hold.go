package testclient

// HoldCandidates stops the client from trickling its local candidates for
// pc (signal.PCPublish or signal.PCSubscribe), on peer connections created
// from now on. The server then learns the client's address only from its
// connectivity checks, as a peer-reflexive candidate: the losing side of
// the race between a client's first check and its trickled candidate,
// made deterministic.
func (c *Client) HoldCandidates(pc string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held == nil {
		c.held = map[string]bool{}
	}
	c.held[pc] = true
}

func (c *Client) holds(pc string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[pc]
}
