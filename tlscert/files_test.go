package tlscert

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pair writes a fresh self-signed pair into dir and returns its paths.
func pair(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	certPEM, keyPEM, err := makeSelfSigned([]string{"meet.example.com"}, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestFilesBadPairIsAnErrorAtStart(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	certA, keyA := pair(t, a)
	_, keyB := pair(t, b)
	for name, tc := range map[string]struct{ cert, key, want string }{
		"missing cert":  {filepath.Join(a, "none.pem"), keyA, "tls.cert_file"},
		"missing key":   {certA, filepath.Join(a, "none.pem"), "tls.key_file"},
		"key mismatch":  {certA, keyB, "private key does not match public key"},
		"key is a cert": {certA, certA, "tls.cert_file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFiles(tc.cert, tc.key, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestFilesAreReloadedWhenRenewed(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := pair(t, dir)
	var mu sync.Mutex
	var reloads []string
	f, err := LoadFiles(certFile, keyFile, func(fp string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			reloads = append(reloads, "error")
			return
		}
		reloads = append(reloads, fp)
	})
	if err != nil {
		t.Fatal(err)
	}
	old := Fingerprint(f.Leaf().Leaf)

	// A broken renewal (key of another pair) keeps the old certificate.
	other := t.TempDir()
	_, otherKey := pair(t, other)
	data, _ := os.ReadFile(otherKey)
	if err := os.WriteFile(keyFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f.checked = time.Time{} // the next handshake looks at the files
	got, _ := f.GetCertificate(nil)
	if Fingerprint(got.Leaf) != old {
		t.Error("a mismatched renewal replaced the certificate")
	}

	// A good renewal is served from the next handshake after statEvery.
	_, _ = pair(t, dir)
	f.checked = time.Time{}
	got, _ = f.GetCertificate(nil)
	if Fingerprint(got.Leaf) == old {
		t.Error("the renewed files were not picked up")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reloads) != 2 || reloads[0] != "error" || reloads[1] != Fingerprint(got.Leaf) {
		t.Errorf("reloads reported = %q, want [error, new fingerprint]", reloads)
	}
}
