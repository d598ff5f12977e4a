package cluster

import "errors"

// Errors from this package.
var (
	ErrBadNodeID = errors.New("cluster: node id must be 1-64 letters, digits, '-' or '_'")
	ErrClosed    = errors.New("cluster: node closed")
)
