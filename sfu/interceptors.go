package sfu

import (
	"fmt"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v3"
)

// maxNACKsPerPacket bounds how often the server asks a publisher for one
// lost packet: ten tries 100 ms apart, after which the packet is too late
// for any subscriber's jitter buffer.
const maxNACKsPerPacket = 10

// registerInterceptors sets up pion's interceptors where they fit, and
// is the only place that does. Receive side (publishers):
//   - NACK generator: asks publishers for packets lost on the uplink;
//   - receiver reports toward publishers;
//   - transport-wide CC feedback toward publishers.
//
// Send side (subscribers): the congestion controller and the TWCC
// sequence numbers it reads (bwe.register, which keeps their order), and
// last chainCapture, through which DownTracks write into the chain.
//
// Left out on purpose: pion's NACK responder, which copies every packet
// sent to every subscriber into its own buffer (nackResponder answers
// from the shared, refcounted packets instead), and pion's sender report
// interceptor, whose reports come from the server's clock (the track
// relays the publisher's own; see relaySenderReport).
func registerInterceptors(media *webrtc.MediaEngine, registry *interceptor.Registry, bwe *bweHandoff) error {
	generator, err := nack.NewGeneratorInterceptor(nack.GeneratorMaxNacksPerPacket(maxNACKsPerPacket))
	if err != nil {
		return fmt.Errorf("nack generator: %w", err)
	}
	registry.Add(generator)
	receiverReports, err := report.NewReceiverInterceptor()
	if err != nil {
		return fmt.Errorf("receiver reports: %w", err)
	}
	registry.Add(receiverReports)
	if err := webrtc.ConfigureTWCCSender(media, registry); err != nil {
		return fmt.Errorf("twcc: %w", err)
	}
	if err := bwe.register(media, registry); err != nil {
		return err
	}
	// Last, so it sees the whole chain: forwarded packets enter it
	// without pion's per-packet allocations (chainwriter.go).
	registry.Add(chainCaptureFactory{})
	return nil
}

// registerHeaderExtensions negotiates the RTP header extensions the server
// reads: audio level (active speakers) and rid/mid (simulcast layers).
// The transport-wide CC one comes with its interceptors above.
func registerHeaderExtensions(media *webrtc.MediaEngine) error {
	// Receive direction only: the subscribe side strips extensions anyway.
	if err := media.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
		return fmt.Errorf("register audio level extension: %w", err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(media); err != nil {
		return fmt.Errorf("register simulcast extensions: %w", err)
	}
	return nil
}
