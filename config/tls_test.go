package config

import (
	"errors"
	"strings"
	"testing"
)

func TestTLSValidate(t *testing.T) {
	tests := []struct {
		name   string
		set    func(*Config)
		want   string // key of the one problem; "" = valid
		source string
	}{
		{"default is plain HTTP", func(*Config) {}, "", ""},
		{"listen alone is self-signed", func(c *Config) { c.TLS.Listen = ":7443" }, "", "self-signed"},
		{"files", func(c *Config) { c.TLS.Listen, c.TLS.CertFile, c.TLS.KeyFile = ":7443", "c.pem", "k.pem" }, "", "files"},
		{"acme", func(c *Config) {
			c.TLS.Listen, c.TLS.ACMEHosts, c.TLS.ACMEEmail = ":443", []string{"meet.example.com"}, "ops@example.com"
		}, "", "acme"},
		{"files win over acme", func(c *Config) {
			c.TLS.Listen, c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ACMEHosts = ":7443", "c.pem", "k.pem", []string{"meet.example.com"}
		}, "", "files"},
		{"cert without key", func(c *Config) { c.TLS.Listen, c.TLS.CertFile = ":7443", "c.pem" }, "tls.cert_file", ""},
		{"cert without listen", func(c *Config) { c.TLS.CertFile, c.TLS.KeyFile = "c.pem", "k.pem" }, "", ""},
		{"acme without listen", func(c *Config) { c.TLS.ACMEHosts = []string{"meet.example.com"} }, "tls.acme_hosts", ""},
		{"acme for an IP", func(c *Config) { c.TLS.Listen, c.TLS.ACMEHosts = ":443", []string{"192.0.2.1"} }, "tls.acme_hosts[0]", ""},
		{"acme for a bare label", func(c *Config) { c.TLS.Listen, c.TLS.ACMEHosts = ":443", []string{"meet"} }, "tls.acme_hosts[0]", ""},
		{"acme with a port", func(c *Config) { c.TLS.Listen, c.TLS.ACMEHosts = ":443", []string{"meet.example.com:443"} }, "tls.acme_hosts[0]", ""},
		{"bad email", func(c *Config) { c.TLS.Listen, c.TLS.ACMEEmail = ":443", "nobody" }, "tls.acme_email", ""},
		{"bad listen", func(c *Config) { c.TLS.Listen = "7443" }, "tls.listen", ""},
		{"same port as listen", func(c *Config) { c.TLS.Listen = ":7880" }, "tls.listen", ""},
		{"self-signed needs a dir", func(c *Config) { c.TLS.Listen, c.TLS.Dir = ":7443", "" }, "tls.dir", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default()
			tt.set(&cfg)
			err := cfg.Validate()
			if tt.name == "cert without listen" { // two problems: both files named
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) != 2 || !strings.HasPrefix(ve.Problems[0], "tls.cert_file:") {
					t.Fatalf("Validate() = %v, want tls.cert_file and tls.key_file", err)
				}
				return
			}
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				if got := cfg.TLS.Source(); got != tt.source {
					t.Errorf("Source() = %q, want %q", got, tt.source)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.HasPrefix(ve.Problems[0], tt.want+":") {
				t.Fatalf("Validate() = %v, want one problem about %s", err, tt.want)
			}
		})
	}
}
