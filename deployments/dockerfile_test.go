package deployments

import (
	"bytes"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	appsv1 "k8s.io/api/apps/v1"
)

// pinnedTag matches an exact version tag, such as 1.26.8-bookworm or
// 7.4.6-alpine: major.minor.patch with an optional variant.
var pinnedTag = regexp.MustCompile(`^\d+\.\d+\.\d+(-[a-z0-9]+(\.[a-z0-9]+)*)?$`)

// distrolessImage matches Google's distroless images, which are published
// under the tags latest, nonroot, debug and debug-nonroot only. Their name
// carries the Debian release, so the tag nonroot is the closest to a pin
// that a tag gives. The Dockerfiles show how to add the digest.
var distrolessImage = regexp.MustCompile(`^gcr\.io/distroless/[a-z]+-debian\d+$`)

// secretArgName matches ENV and ARG names that would store a credential in an
// image layer.
var secretArgName = regexp.MustCompile(`(?i)(KEY|PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL)`)

// dockerfile is one parsed Dockerfile.
type dockerfile struct {
	path     string
	data     []byte
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
}

// parseDockerfile parses the Dockerfile of program with BuildKit's parser.
func parseDockerfile(tb testing.TB, program string) dockerfile {
	tb.Helper()
	rel := program + "/Dockerfile"
	data := readRepoFile(tb, rel)
	ast, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("parse %s: %v", rel, err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		tb.Fatalf("parse the instructions of %s: %v", rel, err)
	}
	return dockerfile{path: rel, data: data, stages: stages, metaArgs: metaArgs}
}

// commandsOf returns the commands of type T in stage.
func commandsOf[T any](stage instructions.Stage) []T {
	var out []T
	for _, c := range stage.Commands {
		if typed, ok := c.(T); ok {
			out = append(out, typed)
		}
	}
	return out
}

// programs returns the programs that have an image, sorted.
func programs() []string {
	var out []string
	for _, p := range programsByImage {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func TestDockerfiles_FollowTheRules(t *testing.T) {
	for _, program := range programs() {
		t.Run(program, func(t *testing.T) {
			df := parseDockerfile(t, program)
			checkSyntaxDirective(t, df)
			if len(df.stages) < 2 {
				t.Fatalf("%s has %d stages, want a build stage and a runtime stage", df.path, len(df.stages))
			}
			checkBaseImages(t, df)
			checkNoSecrets(t, df)
			checkBuildStage(t, df, df.stages[0])
			checkFinalStage(t, df, program)
		})
	}
}

// checkSyntaxDirective checks that a # syntax= frontend, if present, is
// pinned like a base image.
func checkSyntaxDirective(t *testing.T, df dockerfile) {
	t.Helper()
	syntax, _, _, ok := parser.DetectSyntax(df.data)
	if !ok {
		return
	}
	image, tag := splitImage(syntax)
	if image != "docker/dockerfile" || !pinnedTag.MatchString(tag) {
		t.Errorf("%s: syntax directive %q, want docker/dockerfile:X.Y.Z", df.path, syntax)
	}
}

// checkBaseImages checks that every FROM names an earlier stage or an image
// pinned to an exact version or a digest.
func checkBaseImages(t *testing.T, df dockerfile) {
	t.Helper()
	var names []string
	for _, stage := range df.stages {
		base := stage.BaseName
		switch {
		case slices.Contains(names, base):
		case strings.Contains(base, "$"):
			t.Errorf("%s: FROM %s uses a variable; write the pinned image", df.path, base)
		case strings.Contains(base, "@sha256:"):
		default:
			image, tag := splitImage(base)
			if distrolessImage.MatchString(image) {
				if tag != "nonroot" {
					t.Errorf("%s: FROM %s, want the nonroot tag of the distroless image", df.path, base)
				}
			} else if !pinnedTag.MatchString(tag) {
				t.Errorf("%s: FROM %s is not pinned to an exact version tag (such as 1.26.8-bookworm) or a digest", df.path, base)
			}
		}
		if stage.Name != "" {
			names = append(names, stage.Name)
		}
	}
}

// checkNoSecrets checks that no ENV or ARG carries a credential.
func checkNoSecrets(t *testing.T, df dockerfile) {
	t.Helper()
	args := slices.Clone(df.metaArgs)
	for _, stage := range df.stages {
		for _, arg := range commandsOf[*instructions.ArgCommand](stage) {
			args = append(args, *arg)
		}
		for _, env := range commandsOf[*instructions.EnvCommand](stage) {
			for _, kv := range env.Env {
				if secretArgName.MatchString(kv.Key) || ablyKeyText.MatchString(kv.Value) {
					t.Errorf("%s: ENV %s would store a credential in the image", df.path, kv.Key)
				}
			}
		}
	}
	for _, arg := range args {
		for _, kv := range arg.Args {
			if secretArgName.MatchString(kv.Key) {
				t.Errorf("%s: ARG %s would pass a credential through the build history; use RUN --mount=type=secret", df.path, kv.Key)
			}
		}
	}
}

// checkBuildStage checks that the first stage builds a static, reproducible
// binary.
func checkBuildStage(t *testing.T, df dockerfile, stage instructions.Stage) {
	t.Helper()
	env := map[string]string{}
	for _, c := range commandsOf[*instructions.EnvCommand](stage) {
		for _, kv := range c.Env {
			env[kv.Key] = kv.Value
		}
	}
	var build string
	for _, run := range commandsOf[*instructions.RunCommand](stage) {
		line := strings.Join(run.CmdLine, " ")
		if strings.Contains(line, "go build") {
			build = line
		}
	}
	if build == "" {
		t.Fatalf("%s: the first stage has no RUN go build", df.path)
	}
	if env["CGO_ENABLED"] != "0" && !strings.Contains(build, "CGO_ENABLED=0") {
		t.Errorf("%s: CGO_ENABLED is not 0 for go build, so the binary may need libc", df.path)
	}
	for _, flag := range []string{"-trimpath", "-s -w"} {
		if !strings.Contains(build, flag) {
			t.Errorf("%s: go build lacks %s: %s", df.path, flag, build)
		}
	}
	if env["GOTOOLCHAIN"] != "local" {
		t.Errorf("%s: GOTOOLCHAIN = %q, want local so that the build never downloads another Go", df.path, env["GOTOOLCHAIN"])
	}
	for _, c := range stage.Commands {
		if c.Name() == "add" {
			t.Errorf("%s: ADD %s; use COPY, which never fetches URLs or unpacks archives", df.path, c)
		}
	}
}

// checkFinalStage checks that the last stage copies only the binary, runs
// it as a non-root user and agrees with the manifests.
func checkFinalStage(t *testing.T, df dockerfile, program string) {
	t.Helper()
	final := df.stages[len(df.stages)-1]
	if len(commandsOf[*instructions.RunCommand](final)) > 0 {
		t.Errorf("%s: the final stage runs commands; it must only copy the binary", df.path)
	}

	users := commandsOf[*instructions.UserCommand](final)
	if len(users) == 0 {
		t.Fatalf("%s: the final stage sets no USER, so the image runs as root", df.path)
	}
	user, group, _ := strings.Cut(users[len(users)-1].User, ":")
	uid, err := strconv.Atoi(user)
	switch {
	case user == "nonroot":
	case err != nil || uid == 0:
		t.Errorf("%s: USER %s, want a numeric non-zero uid or nonroot", df.path, users[len(users)-1].User)
	}
	if group == "0" || group == "root" {
		t.Errorf("%s: USER %s runs with group root", df.path, users[len(users)-1].User)
	}

	copies := commandsOf[*instructions.CopyCommand](final)
	if len(copies) != 1 || copies[0].From != df.stages[0].Name || len(copies[0].SourcePaths) != 1 {
		t.Fatalf("%s: the final stage must copy exactly the binary from stage %q", df.path, df.stages[0].Name)
	}
	entrypoints := commandsOf[*instructions.EntrypointCommand](final)
	if len(entrypoints) != 1 || entrypoints[0].PrependShell || len(entrypoints[0].CmdLine) != 1 {
		t.Fatalf("%s: want one ENTRYPOINT in exec form with the binary alone", df.path)
	}
	if got, want := entrypoints[0].CmdLine[0], copies[0].DestPath; got != want {
		t.Errorf("%s: ENTRYPOINT %s, but the binary is copied to %s", df.path, got, want)
	}
	if path.Base(copies[0].DestPath) != program {
		t.Errorf("%s: the binary is copied to %s, want a file named %s", df.path, copies[0].DestPath, program)
	}

	checkAgreesWithManifests(t, df, program, uid, final)
}

// checkAgreesWithManifests checks that the image's USER and EXPOSE match
// the pods that run it: the same uid, and the same container port.
func checkAgreesWithManifests(t *testing.T, df dockerfile, program string, uid int, final instructions.Stage) {
	t.Helper()
	var exposed []string
	for _, e := range commandsOf[*instructions.ExposeCommand](final) {
		exposed = append(exposed, e.Ports...)
	}
	for _, d := range deployments(withEmulator(t)) {
		if !runsProgram(d, program) {
			continue
		}
		sc := d.Spec.Template.Spec.SecurityContext
		if sc != nil && sc.RunAsUser != nil && int(*sc.RunAsUser) != uid {
			t.Errorf("%s: USER uid %d, but Deployment %s runs as uid %d", df.path, uid, d.Name, *sc.RunAsUser)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			for _, p := range c.Ports {
				port := strconv.Itoa(int(p.ContainerPort))
				if !slices.Contains(exposed, port) && !slices.Contains(exposed, port+"/tcp") {
					t.Errorf("%s: EXPOSE %v lacks port %s of Deployment %s", df.path, exposed, port, d.Name)
				}
			}
		}
	}
}

// runsProgram reports whether a container of d runs the image of program.
func runsProgram(d *appsv1.Deployment, program string) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		repository, _ := splitImage(c.Image)
		if programsByImage[repository] == program {
			return true
		}
	}
	return false
}
