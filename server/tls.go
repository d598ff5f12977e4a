package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/tlscert"
	"go.uber.org/zap"
	"golang.org/x/crypto/acme/autocert"
)

// httpsSide is the server's own HTTPS (tls.listen): the certificate
// source, the TLS listener, and the plain listener turned into a
// redirector to it.
type httpsSide struct {
	conf     *tls.Config
	acme     *autocert.Manager // nil unless the certificate comes by ACME
	ln       net.Listener      // tls.listen, once Start binds it
	redirect *http.Server      // serves the plain listener
}

// newHTTPS finds the certificate tls.* asks for, or returns nil when TLS
// is off. Every problem (missing files, a key that does not match, a
// tls.dir that cannot be written) is an error now, not at the first
// handshake.
func newHTTPS(cfg config.Config, log *zap.Logger) (*httpsSide, error) {
	c := cfg.TLS
	if !c.Enabled() {
		return nil, nil
	}
	h := &httpsSide{conf: &tls.Config{MinVersion: tls.VersionTLS12}}
	switch c.Source() {
	case "files":
		files, err := tlscert.LoadFiles(c.CertFile, c.KeyFile, func(fp string, err error) {
			if err != nil {
				log.Warn("https certificate files changed but cannot be loaded; still serving the previous one", zap.Error(err))
				return
			}
			log.Info("https certificate reloaded", zap.String("sha256", fp))
		})
		if err != nil {
			return nil, err
		}
		h.conf.GetCertificate = files.GetCertificate
		leaf := files.Leaf().Leaf
		log.Info("https certificate from files", zap.String("cert_file", c.CertFile),
			zap.Strings("names", leaf.DNSNames), zap.Time("not_after", leaf.NotAfter), zap.String("sha256", tlscert.Fingerprint(leaf)))
		if len(c.ACMEHosts) > 0 {
			log.Warn("tls.acme_hosts is ignored: tls.cert_file is set")
		}
	case "acme":
		m, err := tlscert.NewACME(c.ACMEHosts, c.ACMEEmail, c.Dir)
		if err != nil {
			return nil, err
		}
		h.acme = m
		h.conf = m.TLSConfig() // adds acme-tls/1, for the TLS-ALPN-01 challenge on this listener
		h.conf.MinVersion = tls.VersionTLS12
		log.Info("https certificates by ACME (Let's Encrypt)", zap.Strings("hosts", c.ACMEHosts), zap.String("cache", c.Dir))
		// The CA connects to port 443 (TLS-ALPN-01) or 80 (HTTP-01) of
		// the name; other ports work only behind a forward to them.
		if port(c.Listen) != "443" && port(cfg.Listen) != "80" {
			log.Warn("ACME needs the CA to reach these names on port 443 (tls.listen) or 80 (listen); make sure a port forward does that",
				zap.String("tls.listen", c.Listen), zap.String("listen", cfg.Listen))
		}
	default:
		names, ips := selfSignedNames(cfg)
		ss, err := tlscert.LoadOrCreateSelfSigned(c.Dir, names, ips, time.Now())
		if err != nil {
			return nil, err
		}
		h.conf.Certificates = []tls.Certificate{ss.Cert}
		verb := "kept"
		if ss.Created {
			verb = "made"
		}
		// As Galene does: the fingerprint to compare with what the
		// browser shows before accepting the certificate.
		log.Info("https with a self-signed certificate ("+verb+"); browsers warn once, compare this fingerprint before accepting it",
			zap.String("sha256", tlscert.Fingerprint(ss.Leaf)), zap.String("spki_sha256", tlscert.SPKIHash(ss.Leaf)),
			zap.String("dir", c.Dir), zap.Strings("names", ss.Leaf.DNSNames), zap.Time("not_after", ss.Leaf.NotAfter))
		if len(ss.Uncovered) > 0 {
			log.Warn("the kept self-signed certificate does not cover these names; delete its files in tls.dir to make a new one (its fingerprint changes)",
				zap.Strings("uncovered", ss.Uncovered))
		}
	}
	return h, nil
}

func port(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// selfSignedNames: the machine's own names and addresses, plus what the
// operator said it is reached at (http.hosts, ice.public_ips).
func selfSignedNames(cfg config.Config) ([]string, []net.IP) {
	names, ips := tlscert.LocalNames()
	add := func(h string) {
		if ip := net.ParseIP(h); ip != nil {
			for _, have := range ips {
				if have.Equal(ip) {
					return
				}
			}
			ips = append(ips, ip)
			return
		}
		for _, have := range names {
			if strings.EqualFold(have, h) {
				return
			}
		}
		names = append(names, h)
	}
	for _, h := range cfg.HTTP.Hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		add(h)
	}
	for _, ip := range cfg.ICE.PublicIPs {
		add(ip)
	}
	return names, ips
}

// listenTLS binds tls.listen and makes the plain listener's redirector.
func (s *Server) listenTLS() error {
	if s.https == nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.TLS.Listen)
	if err != nil {
		return fmt.Errorf("tls.listen on %s: %w", s.cfg.TLS.Listen, err)
	}
	s.https.ln = ln
	s.http.TLSConfig = s.https.conf
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var h http.Handler = s.plainRoutes(port)
	if s.https.acme != nil {
		h = s.https.acme.HTTPHandler(h) // http-01 answers on the plain listener
	}
	s.https.redirect = &http.Server{Handler: h, ErrorLog: zap.NewStdLog(s.log.Named("http"))}
	applyHTTPLimits(s.https.redirect, s.cfg.HTTP)
	return nil
}

// plainRoutes is what the plain listener serves once HTTPS is on: the
// probes (an orchestrator's health check should not need the
// certificate), and a redirect to HTTPS for everything else.
func (s *Server) plainRoutes(tlsPort string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("/", redirectToHTTPS(tlsPort))
	return mux
}

// redirectToHTTPS sends a request to the same host and path on the HTTPS
// port. 307, not 301/308: browsers do not cache it, so turning TLS off
// again strands nobody, and a POST (WHIP) keeps its method and body.
func redirectToHTTPS(port string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if host == "" {
			http.Error(w, "this server speaks HTTPS; a request without a Host header cannot be redirected", http.StatusBadRequest)
			return
		}
		target := net.JoinHostPort(host, port)
		if port == "443" {
			target = host
			if strings.Contains(host, ":") {
				target = "[" + host + "]"
			}
		}
		http.Redirect(w, r, "https://"+target+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	})
}

// serveHTTPS serves the main routes on the TLS listener, the redirector
// on the plain one; both stop in Shutdown.
func (s *Server) serveHTTPS(plain net.Listener) {
	go func() {
		if err := s.http.ServeTLS(s.https.ln, "", ""); err != nil && err != http.ErrServerClosed {
			s.log.Error("https server stopped", zap.Error(err))
		}
	}()
	go func() {
		if err := s.https.redirect.Serve(plain); err != nil && err != http.ErrServerClosed {
			s.log.Error("http redirect server stopped", zap.Error(err))
		}
	}()
}

func (s *Server) closeTLSListener() {
	if s.https != nil && s.https.ln != nil {
		_ = s.https.ln.Close()
	}
}

func (s *Server) shutdownRedirect(ctx context.Context) error {
	if s.https == nil || s.https.redirect == nil {
		return nil
	}
	return s.https.redirect.Shutdown(ctx)
}

// TLSAddr is the HTTPS listener's address, nil when tls.listen is "".
func (s *Server) TLSAddr() net.Addr {
	if s.https == nil || s.https.ln == nil {
		return nil
	}
	return s.https.ln.Addr()
}
