package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Names of the self-signed pair inside the directory.
const (
	SelfSignedCertFile = "self-signed.crt"
	SelfSignedKeyFile  = "self-signed.key"
)

// selfSignedValidity stays under the 825 days Apple's clients accept for
// any TLS server certificate, trusted by hand or not.
const selfSignedValidity = 800 * 24 * time.Hour

// renewBefore: a certificate this close to expiry is replaced at start,
// so a server restarted now and then never serves an expired one.
const renewBefore = 30 * 24 * time.Hour

// SelfSigned is the LAN certificate and what the operator must be told.
type SelfSigned struct {
	Cert      tls.Certificate
	Leaf      *x509.Certificate
	Created   bool     // made on this start (first start, or the old one expired)
	Uncovered []string // names/addresses asked for that a reused certificate lacks
}

// LoadOrCreateSelfSigned returns the self-signed certificate kept in dir,
// making it (ECDSA P-256, cert and key 0600, dir 0700) when there is none
// or it is about to expire. A kept certificate is reused even if the
// machine's addresses changed since, so that a fingerprint people have
// accepted stays the same; Uncovered lists what it lacks.
func LoadOrCreateSelfSigned(dir string, names []string, ips []net.IP, now time.Time) (*SelfSigned, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("tls.dir %s: %w", dir, err)
	}
	certPath, keyPath := filepath.Join(dir, SelfSignedCertFile), filepath.Join(dir, SelfSignedKeyFile)
	haveCert, err := exists(certPath)
	if err != nil {
		return nil, err
	}
	haveKey, err := exists(keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case haveCert && haveKey:
		pair, err := tls.LoadX509KeyPair(certPath, keyPath)
		if err != nil {
			return nil, fmt.Errorf("tls.dir: the self-signed certificate in %s cannot be used (%w); delete %s and %s to make a new one",
				dir, err, SelfSignedCertFile, SelfSignedKeyFile)
		}
		if now.Add(renewBefore).Before(pair.Leaf.NotAfter) {
			return &SelfSigned{Cert: pair, Leaf: pair.Leaf, Uncovered: uncovered(pair.Leaf, names, ips)}, nil
		}
	case haveCert || haveKey:
		return nil, fmt.Errorf("tls.dir: %s has only one of %s and %s; delete it to make a new pair",
			dir, SelfSignedCertFile, SelfSignedKeyFile)
	}
	certPEM, keyPEM, err := makeSelfSigned(names, ips, now)
	if err != nil {
		return nil, err
	}
	// Key first: a crash between the two leaves "only one of", reported.
	if err := writeFileAtomic(keyPath, keyPEM); err != nil {
		return nil, fmt.Errorf("tls.dir: %w", err)
	}
	if err := writeFileAtomic(certPath, certPEM); err != nil {
		return nil, fmt.Errorf("tls.dir: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	return &SelfSigned{Cert: pair, Leaf: pair.Leaf, Created: true}, nil
}

func makeSelfSigned(names []string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed serial: %w", err)
	}
	cn := "Switchyard"
	if len(names) > 0 {
		cn = "Switchyard on " + names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Switchyard self-signed"}},
		NotBefore:             now.Add(-time.Hour), // a client clock a little behind still accepts it
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-signed key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// uncovered lists the names and addresses the certificate does not cover.
func uncovered(cert *x509.Certificate, names []string, ips []net.IP) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(cert.DNSNames, n) {
			out = append(out, n)
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			out = append(out, ip.String())
		}
	}
	return out
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("tls.dir: %w", err)
}

// writeFileAtomic writes data to path with mode 0600 through a temporary
// file and a rename, so a crash never leaves half a key.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
