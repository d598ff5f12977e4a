package room

import (
	"errors"
	"strings"
	"testing"
)

// Chat reaches everyone, its sender too, with the sender's id and name.
func TestChatReachesEveryoneWithItsSender(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	bob := f.join("r", "bob")
	other := f.join("elsewhere", "cat")
	annSaid, bobSaid, otherSaid := ann.heard.count(), bob.heard.count(), other.heard.count()
	if err := bob.SendChat("hello ✓"); err != nil {
		t.Fatal(err)
	}
	want := "chat " + bob.id + ` bob "hello ✓"`
	expect(t, "ann", ann.heard, annSaid, want)
	expect(t, "bob", bob.heard, bobSaid, want)
	expect(t, "cat in another room", other.heard, otherSaid)
}

func TestChatRefusals(t *testing.T) {
	cases := []struct {
		text string
		want error
	}{
		{"", ErrChatEmpty},
		{"  \t", ErrChatEmpty},
		{strings.Repeat("é", MaxChatLength+1), ErrChatTooLong},
		{"bell\a", ErrChatBadText},
	}
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	for _, c := range cases {
		if err := ann.SendChat(c.text); !errors.Is(err, c.want) {
			t.Errorf("SendChat(%.20q) = %v, want %v", c.text, err, c.want)
		}
	}
	if err := ann.SendChat(strings.Repeat("é", MaxChatLength)); err != nil {
		t.Fatalf("a message of exactly the limit: %v", err)
	}
	if got := ann.heard.since(1); len(got) != 1 {
		t.Fatalf("refused messages were relayed: %v", got)
	}
}

// A burst beyond ChatBurst is refused; the session goes on.
func TestChatIsRateLimited(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	var err error
	sent := 0
	for ; sent < ChatBurst+5; sent++ {
		if err = ann.SendChat("x"); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrRateLimited) || sent < ChatBurst-1 || sent > ChatBurst+1 {
		t.Fatalf("after %d messages: %v; want ErrRateLimited after about %d", sent, err, ChatBurst)
	}
	if ann.hasLeft() {
		t.Fatal("rate limiting ended the session")
	}
}
