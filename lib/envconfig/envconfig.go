// Package envconfig reads a program's settings from command-line flags,
// environment variables and a .env file, in that order of precedence.
//
// Every setting has an environment variable name such as REDIS_PORT and a
// matching flag such as -redis-port. A value that is present but invalid is
// an error that names the variable, the value and the accepted form, so
// nothing is silently read as zero.
package envconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// ErrHelp is returned by Parse when the user asked for -h or -help.
var ErrHelp = flag.ErrHelp

// Set is a group of settings for one program.
type Set struct {
	program string
	summary string
	flags   *flag.FlagSet
	// fromDotEnv names the variables that ParseProcess read from .env.
	fromDotEnv map[string]bool
	vars       []*variable
}

type variable struct {
	env    string
	flag   string
	usage  string
	def    string
	secret bool
	value  flag.Value
}

// New returns an empty Set. The summary is printed at the top of -h output.
func New(program, summary string) *Set {
	s := &Set{
		program: program,
		summary: summary,
		flags:   flag.NewFlagSet(program, flag.ContinueOnError),
	}
	s.flags.SetOutput(io.Discard)
	return s
}

// FlagName returns the flag name for an environment variable name:
// REDIS_PORT becomes redis-port.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(env), "_", "-")
}

func (s *Set) add(env, usage string, value flag.Value) *variable {
	v := &variable{
		env:   env,
		flag:  FlagName(env),
		usage: usage,
		def:   value.String(),
		value: value,
	}
	s.vars = append(s.vars, v)
	s.flags.Var(value, v.flag, usage)
	return v
}

// Parse reads args (without the program name), then fills every setting that
// no flag set from lookupEnv. It returns ErrHelp after printing usage to out
// when asked for help, and a descriptive error for any invalid value.
func (s *Set) Parse(args []string, lookupEnv func(string) (string, bool), out io.Writer) error {
	if err := s.flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			s.PrintUsage(out)
			return ErrHelp
		}
		return fmt.Errorf("%w (run %s -h to list the settings)", err, s.program)
	}
	if s.flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (run %s -h to list the settings)",
			s.flags.Arg(0), s.program)
	}
	fromFlag := map[string]bool{}
	s.flags.Visit(func(f *flag.Flag) { fromFlag[f.Name] = true })
	for _, v := range s.vars {
		if fromFlag[v.flag] {
			continue
		}
		raw, ok := lookupEnv(v.env)
		if !ok {
			continue
		}
		if err := v.value.Set(raw); err != nil {
			source := ""
			if s.fromDotEnv[v.env] {
				source = " (read from .env)"
			}
			return fmt.Errorf("invalid %s=%q%s: %w", v.env, shorten(raw, v.secret), source, err)
		}
	}
	return nil
}

// ParseProcess parses os.Args and the process environment after loading
// the .env file in the working directory, if there is one.
func (s *Set) ParseProcess() error {
	return s.parseWithDotEnv(".env", os.Args[1:], os.Stderr)
}

func (s *Set) parseWithDotEnv(path string, args []string, out io.Writer) error {
	loaded, err := loadDotEnv(path)
	if err != nil {
		return err
	}
	s.fromDotEnv = loaded
	return s.Parse(args, os.LookupEnv, out)
}

// PrintUsage writes the list of settings with their flags, units and defaults.
func (s *Set) PrintUsage(out io.Writer) {
	fmt.Fprintf(out, "%s: %s\n\n", s.program, s.summary)
	fmt.Fprintf(out, "Each setting is read from its flag, else its environment variable, else .env.\n\n")
	for _, v := range s.vars {
		def := v.def
		if def == "" {
			def = "none"
		}
		if v.secret && v.def != "" {
			def = "set"
		}
		fmt.Fprintf(out, "  -%s, %s (default %s)\n      %s\n", v.flag, v.env, def, v.usage)
	}
}

// LogAttrs returns the effective value of every setting for a start-up log
// line, with secrets masked.
func (s *Set) LogAttrs() []any {
	attrs := make([]any, 0, len(s.vars))
	for _, v := range s.vars {
		val := v.value.String()
		if v.secret {
			val = Mask(val)
		}
		attrs = append(attrs, slog.String(strings.ToLower(v.env), val))
	}
	return attrs
}

// Mask hides a secret, keeping only whether it is set.
func Mask(secret string) string {
	if secret == "" {
		return ""
	}
	return "***"
}

func shorten(raw string, secret bool) string {
	if secret {
		return Mask(raw)
	}
	const maxShown = 80
	if len(raw) > maxShown {
		return raw[:maxShown] + "..."
	}
	return raw
}
