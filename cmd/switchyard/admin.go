package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/config"
)

const adminUsage = `usage: switchyard admin COMMAND [flags]

commands:
  rooms                                        list rooms, participants and tracks
  kick --room R --participant P                remove a participant (id or identity), reason kicked
  mute --room R --participant P --track T      stop forwarding a track (--unmute to resume)
  close-room --room R                          make everyone in R leave, reason room-closed

common flags: --url (default: from listen), --token (default: mint a
1-minute admin token from the configured auth key), and every config flag.`

// adminTokenTTL is how long a token minted for one CLI call lives.
const adminTokenTTL = time.Minute

// runAdmin calls the server's admin API and prints its JSON answer.
func runAdmin(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	command := args[0]
	fs := flag.NewFlagSet("switchyard admin "+command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", "", "server `URL` (default http://127.0.0.1:PORT from listen, or https:// from tls.listen)")
	token := fs.String("token", "", "admin `token` (default: mint one from the configured auth key)")
	roomName := fs.String("room", "", "`room` name")
	participant := fs.String("participant", "", "participant `id or identity`")
	track := fs.String("track", "", "track `id`")
	unmute := fs.Bool("unmute", false, "resume forwarding instead of muting")
	cfg, err := config.Load(fs, args[1:], os.LookupEnv)
	if err != nil {
		return reportConfigError(stderr, err)
	}
	need := func(names ...string) bool {
		values := map[string]string{"room": *roomName, "participant": *participant, "track": *track}
		for _, n := range names {
			if values[n] == "" {
				fmt.Fprintf(stderr, "switchyard admin %s: --%s is required\n", command, n)
				return false
			}
		}
		return true
	}
	esc := url.PathEscape
	var method, path string
	var body any
	switch command {
	case "rooms":
		method, path = http.MethodGet, "/v1/admin/rooms"
	case "kick":
		if !need("room", "participant") {
			return 2
		}
		method, path = http.MethodPost, "/v1/admin/rooms/"+esc(*roomName)+"/participants/"+esc(*participant)+"/kick"
	case "mute":
		if !need("room", "participant", "track") {
			return 2
		}
		method, path = http.MethodPost, "/v1/admin/rooms/"+esc(*roomName)+"/participants/"+esc(*participant)+"/tracks/"+esc(*track)+"/mute"
		body = map[string]bool{"muted": !*unmute}
	case "close-room":
		if !need("room") {
			return 2
		}
		method, path = http.MethodPost, "/v1/admin/rooms/"+esc(*roomName)+"/close"
	default:
		fmt.Fprintf(stderr, "switchyard admin: unknown command %q\n%s\n", command, adminUsage)
		return 2
	}
	if *token == "" {
		a, err := authority(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "switchyard admin: no --token and cannot mint one:", err)
			return 2
		}
		*token, err = a.Issue(auth.Grant{Room: auth.AnyRoom, Identity: "switchyard-admin-cli", Permissions: auth.Permissions{Admin: true}}, adminTokenTTL)
		if err != nil {
			fmt.Fprintln(stderr, "switchyard admin:", err)
			return 2
		}
	}
	var trust *tls.Config // nil: the system's roots
	if *base == "" {
		if *base, trust, err = localTarget(cfg); err != nil {
			fmt.Fprintln(stderr, "switchyard admin:", err)
			return 1
		}
	}
	return callAdmin(strings.TrimRight(*base, "/")+path, method, *token, body, trust, stdout, stderr)
}

// localURL is the server on this host, from its listen address.
func localURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func callAdmin(target, method, token string, body any, trust *tls.Config, stdout, stderr io.Writer) int {
	var payload io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			fmt.Fprintln(stderr, "switchyard admin:", err)
			return 1
		}
		payload = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, target, payload)
	if err != nil {
		fmt.Fprintln(stderr, "switchyard admin:", err)
		return 2
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if trust != nil {
		client.Transport = &http.Transport{TLSClientConfig: trust}
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "switchyard admin:", err)
		return 1
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		fmt.Fprintln(stderr, "switchyard admin:", err)
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, data, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(data)
	}
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(stderr, "switchyard admin: %s\n%s\n", resp.Status, strings.TrimSpace(pretty.String()))
		return 1
	}
	fmt.Fprintln(stdout, strings.TrimSpace(pretty.String()))
	return 0
}
