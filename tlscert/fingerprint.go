package tlscert

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of the certificate's DER bytes in the form
// browsers show in their certificate viewers: "AB:CD:…".
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// SPKIHash is the base64 SHA-256 of the certificate's public key, the
// form Chromium's --ignore-certificate-errors-spki-list and HPKP-style
// pinning take. It survives re-issuing with the same key.
func SPKIHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
