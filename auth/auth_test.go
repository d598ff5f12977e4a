package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func TestVerifyReportsEachFailureByItsError(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a, err := New(testKey, fixedClock(start))
	if err != nil {
		t.Fatal(err)
	}
	other, err := New([]byte("another key that is long enough!!"), fixedClock(start))
	if err != nil {
		t.Fatal(err)
	}
	grant := Grant{Room: "r1", Identity: "ann", Name: "Ann", Permissions: Permissions{Subscribe: true}}
	valid, err := a.Issue(grant, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := other.Issue(grant, time.Hour)
	later, _ := New(testKey, fixedClock(start.Add(time.Hour+Leeway+time.Second)))
	earlier, _ := New(testKey, fixedClock(start.Add(-Leeway-time.Second)))
	hs512, _ := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims{"sub": "ann", "room": "r1", "exp": start.Add(time.Hour).Unix()}).SignedString(testKey)
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "ann", "room": "r1", "exp": start.Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ann", "room": "r1"}).SignedString(testKey)
	noSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"room": "r1", "exp": start.Add(time.Hour).Unix()}).SignedString(testKey)
	noRoom, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ann", "exp": start.Add(time.Hour).Unix()}).SignedString(testKey)
	longSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": strings.Repeat("a", MaxIdentityLength+1), "room": "r1", "exp": start.Add(time.Hour).Unix()}).SignedString(testKey)
	controlSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ann\x1b[2J", "room": "r1", "exp": start.Add(time.Hour).Unix()}).SignedString(testKey)

	cases := []struct {
		name  string
		auth  *Authority
		token string
		room  string
		want  error
	}{
		{"valid", a, valid, "r1", nil},
		{"missing", a, "", "r1", ErrMissing},
		{"garbage", a, "not-a-jwt", "r1", ErrMalformed},
		{"wrong signature", a, forged, "r1", ErrBadSignature},
		{"tampered payload", a, tamper(valid), "r1", ErrBadSignature},
		{"other algorithm", a, hs512, "r1", ErrBadSignature},
		{"alg none", a, unsigned, "r1", ErrBadSignature},
		{"expired", later, valid, "r1", ErrExpired},
		{"not yet valid", earlier, valid, "r1", ErrNotYetValid},
		{"wrong room", a, valid, "r2", ErrWrongRoom},
		{"no expiry", a, noExp, "r1", ErrMalformed},
		{"no identity", a, noSub, "r1", ErrMalformed},
		{"no room", a, noRoom, "r1", ErrMalformed},
		{"identity too long", a, longSub, "r1", ErrMalformed},
		{"identity with a control character", a, controlSub, "r1", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := c.auth.VerifyJoin(c.token, c.room)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && (g.Identity != "ann" || g.Name != "Ann" || g.Room != "r1" || g.Permissions != grant.Permissions || !g.Expires.Equal(start.Add(time.Hour))) {
				t.Fatalf("grant = %+v, want %+v expiring at %s", g, grant, start.Add(time.Hour))
			}
		})
	}
}

// tamper flips the room in the payload while keeping the signature.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := jwt.NewParser().DecodeSegment(parts[1])
	changed := strings.Replace(string(payload), `"room":"r1"`, `"room":"r9"`, 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(changed))
	return strings.Join(parts, ".")
}

func TestNewRefusesShortKeys(t *testing.T) {
	if _, err := New([]byte("short"), nil); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
}

func TestIssueNeedsIdentityRoomAndTTL(t *testing.T) {
	a, _ := New(testKey, nil)
	for _, g := range []Grant{{Room: "r"}, {Identity: "i"}} {
		if _, err := a.Issue(g, time.Minute); !errors.Is(err, ErrMalformed) {
			t.Errorf("Issue(%+v) err = %v, want ErrMalformed", g, err)
		}
	}
	if _, err := a.Issue(Grant{Room: "r", Identity: "i"}, 0); err == nil {
		t.Error("a zero ttl was accepted")
	}
}

func TestDisplayNameFallsBackToIdentity(t *testing.T) {
	if got := (Grant{Identity: "ann"}).DisplayName(); got != "ann" {
		t.Fatalf("DisplayName = %q", got)
	}
	if got := (Grant{Identity: "ann", Name: "Ann B."}).DisplayName(); got != "Ann B." {
		t.Fatalf("DisplayName = %q", got)
	}
}

func TestCoversRoom(t *testing.T) {
	if !(Grant{Room: AnyRoom}).CoversRoom("x") || !(Grant{Room: "x"}).CoversRoom("x") || (Grant{Room: "y"}).CoversRoom("x") {
		t.Fatal("CoversRoom disagrees with its rule")
	}
}
