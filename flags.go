package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/vtp"
	"comet/xpath"
)

// config is the parsed command line.
type config struct {
	receive, broadcast   []endpoint // explicit endpoints; a bare flag adds the default one
	receiveOn, broadOn   bool
	remotes              []string
	filters              []string
	localIVO             string
	eventDB              string
	receivePort          int
	broadcastPort        int
	testInterval         time.Duration
	authorWL, subWL      vtp.Whitelist
	maxFrame             int
	maxConns             int // --max-connections
	maxConnsPerAddr      int // --max-connections-per-address
	maxFilters           int // --max-subscriber-filters
	maxFilterBytes       int // --max-subscriber-filter-bytes
	verbose, quiet       int
	plugins              []*pluginFlags
	help, version        bool
	receiveSet, bcastSet *endpointFlag
}

// pluginFlags collects one handler plugin's flags.
type pluginFlags struct {
	p       handlers.Plugin
	enabled bool
	args    []string
	opts    map[string]*string
}

// usageError is a bad command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// parseFlags reads Comet's command line: "--opt=value" and "--opt value",
// single or double dashes, repeatable flags accumulating, and stacked
// short switches ("-rbv").
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{receivePort: 8098, broadcastPort: 8099, testInterval: time.Hour, maxFrame: vtp.DefaultMaxFrame,
		maxConns: vtp.DefaultMaxConns, maxConnsPerAddr: vtp.DefaultMaxConnsPerAddr,
		maxFilters: vtp.DefaultMaxFilters, maxFilterBytes: vtp.DefaultMaxFilterBytes}
	fs := flag.NewFlagSet("comet", flag.ContinueOnError)
	fs.SetOutput(io.Discard)

	recv := &endpointFlag{list: &cfg.receive, on: &cfg.receiveOn}
	bcast := &endpointFlag{list: &cfg.broadcast, on: &cfg.broadOn}
	for _, n := range []string{"r", "receive"} {
		fs.Var(recv, n, "")
	}
	for _, n := range []string{"b", "broadcast"} {
		fs.Var(bcast, n, "")
	}
	fs.Var(funcFlag(func(s string) error {
		r, err := parseRemote(s)
		cfg.remotes = append(cfg.remotes, r)
		return err
	}), "remote", "")
	fs.Var(funcFlag(func(s string) error {
		if !strings.HasPrefix(s, "tcp:") {
			return errors.New("want tcp:HOST:PORT")
		}
		r, err := parseRemote(s)
		cfg.remotes = append(cfg.remotes, r)
		return err
	}), "subscribe", "")
	fs.Var(funcFlag(func(s string) error { cfg.filters = append(cfg.filters, s); return nil }), "filter", "")
	fs.StringVar(&cfg.localIVO, "local-ivo", "", "")
	fs.StringVar(&cfg.eventDB, "eventdb", "", "") // "": seen.DefaultDir
	fs.Var(funcFlag(func(s string) (err error) { cfg.receivePort, err = parsePort(s); return }), "receive-port", "")
	fs.Var(funcFlag(func(s string) (err error) { cfg.broadcastPort, err = parsePort(s); return }), "broadcast-port", "")
	fs.Var(funcFlag(func(s string) error {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e9 {
			return errors.New("want a number of seconds, 0 to disable")
		}
		cfg.testInterval = time.Duration(f * float64(time.Second))
		return nil
	}), "broadcast-test-interval", "")
	wl := func(list *vtp.Whitelist) flag.Value {
		return funcFlag(func(s string) error {
			p, err := vtp.ParseNetwork(s)
			*list = append(*list, p)
			return err
		})
	}
	fs.Var(wl(&cfg.authorWL), "author-whitelist", "")
	fs.Var(wl(&cfg.subWL), "subscriber-whitelist", "")
	fs.Var(funcFlag(func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1024 || n > 1<<30 {
			return errors.New("want a size in bytes between 1024 and 1073741824")
		}
		cfg.maxFrame = n
		return nil
	}), "max-frame-size", "")
	for _, f := range []struct {
		name string
		v    *int
		min  int
		max  int
	}{
		{"max-connections", &cfg.maxConns, 1, 1 << 20},
		{"max-connections-per-address", &cfg.maxConnsPerAddr, 1, 1 << 20},
		{"max-subscriber-filters", &cfg.maxFilters, 1, 1 << 20},
		{"max-subscriber-filter-bytes", &cfg.maxFilterBytes, 1, 1 << 30},
	} {
		fs.Var(funcFlag(func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil || n < f.min || n > f.max {
				return fmt.Errorf("want a whole number from %d to %d", f.min, f.max)
			}
			*f.v = n
			return nil
		}), f.name, "")
	}
	for _, n := range []string{"v", "verbose"} {
		fs.Var(countFlag{&cfg.verbose}, n, "")
	}
	for _, n := range []string{"q", "quiet"} {
		fs.Var(countFlag{&cfg.quiet}, n, "")
	}
	fs.BoolVar(&cfg.help, "help", false, "")
	fs.BoolVar(&cfg.version, "version", false, "")

	for _, p := range handlers.Plugins() {
		pf := &pluginFlags{p: p, opts: map[string]*string{}}
		cfg.plugins = append(cfg.plugins, pf)
		if p.Arg != "" {
			fs.Var(funcFlag(func(s string) error { pf.enabled = true; pf.args = append(pf.args, s); return nil }), p.Name, "")
		} else {
			fs.BoolVar(&pf.enabled, p.Name, false, "")
		}
		for _, o := range p.Options {
			pf.opts[o.Name] = fs.String(p.Name+"-"+o.Name, o.Default, "")
		}
	}

	if err := fs.Parse(expandShort(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h
			cfg.help = true
			return cfg, nil
		}
		return nil, &usageError{strings.Replace(err.Error(), " -", " --", 1)}
	}
	if fs.NArg() > 0 {
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

// funcFlag is a repeatable flag whose values go to a function.
type funcFlag func(string) error

func (f funcFlag) String() string     { return "" }
func (f funcFlag) Set(s string) error { return f(s) }

// countFlag counts its occurrences (-v -v).
type countFlag struct{ n *int }

func (c countFlag) String() string   { return "" }
func (c countFlag) IsBoolFlag() bool { return true }
func (c countFlag) Set(s string) error {
	if s != "true" {
		return errors.New("takes no value")
	}
	*c.n++
	return nil
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

// endpoints returns where to listen: the explicit endpoints, or the
// given port on every interface.
func endpoints(on bool, list []endpoint, port int) []endpoint {
	if !on {
		return nil
	}
	if len(list) > 0 {
		return list
	}
	return []endpoint{{"tcp", ":" + strconv.Itoa(port)}}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `Usage: comet [options]
       comet sendvo [-h HOST] [-p PORT] [-f FILE]
       comet validate FILE...
       comet xpath EXPR FILE...

A VOEvent broker: receives events from authors, relays them to
subscribers, subscribes to other brokers and runs handlers on each event.

  -r, --receive[=ENDPOINT]        accept events from authors (ENDPOINT:
                                  tcp:PORT[:interface=ADDR] or unix:PATH; repeatable)
  -b, --broadcast[=ENDPOINT]      relay events to subscribers (same forms)
      --remote=HOST[:PORT]        subscribe to a remote broker (port 8099; repeatable)
      --subscribe=tcp:HOST:PORT   the same, as an endpoint
      --filter=XPATH              XPath 1.0 filter sent to remote brokers (repeatable)
      --local-ivo=IVOID           this broker's identity (required for --receive, --broadcast)
      --eventdb=DIR               where the seen-events store lives, a private directory
                                  [default: systemd's $STATE_DIRECTORY, else /var/lib/comet
                                  for root, else $XDG_STATE_HOME/comet or ~/.local/state/comet]
      --receive-port=PORT         author port [default: 8098]
      --broadcast-port=PORT       subscriber port [default: 8099]
      --broadcast-test-interval=S seconds between test events, 0 to disable [default: 3600]
      --author-whitelist=NET      network allowed to submit events (CIDR or ADDR/MASK;
                                  repeatable) [default: every IPv4 and IPv6 address]
      --subscriber-whitelist=NET  network allowed to subscribe (same forms)
      --max-frame-size=BYTES      largest message accepted [default: %d]
      --max-connections=N         connections accepted at once, all ports [default: %d]
      --max-connections-per-address=N
                                  from one IP address to one port [default: %d]
      --max-subscriber-filters=N  filters one subscriber may install [default: %d]
      --max-subscriber-filter-bytes=N
                                  their total size in bytes [default: %d]
  -v, --verbose                   more logging (DEBUG)
  -q, --quiet                     less logging (WARNING; twice: ERROR)
      --version                   print the version and exit
      --help                      print this help and exit

Handlers (enabled with --NAME, configured with --NAME-OPTION=value):
`, vtp.DefaultMaxFrame, vtp.DefaultMaxConns, vtp.DefaultMaxConnsPerAddr,
		vtp.DefaultMaxFilters, vtp.DefaultMaxFilterBytes)
	for _, p := range handlers.Plugins() {
		name := "--" + p.Name
		if p.Arg != "" {
			name += "=" + p.Arg
		}
		fmt.Fprintf(w, "      %-27s %s\n", name, p.Usage)
		for _, o := range p.Options {
			fmt.Fprintf(w, "      %-27s %s [default: %s]\n", "--"+p.Name+"-"+o.Name+"=VALUE", o.Usage, o.Default)
		}
	}
}
