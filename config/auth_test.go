package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateAuthAndShutdown(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the single problem; "" means valid
	}{
		{"auth off", func(c *Config) {}, ""},
		{"secret 32 bytes", func(c *Config) { c.Auth.Secret = strings.Repeat("k", 32) }, ""},
		{"secret too short", func(c *Config) { c.Auth.Secret = "hunter2" }, "auth.secret: is 7 bytes, must be at least 32"},
		{"drain 30s", func(c *Config) { c.Shutdown.DrainTimeout = 30 * time.Second }, ""},
		{"drain negative", func(c *Config) { c.Shutdown.DrainTimeout = -time.Second }, "shutdown.drain_timeout: -1s must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.modify(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantProblems(t, err, tt.want)
		})
	}
}

func TestAuthKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	short := filepath.Join(dir, "short")
	key := strings.Repeat("x", 40)
	if err := os.WriteFile(good, []byte("\n"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(short, []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     AuthConfig
		want    string
		wantErr string
	}{
		{"off", AuthConfig{}, "", ""},
		{"secret", AuthConfig{Secret: key}, key, ""},
		{"file trimmed", AuthConfig{SecretFile: good}, key, ""},
		{"file wins", AuthConfig{Secret: strings.Repeat("y", 32), SecretFile: good}, key, ""},
		{"file too short", AuthConfig{SecretFile: short}, "", "auth.secret_file: " + short + " holds 3 bytes"},
		{"file missing", AuthConfig{SecretFile: filepath.Join(dir, "nope")}, "", "auth.secret_file:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Key()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("Key() = %q, %v; want %q", got, err, tt.want)
			}
			if tt.cfg.Enabled() != (tt.want != "") {
				t.Fatalf("Enabled() = %v", tt.cfg.Enabled())
			}
		})
	}
}
