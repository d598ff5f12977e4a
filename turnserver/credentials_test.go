package turnserver

import (
	"strconv"
	"testing"
	"time"
)

func TestCredentials(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	creds := NewCredentials([]byte("secret"))
	user, pass := creds.Make("p_ABC", now.Add(time.Hour))
	if want := strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + ":p_ABC"; user != want {
		t.Fatalf("username %q, want %q", user, want)
	}
	// base64(HMAC-SHA1("secret", username)), computed with Python's hmac,
	// which is what coturn's use-auth-secret and other REST minters do.
	if pass != "WkuT19fTS6m/DyTRhN79soISSgU=" {
		t.Fatalf("password %q is not base64(HMAC-SHA1(secret, username))", pass)
	}
	if got, _ := NewCredentials([]byte("secret")).Check(user, now); got != pass {
		t.Fatalf("Check gives %q, Make gave %q", got, pass)
	}
	if _, other := NewCredentials([]byte("other")).Make("p_ABC", now.Add(time.Hour)); other == pass {
		t.Fatal("a different secret gives the same password")
	}

	tests := []struct {
		name     string
		username string
		at       time.Time
		ok       bool
	}{
		{"valid", user, now, true},
		{"valid at the last second", user, now.Add(time.Hour), true},
		{"expired", user, now.Add(time.Hour + time.Second), false},
		{"no participant", strconv.FormatInt(now.Unix()+60, 10) + ":", now, false},
		{"no expiry", "p_ABC", now, false},
		{"expiry not a number", "soon:p_ABC", now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := creds.Check(tc.username, tc.at); ok != tc.ok {
				t.Fatalf("Check(%q) ok = %v, want %v", tc.username, ok, tc.ok)
			}
		})
	}
}
