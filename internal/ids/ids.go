// Package ids makes the random identifiers Switchyard hands out:
// participant and track ids, and leave secrets.
package ids

import (
	"crypto/rand"
	"encoding/base32"
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns prefix followed by 80 random bits, e.g. "p_K3Q…": short
// enough to read in a log, far too many to guess or collide.
func New(prefix string) string { return prefix + random(10) }

// Secret returns 160 random bits for bearer secrets such as leave secrets.
func Secret() string { return random(20) }

func random(n int) string {
	b := make([]byte, n)
	// crypto/rand.Read never fails on supported platforms (Go 1.24+).
	_, _ = rand.Read(b)
	return encoding.EncodeToString(b)
}
