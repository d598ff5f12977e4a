package origin

import (
	"net/http/httptest"
	"testing"
)

func TestPolicyAllows(t *testing.T) {
	cases := []struct {
		name      string
		policy    Policy
		host      string // the request's Host
		origin    string
		allows    bool
		listedToo bool
	}{
		{"no Origin: not a browser", Policy{}, "sfu:7880", "", true, false},
		{"same host, nothing configured", Policy{}, "sfu:7880", "http://sfu:7880", true, false},
		{"another host, nothing configured", Policy{}, "sfu:7880", "https://evil.example", false, false},
		{"rebinding: Host and Origin agree, hosts set", Policy{Hosts: []string{"sfu"}}, "evil.example", "http://evil.example", false, false},
		{"a configured host by name, any port", Policy{Hosts: []string{"sfu"}}, "sfu:7880", "https://sfu:8443", true, false},
		{"a configured host:port, other port", Policy{Hosts: []string{"sfu:7880"}}, "sfu:7880", "https://sfu:8443", false, false},
		{"listed", Policy{Allowed: []string{"https://player.example"}}, "sfu:7880", "https://Player.example", true, true},
		{"not listed, list set: own host no longer implied", Policy{Allowed: []string{"https://player.example"}}, "sfu:7880", "http://sfu:7880", false, false},
		{"any", Policy{Allowed: []string{"*"}}, "sfu:7880", "https://evil.example", true, true},
		{"malformed", Policy{}, "sfu:7880", "::", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://"+c.host+"/v1/whip/main", nil)
			r.Host = c.host
			if c.origin != "" {
				r.Header.Set("Origin", c.origin)
			}
			if got := c.policy.Allows(r); got != c.allows {
				t.Fatalf("Allows = %v, want %v", got, c.allows)
			}
			if got := c.origin != "" && c.policy.Listed(c.origin); got != c.listedToo {
				t.Fatalf("Listed = %v, want %v", got, c.listedToo)
			}
		})
	}
}
