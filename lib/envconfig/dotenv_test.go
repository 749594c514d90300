package envconfig

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseWithDotEnv_InvalidValueNamesFile(t *testing.T) {
	const name = "ENVCONFIG_TEST_RATE_LIMIT"
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(name+"=abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Unsetenv(name) })
	var limit int
	set := New("test", "test")
	set.Int(&limit, name, 50, 1, 100, "limit")

	err := set.parseWithDotEnv(path, nil, io.Discard)
	if err == nil {
		t.Fatal("parse of an invalid value from .env succeeded, want an error")
	}
	if !strings.Contains(err.Error(), `invalid `+name+`="abc" (read from .env)`) {
		t.Errorf("error %q does not name the variable, the value and .env", err)
	}
}

func TestParseWithDotEnv_EnvironmentValueNamesNoFile(t *testing.T) {
	const name = "ENVCONFIG_TEST_OTHER_LIMIT"
	t.Setenv(name, "abc")
	var limit int
	set := New("test", "test")
	set.Int(&limit, name, 50, 1, 100, "limit")

	err := set.parseWithDotEnv(filepath.Join(t.TempDir(), ".env"), nil, io.Discard)
	if err == nil {
		t.Fatal("parse of an invalid environment value succeeded, want an error")
	}
	if strings.Contains(err.Error(), ".env") {
		t.Errorf("error %q blames .env for a value from the environment", err)
	}
}
