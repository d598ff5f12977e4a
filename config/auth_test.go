package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
