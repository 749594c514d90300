package envconfig

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// testSettings is one setting of every kind.
type testSettings struct {
	name     string
	secret   string
	count    int
	wait     time.Duration
	verbose  bool
	mode     string
	endpoint string
	tags     []string
}

func newTestSet() (*Set, *testSettings) {
	s := &testSettings{}
	set := New("demo", "a program for tests")
	set.String(&s.name, "NAME", "alice", "user name")
	set.Secret(&s.secret, "API_SECRET", "secret for the API")
	set.Int(&s.count, "COUNT", 10, 1, 100, "number of items")
	set.Duration(&s.wait, "WAIT", time.Second, time.Millisecond, time.Minute, "time to wait")
	set.Bool(&s.verbose, "VERBOSE", false, "log more")
	set.Enum(&s.mode, "MODE", "fast", []string{"fast", "slow"}, "speed")
	set.URL(&s.endpoint, "ENDPOINT", []string{"redis", "rediss"}, "server URL")
	set.List(&s.tags, "TAGS", []string{"a", "b"}, "tags")
	return set, s
}

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

func TestFlagName_FromEnvName(t *testing.T) {
	cases := map[string]string{"REDIS_PORT": "redis-port", "MODE": "mode", "MAX_QUEUE_LENGTH": "max-queue-length"}
	for env, want := range cases {
		if got := FlagName(env); got != want {
			t.Errorf("FlagName(%q) = %q, want %q", env, got, want)
		}
	}
}

func TestParse_Defaults(t *testing.T) {
	set, s := newTestSet()
	if err := set.Parse(nil, lookupFrom(nil), io.Discard); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := testSettings{name: "alice", count: 10, wait: time.Second, mode: "fast", tags: []string{"a", "b"}}
	if s.name != want.name || s.secret != "" || s.count != want.count || s.wait != want.wait ||
		s.verbose || s.mode != want.mode || s.endpoint != "" || !slices.Equal(s.tags, want.tags) {
		t.Errorf("settings = %+v, want %+v", *s, want)
	}
}

func TestParse_ValidValues(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(*testSettings) bool
	}{
		{"string from env", map[string]string{"NAME": "bob"}, nil, func(s *testSettings) bool { return s.name == "bob" }},
		{"empty string from env", map[string]string{"NAME": ""}, nil, func(s *testSettings) bool { return s.name == "" }},
		{"int at min", map[string]string{"COUNT": "1"}, nil, func(s *testSettings) bool { return s.count == 1 }},
		{"int at max with spaces", map[string]string{"COUNT": " 100 "}, nil, func(s *testSettings) bool { return s.count == 100 }},
		{"duration", map[string]string{"WAIT": "250ms"}, nil, func(s *testSettings) bool { return s.wait == 250*time.Millisecond }},
		{"bool 1", map[string]string{"VERBOSE": "1"}, nil, func(s *testSettings) bool { return s.verbose }},
		{"bool flag without value", nil, []string{"-verbose"}, func(s *testSettings) bool { return s.verbose }},
		{"enum", map[string]string{"MODE": "slow"}, nil, func(s *testSettings) bool { return s.mode == "slow" }},
		{"url", map[string]string{"ENDPOINT": "rediss://h:6380"}, nil, func(s *testSettings) bool { return s.endpoint == "rediss://h:6380" }},
		{"empty url", map[string]string{"ENDPOINT": ""}, nil, func(s *testSettings) bool { return s.endpoint == "" }},
		{"list trims items", map[string]string{"TAGS": " x , y "}, nil, func(s *testSettings) bool { return slices.Equal(s.tags, []string{"x", "y"}) }},
		{"flag wins over env", map[string]string{"COUNT": "5"}, []string{"-count", "7"}, func(s *testSettings) bool { return s.count == 7 }},
		{"flag with equals", nil, []string{"-mode=slow"}, func(s *testSettings) bool { return s.mode == "slow" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, s := newTestSet()
			if err := set.Parse(tc.args, lookupFrom(tc.env), io.Discard); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !tc.check(s) {
				t.Errorf("settings after Parse = %+v", *s)
			}
		})
	}
}

func TestParse_InvalidValuesNameVariable(t *testing.T) {
	cases := []struct {
		name     string
		env      map[string]string
		wantText []string
	}{
		{"int not a number", map[string]string{"COUNT": "abc"}, []string{`COUNT="abc"`, "integer from 1 to 100"}},
		{"int empty", map[string]string{"COUNT": ""}, []string{`COUNT=""`, "integer"}},
		{"int below min", map[string]string{"COUNT": "0"}, []string{`COUNT="0"`, "from 1 to 100"}},
		{"int above max", map[string]string{"COUNT": "101"}, []string{`COUNT="101"`}},
		{"duration without unit", map[string]string{"WAIT": "5"}, []string{`WAIT="5"`, "duration"}},
		{"duration above max", map[string]string{"WAIT": "2m"}, []string{`WAIT="2m"`, "1ms to 1m0s"}},
		{"bool word", map[string]string{"VERBOSE": "yes"}, []string{`VERBOSE="yes"`, "true, false, 1 or 0"}},
		{"enum unknown", map[string]string{"MODE": "medium"}, []string{`MODE="medium"`, "fast, slow"}},
		{"url wrong scheme", map[string]string{"ENDPOINT": "http://h"}, []string{`ENDPOINT="http://h"`, "redis://host:port"}},
		{"url without host", map[string]string{"ENDPOINT": "redis://"}, []string{`ENDPOINT="redis://"`}},
		{"list with empty item", map[string]string{"TAGS": "a,,b"}, []string{`TAGS="a,,b"`, "no empty items"}},
		{"long value shortened", map[string]string{"COUNT": strings.Repeat("9", 200)}, []string{"COUNT=", "..."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, _ := newTestSet()
			err := set.Parse(nil, lookupFrom(tc.env), io.Discard)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "invalid ") {
				t.Errorf("error %q does not start with %q", err, "invalid ")
			}
			for _, want := range tc.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestParse_SecretNeverShown(t *testing.T) {
	set, s := newTestSet()
	if err := set.Parse(nil, lookupFrom(map[string]string{"API_SECRET": "hunter2"}), io.Discard); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.secret != "hunter2" {
		t.Errorf("secret = %q, want hunter2", s.secret)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("settings", set.LogAttrs()...)
	if strings.Contains(logged.String(), "hunter2") {
		t.Errorf("LogAttrs shows the secret: %s", logged.String())
	}
	if !strings.Contains(logged.String(), "api_secret=***") {
		t.Errorf("LogAttrs does not mask the secret as ***: %s", logged.String())
	}
	if !strings.Contains(logged.String(), "count=10") {
		t.Errorf("LogAttrs does not contain count=10: %s", logged.String())
	}
}

func TestParse_FlagErrors(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"unknown flag", []string{"-bogus"}, "-bogus"},
		{"invalid flag value", []string{"-count", "x"}, "-count"},
		{"positional argument", []string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, _ := newTestSet()
			err := set.Parse(tc.args, lookupFrom(nil), io.Discard)
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tc.wantText) || !strings.Contains(err.Error(), "demo -h") {
				t.Errorf("error %q does not contain %q and the -h hint", err, tc.wantText)
			}
		})
	}
}

func TestParse_HelpPrintsEverySetting(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			set, _ := newTestSet()
			var out bytes.Buffer
			err := set.Parse([]string{arg}, lookupFrom(map[string]string{"API_SECRET": "hunter2"}), &out)
			if !errors.Is(err, ErrHelp) {
				t.Fatalf("Parse(%s) = %v, want ErrHelp", arg, err)
			}
			for _, want := range []string{
				"demo: a program for tests",
				"-name, NAME (default alice)",
				"-api-secret, API_SECRET (default none)",
				"-count, COUNT (default 10)",
				"-wait, WAIT (default 1s)",
				"-verbose, VERBOSE (default false)",
				"-mode, MODE (default fast)",
				"-endpoint, ENDPOINT (default none)",
				"-tags, TAGS (default a,b)",
				"number of items",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("usage does not contain %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestMask_HidesValue(t *testing.T) {
	if got := Mask(""); got != "" {
		t.Errorf("Mask(\"\") = %q, want empty", got)
	}
	if got := Mask("hunter2"); got != "***" {
		t.Errorf("Mask(\"hunter2\") = %q, want ***", got)
	}
}

func TestLoadDotEnv_ProcessEnvironmentWins(t *testing.T) {
	// t.Setenv restores both variables when the test ends, and Unsetenv
	// lets the .env file provide the first.
	t.Setenv("ENVCONFIG_TEST_FROM_FILE", "")
	os.Unsetenv("ENVCONFIG_TEST_FROM_FILE")
	t.Setenv("ENVCONFIG_TEST_SET", "process")

	path := filepath.Join(t.TempDir(), ".env")
	content := "ENVCONFIG_TEST_FROM_FILE=file\nENVCONFIG_TEST_SET=file\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write .env: %v", err)
	}
	if err := LoadDotEnv(path); err != nil {
		t.Fatalf("LoadDotEnv: %v", err)
	}
	if got := os.Getenv("ENVCONFIG_TEST_FROM_FILE"); got != "file" {
		t.Errorf("ENVCONFIG_TEST_FROM_FILE = %q, want the .env value", got)
	}
	if got := os.Getenv("ENVCONFIG_TEST_SET"); got != "process" {
		t.Errorf("ENVCONFIG_TEST_SET = %q, want the process value", got)
	}
}

func TestLoadDotEnv_MissingFileIgnored(t *testing.T) {
	if err := LoadDotEnv(filepath.Join(t.TempDir(), ".env")); err != nil {
		t.Errorf("LoadDotEnv of a missing file = %v, want nil", err)
	}
}

func TestLoadDotEnv_UnreadableFileFails(t *testing.T) {
	dir := t.TempDir() // a folder cannot be read as a file
	if err := LoadDotEnv(dir); err == nil {
		t.Error("LoadDotEnv of a folder succeeded, want an error")
	}
}
