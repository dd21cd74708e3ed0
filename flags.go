package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/voevent"
	"comet/vtp"
	"comet/xpath"
)

// config is the parsed command line.
type config struct {
	receive, broadcast []endpoint // explicit endpoints; a bare flag adds the default one
	receiveOn, broadOn bool
	remotes            []string
	kafka              []*kafkaURL // --subscribe=kafka://... (flags_kafka.go)
	kafkaTLS           *tls.Config // their TLS, once loaded; nil without a Kafka source
	kafkaRoots         *x509.CertPool
	filters            []string
	localIVO           string
	eventDB            string
	receivePort        int
	broadcastPort      int
	testInterval       time.Duration
	authorWL, subWL    vtp.Whitelist
	maxFrame           int
	maxConns           int // --max-connections
	maxConnsPerAddr    int // --max-connections-per-address
	maxFilters         int // --max-subscriber-filters
	maxFilterBytes     int // --max-subscriber-filter-bytes
	verbose, quiet     int
	plugins            []*pluginFlags
	help, version      bool
	status             *endpoint     // --status, nil when off
	remoteBackoffMax   time.Duration // --remote-backoff-max
	logFile, pidFile   string
	logFormat          string // "text" or "json"
	tls                tlsFlags
	journal            journalFlags // --journal-age, --journal-size (flags_journal.go)

	sign signFlags // --trusted-keys, --signed-only

	// Set by setUp once the command line is known to be good.
	logs     *logOutput
	handlers []namedHandler
}

// pluginFlags collects one handler plugin's flags.
type pluginFlags struct {
	p       handlers.Plugin
	enabled bool
	args    []string
	opts    map[string]*string
	set     []string // the options given on the command line
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

// Error is the message on one line, whatever values it quotes.
func (e *usageError) Error() string { return voevent.OneLine(e.msg) }

// brokerFlags defines the broker's flags, with their help, on a new
// flagList that sets a new config holding the defaults. The handlers'
// flags come last, under a heading, from handlers.Plugins.
func brokerFlags() (*config, *flagList) {
	cfg := &config{receivePort: 8098, broadcastPort: 8099, testInterval: time.Hour, maxFrame: vtp.DefaultMaxFrame, logFormat: "text",
		maxConns: vtp.DefaultMaxConns, maxConnsPerAddr: vtp.DefaultMaxConnsPerAddr,
		maxFilters: vtp.DefaultMaxFilters, maxFilterBytes: vtp.DefaultMaxFilterBytes, remoteBackoffMax: time.Minute}
	fl := newFlagList("comet")
	fl.Var(&endpointFlag{list: &cfg.receive, on: &cfg.receiveOn}, "r,receive", "[=ENDPOINT]",
		"accept events from authors (ENDPOINT: tcp:PORT[:interface=ADDR], tls:PORT[:interface=ADDR], "+
			"unix:PATH, or dir:PATH, a spool directory of NAME.xml files; repeatable)")
	fl.Var(&endpointFlag{list: &cfg.broadcast, on: &cfg.broadOn}, "b,broadcast", "[=ENDPOINT]",
		"relay events to subscribers (tcp:, tls: or unix:)")
	fl.Func("remote", "HOST[:PORT]", "subscribe to a remote broker (port 8099; repeatable)", func(s string) error {
		r, err := parseRemote(s)
		cfg.remotes = append(cfg.remotes, r)
		return err
	})
	fl.Func("subscribe", "tcp:HOST:PORT", "the same, as an endpoint; tls:HOST:PORT over TLS; "+
		"kafka://HOST[:PORT]/TOPIC,... takes a Kafka cluster's topics (options: comet help kafka)", func(s string) error {
		if scheme, _, ok := strings.Cut(s, ":"); ok && strings.EqualFold(scheme, "kafka") {
			u, err := parseKafkaURL(s, true)
			if err == nil {
				cfg.kafka = append(cfg.kafka, u)
			}
			return err
		}
		if !strings.HasPrefix(s, "tcp:") && !strings.HasPrefix(s, "tls:") {
			return errors.New("want tcp:HOST:PORT, tls:HOST:PORT or kafka://HOST[:PORT]/TOPIC")
		}
		r, err := parseRemote(s)
		cfg.remotes = append(cfg.remotes, r)
		return err
	})
	cfg.tls.register(fl)
	fl.Func("filter", "XPATH", "XPath 1.0 filter sent to remote brokers (repeatable)", func(s string) error {
		cfg.filters = append(cfg.filters, s)
		return nil
	})
	fl.String(&cfg.localIVO, "local-ivo", "IVOID", "this broker's identity (required for --receive and --broadcast)")
	fl.String(&cfg.eventDB, "eventdb", "DIR", "where the seen-events store lives, a private directory "+
		"[default: systemd's $STATE_DIRECTORY, else /var/lib/comet for root, else $XDG_STATE_HOME/comet or ~/.local/state/comet]")
	fl.Func("receive-port", "PORT", "author port [default: 8098]", func(s string) (err error) {
		cfg.receivePort, err = parsePort(s)
		return
	})
	fl.Func("broadcast-port", "PORT", "subscriber port [default: 8099]", func(s string) (err error) {
		cfg.broadcastPort, err = parsePort(s)
		return
	})
	fl.Func("broadcast-test-interval", "S", "seconds between test events, 0 to disable [default: 3600]", func(s string) error {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e9 {
			return errors.New("want a number of seconds, 0 to disable")
		}
		cfg.testInterval = time.Duration(f * float64(time.Second))
		return nil
	})
	wl := func(list *vtp.Whitelist) func(string) error {
		return func(s string) error {
			p, err := vtp.ParseNetwork(s)
			*list = append(*list, p)
			return err
		}
	}
	fl.Func("author-whitelist", "NET", "network allowed to submit events (CIDR or ADDR/MASK; repeatable) "+
		"[default: every IPv4 and IPv6 address]", wl(&cfg.authorWL))
	fl.Func("subscriber-whitelist", "NET", "network allowed to subscribe (same forms)", wl(&cfg.subWL))
	fl.Func("max-frame-size", "BYTES", fmt.Sprintf("largest message accepted [default: %d]", vtp.DefaultMaxFrame), func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1024 || n > 1<<30 {
			return errors.New("want a size in bytes between 1024 and 1073741824")
		}
		cfg.maxFrame = n
		return nil
	})
	for _, f := range []struct {
		name, text string
		v          *int
		min, max   int
	}{
		{"max-connections", "connections accepted at once, on all ports; one port may take all but an eighth", &cfg.maxConns, 1, 1 << 20},
		{"max-connections-per-address", "from one IPv4 address or IPv6 /64 to one port", &cfg.maxConnsPerAddr, 1, 1 << 20},
		{"max-subscriber-filters", "filters one subscriber may install", &cfg.maxFilters, 1, 1 << 20},
		{"max-subscriber-filter-bytes", "their total size in bytes", &cfg.maxFilterBytes, 1, 1 << 30},
	} {
		fl.Func(f.name, "N", fmt.Sprintf("%s [default: %d]", f.text, *f.v), func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < f.min || n > f.max {
				return fmt.Errorf("want a whole number from %d to %d", f.min, f.max)
			}
			*f.v = n
			return nil
		})
	}
	fl.Func("remote-backoff-max", "S", "longest wait before reconnecting to a remote, seconds or 90s/5m [default: 60]", func(s string) error {
		d, err := handlers.ParseSeconds(s)
		if err != nil || d < time.Second || d > 24*time.Hour {
			return errors.New("want a duration from 1 to 86400 seconds (90, 90s, 5m)")
		}
		cfg.remoteBackoffMax = d
		return nil
	})
	cfg.journal.register(fl)
	registerStatus(fl, &cfg.status)
	cfg.sign.register(fl)
	fl.Var(countFlag{&cfg.verbose}, "v,verbose", "", "more logging (DEBUG)")
	fl.Var(countFlag{&cfg.quiet}, "q,quiet", "", "less logging (WARNING; twice: ERROR)")
	fl.String(&cfg.logFile, "logfile", "PATH", "log to PATH (appended to) instead of standard error; SIGHUP reopens it after log rotation")
	fl.Func("log-format", "FORMAT", "text or json [default: text]", func(s string) error {
		if s != "text" && s != "json" {
			return errors.New("want text or json")
		}
		cfg.logFormat = s
		return nil
	})
	fl.String(&cfg.pidFile, "pidfile", "PATH", "write the process id to PATH while running")
	var nodaemon bool // comet never daemonises: accepted for twistd command lines
	fl.Bool(&nodaemon, "n,nodaemon", "accepted and ignored: comet runs in the foreground")
	fl.Note("@FILE, --config=FILE", `read more options from FILE, one a line ("#" comments)`)
	fl.Bool(&cfg.version, "version", "print the version and exit")
	fl.Bool(&cfg.help, "help", "print this help and exit")

	fl.Note("", "Handlers (enabled with --NAME, configured with --NAME-OPTION=value):")
	for _, p := range handlers.Plugins() {
		pf := &pluginFlags{p: p, opts: map[string]*string{}}
		cfg.plugins = append(cfg.plugins, pf)
		if p.Arg != "" {
			fl.Func(p.Name, p.Arg, p.Usage, func(s string) error { pf.enabled = true; pf.args = append(pf.args, s); return nil })
		} else {
			fl.Bool(&pf.enabled, p.Name, p.Usage)
		}
		for _, o := range p.Options {
			v := o.Default
			pf.opts[o.Name] = &v
			fl.String(&v, p.Name+"-"+o.Name, placeholder(o.Name), o.Usage+" [default: "+o.Default+"]")
		}
	}
	return cfg, fl
}

// usage is the broker's --help: how to run it, its flags, and the
// commands.
func usage(w io.Writer) {
	_, fl := brokerFlags()
	fmt.Fprint(w, `Usage: comet [options] [@FILE] [options]
       comet COMMAND [arguments]

A VOEvent broker: receives events from authors, relays them to
subscribers, subscribes to other brokers and runs handlers on each event.

`)
	fl.writeHelp(w)
	fmt.Fprint(w, "\nCommands:\n")
	writeCommands(w)
	fmt.Fprint(w, "\nRun \"comet help\" for the commands and the documentation topics, \"comet help NAME\"\nfor one of them.\n")
}

// parseFlags reads Comet's command line: "--opt=value" and "--opt value",
// single or double dashes, repeatable flags accumulating, and stacked
// short switches ("-rbv").
func parseFlags(args []string) (*config, error) {
	args, err := expandArgFiles(args)
	if err != nil {
		return nil, err
	}
	cfg, fl := brokerFlags()
	fs := fl.FlagSet
	var twistdErr error
	for name, advice := range twistdOptions {
		fs.Var(twistdFlag(func() error {
			twistdErr = fmt.Errorf("%s%s is a twistd option: %s", dashes(name), name, advice)
			return twistdErr
		}), name, "")
	}

	if err := fs.Parse(joinEndpoints(expandShort(args))); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp): // -h
			cfg.help = true
			return cfg, nil
		case twistdErr != nil:
			return nil, &usageError{twistdErr.Error()}
		}
		// --receive and -v are switches that may take a value, which flag
		// calls boolean: the message names the flag and value alone.
		msg := strings.Replace(err.Error(), "invalid boolean value", "invalid value", 1)
		msg = strings.Replace(msg, " for -", " for flag -", 1)
		return nil, &usageError{strings.Replace(msg, " -", " --", 1)}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, pf := range cfg.plugins {
		for _, o := range pf.p.Options {
			if given[pf.p.Name+"-"+o.Name] {
				pf.set = append(pf.set, o.Name)
			}
		}
	}
	switch {
	case fs.NArg() > 0 && fs.Arg(0) == "comet":
		return nil, &usageError{`unexpected argument "comet": that is Comet's twistd plugin name; run "comet [options]" without it`}
	case fs.NArg() > 0:
		return nil, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	for _, f := range cfg.filters {
		if _, err := xpath.Compile(f); err != nil {
			return nil, &usageError{fmt.Sprintf("invalid value %q for flag --filter: %v", f, err)}
		}
	}
	return cfg, nil
}

// expandShort turns "-rbv" into "-r -b -v", as Twisted allows.
func expandShort(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.Trim(a[1:], "rbvq") == "" {
			for _, c := range a[1:] {
				out = append(out, "-"+string(c))
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// twistdOptions are the twistd options a Comet command line may carry
// that comet does not take, each with what to do instead. (-n and
// --nodaemon are accepted; --logfile and --pidfile are comet's own.)
var twistdOptions = map[string]string{
	"uid":       "run comet as that user (systemd User=)",
	"u":         "run comet as that user (systemd User=)",
	"euid":      "run comet as that user (systemd User=)",
	"e":         "run comet as that user (systemd User=)",
	"gid":       "run comet with that group (systemd Group=)",
	"g":         "run comet with that group (systemd Group=)",
	"umask":     "set the umask in the service manager (systemd UMask=)",
	"rundir":    "set the working directory in the service manager (systemd WorkingDirectory=)",
	"d":         "set the working directory in the service manager (systemd WorkingDirectory=)",
	"chroot":    "set the root directory in the service manager (systemd RootDirectory=)",
	"syslog":    "comet logs to standard error, which systemd passes to the journal and syslog",
	"prefix":    "set the syslog tag in the service manager (systemd SyslogIdentifier=)",
	"l":         "write --logfile=PATH",
	"reactor":   "comet has no reactor to choose: remove it",
	"logger":    "use --log-format=text|json, or --logfile=PATH",
	"no_save":   "comet saves no application state: remove it",
	"o":         "comet saves no application state: remove it",
	"python":    "comet reads no .tac file: give its options directly, or in an @FILE",
	"y":         "comet reads no .tac file: give its options directly, or in an @FILE",
	"profile":   "comet has no profiler option: remove it",
	"profiler":  "comet has no profiler option: remove it",
	"savestats": "comet has no profiler option: remove it",
	"spew":      "comet has no tracing option: use -v for DEBUG logging",
}

// twistdFlag is a twistd option: setting it, with or without a value, is
// the error its function returns.
type twistdFlag func() error

func (f twistdFlag) String() string     { return "" }
func (f twistdFlag) IsBoolFlag() bool   { return true }
func (f twistdFlag) Set(s string) error { return f() }

// joinEndpoints turns "--receive tcp:8098" into "--receive=tcp:8098":
// --receive and --broadcast are switches, so flag would not take the
// next word as their value. Only a word that starts as an endpoint does
// ("tcp:", "tls:", "unix:", "dir:"), so "--receive --broadcast" keeps both switches.
func joinEndpoints(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		switch strings.TrimLeft(a, "-") {
		case "r", "receive", "b", "broadcast":
			if strings.HasPrefix(a, "-") && i+1 < len(args) && looksLikeEndpoint(args[i+1]) {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func looksLikeEndpoint(s string) bool {
	kind, _, ok := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	return ok && (kind == "tcp" || kind == "unix" || kind == "tls" || kind == "dir")
}

// endpointFlag is --receive / --broadcast: a switch that may also carry an
// endpoint ("--receive=tcp:8098:interface=127.0.0.1"), repeatable.
type endpointFlag struct {
	list *[]endpoint
	on   *bool
}

func (e *endpointFlag) String() string   { return "" }
func (e *endpointFlag) IsBoolFlag() bool { return true }
func (e *endpointFlag) Set(s string) error {
	switch s {
	case "true":
		*e.on = true
		return nil
	case "false":
		*e.on = false
		return nil
	}
	ep, err := parseEndpoint(s)
	if err != nil {
		return err
	}
	*e.on = true
	*e.list = append(*e.list, ep)
	return nil
}

// placeholder names the value a handler option takes in --help.
func placeholder(option string) string {
	switch option {
	case "directory":
		return "DIR"
	case "timeout":
		return "S"
	case "concurrency", "queue":
		return "N"
	case "file":
		return "PATH"
	}
	return "VALUE"
}
