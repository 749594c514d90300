package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
)

// settings are the parsed flags and environment variables of the binary.
type settings struct {
	addr      string
	config    emulator.Config
	logLevel  slog.Level
	logFormat string
}

// setting is one option, settable by a flag or an environment variable.
type setting struct {
	flag         string
	env          string
	defaultValue string
	usage        string
}

var settingList = []setting{
	{"addr", "EMULATOR_ADDR", "127.0.0.1:8081", "listen address, host:port"},
	{"keys", "EMULATOR_KEYS", "", "comma-separated API keys appId.keyId:secret that the emulator accepts; required (prefer the variable: flags show in the process list)"},
	{"channel-rate", "EMULATOR_CHANNEL_RATE", strconv.Itoa(emulator.DefaultChannelRate), "max accepted messages per channel in any sliding 1-second window, messages per second"},
	{"max-message-size", "EMULATOR_MAX_MESSAGE_SIZE", strconv.Itoa(emulator.DefaultMaxMessageSize), "max total size of the messages of one publish, bytes (data, name, clientId, extras)"},
	{"idempotency-window", "EMULATOR_IDEMPOTENCY_WINDOW", emulator.DefaultIdempotencyWindow.String(), "how long an accepted message id is remembered per channel, Go duration such as 2m"},
	{"record-limit", "EMULATOR_RECORD_LIMIT", strconv.Itoa(emulator.DefaultRecordLimit), "accepted messages kept per channel for /_emulator/channels/{name}/messages, count"},
	{"history-limit", "EMULATOR_HISTORY_LIMIT", strconv.Itoa(emulator.DefaultHistoryLimit), "accepted messages kept per channel for history, rewind and resume, count"},
	{"connection-state-ttl", "EMULATOR_CONNECTION_STATE_TTL", emulator.DefaultConnectionStateTTL.String(), "how long a client can resume a connection after its transport ended, Go duration such as 2m"},
	{"log-level", "LOG_LEVEL", "info", "log level: debug, info, warn or error"},
	{"log-format", "LOG_FORMAT", "text", "log format: text or json"},
}

// invalidValue names the source of a bad value, the value and the form it
// should have.
type invalidValue struct {
	source string
	value  string
	want   string
}

func (e *invalidValue) Error() string {
	return fmt.Sprintf("invalid %s %q: want %s", e.source, e.value, e.want)
}

// parseSettings reads the flags in args, then the environment through
// getenv for each flag not given, then the defaults. A flag wins over its
// variable. It returns flag.ErrHelp after printing the usage for -h.
func parseSettings(args []string, getenv func(string) string, output io.Writer) (settings, error) {
	fs := flag.NewFlagSet("ably-emulator", flag.ContinueOnError)
	fs.SetOutput(output)
	flagValues := make(map[string]*string, len(settingList))
	for _, s := range settingList {
		flagValues[s.flag] = fs.String(s.flag, "", s.usage)
	}
	fs.Usage = func() { printUsage(output) }
	if err := fs.Parse(args); err != nil {
		return settings{}, err
	}
	if fs.NArg() > 0 {
		return settings{}, fmt.Errorf("unexpected argument %q; every setting is a flag or an environment variable, see -h", fs.Arg(0))
	}
	given := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	// lookup returns a setting's value and a name of its source for errors.
	lookup := func(s setting) (string, string) {
		if given[s.flag] {
			return *flagValues[s.flag], "-" + s.flag
		}
		if v := getenv(s.env); v != "" {
			return v, s.env
		}
		return s.defaultValue, s.env + " default"
	}
	values := make(map[string][2]string, len(settingList))
	for _, s := range settingList {
		value, source := lookup(s)
		values[s.flag] = [2]string{value, source}
	}

	var out settings
	var err error
	out.addr = values["addr"][0]
	if out.addr == "" || !strings.Contains(out.addr, ":") {
		return settings{}, &invalidValue{values["addr"][1], out.addr, "host:port, such as 127.0.0.1:8081"}
	}
	if out.config.Keys, err = parseKeys(values["keys"]); err != nil {
		return settings{}, err
	}
	if out.config.ChannelRate, err = parsePositiveInt(values["channel-rate"], "a positive integer, messages per second"); err != nil {
		return settings{}, err
	}
	if out.config.MaxMessageSize, err = parsePositiveInt(values["max-message-size"], "a positive integer, bytes"); err != nil {
		return settings{}, err
	}
	if out.config.RecordLimit, err = parsePositiveInt(values["record-limit"], "a positive integer, messages"); err != nil {
		return settings{}, err
	}
	if out.config.HistoryLimit, err = parsePositiveInt(values["history-limit"], "a positive integer, messages"); err != nil {
		return settings{}, err
	}
	if out.config.IdempotencyWindow, err = parsePositiveDuration(values["idempotency-window"]); err != nil {
		return settings{}, err
	}
	if out.config.ConnectionStateTTL, err = parsePositiveDuration(values["connection-state-ttl"]); err != nil {
		return settings{}, err
	}
	level := values["log-level"]
	if err := out.logLevel.UnmarshalText([]byte(level[0])); err != nil {
		return settings{}, &invalidValue{level[1], level[0], "debug, info, warn or error"}
	}
	out.logFormat = values["log-format"][0]
	if out.logFormat != "text" && out.logFormat != "json" {
		return settings{}, &invalidValue{values["log-format"][1], out.logFormat, "text or json"}
	}
	return out, nil
}

// parseKeys splits and checks the key list. Errors name keys by their
// public name only, never their secret.
func parseKeys(value [2]string) ([]string, error) {
	raw, source := value[0], value[1]
	if strings.TrimSpace(raw) == "" {
		return nil, fmt.Errorf("missing %s: give at least one API key appId.keyId:secret (the emulator never invents a secret)",
			strings.TrimSuffix(source, " default"))
	}
	var keys []string
	for i, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if _, err := emulator.ParseKey(part); err != nil {
			return nil, fmt.Errorf("invalid %s: key %d: %w", source, i+1, err)
		}
		keys = append(keys, part)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("invalid %s: the list contains no key; want appId.keyId:secret[,...]", source)
	}
	return keys, nil
}

func parsePositiveInt(value [2]string, want string) (int, error) {
	n, err := strconv.Atoi(value[0])
	if err != nil || n <= 0 {
		return 0, &invalidValue{value[1], value[0], want}
	}
	return n, nil
}

func parsePositiveDuration(value [2]string) (time.Duration, error) {
	d, err := time.ParseDuration(value[0])
	if err != nil || d <= 0 {
		return 0, &invalidValue{value[1], value[0], "a positive Go duration such as 2m or 90s"}
	}
	return d, nil
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: ably-emulator [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Runs a local stand-in for Ably's REST and realtime APIs. Every flag can also be set")
	fmt.Fprintln(w, "by its environment variable; a flag wins over the variable.")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLAG\tVARIABLE\tDEFAULT\tMEANING")
	for _, s := range settingList {
		defaultValue := s.defaultValue
		if defaultValue == "" {
			defaultValue = "(none)"
		}
		fmt.Fprintf(tw, "  -%s\t%s\t%s\t%s\n", s.flag, s.env, defaultValue, s.usage)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "An invalid value ends the program with exit status 2.")
}
