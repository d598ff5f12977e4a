package sfu

import "errors"

// Sentinel errors callers branch on to choose an error code for the client.
var (
	ErrBadSDP       = errors.New("sfu: SDP rejected")
	ErrBadCandidate = errors.New("sfu: ICE candidate rejected")
	ErrWrongState   = errors.New("sfu: not expected in this signaling state")
	ErrClosed       = errors.New("sfu: peer connection closed")

	// ErrUnknownTrack means a request named a track this subscriber does
	// not receive.
	ErrUnknownTrack = errors.New("sfu: no such track for this subscriber")

	// ErrCodecNotNegotiated means the subscriber's answer accepted none of
	// the codecs the publisher sends; the track cannot be forwarded to it.
	ErrCodecNotNegotiated = errors.New("sfu: subscriber did not negotiate the track's codec")
)
