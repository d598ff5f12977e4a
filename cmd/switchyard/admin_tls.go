package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/tlscert"
)

// localTarget is where the admin CLI reaches the server on this host and
// how it trusts it. With tls.listen set the plain listener only
// redirects, so the CLI goes to HTTPS, trusting the certificate the
// server itself serves: the self-signed one in tls.dir, or cert_file
// (and the system roots) under the certificate's own name.
func localTarget(cfg config.Config) (string, *tls.Config, error) {
	if !cfg.TLS.Enabled() {
		return localURL(cfg.Listen), nil, nil
	}
	base := "https://" + strings.TrimPrefix(localURL(cfg.TLS.Listen), "http://")
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	conf := &tls.Config{RootCAs: roots}
	var pemFile string
	switch cfg.TLS.Source() {
	case "self-signed":
		pemFile = filepath.Join(cfg.TLS.Dir, tlscert.SelfSignedCertFile) // covers 127.0.0.1
	case "files":
		pemFile = cfg.TLS.CertFile
	case "acme":
		conf.ServerName = cfg.TLS.ACMEHosts[0]
	}
	if pemFile != "" {
		data, err := os.ReadFile(pemFile)
		if err != nil {
			return "", nil, fmt.Errorf("trusting the server's certificate: %w (or give --url)", err)
		}
		if !roots.AppendCertsFromPEM(data) {
			return "", nil, fmt.Errorf("trusting the server's certificate: no PEM certificate in %s (or give --url)", pemFile)
		}
		if cfg.TLS.Source() == "files" {
			if pair, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile); err == nil && len(pair.Leaf.DNSNames) > 0 {
				conf.ServerName = pair.Leaf.DNSNames[0] // a CA-signed certificate rarely covers 127.0.0.1
			}
		}
	}
	return base, conf, nil
}
