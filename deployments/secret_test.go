package deployments

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// secretName is the Secret that contains the Ably key and the Redis
// password. It is created by hand, never applied from this folder.
const secretName = "ably-fanout-secrets"

// exampleSecret decodes secret.example.yml.
func exampleSecret(tb testing.TB) *corev1.Secret {
	tb.Helper()
	objects := loadManifest(tb, "secret.example.yml")
	if len(objects) != 1 {
		tb.Fatalf("secret.example.yml contains %d objects, want 1", len(objects))
	}
	secret, ok := objects[0].Typed.(*corev1.Secret)
	if !ok {
		tb.Fatalf("secret.example.yml contains a %s, want a Secret", objects[0].Kind)
	}
	return secret
}

func TestExampleSecret_Placeholders(t *testing.T) {
	secret := exampleSecret(t)
	if secret.Name != secretName {
		t.Errorf("example Secret name = %q, want %q", secret.Name, secretName)
	}
	if secret.Type != corev1.SecretTypeOpaque {
		t.Errorf("example Secret type = %q, want Opaque", secret.Type)
	}
	if len(secret.Data) > 0 {
		t.Errorf("example Secret has base64 data keys %v; use stringData placeholders", slices.Sorted(maps.Keys(secret.Data)))
	}
	if got, want := slices.Sorted(maps.Keys(secret.StringData)), []string{"ABLY_KEY", "REDIS_PASSWORD"}; !slices.Equal(got, want) {
		t.Errorf("example Secret keys = %v, want %v", got, want)
	}
	for key, value := range secret.StringData {
		if !strings.Contains(value, "replace-with") {
			t.Errorf("example Secret %s = %q is no placeholder (it must contain replace-with)", key, value)
		}
	}
}

func TestSecretRefs_ExistInExample(t *testing.T) {
	keys := exampleSecret(t).StringData
	for dir, objects := range map[string][]object{"default": render(t, defaultKustomization), "with emulator": withEmulator(t)} {
		for _, d := range deployments(objects) {
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						continue
					}
					ref := e.ValueFrom.SecretKeyRef
					if ref.Name != secretName {
						t.Errorf("%s %s: %s refers to Secret %q, want %q", dir, d.Name, e.Name, ref.Name, secretName)
					}
					if _, ok := keys[ref.Key]; !ok {
						t.Errorf("%s %s: %s refers to key %q, which the example Secret lacks", dir, d.Name, e.Name, ref.Key)
					}
					if ref.Optional != nil && *ref.Optional {
						t.Errorf("%s %s: %s is optional; a missing Secret must stop the pod", dir, d.Name, e.Name)
					}
				}
			}
		}
	}
}

// secretVariable matches the names of settings that carry credentials.
var secretVariable = regexp.MustCompile(`(^|_)(KEY|KEYS|PASSWORD|SECRET|TOKEN)$`)

func TestSecrets_NeverPlainValues(t *testing.T) {
	for dir, objects := range map[string][]object{"default": render(t, defaultKustomization), "with emulator": withEmulator(t)} {
		for _, d := range deployments(objects) {
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					// QUEUE_KEY is a Redis key name, no credential.
					if e.Name == "QUEUE_KEY" || !secretVariable.MatchString(e.Name) {
						continue
					}
					if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
						t.Errorf("%s %s: %s is set without a secretKeyRef", dir, d.Name, e.Name)
					}
				}
			}
		}
	}
}

// ablyKeyText matches text in the form of an Ably API key with a secret of
// 8 or more characters.
var ablyKeyText = regexp.MustCompile(`[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+:[A-Za-z0-9_+/=-]{8,}`)

func TestManifests_ContainNoKey(t *testing.T) {
	for _, file := range manifestFiles(t) {
		if file == "secret.example.yml" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		if match := ablyKeyText.Find(data); match != nil {
			t.Errorf("%s contains %q, which looks like an Ably key", file, match)
		}
	}
}
