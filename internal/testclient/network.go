package testclient

import (
	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v2"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
	"github.com/switchyard-sfu/switchyard/signal"
)

// NewAPIFor is NewAPI gathering only on the given network types, e.g.
// TCP4 alone for a client whose network blocks UDP.
func NewAPIFor(networks ...webrtc.NetworkType) (*webrtc.API, error) {
	return NewAPIWithNet(nil, networks...)
}

// NewAPIWithNet is NewAPIFor on the network stack n (nil: the host's), so
// a test can watch or shape what the client's sockets see.
func NewAPIWithNet(n transport.Net, networks ...webrtc.NetworkType) (*webrtc.API, error) {
	media := &webrtc.MediaEngine{}
	if err := media.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	// Offered like a browser does, so tests can send audio levels.
	if err := media.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sfu.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes(networks)
	s.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	if n != nil {
		s.SetNet(n)
	}
	// On the publish PC the client offers, so it controls ICE. pion would
	// hold a pair to a peer-reflexive server address (the server's check
	// arrived before its trickled candidate) for 1 s before nominating; a
	// browser does not, and everyone subscribing meanwhile would wait too.
	s.SetPrflxAcceptanceMinWait(0)
	// Each PC gets a streamTracker (streams.go), for a pion leak.
	f := &trackers{}
	registry := &interceptor.Registry{}
	registry.Add(f)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithSettingEngine(s), webrtc.WithInterceptorRegistry(registry))
	apiTrackers.Store(api, f)
	return api, nil
}

// RelayOnly makes peer connections created from now on use TURN relay
// candidates only (ICETransportPolicyRelay), as a browser told to.
func (c *Client) RelayOnly() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.relayOnly = true
}

// pcConfig is what a browser would pass to RTCPeerConnection: the
// ice_servers from "joined".
func (c *Client) pcConfig() webrtc.Configuration {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg := webrtc.Configuration{}
	for _, s := range c.iceServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if c.relayOnly {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return cfg
}

func (c *Client) setICEServers(servers []signal.ICEServer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.iceServers = servers
}

// SelectedPairs returns the selected ICE candidate pair of each peer
// connection (publish, then subscribe) that has one.
func (c *Client) SelectedPairs() []*webrtc.ICECandidatePair {
	c.mu.Lock()
	pcs := []*webrtc.PeerConnection{c.pub, c.sub}
	c.mu.Unlock()
	var pairs []*webrtc.ICECandidatePair
	for _, pc := range pcs {
		if pc == nil {
			continue
		}
		if pair, err := pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
			pairs = append(pairs, pair)
		}
	}
	return pairs
}
