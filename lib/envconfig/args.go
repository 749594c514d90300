package envconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// ParseWithArgs is Parse for a command that takes positional arguments
// after its flags, such as a subcommand with an action name. Flag parsing
// stops at the first argument that is not a flag, and ParseWithArgs
// returns that argument and the ones after it instead of rejecting them.
func (s *Set) ParseWithArgs(args []string, lookupEnv func(string) (string, bool), out io.Writer) ([]string, error) {
	if err := s.flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			s.PrintUsage(out)
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("%w (run %s -h to list the settings)", err, s.program)
	}
	rest := s.flags.Args()
	if err := s.Parse(args[:len(args)-len(rest)], lookupEnv, out); err != nil {
		return nil, err
	}
	return rest, nil
}
