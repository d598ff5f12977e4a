package testclient

import (
	"context"
	"fmt"

	"github.com/switchyard-sfu/switchyard/signal"
)

// RefusedError is a request the server answered with an error message.
type RefusedError struct {
	Code, Message, Ref string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused: %s: %s", e.Code, e.Message)
}

// JoinToken sends join with a join token and waits for joined, or returns
// the server's refusal as a *RefusedError.
func (c *Client) JoinToken(ctx context.Context, room, name, token string) (signal.Joined, error) {
	from := len(c.Messages())
	if err := c.Send(signal.Join{Type: signal.TypeJoin, Room: room, Name: name, Token: token}); err != nil {
		return signal.Joined{}, err
	}
	m, _, err := c.WaitFor(ctx, from, func(m Message) bool { return m.Type == signal.TypeJoined || m.Type == signal.TypeError })
	if err != nil {
		return signal.Joined{}, err
	}
	if m.Type == signal.TypeError {
		var msg signal.Error
		if err := m.Decode(&msg); err != nil {
			return signal.Joined{}, err
		}
		return signal.Joined{}, &RefusedError{Code: msg.Code, Message: msg.Message, Ref: msg.Ref}
	}
	var joined signal.Joined
	return joined, m.Decode(&joined)
}
