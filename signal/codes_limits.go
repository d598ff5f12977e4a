package signal

// Error codes for the per-participant limits (config limits.*).
const (
	CodeTooManyTracks = "too-many-tracks" // an offer would publish more than limits.max_tracks
)
