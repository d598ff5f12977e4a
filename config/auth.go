package config

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// minSecretLength matches auth.MinKeyLength: HS256 wants a key at least
// as long as its 32-byte hash.
const minSecretLength = 32

// AuthConfig holds the key that signs join tokens. With neither key set,
// auth is off: anyone may join any room under any name.
type AuthConfig struct {
	// Secret is the HS256 key itself.
	Secret string `yaml:"secret"`
	// SecretFile names a file holding the key (e.g. a Docker secret);
	// whitespace around it is ignored. It wins over Secret.
	SecretFile string `yaml:"secret_file"`
	// RequireSocketToken refuses (HTTP 401) a signaling WebSocket whose
	// URL carries no token (/v1/rtc?token=JWT); a token given there is
	// checked either way.
	RequireSocketToken bool `yaml:"require_socket_token"`
}

// Enabled reports whether a key is configured, so tokens are required.
func (a AuthConfig) Enabled() bool { return a.Secret != "" || a.SecretFile != "" }

// Key returns the signing key, nil when auth is off. auth.secret_file wins
// over auth.secret, so a mounted secret overrides a key left in a file.
func (a AuthConfig) Key() ([]byte, error) {
	if a.SecretFile == "" {
		if a.Secret == "" {
			return nil, nil
		}
		return []byte(a.Secret), nil
	}
	data, err := os.ReadFile(a.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("auth.secret_file: %w", err)
	}
	key := strings.TrimSpace(string(data))
	if len(key) < minSecretLength {
		return nil, fmt.Errorf("auth.secret_file: %s holds %d bytes, want at least %d", a.SecretFile, len(key), minSecretLength)
	}
	return []byte(key), nil
}

// ShutdownConfig governs what SIGTERM does.
type ShutdownConfig struct {
	// DrainTimeout is how long to wait for rooms to empty on their own
	// before closing them; 0 closes them at once.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

func (p *problems) checkAuth(a AuthConfig) {
	if n := len(a.Secret); n > 0 && n < minSecretLength {
		p.add("auth.secret: is %d bytes, must be at least %d (e.g. the output of: openssl rand -hex 32)", n, minSecretLength)
	}
}
