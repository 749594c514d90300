package emulator

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKey_Forms(t *testing.T) {
	cases := []struct {
		raw     string
		wantErr bool
	}{
		{"app.key:secret", false},
		{"app.key:se-cret_1", false},
		{"app.key", true},
		{"appkey:secret", true},
		{".key:secret", true},
		{"app.:secret", true},
		{"app.key:", true},
		{"app.key:sec ret", true},
		{"app.key:a:b", true},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			key, err := ParseKey(tc.raw)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("ParseKey(%q) error = %v, want ErrInvalidKey", tc.raw, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKey(%q): %v", tc.raw, err)
			}
			if key.String() != tc.raw {
				t.Errorf("String() = %q, want %q", key.String(), tc.raw)
			}
		})
	}
}

func TestParseKey_ErrorHidesSecret(t *testing.T) {
	_, err := ParseKey("app.key:very secret value")
	if err == nil {
		t.Fatalf("expected an error")
	}
	if strings.Contains(err.Error(), "very secret") {
		t.Errorf("error %q contains the secret", err)
	}
}

func TestGenerateKey_IsValidAndRandom(t *testing.T) {
	first := GenerateKey()
	second := GenerateKey()
	if first == second {
		t.Errorf("two generated keys are equal: %q", first)
	}
	key, err := ParseKey(first)
	if err != nil {
		t.Fatalf("generated key %q does not parse: %v", key.Name(), err)
	}
	if len(key.Secret) != 43 {
		t.Errorf("secret has %d characters, want 43 (256 bits in base64)", len(key.Secret))
	}
}
