package testclient

// RewriteServerCandidates makes the client apply f to every candidate
// and subscribe offer the server sends before using it, e.g. to point a
// server address at a test's proxy. Set it before joining.
func (c *Client) RewriteServerCandidates(f func(string) string) { c.rewrite.Store(&f) }

// rewritten is s after the test's rewrite, if any.
func (c *Client) rewritten(s string) string {
	if f := c.rewrite.Load(); f != nil {
		return (*f)(s)
	}
	return s
}
