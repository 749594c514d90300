package deployments

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// runMake runs make with args in the repository root, without the
// variables that would change the image tags.
func runMake(tb testing.TB, args ...string) string {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), "make", args...)
	cmd.Dir = repoRoot(tb)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VERSION", "DOCKER", "MAKEFLAGS", "MFLAGS", "MAKELEVEL":
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// printedImages returns the images that make print-images lists.
func printedImages(tb testing.TB) []string {
	tb.Helper()
	images := strings.Fields(runMake(tb, "-s", "print-images"))
	if len(images) != len(programsByImage) {
		tb.Fatalf("make print-images lists %v, want %d images", images, len(programsByImage))
	}
	return images
}

// dockerBuildCommand matches one docker build command with the Dockerfile,
// the tag and the context, in any order of -f and -t.
var dockerBuildCommand = regexp.MustCompile(`docker build (?:-f (\S+) -t (\S+)|-t (\S+) -f (\S+)) (\S+)`)

// dockerBuilds returns the tag and the Dockerfile of each docker build
// command in text, and fails the test for a context other than the
// repository root.
func dockerBuilds(tb testing.TB, text string) map[string]string {
	tb.Helper()
	builds := map[string]string{}
	for _, m := range dockerBuildCommand.FindAllStringSubmatch(text, -1) {
		dockerfile, tag := m[1], m[2]
		if tag == "" {
			tag, dockerfile = m[3], m[4]
		}
		if m[5] != "." {
			tb.Errorf("docker build of %s uses context %q, want . (the repository root)", tag, m[5])
		}
		builds[tag] = dockerfile
	}
	return builds
}

func TestImages_MakefileAgrees(t *testing.T) {
	images := printedImages(t)
	builds := dockerBuilds(t, runMake(t, "-s", "-n", "docker-build"))
	if got := sortedKeys(builds); !slices.Equal(got, slices.Sorted(slices.Values(images))) {
		t.Errorf("make docker-build builds %v, make print-images lists %v", got, images)
	}
	for _, image := range images {
		repository, tag := splitImage(image)
		if tag == "" || tag == "latest" {
			t.Errorf("image %s has tag %q, want a fixed tag", image, tag)
		}
		program, ok := programsByImage[repository]
		if !ok {
			t.Errorf("image %s is not one of %v", image, sortedKeys(programsByImage))
			continue
		}
		if want := program + "/Dockerfile"; builds[image] != want {
			t.Errorf("make docker-build builds %s from %q, want %q", image, builds[image], want)
		}
		if _, err := os.Stat(repoRoot(t) + "/" + builds[image]); err != nil {
			t.Errorf("Dockerfile of %s: %v", image, err)
		}
	}

	t.Run("VERSION changes every tag", func(t *testing.T) {
		for _, image := range strings.Fields(runMake(t, "-s", "print-images", "VERSION=1.2.3")) {
			if _, tag := splitImage(image); tag != "1.2.3" {
				t.Errorf("make print-images VERSION=1.2.3 lists %s", image)
			}
		}
	})
}

func TestImages_ManifestsUseBuiltTags(t *testing.T) {
	images := printedImages(t)
	used := map[string]bool{}
	for dir, objects := range map[string][]object{"default": render(t, defaultKustomization), "with emulator": withEmulator(t)} {
		for _, d := range deployments(objects) {
			for _, c := range d.Spec.Template.Spec.Containers {
				repository, tag := splitImage(c.Image)
				if _, ours := programsByImage[repository]; !ours {
					// A third-party image must be pinned to a version.
					if !pinnedTag.MatchString(tag) && !strings.Contains(c.Image, "@sha256:") {
						t.Errorf("%s %s: image %s is not pinned to a version", dir, d.Name, c.Image)
					}
					continue
				}
				if !slices.Contains(images, c.Image) {
					t.Errorf("%s %s: image %s is none that make docker-build builds (%v)", dir, d.Name, c.Image, images)
				}
				if c.ImagePullPolicy != "IfNotPresent" {
					t.Errorf("%s %s: imagePullPolicy = %q, want IfNotPresent for images built into the cluster", dir, d.Name, c.ImagePullPolicy)
				}
				used[c.Image] = true
			}
		}
	}
	for _, image := range images {
		if !used[image] {
			t.Errorf("no manifest runs %s", image)
		}
	}
}
