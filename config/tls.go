package config

import (
	"net"
	"strings"
)

// TLSConfig makes the server speak HTTPS itself, so that browsers on other
// machines (which refuse camera and microphone on plain http:// anywhere
// but localhost) can use the page without a proxy in front.
//
// TLS is on when Listen is set. The certificate comes from, in this
// order: CertFile and KeyFile; else ACME for ACMEHosts; else a
// self-signed certificate made on first start and kept in Dir.
type TLSConfig struct {
	// Listen is host:port of the HTTPS listener; "" serves plain HTTP only.
	// With it set, the plain listener (listen) redirects to it.
	Listen string `yaml:"listen"`
	// CertFile and KeyFile are a PEM certificate (chain) and its key.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ACMEHosts are the public host names to get certificates for
	// automatically (Let's Encrypt); no other name is ever asked for.
	ACMEHosts []string `yaml:"acme_hosts"`
	// ACMEEmail is given to the CA for expiry notices; may be empty.
	ACMEEmail string `yaml:"acme_email"`
	// Dir keeps what the server makes itself: the self-signed certificate
	// and key, and the ACME account and certificates (Dir/acme).
	Dir string `yaml:"dir"`
}

// Enabled reports whether the server serves HTTPS.
func (t TLSConfig) Enabled() bool { return t.Listen != "" }

// Source names where the certificate comes from: "files", "acme" or
// "self-signed"; "" when TLS is off.
func (t TLSConfig) Source() string {
	switch {
	case !t.Enabled():
		return ""
	case t.CertFile != "" || t.KeyFile != "":
		return "files"
	case len(t.ACMEHosts) > 0:
		return "acme"
	}
	return "self-signed"
}

func defaultTLS() TLSConfig { return TLSConfig{Dir: "data/tls"} }

func (t TLSConfig) validate(p *problems) {
	checkListen(p, "tls.listen", t.Listen)
	if !t.Enabled() {
		for _, k := range []struct {
			key string
			set bool
		}{{"tls.cert_file", t.CertFile != ""}, {"tls.key_file", t.KeyFile != ""}, {"tls.acme_hosts", len(t.ACMEHosts) > 0}} {
			if k.set {
				p.add("%s: is set but tls.listen is \"\"; set the HTTPS address too (e.g. :7443, or :443)", k.key)
			}
		}
		return
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		p.add("tls.cert_file: and tls.key_file must be set together (have %q and %q)", t.CertFile, t.KeyFile)
	}
	for i, h := range t.ACMEHosts {
		if msg := checkACMEHost(h); msg != "" {
			p.add("tls.acme_hosts[%d]: %q %s", i, h, msg)
		}
	}
	if e := t.ACMEEmail; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t<>")) {
		p.add("tls.acme_email: %q is not an e-mail address", e)
	}
	if t.Source() != "files" && strings.TrimSpace(t.Dir) == "" {
		p.add("tls.dir: must not be empty: the %s certificate is kept there", t.Source())
	}
}

// checkACMEHost returns what is wrong with an ACME host name, or "". CAs
// issue only for public DNS names: not IPs, not bare labels.
func checkACMEHost(h string) string {
	switch {
	case net.ParseIP(h) != nil:
		return "is an IP address; ACME certificates are for DNS names (use tls.cert_file or a self-signed certificate)"
	case strings.ContainsAny(h, ":/ *@") || !strings.Contains(strings.Trim(h, "."), "."):
		return "must be a fully qualified host name such as meet.example.com, without port, scheme or wildcard"
	}
	return ""
}

func init() {
	for k, v := range map[string]string{
		"tls.listen":     "`host:port` for HTTPS (e.g. :7443); the plain listener then redirects to it; \"\" serves plain HTTP only",
		"tls.cert_file":  "PEM certificate `file` for HTTPS (wins over tls.acme_hosts)",
		"tls.key_file":   "PEM private key `file` for tls.cert_file",
		"tls.acme_hosts": "public host `names` to get certificates for by ACME (Let's Encrypt) when no tls.cert_file is set",
		"tls.acme_email": "contact `e-mail` given to the ACME CA",
		"tls.dir":        "`directory` for the self-signed certificate and the ACME cache",
	} {
		help[k] = v
	}
}
