package sfu

import "strings"

// Codec families whose keyframes the server can recognise in RTP payloads.
// Layer switches wait for a keyframe, so simulcast needs one of these.
const (
	codecUnknown = iota
	codecVP8
	codecVP9
	codecH264
)

func codecFamily(mimeType string) int {
	switch strings.ToLower(mimeType) {
	case "video/vp8":
		return codecVP8
	case "video/vp9":
		return codecVP9
	case "video/h264":
		return codecH264
	}
	return codecUnknown
}

// isKeyframeStart reports whether payload is the first packet of a
// keyframe. It only reads bytes: no allocation on the forwarding path.
func isKeyframeStart(family int, payload []byte) bool {
	switch family {
	case codecVP8:
		vp8, ok := vp8Frame(payload)
		// Frame tag bit 0 is the inverse key frame flag (RFC 6386 §9.1).
		return ok && len(vp8) > 0 && vp8[0]&0x01 == 0
	case codecVP9:
		// RFC 9628 §4.2: P (inter-picture predicted) clear, B (start of frame) set.
		return len(payload) > 0 && payload[0]&0x40 == 0 && payload[0]&0x08 != 0
	case codecH264:
		return h264Keyframe(payload)
	}
	return false
}

// vp8Frame skips the VP8 payload descriptor (RFC 7741 §4.2) of a packet
// that starts partition 0 of a frame and returns the VP8 frame that
// follows; ok is false for any other packet.
func vp8Frame(payload []byte) (frame []byte, ok bool) {
	if len(payload) < 1 || payload[0]&0x10 == 0 || payload[0]&0x07 != 0 { // S clear, or not partition 0
		return nil, false
	}
	f, ok := vp8DescriptorFields(payload) // vp8munge.go
	if !ok || len(payload) <= f.size {
		return nil, false
	}
	return payload[f.size:], true
}

// vp8KeyframeSize reads the frame size from a VP8 keyframe's header
// (RFC 6386 §9.1): 3-byte frame tag, start code 9d 01 2a, then 14-bit
// width and height.
func vp8KeyframeSize(payload []byte) (width, height int, ok bool) {
	f, ok := vp8Frame(payload)
	if !ok || len(f) < 10 || f[0]&0x01 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	width = int(f[6]) | int(f[7]&0x3f)<<8
	height = int(f[8]) | int(f[9]&0x3f)<<8
	return width, height, width > 0 && height > 0
}

// h264Keyframe reports whether payload carries (the start of) an IDR
// slice or an SPS, alone, in a STAP-A, or as the first FU-A fragment.
func h264Keyframe(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	const (
		nalIDR   = 5
		nalSPS   = 7
		nalSTAPA = 24
		nalFUA   = 28
	)
	switch t := payload[0] & 0x1f; t {
	case nalIDR, nalSPS:
		return true
	case nalSTAPA:
		for i := 1; i+2 < len(payload); {
			size := int(payload[i])<<8 | int(payload[i+1])
			i += 2
			if size == 0 || i+size > len(payload) {
				return false
			}
			if nt := payload[i] & 0x1f; nt == nalIDR || nt == nalSPS {
				return true
			}
			i += size
		}
	case nalFUA:
		return len(payload) > 1 && payload[1]&0x80 != 0 && (payload[1]&0x1f == nalIDR || payload[1]&0x1f == nalSPS)
	}
	return false
}
