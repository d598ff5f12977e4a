package config

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const documentedFile = "../configs/switchyard.yaml"

// env is a fake environment for Load.
type env map[string]string

func (e env) lookup(k string) (string, bool) { v, ok := e[k]; return v, ok }

func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("switchyard", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func load(t *testing.T, args []string, e env) (Config, error) {
	t.Helper()
	return Load(newFlagSet(), args, e.lookup)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "switchyard.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// problemsOf returns the problems of a *ValidationError, failing otherwise.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Problems
}

func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	got := problemsOf(t, err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n  %s", len(got), len(want), strings.Join(got, "\n  "))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to contain %q", i, got[i], want[i])
		}
	}
}

func TestKeys(t *testing.T) {
	var paths []string
	envs, flags := map[string]string{}, map[string]string{}
	for _, k := range keys {
		paths = append(paths, k.path)
		if other, dup := envs[k.envName()]; dup {
			t.Errorf("%s and %s share the variable %s", other, k.path, k.envName())
		}
		envs[k.envName()] = k.path
		if other, dup := flags[k.flagName()]; dup {
			t.Errorf("%s and %s share the flag %s", other, k.path, k.flagName())
		}
		flags[k.flagName()] = k.path
		if k.flagName() == configFlag || k.envName() == envConfigFile {
			t.Errorf("key %s clashes with --config / %s", k.path, envConfigFile)
		}
		if help[k.path] == "" {
			t.Errorf("key %s has no flag help in load.go", k.path)
		}
	}
	for p := range help {
		if _, ok := flags[p]; !ok {
			t.Errorf("help has an entry for %s, which is no key", p)
		}
	}
	want := []string{
		"listen",
		"ice.udp_listen", "ice.port_min", "ice.port_max", "ice.tcp_listen", "ice.public_ips", "ice.detect_public_ip",
		"ice.stun_servers", "ice.interfaces", "ice.ips", "ice.loopback", "ice.udp4_only",
		"turn.enabled", "turn.udp_listen", "turn.tcp_listen", "turn.tls_listen", "turn.cert_file", "turn.key_file",
		"turn.realm", "turn.host", "turn.relay_ip", "turn.secret", "turn.credential_ttl",
		"signaling.ping_interval", "signaling.ping_timeout", "signaling.max_message_size", "signaling.allowed_origins",
		"room.max_participants",
		"room.reconnect_grace",
		"log.level", "log.format",
		"session_log.path",
		"session_log.max_size_mb", "session_log.max_age",
		"session_log.max_segments",
		"auth.secret", "auth.secret_file",
		"auth.require_socket_token",
		"shutdown.drain_timeout",
		"limits.max_tracks",
		"limits.max_remote_candidates",
		"limits.message_rate",
		"limits.message_burst",
		"limits.join_rate",
		"limits.join_burst",
		"http.read_header_timeout",
		"http.read_timeout",
		"http.idle_timeout",
		"http.max_header_kib",
		"http.max_websockets",
		"http.max_websockets_per_ip",
		"http.join_timeout",
		"http.hosts",
		"http.metrics_listen",
		"http.metrics_token",
		"http.beacon_rate",
		"http.beacon_burst",
		"webhooks.urls", "webhooks.key", "webhooks.timeout", "webhooks.min_backoff", "webhooks.max_backoff",
		"cluster.nats_url", "cluster.node_id", "cluster.advertise_url", "cluster.heartbeat_interval", "cluster.lost_timeout",
		"tls.listen", "tls.cert_file", "tls.key_file", "tls.acme_hosts", "tls.acme_email", "tls.dir",
	}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("keys = %q\nwant   %q", paths, want)
	}
	if got := envs["SWITCHYARD_SIGNALING_PING_TIMEOUT"]; got != "signaling.ping_timeout" {
		t.Errorf("SWITCHYARD_SIGNALING_PING_TIMEOUT names %q", got)
	}
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNoInputGivesDefault(t *testing.T) {
	cfg, err := load(t, nil, env{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("got %+v\nwant %+v", cfg, Default())
	}
}

// The documented file must say exactly what the code does: loading it changes
// nothing, it lists every key, and it names each key's variable and flag.
func TestDocumentedFileIsDefault(t *testing.T) {
	cfg, err := load(t, []string{"--config", documentedFile}, env{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, Default()) {
		t.Errorf("%s gives\n  %+v\nDefault() is\n  %+v", documentedFile, cfg, Default())
	}

	data, err := os.ReadFile(documentedFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	inFile := map[string]bool{}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := prefix + n.Content[i].Value
			if v := n.Content[i+1]; v.Kind == yaml.MappingNode {
				walk(v, p+".")
			} else {
				inFile[p] = true
			}
		}
	}
	walk(doc.Content[0], "")
	for _, k := range keys {
		if !inFile[k.path] {
			t.Errorf("%s does not list key %s", documentedFile, k.path)
		}
		if !strings.Contains(string(data), "env "+k.envName()+", flag --"+k.flagName()+"\n") {
			t.Errorf("%s has no comment line \"env %s, flag --%s\"", documentedFile, k.envName(), k.flagName())
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
listen: "127.0.0.1:1000"
ice:
  port_min: 1000
  port_max: 60000
  public_ips: [198.51.100.1]
  loopback: false
signaling:
  ping_timeout: 10s
log:
  level: warn
`)
	type check struct {
		name string
		get  func(Config) any
		want any
	}
	tests := []struct {
		name   string
		args   []string
		env    env
		checks []check
	}{
		{
			name: "defaults",
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, ":7880"},
				{"ice.port_min", func(c Config) any { return c.ICE.PortMin }, uint16(0)},
				{"ice.loopback", func(c Config) any { return c.ICE.Loopback }, true},
				{"signaling.ping_timeout", func(c Config) any { return c.Signaling.PingTimeout }, 3 * time.Second},
			},
		},
		{
			name: "file over defaults",
			args: []string{"--config", file},
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, "127.0.0.1:1000"},
				{"ice.port_min", func(c Config) any { return c.ICE.PortMin }, uint16(1000)},
				{"ice.public_ips", func(c Config) any { return c.ICE.PublicIPs }, []string{"198.51.100.1"}},
				{"ice.loopback", func(c Config) any { return c.ICE.Loopback }, false},
				{"signaling.ping_timeout", func(c Config) any { return c.Signaling.PingTimeout }, 10 * time.Second},
				{"signaling.ping_interval (not in file)", func(c Config) any { return c.Signaling.PingInterval }, time.Second},
				{"log.level", func(c Config) any { return c.Log.Level }, "warn"},
				{"log.format (not in file)", func(c Config) any { return c.Log.Format }, "console"},
			},
		},
		{
			name: "env over file",
			args: []string{"--config", file},
			env: env{
				"SWITCHYARD_LISTEN":                 "127.0.0.1:2000",
				"SWITCHYARD_ICE_PORT_MIN":           "2000",
				"SWITCHYARD_ICE_PUBLIC_IPS":         " 198.51.100.2, 2001:db8::2 ,",
				"SWITCHYARD_ICE_LOOPBACK":           "true",
				"SWITCHYARD_SIGNALING_PING_TIMEOUT": "20s",
			},
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, "127.0.0.1:2000"},
				{"ice.port_min", func(c Config) any { return c.ICE.PortMin }, uint16(2000)},
				{"ice.port_max (file only)", func(c Config) any { return c.ICE.PortMax }, uint16(60000)},
				{"ice.public_ips", func(c Config) any { return c.ICE.PublicIPs }, []string{"198.51.100.2", "2001:db8::2"}},
				{"ice.loopback", func(c Config) any { return c.ICE.Loopback }, true},
				{"signaling.ping_timeout", func(c Config) any { return c.Signaling.PingTimeout }, 20 * time.Second},
				{"log.level (file only)", func(c Config) any { return c.Log.Level }, "warn"},
			},
		},
		{
			name: "flag over env",
			args: []string{"--config", file, "--listen=127.0.0.1:3000", "--ice.port_min", "3000",
				"--ice.public_ips=198.51.100.3", "--ice.loopback=false", "--signaling.ping_timeout", "30s"},
			env: env{
				"SWITCHYARD_LISTEN":                 "127.0.0.1:2000",
				"SWITCHYARD_ICE_PORT_MIN":           "2000",
				"SWITCHYARD_ICE_PUBLIC_IPS":         "198.51.100.2",
				"SWITCHYARD_ICE_LOOPBACK":           "true",
				"SWITCHYARD_SIGNALING_PING_TIMEOUT": "20s",
				"SWITCHYARD_LOG_LEVEL":              "error",
			},
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, "127.0.0.1:3000"},
				{"ice.port_min", func(c Config) any { return c.ICE.PortMin }, uint16(3000)},
				{"ice.public_ips", func(c Config) any { return c.ICE.PublicIPs }, []string{"198.51.100.3"}},
				{"ice.loopback", func(c Config) any { return c.ICE.Loopback }, false},
				{"signaling.ping_timeout", func(c Config) any { return c.Signaling.PingTimeout }, 30 * time.Second},
				{"log.level (env, no flag given)", func(c Config) any { return c.Log.Level }, "error"},
			},
		},
		{
			name: "flag over default, no file",
			args: []string{"--log.format", "json", "--room.max_participants=7", "--signaling.max_message_size=2048"},
			checks: []check{
				{"log.format", func(c Config) any { return c.Log.Format }, "json"},
				{"room.max_participants", func(c Config) any { return c.Room.MaxParticipants }, 7},
				{"signaling.max_message_size", func(c Config) any { return c.Signaling.MaxMessageSize }, int64(2048)},
				{"listen", func(c Config) any { return c.Listen }, ":7880"},
			},
		},
		{
			name: "SWITCHYARD_CONFIG names the file",
			env:  env{"SWITCHYARD_CONFIG": file},
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, "127.0.0.1:1000"},
			},
		},
		{
			name: "--config wins over SWITCHYARD_CONFIG",
			args: []string{"--config", file},
			env:  env{"SWITCHYARD_CONFIG": "/does/not/exist.yaml"},
			checks: []check{
				{"listen", func(c Config) any { return c.Listen }, "127.0.0.1:1000"},
			},
		},
		{
			name: "bool flag without value, repeated list flag, bare list flag",
			args: []string{"--ice.udp4_only", "--ice.stun_servers", "stun:a.example:3478,stun:b.example",
				"--ice.stun_servers=stuns:c.example:5349", "--ice.interfaces", "eth0"},
			checks: []check{
				{"ice.udp4_only", func(c Config) any { return c.ICE.UDP4Only }, true},
				{"ice.stun_servers", func(c Config) any { return c.ICE.STUNServers },
					[]string{"stun:a.example:3478", "stun:b.example", "stuns:c.example:5349"}},
				{"ice.interfaces", func(c Config) any { return c.ICE.Interfaces }, []string{"eth0"}},
			},
		},
		{
			name: "empty env and flag values clear lists and strings",
			args: []string{"--config", file, "--signaling.allowed_origins="},
			env: env{
				"SWITCHYARD_ICE_PUBLIC_IPS":            "",
				"SWITCHYARD_SESSION_LOG_PATH":          "",
				"SWITCHYARD_SIGNALING_ALLOWED_ORIGINS": "*",
			},
			checks: []check{
				{"ice.public_ips", func(c Config) any { return c.ICE.PublicIPs }, []string(nil)},
				{"session_log.path", func(c Config) any { return c.SessionLog.Path }, ""},
				{"signaling.allowed_origins", func(c Config) any { return c.Signaling.AllowedOrigins }, []string(nil)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if got := c.get(cfg); !reflect.DeepEqual(got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.name, got, c.want)
				}
			}
		})
	}
}

// Every key can be set each way; this catches a key the generic code misses.
func TestEveryKeyFromEveryLayer(t *testing.T) {
	values := map[string]struct {
		text string
		want any
	}{
		"listen":                       {"127.0.0.1:9", "127.0.0.1:9"},
		"ice.udp_listen":               {"127.0.0.1:9", "127.0.0.1:9"},
		"ice.port_min":                 {"40000", uint16(40000)},
		"ice.port_max":                 {"40010", uint16(40010)},
		"ice.tcp_listen":               {"127.0.0.1:10", "127.0.0.1:10"},
		"ice.public_ips":               {"192.0.2.1", []string{"192.0.2.1"}},
		"ice.detect_public_ip":         {"false", false},
		"ice.stun_servers":             {"stun:stun.example.com:3478", []string{"stun:stun.example.com:3478"}},
		"ice.interfaces":               {"eth1", []string{"eth1"}},
		"ice.ips":                      {"10.0.0.2", []string{"10.0.0.2"}},
		"turn.enabled":                 {"true", true},
		"turn.udp_listen":              {"127.0.0.1:11", "127.0.0.1:11"},
		"turn.tcp_listen":              {"127.0.0.1:12", "127.0.0.1:12"},
		"turn.tls_listen":              {"127.0.0.1:13", "127.0.0.1:13"},
		"turn.cert_file":               {"/tmp/c.pem", "/tmp/c.pem"},
		"turn.key_file":                {"/tmp/k.pem", "/tmp/k.pem"},
		"turn.realm":                   {"example", "example"},
		"turn.host":                    {"turn.example.com", "turn.example.com"},
		"turn.relay_ip":                {"10.0.0.2", "10.0.0.2"},
		"turn.secret":                  {"fedcba9876543210fedcba9876543210", "fedcba9876543210fedcba9876543210"},
		"turn.credential_ttl":          {"1h", time.Hour},
		"ice.loopback":                 {"false", false},
		"ice.udp4_only":                {"true", true},
		"signaling.ping_interval":      {"2s", 2 * time.Second},
		"signaling.ping_timeout":       {"5s", 5 * time.Second},
		"signaling.max_message_size":   {"4096", int64(4096)},
		"signaling.allowed_origins":    {"https://app.example.com", []string{"https://app.example.com"}},
		"room.max_participants":        {"3", 3},
		"room.reconnect_grace":         {"2s", 2 * time.Second},
		"log.level":                    {"debug", "debug"},
		"log.format":                   {"json", "json"},
		"session_log.path":             {"/tmp/s.jsonl", "/tmp/s.jsonl"},
		"auth.secret":                  {"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
		"auth.secret_file":             {"/run/secrets/key", "/run/secrets/key"},
		"shutdown.drain_timeout":       {"30s", 30 * time.Second},
		"limits.max_tracks":            {"3", 3},
		"limits.max_remote_candidates": {"16", 16},
		"limits.message_rate":          {"7", 7},
		"limits.message_burst":         {"9", 9},
		"limits.join_rate":             {"2", 2},
		"limits.join_burst":            {"4", 4},
		"http.read_header_timeout":     {"3s", 3 * time.Second},
		"http.read_timeout":            {"4s", 4 * time.Second},
		"http.idle_timeout":            {"5s", 5 * time.Second},
		"http.max_header_kib":          {"8", 8},
		"http.max_websockets":          {"50", 50},
		"http.max_websockets_per_ip":   {"5", 5},
		"http.join_timeout":            {"6s", 6 * time.Second},
		"http.hosts":                   {"meet.example.com", []string{"meet.example.com"}},
		"http.metrics_listen":          {"127.0.0.1:14", "127.0.0.1:14"},
		"http.metrics_token":           {"m3tr1cs", "m3tr1cs"},
		"http.beacon_rate":             {"3", 3},
		"http.beacon_burst":            {"6", 6},
		"webhooks.urls":                {"http://127.0.0.1:9/hook", []string{"http://127.0.0.1:9/hook"}},
		"webhooks.key":                 {"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"},
		"webhooks.timeout":             {"2s", 2 * time.Second},
		"webhooks.min_backoff":         {"50ms", 50 * time.Millisecond},
		"webhooks.max_backoff":         {"1m", time.Minute},
		"cluster.nats_url":             {"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		"cluster.node_id":              {"node-a", "node-a"},
		"cluster.advertise_url":        {"ws://127.0.0.1:7880/v1/rtc", "ws://127.0.0.1:7880/v1/rtc"},
		"cluster.heartbeat_interval":   {"100ms", 100 * time.Millisecond},
		"cluster.lost_timeout":         {"2s", 2 * time.Second},
		"tls.listen":                   {"127.0.0.1:15", "127.0.0.1:15"},
		"tls.cert_file":                {"/tmp/tls.pem", "/tmp/tls.pem"},
		"tls.key_file":                 {"/tmp/tls.key", "/tmp/tls.key"},
		"tls.acme_hosts":               {"meet.example.com", []string{"meet.example.com"}},
		"tls.acme_email":               {"ops@example.com", "ops@example.com"},
		"tls.dir":                      {"/tmp/tls", "/tmp/tls"},
		"auth.require_socket_token":    {"true", true},
		"session_log.max_size_mb":      {"64", 64},
		"session_log.max_age":          {"24h", 24 * time.Hour},
		"session_log.max_segments":     {"30", 30},
	}
	if len(values) != len(keys) {
		t.Fatalf("test covers %d keys, Config has %d", len(values), len(keys))
	}
	var yamlText strings.Builder
	var args []string
	e := env{}
	sections := map[string][]string{}
	var order []string
	for _, k := range keys {
		v, ok := values[k.path]
		if !ok {
			t.Fatalf("no test value for %s", k.path)
		}
		args = append(args, "--"+k.flagName()+"="+v.text)
		e[k.envName()] = v.text
		section, leaf, nested := strings.Cut(k.path, ".")
		line := leaf + ": " + v.text
		if k.typ.Kind() == reflect.Slice {
			line = leaf + ": [" + v.text + "]"
		}
		if !nested {
			yamlText.WriteString(section + ": " + v.text + "\n")
			continue
		}
		if _, seen := sections[section]; !seen {
			order = append(order, section)
		}
		sections[section] = append(sections[section], line)
	}
	for _, s := range order {
		yamlText.WriteString(s + ":\n  " + strings.Join(sections[s], "\n  ") + "\n")
	}
	file := writeFile(t, yamlText.String())

	for name, run := range map[string]func() (Config, error){
		"file":  func() (Config, error) { return load(t, []string{"--config", file}, env{}) },
		"env":   func() (Config, error) { return load(t, nil, e) },
		"flags": func() (Config, error) { return load(t, args, env{}) },
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := run()
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				if got := k.field(&cfg).Interface(); !reflect.DeepEqual(got, values[k.path].want) {
					t.Errorf("%s = %#v, want %#v", k.path, got, values[k.path].want)
				}
			}
		})
	}
}

func TestCallerFlagsAndHelp(t *testing.T) {
	fs := newFlagSet()
	version := fs.Bool("version", false, "print the version and exit")
	cfg, err := Load(fs, []string{"--version", "--listen=:9000"}, env{}.lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !*version || cfg.Listen != ":9000" {
		t.Errorf("version=%v listen=%q", *version, cfg.Listen)
	}

	// A bad config still leaves the caller's flags parsed.
	fs = newFlagSet()
	version = fs.Bool("version", false, "")
	if _, err := Load(fs, []string{"--version", "--config", "/does/not/exist.yaml"}, env{}.lookup); err == nil {
		t.Fatal("missing file: no error")
	}
	if !*version {
		t.Error("--version not parsed when Load failed after parsing")
	}

	fs = newFlagSet()
	var usage strings.Builder
	fs.SetOutput(&usage)
	if _, err := Load(fs, []string{"-h"}, env{}.lookup); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: err = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"-ice.port_min port", "SWITCHYARD_ICE_PORT_MIN", "-signaling.ping_timeout long",
		`(default 3s)`, "-config file", `(default :7880)`, "-room.max_participants n"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, usage.String())
		}
	}

	fs = newFlagSet()
	fs.String("listen", "", "the caller's own")
	if _, err := Load(fs, nil, env{}.lookup); err == nil || !strings.Contains(err.Error(), "--listen") {
		t.Errorf("clashing flag: err = %v", err)
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--ice.port_min=70000"}, `invalid value "70000" for flag -ice.port_min: must be an integer between 0 and 65535`},
		{[]string{"--ice.port_max", "-1"}, `invalid value "-1" for flag -ice.port_max`},
		{[]string{"--ice.loopback=maybe"}, `invalid boolean value "maybe" for -ice.loopback: must be true or false`},
		{[]string{"--signaling.ping_interval=5"}, `invalid value "5" for flag -signaling.ping_interval: must be a duration`},
		{[]string{"--signaling.max_message_size=1k"}, `invalid value "1k" for flag -signaling.max_message_size: must be an integer`},
		{[]string{"--room.max_participants=lots"}, `invalid value "lots" for flag -room.max_participants`},
		{[]string{"--no.such.key=1"}, "flag provided but not defined: -no.such.key"},
		{[]string{"stray"}, `unexpected argument "stray"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := load(t, tt.args, env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestBadEnv(t *testing.T) {
	// All bad variables are reported together, in key order, each by key.
	_, err := load(t, nil, env{
		"SWITCHYARD_ICE_PORT_MIN":                "abc",
		"SWITCHYARD_ICE_PORT_MAX":                "65536",
		"SWITCHYARD_ICE_LOOPBACK":                "yes please",
		"SWITCHYARD_SIGNALING_PING_TIMEOUT":      "3",
		"SWITCHYARD_SIGNALING_MAX_MESSAGE_SIZE":  "",
		"SWITCHYARD_ROOM_MAX_PARTICIPANTS":       "1.5",
		"SWITCHYARD_LOG_LEVEL":                   "verbose", // parses; Validate is not reached
		"SWITCHYARD_NOT_A_KEY":                   "ignored",
		"SWITCHYARD_SIGNALING_ALLOWED_ORIGINS_X": "ignored",
	})
	wantProblems(t, err,
		`ice.port_min: invalid value "abc" in SWITCHYARD_ICE_PORT_MIN: must be an integer between 0 and 65535`,
		`ice.port_max: invalid value "65536" in SWITCHYARD_ICE_PORT_MAX`,
		`ice.loopback: invalid value "yes please" in SWITCHYARD_ICE_LOOPBACK: must be true or false`,
		`signaling.ping_timeout: invalid value "3" in SWITCHYARD_SIGNALING_PING_TIMEOUT: must be a duration`,
		`signaling.max_message_size: invalid value "" in SWITCHYARD_SIGNALING_MAX_MESSAGE_SIZE: must be an integer between -9223372036854775808 and 9223372036854775807`,
		`room.max_participants: invalid value "1.5" in SWITCHYARD_ROOM_MAX_PARTICIPANTS`,
	)
}

func TestFile(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // problems, in order; nil means success
	}{
		{name: "empty file", yaml: ""},
		{name: "comments only", yaml: "# nothing\n"},
		{name: "empty section", yaml: "ice:\nlog:\n  level: debug\n"},
		{
			name: "unknown top-level key",
			yaml: "listen: :1\nlisten_addr: :2\n",
			want: []string{"listen_addr: unknown key at ", "line 2"},
		},
		{
			name: "unknown nested keys are all reported",
			yaml: "ice:\n  port_mn: 1\n  loopback: true\nsignaling:\n  ping: 1s\nroom:\n  max: 2\n",
			want: []string{"ice.port_mn: unknown key", "signaling.ping: unknown key", "room.max: unknown key"},
		},
		{
			name: "key case matters",
			yaml: "Listen: :1\n",
			want: []string{"Listen: unknown key"},
		},
		{
			name: "bad values name the key and line",
			yaml: "ice:\n  port_min: seventy\n  port_max: 70000\n  loopback: maybe\n  public_ips: 192.0.2.1\nsignaling:\n  ping_interval: 5\n",
			want: []string{
				`ice.port_min: invalid value "seventy" at `, `ice.port_max: invalid value "70000" at `,
				`ice.loopback: invalid value "maybe" at `, `ice.public_ips: invalid value "192.0.2.1" at `,
				`signaling.ping_interval: invalid value "5" at `,
			},
		},
		{
			name: "section that is not a mapping",
			yaml: "ice: 5\nlog: [a]\n",
			want: []string{"ice: must be a mapping of keys at", "log: must be a mapping"},
		},
		{
			name: "mapping where a value belongs",
			yaml: "listen:\n  host: x\n",
			want: []string{"listen: invalid value (a mapping)"},
		},
		{
			name: "top level not a mapping",
			yaml: "- a\n",
			want: []string{"(top level): must be a mapping"},
		},
		{
			name: "duplicate key",
			yaml: "log:\n  level: debug\n  level: warn\n",
			want: []string{"log.level: duplicate key at", "line 3 (first at line 2)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeFile(t, tt.yaml)
			_, err := load(t, []string{"--config", file}, env{})
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			got := problemsOf(t, err)
			joined := strings.Join(got, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("problems lack %q:\n%s", w, joined)
				}
			}
			for _, p := range got {
				if !strings.Contains(p, file) {
					t.Errorf("problem %q does not name the file", p)
				}
			}
		})
	}

	t.Run("line numbers", func(t *testing.T) {
		file := writeFile(t, "listen: :1\n\nice:\n  port_min: x\n")
		_, err := load(t, []string{"--config", file}, env{})
		wantProblems(t, err, `ice.port_min: invalid value "x" at `+file+` line 4: must be an integer between 0 and 65535`)
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := load(t, []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, env{})
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		file := writeFile(t, "ice:\n  port_min: [1\n")
		_, err := load(t, []string{"--config", file}, env{})
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("file values are validated", func(t *testing.T) {
		file := writeFile(t, "ice:\n  port_min: 60000\n  port_max: 50000\n")
		_, err := load(t, []string{"--config", file}, env{})
		wantProblems(t, err, "ice.port_min: 60000 is greater than ice.port_max 50000")
	})
	t.Run("env fixes what the file breaks", func(t *testing.T) {
		file := writeFile(t, "ice:\n  port_min: 60000\n  port_max: 50000\n")
		cfg, err := load(t, []string{"--config", file}, env{"SWITCHYARD_ICE_PORT_MAX": "60010"})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ICE.PortMin != 60000 || cfg.ICE.PortMax != 60010 {
			t.Errorf("ports %d-%d", cfg.ICE.PortMin, cfg.ICE.PortMax)
		}
	})
}
