package signal

import (
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Rate limits per socket, each message type its own bucket: a client
// flooding mute cannot starve its own offers. Zero rates take these.
const (
	DefaultMessageRate  = 10
	DefaultMessageBurst = 20
	DefaultJoinRate     = 1
	DefaultJoinBurst    = 5
)

// limitedTypes are the client messages that change state or make the
// server send to others. Chat has its own limit in room; candidates are
// capped per peer connection (sfu); leave ends what join started.
// Answers are not limited: each answers an offer the server sent (a
// stray one is wrong-state), so the server's own offers bound them, and
// dropping one left a subscriber in a busy room with a negotiation that
// never completed (abuse/meeting_test.go).
var limitedTypes = []string{TypeMute, TypeSubscription, TypeOffer}

// rateLogEvery bounds how often one socket's refusals are logged.
const rateLogEvery = 10 * time.Second

// Refusals are answered at most replyRate a second (bursts of
// replyBurst): a flood must not turn into a flood of error frames, which
// would fill the socket's send queue and cost the server the writes.
const (
	replyRate  = 10
	replyBurst = 20
)

type limits struct {
	byType  map[string]*rate.Limiter
	log     *rate.Limiter
	replies *rate.Limiter
	dropped int // refusals since the last log line; read loop only
}

func newLimits(o Options) limits {
	msgRate, msgBurst := orDefault(o.MessageRate, DefaultMessageRate), orDefault(o.MessageBurst, DefaultMessageBurst)
	l := limits{
		byType: map[string]*rate.Limiter{
			TypeJoin: rate.NewLimiter(rate.Limit(orDefault(o.JoinRate, DefaultJoinRate)), orDefault(o.JoinBurst, DefaultJoinBurst)),
		},
		log:     rate.NewLimiter(rate.Every(rateLogEvery), 1),
		replies: rate.NewLimiter(replyRate, replyBurst),
	}
	for _, t := range limitedTypes {
		l.byType[t] = rate.NewLimiter(rate.Limit(msgRate), msgBurst)
	}
	return l
}

func orDefault(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

// allow reports whether a message of type t may be handled now; a refused
// one is answered with rate-limited (within replyRate) and logged at most
// every rateLogEvery.
func (s *session) allow(t string) bool {
	l, ok := s.limits.byType[t]
	if !ok || l.Allow() {
		return true
	}
	s.limits.dropped++
	if s.limits.log.Allow() {
		s.log.Warn("client rate-limited", zap.String("type", t), zap.Int("dropped", s.limits.dropped))
		s.limits.dropped = 0
	}
	if s.limits.replies.Allow() {
		s.sendError(CodeRateLimited, "too many "+t+" messages; this one was dropped", t)
	}
	return false
}
