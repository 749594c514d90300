package browser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckExecutable_NamesInstallCommand(t *testing.T) {
	dir := t.TempDir()
	notExecutable := filepath.Join(dir, "chromium")
	if err := os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing":        filepath.Join(dir, "absent"),
		"directory":      dir,
		"not executable": notExecutable,
	} {
		t.Run(name, func(t *testing.T) {
			err := checkExecutable(path)
			if err == nil {
				t.Fatalf("checkExecutable(%s) = nil, want an error", path)
			}
			if !strings.Contains(err.Error(), InstallCommand) {
				t.Errorf("error %q does not name %q", err, InstallCommand)
			}
		})
	}

	t.Run("chromium installed", func(t *testing.T) {
		if err := checkExecutable(ChromiumPath); err != nil {
			t.Errorf("checkExecutable(%s) = %v; the browser tests need it", ChromiumPath, err)
		}
	})
}
