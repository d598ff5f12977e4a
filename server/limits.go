package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// applyHTTPLimits bounds header, body and idle time and header size, so
// connections that never finish a request, or sit idle, do not stay open.
// A WebSocket's reads are bounded by its ping timeout once upgraded (the
// session sets its own deadlines).
func applyHTTPLimits(srv *http.Server, c config.HTTPConfig) {
	srv.ReadHeaderTimeout = c.ReadHeaderTimeout
	srv.ReadTimeout = c.ReadTimeout
	srv.IdleTimeout = c.IdleTimeout
	srv.MaxHeaderBytes = c.MaxHeaderKiB << 10
}

// metricsHandler guards /metrics with the configured bearer token, if any.
func metricsHandler(h http.Handler, token string) http.Handler {
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsServer serves /metrics alone on http.metrics_listen.
type metricsServer struct {
	srv *http.Server
	ln  net.Listener
}

func startMetricsServer(c config.HTTPConfig, h http.Handler, log *zap.Logger) (*metricsServer, error) {
	ln, err := net.Listen("tcp", c.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("http.metrics_listen %s: %w", c.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	m := &metricsServer{srv: &http.Server{Handler: mux, ErrorLog: zap.NewStdLog(log)}, ln: ln}
	applyHTTPLimits(m.srv, c)
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	log.Info("metrics listening", zap.String("addr", ln.Addr().String()))
	return m, nil
}

// MetricsAddr is the address of the separate /metrics listener, or nil.
func (s *Server) MetricsAddr() net.Addr {
	if s.metricsSrv == nil {
		return nil
	}
	return s.metricsSrv.ln.Addr()
}

// perIPLimiter rate-limits requests by remote address. Entries idle for
// longer than a bucket needs to refill are forgotten, so the map stays as
// large as the recently active addresses.
type perIPLimiter struct {
	rate  rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*ipBucket
	swept   time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newPerIPLimiter(perSecond, burst int) *perIPLimiter {
	return &perIPLimiter{rate: rate.Limit(perSecond), burst: burst, buckets: make(map[string]*ipBucket)}
}

func (l *perIPLimiter) allow(r *http.Request, now time.Time) bool {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	ip = strings.ToLower(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	refill := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	if now.Sub(l.swept) > refill {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > refill {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = &ipBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
