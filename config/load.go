package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load builds the configuration from, in increasing precedence:
//
//  1. Default();
//  2. the YAML file named by --config, or else by $SWITCHYARD_CONFIG (none if
//     both are empty). Unknown keys, duplicate keys and values of the wrong
//     type are errors naming the key;
//  3. environment variables SWITCHYARD_<KEY>, KEY being the key's yaml path
//     upper-cased with "." turned into "_" (SWITCHYARD_ICE_PORT_MIN,
//     SWITCHYARD_SESSION_LOG_PATH). Lists are comma-separated; a variable set
//     to "" sets a string to "" and a list to empty;
//  4. flags actually given on the command line. Each flag is named by the
//     key's yaml path: --listen, --ice.port_min, --signaling.ping_timeout.
//     A list flag takes a comma-separated value and may be repeated to append.
//
// Load registers --config and one flag per key on fs (it may already hold the
// caller's own flags, such as --version) and parses args (without the program
// name). lookupEnv is normally os.LookupEnv; nil means os.LookupEnv.
//
// The result is then checked with Validate. Problems with the file, the
// environment or validation come back as a *ValidationError listing every
// problem found at that stage, each starting with its key. An error from
// fs.Parse (a bad flag value, an unknown flag, flag.ErrHelp) is returned as
// is; the flag package has already reported it on fs.Output(). Whenever the
// error is not from fs.Parse, fs has been parsed, so the caller may still look
// at its own flags (e.g. print the version) before reporting the error. On
// error the returned Config is the zero value.
func Load(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	flags, err := registerFlags(fs)
	if err != nil {
		return Config{}, err
	}
	var configPath string
	fs.StringVar(&configPath, configFlag, "",
		"YAML configuration `file` (env "+envConfigFile+"); keys set in it override the defaults, environment and flags override it")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (all settings are flags, e.g. --listen=:7880)", fs.Arg(0))
	}

	cfg := Default()
	if !flagGiven(fs, configFlag) {
		configPath, _ = lookupEnv(envConfigFile)
	}
	if configPath != "" {
		if err := loadFile(&cfg, configPath); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&cfg, lookupEnv); err != nil {
		return Config{}, err
	}
	for _, f := range flags {
		if f.given {
			f.key.field(&cfg).Set(f.value)
		}
	}
	normalize(&cfg)
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ValidationError lists every problem found in a configuration, one per
// entry, each starting with the key it is about (e.g. "ice.port_min: 60000 is
// greater than ice.port_max 50000"), in the order the keys are declared.
type ValidationError struct {
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return fmt.Sprintf("invalid configuration (%d problems): %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// problems collects messages and becomes a *ValidationError if any were added.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

// keyFlag is the flag.Value for one key. It parses (and so rejects bad values)
// as the flag is parsed, but is applied only after the file and environment.
type keyFlag struct {
	key   key
	def   string
	value reflect.Value
	given bool
}

func (f *keyFlag) String() string {
	if f == nil {
		return ""
	}
	return f.def
}

func (f *keyFlag) Set(s string) error {
	v, err := parseText(f.key.typ, s)
	if err != nil {
		return errors.New(expectation(f.key.typ))
	}
	if f.given && f.key.typ.Kind() == reflect.Slice {
		v = reflect.AppendSlice(f.value, v)
	}
	f.value, f.given = v, true
	return nil
}

// IsBoolFlag lets a bool key be given as --ice.loopback (true) or
// --ice.loopback=false.
func (f *keyFlag) IsBoolFlag() bool { return f.key.typ.Kind() == reflect.Bool }

func registerFlags(fs *flag.FlagSet) ([]*keyFlag, error) {
	def := Default()
	var out []*keyFlag
	for _, name := range append([]string{configFlag}, keyNames()...) {
		if fs.Lookup(name) != nil {
			return nil, fmt.Errorf("config: flag --%s is already defined on the flag set", name)
		}
	}
	for _, k := range keys {
		f := &keyFlag{key: k, def: formatValue(k.field(&def))}
		usage := help[k.path]
		if usage == "" {
			usage = "sets " + k.path
		}
		if k.typ.Kind() == reflect.Slice {
			usage += " (comma-separated; repeat to append)"
		}
		fs.Var(f, k.flagName(), usage+" (env "+k.envName()+")")
		out = append(out, f)
	}
	return out, nil
}

func keyNames() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.flagName()
	}
	return names
}

// applyEnv sets every key whose SWITCHYARD_* variable is set.
func applyEnv(cfg *Config, lookupEnv func(string) (string, bool)) error {
	var p problems
	for _, k := range keys {
		s, ok := lookupEnv(k.envName())
		if !ok {
			continue
		}
		v, err := parseText(k.typ, s)
		if err != nil {
			p.add("%s: invalid value %q in %s: %s", k.path, s, k.envName(), expectation(k.typ))
			continue
		}
		k.field(cfg).Set(v)
	}
	return p.err()
}

// loadFile decodes the YAML file at path over cfg. It first walks the parsed
// document against Config, so that unknown keys, duplicate keys and values of
// the wrong type are reported all together by their full key path and line;
// then it decodes for real with KnownFields(true).
func loadFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if len(doc.Content) == 0 { // empty file or only comments
		return nil
	}
	var p problems
	checkNode(&p, path, doc.Content[0], reflect.TypeOf(Config{}), "")
	if err := p.err(); err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return nil
}

// checkNode reports into p whatever in n would not decode into a value of
// type t (a struct of Config, or a leaf).
func checkNode(p *problems, file string, n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	where := fmt.Sprintf("%s line %d", file, n.Line)
	if t.Kind() != reflect.Struct {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			p.add("%s: invalid value %s at %s: %s", path, describeNode(n), where, expectation(t))
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "ice:" with nothing under it leaves the section as it is
	}
	if n.Kind != yaml.MappingNode {
		name := path
		if name == "" {
			name = "(top level)"
		}
		p.add("%s: must be a mapping of keys at %s", name, where)
		return
	}
	fields := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() {
			if name, ok := yamlName(f); ok {
				fields[name] = f
			}
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		full := kn.Value
		if path != "" {
			full = path + "." + kn.Value
		}
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" {
			p.add("%s: merge keys (<<) are not supported at %s line %d", full, file, kn.Line)
			continue
		}
		f, ok := fields[kn.Value]
		if !ok || kn.Kind != yaml.ScalarNode {
			p.add("%s: unknown key at %s line %d", full, file, kn.Line)
			continue
		}
		if line, dup := seen[kn.Value]; dup {
			p.add("%s: duplicate key at %s line %d (first at line %d)", full, file, kn.Line, line)
			continue
		}
		seen[kn.Value] = kn.Line
		checkNode(p, file, vn, f.Type, full)
	}
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case yaml.SequenceNode:
		return "(a list)"
	case yaml.MappingNode:
		return "(a mapping)"
	}
	return "(unexpected node)"
}

// help is the usage text of each key's flag; configs/switchyard.yaml says more.
var help = map[string]string{
	"listen":                     "`host:port` for HTTP and WebSocket signaling",
	"ice.udp_listen":             "`host:port` of the one UDP socket for all ICE media (empty host: every address); \"\" uses ice.port_min..port_max",
	"ice.port_min":               "lowest UDP `port` for ICE when ice.udp_listen is \"\"; 0 with ice.port_max 0 lets the OS choose",
	"ice.port_max":               "highest UDP `port` for ICE when ice.udp_listen is \"\"",
	"ice.tcp_listen":             "`host:port` for ICE over TCP (fallback when UDP is blocked); \"\" disables it",
	"ice.public_ips":             "public `IPs` announced instead of local host candidates (1:1 NAT)",
	"ice.detect_public_ip":       "with ice.stun_servers set and ice.public_ips empty, learn the public IP from STUN at startup",
	"ice.stun_servers":           "STUN server `URLs` (stun:host:port or stuns:) for clients and server-reflexive gathering",
	"ice.interfaces":             "only gather candidates on these network `interfaces`",
	"ice.ips":                    "only gather candidates on these local `IPs`",
	"ice.loopback":               "gather 127.0.0.1 candidates (same-host testing)",
	"ice.udp4_only":              "gather IPv4 candidates only",
	"turn.enabled":               "run the embedded TURN server and give clients credentials for it",
	"turn.udp_listen":            "`host:port` for TURN over UDP; \"\" disables it",
	"turn.tcp_listen":            "`host:port` for TURN over TCP; \"\" disables it",
	"turn.tls_listen":            "`host:port` for TURN over TLS (needs turn.cert_file and turn.key_file); \"\" disables it",
	"turn.cert_file":             "PEM certificate `file` for turn.tls_listen",
	"turn.key_file":              "PEM private key `file` for turn.tls_listen",
	"turn.realm":                 "TURN `realm`",
	"turn.host":                  "`host` name or IP clients reach TURN at; empty uses the first public IP, else turn.relay_ip",
	"turn.relay_ip":              "local `IP` relayed traffic leaves from; empty picks the first allowed local address",
	"turn.secret":                "`secret` signing TURN credentials; empty makes a random one per run",
	"turn.credential_ttl":        "how `long` TURN credentials stay valid when no join token gives an expiry",
	"signaling.ping_interval":    "`interval` between WebSocket pings",
	"signaling.ping_timeout":     "close a WebSocket with no pong for this `long`",
	"signaling.max_message_size": "largest WebSocket message accepted, in `bytes`",
	"signaling.allowed_origins":  "`origins` allowed to open a WebSocket (* for any; empty means same host only)",
	"room.max_participants":      "most participants (`n`) in one room",
	"room.reconnect_grace":       "how long others' pages keep a dropped participant's tile waiting for it to resume",
	"log.level":                  "log `level`: debug, info, warn or error",
	"log.format":                 "log `format`: console or json",
	"session_log.path":           "JSON-lines join/leave record `file`; empty disables it",
	"auth.secret":                "HS256 `key` (32+ bytes) that signs join tokens; empty with auth.secret_file empty turns auth off",
	"auth.secret_file":           "`file` holding the token key (surrounding whitespace ignored)",
	"shutdown.drain_timeout":     "on SIGTERM, wait up to this `long` for rooms to empty before closing them; 0 closes at once",
	"webhooks.urls":              "`URLs` that receive signed room and participant events; empty disables webhooks",
	"webhooks.key":               "HMAC-SHA256 `key` (32+ bytes) that signs webhook deliveries",
	"webhooks.timeout":           "how `long` one webhook delivery attempt may take",
	"webhooks.min_backoff":       "first `wait` before a webhook retry; it doubles up to webhooks.max_backoff",
	"webhooks.max_backoff":       "longest `wait` between webhook retries",
	"cluster.nats_url":           "NATS `url` of the cluster (nats://host:4222); empty runs a single node",
	"cluster.node_id":            "this node's `id` in the cluster (letters, digits, - or _); empty generates one",
	"cluster.advertise_url":      "signaling `url` clients are redirected to for this node (ws://host:port/v1/rtc); empty derives it from listen (wss:// from tls.listen when set)",
	"cluster.heartbeat_interval": "how often this node refreshes its cluster record (`duration`)",
	"cluster.lost_timeout":       "a node silent this `long` is lost; also this node's own lease before it fences",
}

// envPrefix starts every environment variable Load reads.
const envPrefix = "SWITCHYARD_"

// envConfigFile names the YAML file when --config is not given.
const envConfigFile = envPrefix + "CONFIG"

// configFlag is the flag that names the YAML file.
const configFlag = "config"

var durationType = reflect.TypeOf(time.Duration(0))

// key is one leaf of Config: a value that the file, the environment and a
// flag can each set. Its path is the dotted chain of yaml tags, e.g.
// "ice.port_min".
type key struct {
	path  string
	index []int // reflect field index chain from Config
	typ   reflect.Type
}

// envName is the environment variable for the key: "ice.port_min" →
// "SWITCHYARD_ICE_PORT_MIN".
func (k key) envName() string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(k.path, ".", "_"))
}

// flagName is the command-line flag for the key: the yaml path itself.
func (k key) flagName() string { return k.path }

// field returns the addressable field of *cfg this key names.
func (k key) field(cfg *Config) reflect.Value {
	return reflect.ValueOf(cfg).Elem().FieldByIndex(k.index)
}

// keys lists every leaf of Config in declaration order. It is computed once;
// a field of a type Load cannot parse panics here, so a new key of a new type
// fails every test at once instead of being silently ignored.
var keys = collectKeys(reflect.TypeOf(Config{}), "", nil)

func collectKeys(t reflect.Type, prefix string, index []int) []key {
	var out []key
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, ok := yamlName(f)
		if !ok {
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collectKeys(f.Type, path, idx)...)
			continue
		}
		if !supported(f.Type) {
			panic(fmt.Sprintf("config: key %s has unsupported type %s", path, f.Type))
		}
		out = append(out, key{path: path, index: idx, typ: f.Type})
	}
	return out
}

// yamlName is the key yaml.v3 uses for the field; ok is false for `yaml:"-"`.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" && opts == "" {
		return "", false
	}
	if strings.Contains(opts, "inline") {
		panic(fmt.Sprintf("config: field %s: inline yaml fields are not supported", f.Name))
	}
	if name == "" {
		name = strings.ToLower(f.Name) // yaml.v3's default
	}
	return name, true
}

func supported(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// expectation says in words what a value of type t must look like.
func expectation(t reflect.Type) string {
	if t == durationType {
		return "must be a duration such as 500ms, 1s or 2m30s"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "must be true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := t.Bits()
		return fmt.Sprintf("must be an integer between %d and %d", int64(-1)<<(bits-1), int64(math.MaxInt64>>(64-bits)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("must be an integer between 0 and %d", uint64(math.MaxUint64>>(64-t.Bits())))
	case reflect.Slice:
		return "must be a list of strings"
	case reflect.String:
		return "must be a string"
	}
	return "has an unsupported type " + t.String()
}

// parseText turns the text of an environment variable or flag into a value of
// type t. Lists are comma-separated; blanks around items and empty items are
// dropped, so "" is the empty list.
func parseText(t reflect.Type, s string) (reflect.Value, error) {
	v := reflect.New(t).Elem()
	bad := fmt.Errorf("invalid value %q: %s", s, expectation(t))
	if t == durationType {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return v, bad
		}
		v.SetInt(int64(d))
		return v, nil
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return v, bad
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return v, bad
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, t.Bits())
		if err != nil {
			return v, bad
		}
		v.SetUint(n)
	case reflect.Slice:
		var items []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		if len(items) > 0 {
			v.Set(reflect.ValueOf(items).Convert(t))
		}
	default:
		return v, fmt.Errorf("unsupported type %s", t)
	}
	return v, nil
}

// formatValue renders a value the way parseText reads it, for flag defaults.
func formatValue(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if v.Kind() == reflect.Slice {
		items := make([]string, v.Len())
		for i := range items {
			items[i] = v.Index(i).String()
		}
		return strings.Join(items, ",")
	}
	return fmt.Sprint(v.Interface())
}

// normalize makes empty lists nil, so that `[]` in YAML, an empty variable and
// an empty flag all give the same Config as a list that was never set.
func normalize(cfg *Config) {
	for _, k := range keys {
		if f := k.field(cfg); f.Kind() == reflect.Slice && f.Len() == 0 && !f.IsNil() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
}
