package tlscert

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// statEvery bounds how often a handshake looks at the files: renewals
// (certbot, cert-manager) are picked up within this, without a restart.
const statEvery = 10 * time.Second

// Files serves the PEM certificate and key the operator gave, reloading
// them when either file changes. A reload that fails (a half-written
// renewal, a mismatched pair) keeps the previous certificate.
type Files struct {
	certFile, keyFile string
	onReload          func(fingerprint string, err error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp // of the files cert came from
	bad     fileStamp // of files that failed to load, not retried until they change
	checked time.Time
}

type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// LoadFiles reads the pair once, so that a missing file or a key that
// does not match the certificate stops the server at start.
// onReload, if not nil, hears about every later reload and its result.
func LoadFiles(certFile, keyFile string, onReload func(fingerprint string, err error)) (*Files, error) {
	f := &Files{certFile: certFile, keyFile: keyFile, onReload: onReload}
	stamp, err := f.stat()
	if err != nil {
		return nil, err
	}
	cert, err := f.load()
	if err != nil {
		return nil, err
	}
	f.cert, f.stamp, f.checked = cert, stamp, time.Now()
	return f, nil
}

// Leaf is the certificate now served.
func (f *Files) Leaf() *tls.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cert
}

// GetCertificate is for tls.Config.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := time.Now(); now.Sub(f.checked) >= statEvery {
		f.checked = now
		f.reloadLocked()
	}
	return f.cert, nil
}

func (f *Files) reloadLocked() {
	stamp, err := f.stat()
	if err != nil || stamp == f.stamp || stamp == f.bad {
		return // a file missing for a moment (renewal by rename) is not a change
	}
	cert, err := f.load()
	fp := ""
	if err == nil {
		f.cert, f.stamp, fp = cert, stamp, Fingerprint(cert.Leaf)
	} else {
		f.bad = stamp
	}
	if f.onReload != nil {
		f.onReload(fp, err)
	}
}

func (f *Files) stat() (fileStamp, error) {
	c, err := os.Stat(f.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("tls.cert_file: %w", err)
	}
	k, err := os.Stat(f.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("tls.key_file: %w", err)
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}

func (f *Files) load() (*tls.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert_file %s and tls.key_file %s: %w", f.certFile, f.keyFile, err)
	}
	return &pair, nil
}
