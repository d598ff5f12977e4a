package sfu

import (
	"strings"

	"github.com/pion/webrtc/v3"
)

// knownMimeTypes are the spellings the server reports. MIME types are
// case-insensitive (RFC 6838) and publishers differ — GStreamer offers
// "audio/OPUS", browsers "audio/opus" — so one codec would otherwise show
// under two names in track-published, the session log and the admin API.
var knownMimeTypes = []string{
	webrtc.MimeTypeOpus, webrtc.MimeTypeG722, webrtc.MimeTypePCMU, webrtc.MimeTypePCMA,
	webrtc.MimeTypeVP8, webrtc.MimeTypeVP9, webrtc.MimeTypeH264, webrtc.MimeTypeAV1,
}

// canonicalMimeType returns pion's spelling of a known codec's MIME type,
// and an unknown one unchanged.
func canonicalMimeType(mime string) string {
	for _, known := range knownMimeTypes {
		if strings.EqualFold(mime, known) {
			return known
		}
	}
	return mime
}
