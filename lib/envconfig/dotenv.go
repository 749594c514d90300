package envconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/joho/godotenv"
)

// LoadDotEnv copies the variables of the file at path into the process
// environment. Variables that are already set win, and a missing file is
// not an error.
func LoadDotEnv(path string) error {
	_, err := loadDotEnv(path)
	return err
}

// loadDotEnv is LoadDotEnv that also returns the names it set, so that an
// invalid value can be traced to the file.
func loadDotEnv(path string) (map[string]bool, error) {
	values, err := godotenv.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (expected one NAME=value per line)", path, err)
	}
	loaded := map[string]bool{}
	for name, value := range values {
		if _, set := os.LookupEnv(name); set {
			continue
		}
		if err := os.Setenv(name, value); err != nil {
			return nil, fmt.Errorf("read %s: set %s: %w", path, name, err)
		}
		loaded[name] = true
	}
	return loaded, nil
}
