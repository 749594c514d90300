package envconfig

import (
	"errors"
	"io"
	"slices"
	"testing"
)

func TestParseWithArgs_ReturnsArgumentsAfterFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantHost string
		wantRest []string
	}{
		{name: "flag then action", args: []string{"-host", "flag-host", "list"}, wantHost: "flag-host", wantRest: []string{"list"}},
		{name: "action only", args: []string{"show", "3"}, wantHost: "env-host", wantRest: []string{"show", "3"}},
		{name: "flag after action stays positional", args: []string{"requeue", "-host", "x"}, wantHost: "env-host", wantRest: []string{"requeue", "-host", "x"}},
		{name: "double dash", args: []string{"-host=a", "--", "-1"}, wantHost: "a", wantRest: []string{"-1"}},
		{name: "nothing", args: nil, wantHost: "env-host", wantRest: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var host string
			set := New("prog", "test")
			set.String(&host, "HOST", "default-host", "host name")
			rest, err := set.ParseWithArgs(tt.args, mapLookup(map[string]string{"HOST": "env-host"}), io.Discard)
			if err != nil {
				t.Fatalf("ParseWithArgs: %v", err)
			}
			if host != tt.wantHost {
				t.Errorf("HOST = %q, want %q", host, tt.wantHost)
			}
			if !slices.Equal(rest, tt.wantRest) {
				t.Errorf("arguments = %q, want %q", rest, tt.wantRest)
			}
		})
	}
}

func TestParseWithArgs_Errors(t *testing.T) {
	var port int
	set := New("prog", "test")
	set.Int(&port, "PORT", 1, 1, 10, "port")

	if _, err := set.ParseWithArgs([]string{"-h"}, mapLookup(nil), io.Discard); !errors.Is(err, ErrHelp) {
		t.Errorf("-h: error %v, want ErrHelp", err)
	}
	if _, err := set.ParseWithArgs([]string{"-port", "99", "list"}, mapLookup(nil), io.Discard); err == nil {
		t.Error("-port 99: no error, want an out-of-range error")
	}
	if _, err := set.ParseWithArgs([]string{"list"}, mapLookup(map[string]string{"PORT": "x"}), io.Discard); err == nil {
		t.Error("PORT=x: no error, want an invalid-value error")
	}
}

// mapLookup returns a lookupEnv function that reads env.
func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		value, ok := env[name]
		return value, ok
	}
}
