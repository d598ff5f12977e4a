package tlscert

import (
	"crypto/ecdsa"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	lanNames = []string{"localhost", "meetbox", "meetbox.local"}
	lanIPs   = []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP("192.168.1.20")}
)

func TestSelfSignedIsMadeOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "tls")
	now := time.Now()
	first, err := LoadOrCreateSelfSigned(dir, lanNames, lanIPs, now)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Error("first start: Created = false")
	}
	if _, ok := first.Cert.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Errorf("key is %T, want ECDSA", first.Cert.PrivateKey)
	}
	for _, name := range []string{"localhost", "meetbox", "meetbox.local", "127.0.0.1", "192.168.1.20"} {
		if err := first.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("certificate does not cover %s: %v", name, err)
		}
	}
	if err := first.Leaf.VerifyHostname("192.168.1.21"); err == nil {
		t.Error("certificate covers an address it was not asked for")
	}
	// It verifies as its own root, which is how a client that pins it trusts it.
	roots := x509.NewCertPool()
	roots.AddCert(first.Leaf)
	if _, err := first.Leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "meetbox", CurrentTime: now}); err != nil {
		t.Errorf("does not verify against itself: %v", err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, SelfSignedCertFile): 0o600, filepath.Join(dir, SelfSignedKeyFile): 0o600} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", name, got, want)
		}
	}

	// A restart on a machine that got another address reuses the kept
	// certificate (same fingerprint) and says what it lacks.
	again, err := LoadOrCreateSelfSigned(dir, lanNames, append(lanIPs, net.ParseIP("10.0.0.9")), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Created || Fingerprint(again.Leaf) != Fingerprint(first.Leaf) {
		t.Errorf("restart made a new certificate (Created %v, %s → %s)", again.Created, Fingerprint(first.Leaf), Fingerprint(again.Leaf))
	}
	if strings.Join(again.Uncovered, ",") != "10.0.0.9" {
		t.Errorf("Uncovered = %q, want [10.0.0.9]", again.Uncovered)
	}

	// Near expiry, a start replaces it.
	late := first.Leaf.NotAfter.Add(-time.Hour)
	renewed, err := LoadOrCreateSelfSigned(dir, lanNames, lanIPs, late)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.Created || Fingerprint(renewed.Leaf) == Fingerprint(first.Leaf) || !renewed.Leaf.NotAfter.After(late) {
		t.Errorf("near expiry: Created %v, NotAfter %v", renewed.Created, renewed.Leaf.NotAfter)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func TestSelfSignedBadDirectory(t *testing.T) {
	base := t.TempDir()
	aFile := filepath.Join(base, "file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	onlyCert := filepath.Join(base, "only-cert")
	if err := os.MkdirAll(onlyCert, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(onlyCert, SelfSignedCertFile), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(base, "garbage")
	if err := os.MkdirAll(garbage, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SelfSignedCertFile, SelfSignedKeyFile} {
		if err := os.WriteFile(filepath.Join(garbage, f), []byte("not pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, tc := range map[string]struct{ dir, want string }{
		"dir is a file":  {aFile, "not a directory"},
		"only the cert":  {onlyCert, "only one of"},
		"not a PEM pair": {garbage, "delete self-signed.crt and self-signed.key"},
		"under a file":   {filepath.Join(aFile, "tls"), "not a directory"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadOrCreateSelfSigned(tc.dir, lanNames, lanIPs, time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "tls.dir") {
				t.Fatalf("err = %v, want a tls.dir error containing %q", err, tc.want)
			}
		})
	}
}

func TestLocalNamesCoverLoopbackAndHost(t *testing.T) {
	names, ips := LocalNames()
	if names[0] != "localhost" {
		t.Errorf("names = %q, want localhost first", names)
	}
	var v4, v6 bool
	for _, ip := range ips {
		v4 = v4 || ip.Equal(net.IPv4(127, 0, 0, 1))
		v6 = v6 || ip.Equal(net.IPv6loopback)
		if ip.IsLinkLocalUnicast() {
			t.Errorf("link-local %s listed", ip)
		}
	}
	if !v4 || !v6 {
		t.Errorf("ips = %v, want both loopbacks", ips)
	}
}
