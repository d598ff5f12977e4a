package turnserver

import (
	"crypto/hmac"
	"crypto/sha1" // #nosec G505 -- TURN REST credentials are defined with HMAC-SHA1
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Credentials are TURN REST style (draft-uberti-behave-turn-rest): the
// username carries its own expiry and whom it was made for, the password
// is an HMAC of the username, so the server keeps no per-user state and
// any process with the secret can mint them.
type Credentials struct {
	secret []byte
}

// NewCredentials signs with secret.
func NewCredentials(secret []byte) Credentials { return Credentials{secret: secret} }

// Make returns the username "<unix-expiry>:<participantID>" and its password.
func (c Credentials) Make(participantID string, expiry time.Time) (username, password string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + participantID
	return username, c.password(username)
}

func (c Credentials) password(username string) string {
	mac := hmac.New(sha1.New, c.secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Check returns the password for username if it is well formed and not
// expired at now; ok is false otherwise.
func (c Credentials) Check(username string, now time.Time) (password string, ok bool) {
	expiryText, id, found := strings.Cut(username, ":")
	if !found || id == "" {
		return "", false
	}
	expiry, err := strconv.ParseInt(expiryText, 10, 64)
	if err != nil || now.Unix() > expiry {
		return "", false
	}
	return c.password(username), true
}
