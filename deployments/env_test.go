package deployments

import (
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// ourContainer is a container that runs one of the project's programs.
type ourContainer struct {
	deployment *appsv1.Deployment
	container  corev1.Container
	program    string
}

// splitImage returns the repository and the tag of an image reference
// without a digest.
func splitImage(image string) (repository, tag string) {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// ourContainers returns the containers among objects that run a program of
// this repository, found by image repository. Each container's Env is the
// environment the pod gets: the data of the ConfigMaps of envFrom that are
// among objects, then the variables under env, which win.
func ourContainers(tb testing.TB, objects []object) []ourContainer {
	tb.Helper()
	var out []ourContainer
	for _, d := range deployments(objects) {
		for _, c := range d.Spec.Template.Spec.Containers {
			repository, _ := splitImage(c.Image)
			if program, ok := programsByImage[repository]; ok {
				c.Env = effectiveEnv(tb, objects, c)
				c.EnvFrom = nil
				out = append(out, ourContainer{deployment: d, container: c, program: program})
			}
		}
	}
	return out
}

// effectiveEnv returns the environment of c as Kubernetes builds it.
func effectiveEnv(tb testing.TB, objects []object, c corev1.Container) []corev1.EnvVar {
	tb.Helper()
	explicit := map[string]bool{}
	for _, e := range c.Env {
		explicit[e.Name] = true
	}
	var env []corev1.EnvVar
	for _, source := range c.EnvFrom {
		if source.ConfigMapRef == nil || source.Prefix != "" {
			tb.Fatalf("container %s: envFrom %+v: only configMapRef without prefix is checked", c.Name, source)
		}
		for _, o := range objects {
			cm, ok := o.Typed.(*corev1.ConfigMap)
			if !ok || cm.Name != source.ConfigMapRef.Name {
				continue
			}
			for _, name := range sortedKeys(cm.Data) {
				if !explicit[name] {
					env = append(env, corev1.EnvVar{Name: name, Value: cm.Data[name]})
				}
			}
		}
	}
	return append(env, c.Env...)
}

func TestContainers_SetOnlyKnownSettings(t *testing.T) {
	containers := ourContainers(t, withEmulator(t))
	if len(containers) != 3 {
		t.Fatalf("found %d containers of this repository's images, want 3 (trading server, publisher, emulator)", len(containers))
	}
	for _, oc := range containers {
		t.Run(oc.deployment.Name, func(t *testing.T) {
			settings := programSettings(t, oc.program)
			for _, e := range oc.container.Env {
				if _, ok := settings[e.Name]; !ok {
					t.Errorf("container %s sets %s, which %s does not read (its -h lists %v)",
						oc.container.Name, e.Name, oc.program, sortedKeys(settings))
				}
			}
		})
	}
}

// defaultPattern matches the default of a setting in the services' -h
// output, "  -flag-name, ENV_NAME (default VALUE)".
func defaultPattern(env string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s+-[a-z0-9-]+, ` + regexp.QuoteMeta(env) + ` \(default ([^)]*)\)`)
}

// settingDefault returns the default value that program prints for env.
func settingDefault(tb testing.TB, program, env string) string {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), programPath(tb, program), "-h")
	cmd.Dir = tb.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s -h: %v\n%s", program, err, out)
	}
	m := defaultPattern(env).FindStringSubmatch(string(out))
	if m == nil {
		tb.Fatalf("%s -h prints no default for %s; output:\n%s", program, env, out)
	}
	return m[1]
}

func TestPublisher_GracePeriodCoversDrain(t *testing.T) {
	objects := render(t, defaultKustomization)
	d := findObject[*appsv1.Deployment](t, objects, "Deployment", "ably-publisher")
	env := containerEnv(t, d.Spec.Template.Spec.Containers, "ably-publisher")

	graceText := settingDefault(t, "ably-publishing-server", "SHUTDOWN_GRACE")
	if e, ok := env["SHUTDOWN_GRACE"]; ok {
		graceText = e.Value
	}
	drain, err := time.ParseDuration(graceText)
	if err != nil {
		t.Fatalf("parse SHUTDOWN_GRACE %q: %v", graceText, err)
	}

	var preStop time.Duration
	c := d.Spec.Template.Spec.Containers[0]
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if c.Lifecycle.PreStop.Sleep == nil {
			t.Fatal("the publisher's preStop hook is not a sleep; the image has no shell for an exec hook")
		}
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}

	if d.Spec.Template.Spec.TerminationGracePeriodSeconds == nil {
		t.Fatal("the publisher sets no terminationGracePeriodSeconds")
	}
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	// Kubernetes counts the preStop hook within the grace period, and the
	// process needs a moment after SHUTDOWN_GRACE to exit.
	margin := 2 * time.Second
	if grace < preStop+drain+margin {
		t.Errorf("terminationGracePeriodSeconds = %s, want at least preStop %s + SHUTDOWN_GRACE %s + %s", grace, preStop, drain, margin)
	}
	// A much longer grace only delays rollouts.
	if grace > preStop+drain+30*time.Second {
		t.Errorf("terminationGracePeriodSeconds = %s, far above preStop %s + SHUTDOWN_GRACE %s", grace, preStop, drain)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
