package deployments

import (
	"bytes"
	"context"
	"debug/elf"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// buildTimeout bounds one replayed RUN instruction.
const buildTimeout = 5 * time.Minute

// loadDockerignore returns the matcher of the .dockerignore at the
// repository root, the only one that applies to a build context there.
func loadDockerignore(tb testing.TB) *patternmatcher.PatternMatcher {
	tb.Helper()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(readRepoFile(tb, ".dockerignore")))
	if err != nil {
		tb.Fatalf("read .dockerignore: %v", err)
	}
	matcher, err := patternmatcher.New(patterns)
	if err != nil {
		tb.Fatalf("parse .dockerignore: %v", err)
	}
	return matcher
}

func TestDockerignore_ContextHoldsOnlySources(t *testing.T) {
	matcher := loadDockerignore(t)
	cases := []struct {
		path     string
		excluded bool
	}{
		{"lib/go.mod", false},
		{"lib/trade/trade.go", false},
		{"trading-server/main.go", false},
		{"trading-server/internal/push/push_bounded.lua", false},
		{"ably-publishing-server/go.sum", false},
		{"ably-emulator/emulator/server.go", false},
		{".git/config", true},
		{".env", true},
		{"trading-server/.env", true},
		{"ably-publishing-server/.env.local", true},
		{"trading-server/run_test.go", true},
		{"ably-emulator/testdata/js/client.js", true},
		{"node_modules/ably/package.json", true},
		{"artifacts/run/publisher.log", true},
		{"bin/trading-server", true},
		{"deployments/secret.example.yml", true},
		{"devstack/go.mod", true},
		{"client/client.html", true},
		{"lib/testdata/server.pem", true},
		{"lib/server.key", true},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			excluded, err := matcher.MatchesOrParentMatches(tc.path)
			if err != nil {
				t.Fatalf("match %s: %v", tc.path, err)
			}
			if excluded != tc.excluded {
				t.Errorf("%s excluded = %v, want %v", tc.path, excluded, tc.excluded)
			}
		})
	}
}

// sandbox replays a Dockerfile's build stage on this machine. The
// container's absolute paths below the stage's top folders (such as /src
// and /out) map into a temporary folder. COPY reads the repository
// filtered by .dockerignore. RUN runs with the stage's ENV on top of this
// machine's Go setup, with its module and build caches.
type sandbox struct {
	root    string
	context string
	ignore  *patternmatcher.PatternMatcher
	env     []string
	workdir string
	// paths matches the container paths to map, with a leading boundary.
	paths *regexp.Regexp
}

// hostPath maps an absolute container path into the sandbox.
func (s *sandbox) hostPath(containerPath string) string {
	if !path.IsAbs(containerPath) {
		containerPath = path.Join(s.workdir, containerPath)
	}
	return filepath.Join(s.root, filepath.FromSlash(containerPath))
}

// rewrite maps every container path in a shell command into the sandbox.
func (s *sandbox) rewrite(command string) string {
	return s.paths.ReplaceAllStringFunc(command, func(match string) string {
		i := strings.IndexByte(match, '/')
		return match[:i] + s.hostPath(match[i:])
	})
}

// topFolders returns the first component of every absolute path that the
// stage writes or works in.
func topFolders(stage instructions.Stage) []string {
	var folders []string
	add := func(p string) {
		if first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); path.IsAbs(p) && first != "" && !slices.Contains(folders, first) {
			folders = append(folders, first)
		}
	}
	output := regexp.MustCompile(`-o\s+(/\S+)`)
	for _, c := range stage.Commands {
		switch c := c.(type) {
		case *instructions.WorkdirCommand:
			add(c.Path)
		case *instructions.CopyCommand:
			add(c.DestPath)
		case *instructions.RunCommand:
			for _, m := range output.FindAllStringSubmatch(strings.Join(c.CmdLine, " "), -1) {
				add(m[1])
			}
		}
	}
	return folders
}

func newSandbox(tb testing.TB, stage instructions.Stage) *sandbox {
	tb.Helper()
	folders := topFolders(stage)
	if len(folders) == 0 {
		tb.Fatal("the build stage uses no absolute folder")
	}
	quoted := make([]string, len(folders))
	for i, f := range folders {
		quoted[i] = regexp.QuoteMeta(f)
	}
	s := &sandbox{
		root:    tb.TempDir(),
		context: repoRoot(tb),
		ignore:  loadDockerignore(tb),
		workdir: "/",
		paths:   regexp.MustCompile(`(^|[\s="'])/(` + strings.Join(quoted, "|") + `)(/[^\s"']*)?`),
	}
	// This machine's Go setup, without what the Dockerfile decides.
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GOWORK", "GOFLAGS", "CGO_ENABLED", "GOTOOLCHAIN", "GOOS", "GOARCH":
			continue
		}
		s.env = append(s.env, kv)
	}
	return s
}

// copyFromContext runs one COPY from the build context.
func (s *sandbox) copyFromContext(tb testing.TB, c *instructions.CopyCommand) {
	tb.Helper()
	if c.From != "" || c.Parents || len(c.ExcludePatterns) > 0 || len(c.SourceContents) > 0 {
		tb.Fatalf("COPY %v: only plain COPY from the context is replayed", c.SourcePaths)
	}
	dest := s.hostPath(c.DestPath)
	toFolder := strings.HasSuffix(c.DestPath, "/") || len(c.SourcePaths) > 1
	for _, source := range c.SourcePaths {
		if strings.ContainsAny(source, "*?[") {
			tb.Fatalf("COPY %s: wildcards are not replayed", source)
		}
		rel := path.Clean(strings.TrimPrefix(source, "/"))
		info, err := os.Stat(filepath.Join(s.context, rel))
		if err != nil {
			tb.Fatalf("COPY %s: %v", source, err)
		}
		if !info.IsDir() {
			if s.excluded(tb, rel) {
				tb.Fatalf("COPY %s: .dockerignore excludes it, so docker build would fail", source)
			}
			target := dest
			if toFolder {
				target = filepath.Join(dest, path.Base(rel))
			}
			copyFile(tb, filepath.Join(s.context, rel), target)
			continue
		}
		err = filepath.WalkDir(filepath.Join(s.context, rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fileRel, err := filepath.Rel(s.context, p)
			if err != nil {
				return err
			}
			if s.excluded(tb, filepath.ToSlash(fileRel)) {
				return nil
			}
			inside, err := filepath.Rel(filepath.Join(s.context, rel), p)
			if err != nil {
				return err
			}
			copyFile(tb, p, filepath.Join(dest, inside))
			return nil
		})
		if err != nil {
			tb.Fatalf("COPY %s: %v", source, err)
		}
	}
}

func (s *sandbox) excluded(tb testing.TB, rel string) bool {
	tb.Helper()
	excluded, err := s.ignore.MatchesOrParentMatches(rel)
	if err != nil {
		tb.Fatalf("match %s against .dockerignore: %v", rel, err)
	}
	return excluded
}

func copyFile(tb testing.TB, from, to string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		tb.Fatal(err)
	}
	in, err := os.Open(from)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
}

// run replays one RUN instruction. Mount flags such as the build cache are
// left out: they change speed, not the result.
func (s *sandbox) run(tb testing.TB, c *instructions.RunCommand) {
	tb.Helper()
	args := slices.Clone(c.CmdLine)
	if c.PrependShell {
		args = []string{"sh", "-c", s.rewrite(strings.Join(c.CmdLine, " "))}
	} else {
		for i := range args {
			args[i] = s.rewrite(args[i])
		}
	}
	ctx, cancel := context.WithTimeout(tb.Context(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = s.hostPath(s.workdir)
	cmd.Env = s.env
	cmd.WaitDelay = 5 * time.Second
	if err := os.MkdirAll(cmd.Dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("RUN %s: %v\n%s", strings.Join(c.CmdLine, " "), err, out)
	}
}

// replayBuildStage runs the instructions of the build stage in order.
func (s *sandbox) replayBuildStage(tb testing.TB, stage instructions.Stage) {
	tb.Helper()
	for _, c := range stage.Commands {
		switch c := c.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				s.env = append(s.env, kv.Key+"="+kv.Value)
			}
		case *instructions.WorkdirCommand:
			s.workdir = path.Join(s.workdir, c.Path)
			if err := os.MkdirAll(s.hostPath(s.workdir), 0o755); err != nil {
				tb.Fatal(err)
			}
		case *instructions.CopyCommand:
			s.copyFromContext(tb, c)
		case *instructions.RunCommand:
			s.run(tb, c)
		default:
			tb.Fatalf("instruction %s is not replayed", c.Name())
		}
	}
}

func TestDockerfiles_BuildStageBuildsStaticBinary(t *testing.T) {
	for _, program := range programs() {
		t.Run(program, func(t *testing.T) {
			df := parseDockerfile(t, program)
			build := df.stages[0]
			s := newSandbox(t, build)
			s.replayBuildStage(t, build)

			final := df.stages[len(df.stages)-1]
			copies := commandsOf[*instructions.CopyCommand](final)
			if len(copies) != 1 || len(copies[0].SourcePaths) != 1 {
				t.Fatalf("the final stage copies %d times, want the binary once", len(copies))
			}
			binary := s.hostPath(copies[0].SourcePaths[0])
			checkStatic(t, binary)

			cmd := exec.CommandContext(t.Context(), binary, "-h")
			cmd.Dir = t.TempDir()
			cmd.Env = []string{}
			cmd.WaitDelay = 5 * time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s -h: %v\n%s", binary, err, out)
			}
			if !strings.Contains(string(out), program) {
				t.Errorf("%s -h does not name %s:\n%s", binary, program, out)
			}
		})
	}
}

// checkStatic checks that the file is an executable without a program
// interpreter, which a distroless static image could not run.
func checkStatic(t *testing.T, binary string) {
	t.Helper()
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatalf("open the built binary: %v", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		t.Errorf("%s is ELF type %s, want an executable", binary, f.Type)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Errorf("%s needs a dynamic loader; build it with CGO_ENABLED=0", binary)
		}
	}
	libraries, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("read the imported libraries: %v", err)
	}
	if len(libraries) > 0 {
		t.Errorf("%s links %v dynamically", binary, libraries)
	}
}
