//go:build race

package e2e

// raceDetector is true in a -race build, which slows pion several times.
const raceDetector = true
