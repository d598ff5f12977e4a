package config

// Keys added for issue 13's remaining items (socket tokens, session log
// rotation), registered here so the shared files stay small.
func init() {
	for k, v := range map[string]string{
		"auth.require_socket_token": "with auth on, refuse (401) a signaling WebSocket whose URL has no ?token=",
		"session_log.max_size_mb":   "rotate the session log once it holds this many `MiB`; 0 = never",
		"session_log.max_age":       "rotate the session log once its first record is this `old`; 0 = never",
		"session_log.max_segments":  "keep this many rotated session log `files`, deleting older ones no webhook or open session needs; 0 = all",
	} {
		help[k] = v
	}
}

func (p *problems) checkSessionLogRotation(s SessionLogConfig) {
	if s.MaxSizeMB < 0 {
		p.add("session_log.max_size_mb: is %d, must be 0 (never) or more", s.MaxSizeMB)
	}
	if s.MaxAge < 0 {
		p.add("session_log.max_age: is %s, must be 0 (never) or more", s.MaxAge)
	}
	if s.MaxSegments < 0 {
		p.add("session_log.max_segments: is %d, must be 0 (keep all) or more", s.MaxSegments)
	}
}
