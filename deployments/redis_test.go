package deployments

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// redisScript is the redis container's shell script and readiness command,
// changed to run on this machine: the data folder is a temporary folder
// and the port a free loopback port. The image runs the script with
// BusyBox sh; here the sh on PATH runs it, so the script must stay POSIX
// sh.
type redisScript struct {
	script    string
	readiness string
	dir       string
	port      int
}

// replaceOnce replaces old with replacement in s and fails the test unless
// old occurs exactly once, so that a changed manifest cannot make the test
// check something else.
func replaceOnce(tb testing.TB, s, old, replacement string) string {
	tb.Helper()
	if n := strings.Count(s, old); n != 1 {
		tb.Fatalf("%q occurs %d times in %q, want once", old, n, s)
	}
	return strings.Replace(s, old, replacement, 1)
}

func loadRedisScript(tb testing.TB) (redisScript, corev1.Container) {
	tb.Helper()
	d := findObject[*appsv1.Deployment](tb, render(tb, defaultKustomization), "Deployment", "redis-deployment")
	c := d.Spec.Template.Spec.Containers[0]
	if len(c.Command) != 3 || c.Command[0] != "sh" || c.Command[1] != "-c" {
		tb.Fatalf("redis command = %q, want [sh -c SCRIPT]", c.Command)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.Exec == nil || len(c.ReadinessProbe.Exec.Command) != 3 {
		tb.Fatalf("redis readiness probe = %+v, want exec [sh -c COMMAND]", c.ReadinessProbe)
	}
	if len(c.VolumeMounts) != 1 {
		tb.Fatalf("redis has %d volume mounts, want 1", len(c.VolumeMounts))
	}
	mount := c.VolumeMounts[0].MountPath
	rs := redisScript{dir: tb.TempDir(), port: freePort(tb)}
	script := replaceOnce(tb, c.Command[2], "--dir "+mount+" ", "--dir "+rs.dir+" ")
	rs.script = replaceOnce(tb, script, "exec redis-server ", fmt.Sprintf("exec redis-server --port %d --bind 127.0.0.1 ", rs.port))
	rs.readiness = replaceOnce(tb, c.ReadinessProbe.Exec.Command[2], "redis-cli ", fmt.Sprintf("redis-cli -p %d ", rs.port))
	return rs, c
}

// start runs the script with password as REDIS_PASSWORD and returns the
// process, which the test ends with SIGKILL at the latest.
func (rs redisScript) start(tb testing.TB, password string) (*exec.Cmd, <-chan error, string) {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), "redis.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("create log: %v", err)
	}
	cmd := exec.Command("sh", "-c", rs.script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "REDIS_PASSWORD=" + password}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the redis script: %v", err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- cmd.Wait()
		_ = logFile.Close()
	}()
	tb.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, exited, logPath
}

// ready runs the readiness command with password and reports whether it
// succeeded.
func (rs redisScript) ready(ctx context.Context, password string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", rs.readiness)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "REDIS_PASSWORD=" + password}
	return cmd.Run() == nil
}

// waitReady runs the readiness command until it succeeds, the script exits
// or readyTimeout passes.
func (rs redisScript) waitReady(tb testing.TB, password string, exited <-chan error, logPath string) {
	tb.Helper()
	deadline := time.Now().Add(readyTimeout)
	for attempt := 0; attempt < 1000 && time.Now().Before(deadline); attempt++ {
		if rs.ready(tb.Context(), password) {
			return
		}
		select {
		case err := <-exited:
			tb.Fatalf("redis script exited with %v; log:\n%s", err, tail(logPath))
		case <-time.After(200 * time.Millisecond):
		}
	}
	tb.Fatalf("redis readiness command did not succeed within %s; log:\n%s", readyTimeout, tail(logPath))
}

func TestRedisContainer_RunsAsConfigured(t *testing.T) {
	rs, _ := loadRedisScript(t)
	password := randomPassword(t)
	cmd, exited, logPath := rs.start(t, password)
	rs.waitReady(t, password, exited, logPath)

	t.Run("readiness fails with a wrong password", func(t *testing.T) {
		if rs.ready(t.Context(), password+"x") {
			t.Error("readiness command succeeded with a wrong password")
		}
	})

	t.Run("password required", func(t *testing.T) {
		anonymous := redis.NewClient(&redis.Options{Addr: loopbackAddr(rs.port)})
		defer anonymous.Close()
		err := anonymous.Ping(t.Context()).Err()
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") {
			t.Errorf("PING without password: error = %v, want NOAUTH", err)
		}
	})

	t.Run("password not in the process list", func(t *testing.T) {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
		if err != nil {
			t.Skipf("read the command line: %v", err)
		}
		if !strings.Contains(string(cmdline), "redis-server") {
			t.Errorf("process %d is %q, want redis-server (the script must exec it)", cmd.Process.Pid, cmdline)
		}
		if strings.Contains(string(cmdline), password) {
			t.Error("the redis-server command line contains the password")
		}
	})

	client := redis.NewClient(&redis.Options{Addr: loopbackAddr(rs.port), Password: password})
	defer client.Close()
	t.Run("settings", func(t *testing.T) {
		want := map[string]string{
			"appendonly":       "yes",
			"appendfsync":      "always",
			"maxmemory-policy": "noeviction",
			"save":             "",
			"dir":              rs.dir,
		}
		for name, value := range want {
			got, err := client.ConfigGet(t.Context(), name).Result()
			if err != nil {
				t.Fatalf("CONFIG GET %s: %v", name, err)
			}
			if got[name] != value {
				t.Errorf("CONFIG GET %s = %q, want %q", name, got[name], value)
			}
		}
		got, err := client.ConfigGet(t.Context(), "maxmemory").Result()
		if err != nil {
			t.Fatalf("CONFIG GET maxmemory: %v", err)
		}
		maxMemory, err := strconv.ParseInt(got["maxmemory"], 10, 64)
		if err != nil || maxMemory <= 0 {
			t.Errorf("maxmemory = %q, want a positive byte count below the memory limit", got["maxmemory"])
		}
	})

	t.Run("queue survives SIGKILL", func(t *testing.T) {
		if err := client.RPush(t.Context(), "myJobQueue", "a", "b", "c").Err(); err != nil {
			t.Fatalf("RPUSH: %v", err)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
		_, restartExited, restartLog := rs.start(t, password)
		rs.waitReady(t, password, restartExited, restartLog)
		got, err := client.LRange(t.Context(), "myJobQueue", 0, -1).Result()
		if err != nil {
			t.Fatalf("LRANGE after restart: %v", err)
		}
		if strings.Join(got, ",") != "a,b,c" {
			t.Errorf("queue after SIGKILL and restart = %v, want [a b c]", got)
		}
	})
}

func TestRedisContainer_RejectsUnsafePasswords(t *testing.T) {
	rs, _ := loadRedisScript(t)
	cases := []struct {
		name     string
		password string
	}{
		{"empty", ""},
		{"too short", "abc123"},
		{"space", "a-long-enough-password with-space"},
		{"quote", `a-long-enough-password"quote`},
		{"newline", "a-long-enough-password\nport 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, exited, logPath := rs.start(t, tc.password)
			select {
			case err := <-exited:
				if err == nil {
					t.Error("the script exited with status 0, want an error")
				}
			case <-time.After(readyTimeout):
				t.Fatalf("the script did not exit within %s", readyTimeout)
			}
			if log := tail(logPath); !strings.Contains(log, "invalid REDIS_PASSWORD") {
				t.Errorf("log = %q, want it to name the invalid REDIS_PASSWORD", log)
			}
		})
	}
}
