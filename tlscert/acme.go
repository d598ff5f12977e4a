package tlscert

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/acme/autocert"
)

// ACMEDir is where, inside tls.dir, the ACME account key and the
// certificates are cached.
const ACMEDir = "acme"

// NewACME returns the autocert manager for hosts: it asks Let's Encrypt
// for those names only, accepting its terms, and caches account and
// certificates under dir/acme, which must be writable now rather than at
// the first handshake.
func NewACME(hosts []string, email, dir string) (*autocert.Manager, error) {
	cache := filepath.Join(dir, ACMEDir)
	if err := checkWritableDir(cache); err != nil {
		return nil, fmt.Errorf("tls.dir: ACME cache %s: %w", cache, err)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: autocert.HostWhitelist(hosts...),
		Cache:      autocert.DirCache(cache),
		Email:      email,
	}
	return m, nil
}

// checkWritableDir makes dir (0700) if needed and proves it can hold a file.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
