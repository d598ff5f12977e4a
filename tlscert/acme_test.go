package tlscert

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestACMEWiring(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	m, err := NewACME([]string{"meet.example.com"}, "ops@example.com", dir)
	if err != nil {
		t.Fatal(err)
	}
	// Only the configured names may make the server ask a CA.
	if err := m.HostPolicy(context.Background(), "meet.example.com"); err != nil {
		t.Errorf("configured host refused: %v", err)
	}
	for _, other := range []string{"evil.example.com", "10.0.0.1", "localhost"} {
		if err := m.HostPolicy(context.Background(), other); err == nil {
			t.Errorf("HostPolicy accepts %s", other)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, ACMEDir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v %v", fi, err)
	}
	if m.Email != "ops@example.com" {
		t.Errorf("Email = %q", m.Email)
	}

	// The http-01 handler answers the challenge path itself and passes the
	// rest on.
	var passed []string
	h := m.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		passed = append(passed, r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	}))
	for path, want := range map[string]int{
		"/.well-known/acme-challenge/unknown-token": http.StatusNotFound, // a token never asked for
		"/": http.StatusTeapot,
	} {
		req := httptest.NewRequest("GET", "http://meet.example.com"+path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("GET %s = %d, want %d", path, rec.Code, want)
		}
	}
	if strings.Join(passed, ",") != "/" {
		t.Errorf("passed on = %q, want only /", passed)
	}
}

func TestACMEUnusableDirIsAnErrorAtStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewACME([]string{"meet.example.com"}, "", file)
	if err == nil || !strings.HasPrefix(err.Error(), "tls.dir: ACME cache") {
		t.Fatalf("err = %v, want a tls.dir error", err)
	}
}
