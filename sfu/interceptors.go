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

// registerInterceptors sets up pion's interceptors where they fit:
//   - NACK generator: asks publishers for packets lost on the uplink;
//   - receiver reports toward publishers;
//   - transport-wide CC feedback toward publishers.
//
// Left out on purpose: pion's NACK responder, which copies every packet
// sent to every subscriber into its own buffer (nackResponder answers
// from the shared, refcounted packets instead), and pion's sender report
// interceptor, whose reports come from the server's clock (the track
// relays the publisher's own; see relaySenderReport).
func registerInterceptors(media *webrtc.MediaEngine, registry *interceptor.Registry) error {
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
	return nil
}
