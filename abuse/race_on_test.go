//go:build race

package abuse

// raceDetector is true in a -race build, which slows pion several times.
const raceDetector = true
