// Package auth issues and verifies Switchyard's join tokens: JWTs signed
// with HS256 and a key from the configuration. A token names one room, one
// identity, a display name and what its holder may do there.
package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/switchyard-sfu/switchyard/internal/printable"
)

// Errors from Verify; callers map them to protocol error codes and HTTP
// statuses.
var (
	ErrMissing      = errors.New("auth: token missing")
	ErrMalformed    = errors.New("auth: token malformed")
	ErrBadSignature = errors.New("auth: token signature invalid")
	ErrExpired      = errors.New("auth: token expired")
	ErrNotYetValid  = errors.New("auth: token not valid yet")
	ErrWrongRoom    = errors.New("auth: token is for another room")
)

// MinKeyLength is the shortest key accepted: HS256 wants at least as
// many key bytes as the hash has (RFC 7518 §3.2).
const MinKeyLength = 32

// Leeway forgives this much clock difference between the machine that
// minted a token and this server when checking exp and nbf.
const Leeway = 10 * time.Second

// AnyRoom as a token's room lets an admin token act on every room. It is
// not a valid room name, so such a token can never be used to join.
const AnyRoom = "*"

// Permissions say what a token's holder may do.
type Permissions struct {
	Publish   bool `json:"publish"`
	Subscribe bool `json:"subscribe"`
	Data      bool `json:"data"`
	Admin     bool `json:"admin"`
}

// Grant is what a token says about its holder.
type Grant struct {
	Room        string      // the one room it may join; AnyRoom for a global admin token
	Identity    string      // who the holder is, stable across sessions
	Name        string      // display name; empty means use Identity
	Permissions Permissions // what the holder may do
	Expires     time.Time
}

// DisplayName is the name others see: Name, or Identity when Name is empty.
func (g Grant) DisplayName() string {
	if g.Name != "" {
		return g.Name
	}
	return g.Identity
}

// claims is the token body: registered claims (sub = identity, exp, nbf,
// iat) plus Switchyard's own.
type claims struct {
	jwt.RegisteredClaims
	Room        string      `json:"room"`
	Name        string      `json:"name,omitempty"`
	Permissions Permissions `json:"permissions"`
}

// Authority signs and checks tokens with one key.
type Authority struct {
	key []byte
	now func() time.Time
}

// New returns an Authority for key, which must be at least MinKeyLength
// bytes; now is the clock (nil means time.Now).
func New(key []byte, now func() time.Time) (*Authority, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("auth: key is %d bytes, want at least %d", len(key), MinKeyLength)
	}
	if now == nil {
		now = time.Now
	}
	return &Authority{key: append([]byte(nil), key...), now: now}, nil
}

// Issue signs a token for g, valid from now for ttl (g.Expires is ignored).
func (a *Authority) Issue(g Grant, ttl time.Duration) (string, error) {
	if g.Identity == "" {
		return "", fmt.Errorf("%w: identity is required", ErrMalformed)
	}
	if g.Room == "" {
		return "", fmt.Errorf("%w: room is required (%q for a global admin token)", ErrMalformed, AnyRoom)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: ttl %s must be positive", ttl)
	}
	now := a.now().Truncate(time.Second)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   g.Identity,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Room:        g.Room,
		Name:        g.Name,
		Permissions: g.Permissions,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(a.key)
}

// Verify checks token's signature, expiry and required claims and returns
// its grant. Errors wrap one of the sentinel errors above.
func (a *Authority) Verify(token string) (Grant, error) {
	if token == "" {
		return Grant{}, ErrMissing
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(a.now),
	)
	var c claims
	_, err := parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil })
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrTokenExpired):
		return Grant{}, fmt.Errorf("%w: %v", ErrExpired, err)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return Grant{}, fmt.Errorf("%w: %v", ErrNotYetValid, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return Grant{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
	default:
		return Grant{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkIdentity(c.Subject); err != nil {
		return Grant{}, err
	}
	if c.Room == "" {
		return Grant{}, fmt.Errorf("%w: no room", ErrMalformed)
	}
	return Grant{Room: c.Room, Identity: c.Subject, Name: c.Name, Permissions: c.Permissions, Expires: c.ExpiresAt.Time}, nil
}

// VerifyJoin is Verify for a join of room: the token must name that room.
func (a *Authority) VerifyJoin(token, room string) (Grant, error) {
	g, err := a.Verify(token)
	if err != nil {
		return Grant{}, err
	}
	if g.Room != room {
		return Grant{}, fmt.Errorf("%w: token is for room %q, not %q", ErrWrongRoom, g.Room, room)
	}
	return g, nil
}

// CoversRoom reports whether an admin grant may act on room.
func (g Grant) CoversRoom(room string) bool {
	return g.Room == AnyRoom || g.Room == room
}

// MaxIdentityLength bounds a token's identity (sub), in characters.
const MaxIdentityLength = 128

// checkIdentity keeps what other participants see and the logs record
// sane: the key signs whatever its holder mints, mistakes included.
func checkIdentity(sub string) error {
	if sub == "" {
		return fmt.Errorf("%w: no identity (sub)", ErrMalformed)
	}
	if err := printable.Check(sub, MaxIdentityLength); err != nil {
		return fmt.Errorf("%w: identity (sub) %v", ErrMalformed, err)
	}
	return nil
}
