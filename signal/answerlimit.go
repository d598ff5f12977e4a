package signal

import (
	"bytes"
	"encoding/json"
	"io"
)

// AnswerBytesPerTrack is what one received track adds to a subscriber's
// answer, with margin: Chromium's answers for a full 50-person room took
// ~620 bytes per m-line. Config validation uses it to relate
// room.max_participants × room.max_tracks to signaling.max_message_size.
const AnswerBytesPerTrack = 1 << 10

// answerBase covers an answer's session-level lines and its data channel.
const answerBase = 8 << 10

// AnswerLimit is the largest subscribe answer a room of participants,
// each publishing up to tracks, can need: the answers to the server's own
// offers are accepted up to this size whatever signaling.max_message_size
// says, so growing rooms never leave a subscriber unable to answer.
func AnswerLimit(participants, tracks int) int64 {
	return int64(max(participants-1, 0))*int64(tracks)*AnswerBytesPerTrack + answerBase
}

// readOversized finishes a frame that exceeded MaxMessageSize. A
// subscribe answer up to AnswerLimit is returned for dispatch; anything
// else is discarded (ok false). err is a read error that ends the session.
func (s *session) readOversized(r io.Reader, head []byte) (data []byte, ok bool, err error) {
	limit := max(s.opts.AnswerLimit, s.opts.MaxMessageSize)
	if limit > s.opts.MaxMessageSize && looksLikeSubscribeAnswer(head) {
		rest, err := io.ReadAll(io.LimitReader(r, limit+1-int64(len(head))))
		if err != nil {
			return nil, false, err
		}
		data = append(head, rest...)
		if int64(len(data)) <= limit && isSubscribeAnswer(data) {
			return data, true, nil
		}
	}
	// Past the hard limit gorilla closes with 1009 and Copy fails.
	_, err = io.Copy(io.Discard, r)
	return nil, false, err
}

// looksLikeSubscribeAnswer is a cheap guess from the frame's start, to
// avoid buffering frames that cannot be answers; isSubscribeAnswer decides.
func looksLikeSubscribeAnswer(head []byte) bool {
	return bytes.Contains(head, []byte(`"answer"`)) && bytes.Contains(head, []byte(`"subscribe"`))
}

func isSubscribeAnswer(data []byte) bool {
	var m struct {
		Type string `json:"type"`
		PC   string `json:"pc"`
	}
	return json.Unmarshal(data, &m) == nil && m.Type == TypeAnswer && m.PC == PCSubscribe
}
