// Package abuse holds no code: its tests attack a real server on loopback
// the way a hostile client would, each with a control pair (one publisher,
// one subscriber) that must keep receiving media and chat with bounded
// latency while the attack runs, and with the server's goroutines, open
// files and memory back to their baseline after it.
package abuse
