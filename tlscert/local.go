package tlscert

import (
	"net"
	"os"
	"strings"
)

// LocalNames are what a LAN certificate should cover: localhost, the
// machine's host name (and its .local mDNS form), loopback, and every
// address of the interfaces that are up, link-local ones excepted
// (browsers cannot use them in a URL without a zone).
func LocalNames() (names []string, ips []net.IP) {
	names = []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		names = append(names, h)
		if !strings.Contains(h, ".") {
			names = append(names, h+".local")
		}
	}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	ifaces, err := net.Interfaces()
	if err != nil {
		return names, ips
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
				continue
			}
			ips = append(ips, ipn.IP)
		}
	}
	return names, ips
}
