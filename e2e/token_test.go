package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/config"
)

// TestPageSendsTheTokenFromItsURL: with auth on, the page joins with the
// ?token= of its own URL, and the server names the participant from the
// token; a page whose token is for another room shows the refusal.
func TestPageSendsTheTokenFromItsURL(t *testing.T) {
	needBrowser(t)
	s, mint := startAuthServer(t)
	perms := auth.Permissions{Publish: true, Subscribe: true, Data: true}
	good := mint(auth.Grant{Room: "tok", Identity: "ann", Name: "Ann From Token", Permissions: perms})
	elsewhere := mint(auth.Grant{Room: "other", Identity: "bob", Permissions: perms})
	bs := launchBrowsers(t, "T", 2)

	open := func(b *browser, token string) {
		t.Helper()
		u := fmt.Sprintf("%s/?room=tok&name=typed&token=%s", s.base, url.QueryEscape(token))
		ctx, cancel := context.WithTimeout(b.page, joinTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
			t.Fatalf("%s: open: %v", b.name, err)
		}
	}
	open(bs[0], good)
	if _, err := bs[0].waitPage(joinTimeout, func(st pageState) string {
		if st.State != "joined" {
			return "not joined"
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	rooms := s.srv.Rooms().Rooms()
	if len(rooms) != 1 || len(rooms[0].Participants) != 1 || rooms[0].Participants[0].Name != "Ann From Token" || rooms[0].Participants[0].Identity != "ann" {
		t.Fatalf("server rooms %+v, want Ann From Token (ann) in tok", rooms)
	}

	open(bs[1], elsewhere)
	st := bs[1].waitRefused(t)
	if !strings.Contains(st.StateText, "token-wrong-room") {
		t.Fatalf("page says %q, want token-wrong-room", st.StateText)
	}
	if n := s.participants(); n != 1 {
		t.Fatalf("server has %d participants, want only Ann", n)
	}
}

// waitRefused waits for the page to show a refused join (state "error")
// and returns what it shows.
func (b *browser) waitRefused(t *testing.T) pageState {
	t.Helper()
	st, err := b.waitPage(joinTimeout, func(st pageState) string {
		if st.State != "error" {
			return "no error yet"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startAuthServer starts a server with auth on, and returns it with a
// function that signs a token, valid for an hour, for a grant.
func startAuthServer(t *testing.T) (*e2eServer, func(auth.Grant) string) {
	t.Helper()
	const secret = "e2e-secret-that-is-at-least-32-bytes"
	s := startServerWith(t, func(c *config.Config) { c.Auth.Secret = secret })
	a, err := auth.New([]byte(secret), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, func(g auth.Grant) string {
		t.Helper()
		token, err := a.Issue(g, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
}
