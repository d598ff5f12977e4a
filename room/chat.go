package room

import (
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/switchyard-sfu/switchyard/internal/printable"
)

// Chat limits: a message is at most MaxChatLength characters, and each
// participant may send ChatRate messages a second on average, ChatBurst
// at once.
const (
	MaxChatLength = 1000
	ChatRate      = 5
	ChatBurst     = 10
)

// SendChat relays text to everyone in p's room, p included, with p's id
// and name and the server's time. It is the one way chat enters a room,
// so the data permission is checked here.
func (p *Participant) SendChat(text string) error {
	if !p.perms.Data {
		return fmt.Errorf("%w: this participant may not send data", ErrPermissionDenied)
	}
	if strings.TrimSpace(text) == "" {
		return ErrChatEmpty
	}
	if err := printable.CheckText(text); err != nil {
		return fmt.Errorf("%w: %w", ErrChatBadText, err)
	}
	if n := utf8.RuneCountInString(text); n > MaxChatLength {
		return fmt.Errorf("%w: %d characters, at most %d", ErrChatTooLong, n, MaxChatLength)
	}
	now := time.Now()
	if !p.chatLimit.allow(now) {
		return fmt.Errorf("%w: at most %d a second", ErrRateLimited, ChatRate)
	}
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.left {
		return ErrLeft
	}
	msg := ChatMessage{From: p.id, Name: p.name, Text: text, Time: now.UTC()}
	for _, o := range r.sortedParticipants() {
		o.client.Chat(msg)
	}
	return nil
}

// tokenBucket allows ChatRate events a second with bursts of ChatBurst.
// The zero value is a full bucket.
type tokenBucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last.IsZero() {
		b.tokens = ChatBurst
	} else {
		b.tokens = min(ChatBurst, b.tokens+now.Sub(b.last).Seconds()*ChatRate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
