package config

import (
	"strings"
	"time"
)

// LimitsConfig bounds what one client may make the server do. Every
// refusal reaches the client as an error with code "rate-limited" (rates)
// or the limit's own code (docs/protocol.md).
type LimitsConfig struct {
	// MaxTracks is how many tracks one participant may publish at once.
	MaxTracks int `yaml:"max_tracks"`
	// MaxRemoteCandidates caps the ICE candidates a client may give one
	// peer connection per ICE generation.
	MaxRemoteCandidates int `yaml:"max_remote_candidates"`
	// MessageRate and MessageBurst limit, per socket and per message type,
	// the messages that change state or make the server tell others
	// (mute, subscription, offer, answer).
	MessageRate  int `yaml:"message_rate"`
	MessageBurst int `yaml:"message_burst"`
	// JoinRate and JoinBurst limit joins and room switches per socket.
	JoinRate  int `yaml:"join_rate"`
	JoinBurst int `yaml:"join_burst"`
}

// HTTPConfig bounds connections and time on the HTTP side.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included; a
	// WebSocket's reads are bounded by the ping timeout instead.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	MaxHeaderKiB int           `yaml:"max_header_kib"`
	// MaxWebSockets and MaxWebSocketsPerIP cap open signaling sockets in
	// all and per remote address; 0 means no cap.
	MaxWebSockets      int `yaml:"max_websockets"`
	MaxWebSocketsPerIP int `yaml:"max_websockets_per_ip"`
	// JoinTimeout closes a WebSocket that has not joined a room this long
	// after it opened.
	JoinTimeout time.Duration `yaml:"join_timeout"`
	// Hosts are the host names (host or host:port) this server is reached
	// at. A browser's Origin must name one of them (or be in
	// signaling.allowed_origins); empty trusts the request's Host header,
	// which a DNS-rebinding page controls.
	Hosts []string `yaml:"hosts"`
	// MetricsListen serves /metrics on its own host:port instead of the
	// main listener; MetricsToken, when set, is required as a bearer token.
	MetricsListen string `yaml:"metrics_listen"`
	MetricsToken  string `yaml:"metrics_token"`
	// BeaconRate and BeaconBurst limit leave beacons per remote address.
	BeaconRate  int `yaml:"beacon_rate"`
	BeaconBurst int `yaml:"beacon_burst"`
}

func defaultLimits() LimitsConfig {
	return LimitsConfig{MaxTracks: 4, MaxRemoteCandidates: 32, MessageRate: 10, MessageBurst: 20, JoinRate: 1, JoinBurst: 5}
}

func defaultHTTP() HTTPConfig {
	return HTTPConfig{
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 60 * time.Second,
		MaxHeaderKiB: 16, MaxWebSockets: 10000, MaxWebSocketsPerIP: 100, JoinTimeout: 10 * time.Second,
		BeaconRate: 5, BeaconBurst: 20,
	}
}

// answerBytesPerTrack and answerBase mirror signal.AnswerLimit (config
// must not import signal): the largest subscribe answer a full room needs.
const (
	answerBytesPerTrack = 1 << 10
	answerBase          = 8 << 10
	hardLimitFactor     = 16 // signal's: frames past it close the socket
)

func (c Config) validateLimits(p *problems) {
	l, h := c.Limits, c.HTTP
	positive := func(key string, v float64) {
		if v <= 0 {
			p.add("%s: %v must be greater than 0", key, v)
		}
	}
	positive("limits.max_tracks", float64(l.MaxTracks))
	positive("limits.max_remote_candidates", float64(l.MaxRemoteCandidates))
	positive("limits.message_rate", float64(l.MessageRate))
	positive("limits.message_burst", float64(l.MessageBurst))
	positive("limits.join_rate", float64(l.JoinRate))
	positive("limits.join_burst", float64(l.JoinBurst))
	positive("http.read_header_timeout", h.ReadHeaderTimeout.Seconds())
	positive("http.read_timeout", h.ReadTimeout.Seconds())
	positive("http.idle_timeout", h.IdleTimeout.Seconds())
	positive("http.max_header_kib", float64(h.MaxHeaderKiB))
	positive("http.join_timeout", h.JoinTimeout.Seconds())
	positive("http.beacon_rate", float64(h.BeaconRate))
	positive("http.beacon_burst", float64(h.BeaconBurst))
	if h.MaxWebSockets < 0 || h.MaxWebSocketsPerIP < 0 {
		p.add("http.max_websockets: %d and http.max_websockets_per_ip: %d must not be negative (0 = no cap)", h.MaxWebSockets, h.MaxWebSocketsPerIP)
	}
	for i, host := range h.Hosts {
		if host == "" || strings.ContainsAny(host, " /") {
			p.add("http.hosts[%d]: %q is not a host name or host:port", i, host)
		}
	}
	checkListen(p, "http.metrics_listen", h.MetricsListen)
	// A full room's subscribe answer must fit what the socket will read;
	// answers up to answerLimit are accepted beyond max_message_size.
	if n := c.Room.MaxParticipants; n >= 1 && l.MaxTracks >= 1 && c.Signaling.MaxMessageSize >= minMessageSize {
		need := int64(n-1)*int64(l.MaxTracks)*answerBytesPerTrack + answerBase
		if have := hardLimitFactor * c.Signaling.MaxMessageSize; need > have {
			p.add("room.max_participants: %d × limits.max_tracks %d needs subscribe answers up to %d bytes; "+
				"raise signaling.max_message_size to at least %d or lower one of them",
				n, l.MaxTracks, need, (need+hardLimitFactor-1)/hardLimitFactor)
		}
	}
}

func init() {
	for k, v := range map[string]string{
		"limits.max_tracks":            "most tracks (`n`) one participant may publish at once",
		"limits.max_remote_candidates": "most ICE candidates (`n`) a client may give one peer connection per ICE generation",
		"limits.message_rate":          "mute/subscription/offer messages a `second` per socket and type",
		"limits.message_burst":         "burst (`n`) allowed above limits.message_rate",
		"limits.join_rate":             "joins and room switches a `second` per socket",
		"limits.join_burst":            "burst (`n`) allowed above limits.join_rate",
		"http.read_header_timeout":     "time (`duration`) to read a request's headers",
		"http.read_timeout":            "time (`duration`) to read a whole request, body included",
		"http.idle_timeout":            "close keep-alive connections idle this `long`",
		"http.max_header_kib":          "largest request header block, in `KiB`",
		"http.max_websockets":          "most open signaling WebSockets (`n`); 0 = no cap",
		"http.max_websockets_per_ip":   "most open signaling WebSockets (`n`) per remote address; 0 = no cap",
		"http.join_timeout":            "close a WebSocket that has not joined a room within this `long`",
		"http.hosts":                   "host `names` this server is reached at; a browser's Origin must name one (empty: the request's Host)",
		"http.metrics_listen":          "serve /metrics on this `host:port` instead of the main listener",
		"http.metrics_token":           "bearer `token` required for /metrics; empty: none",
		"http.beacon_rate":             "leave beacons a `second` per remote address",
		"http.beacon_burst":            "burst (`n`) allowed above http.beacon_rate",
	} {
		help[k] = v
	}
}
