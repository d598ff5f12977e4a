//go:build race

package server

// raceDetector is true in a -race build, which slows pion several times.
const raceDetector = true
