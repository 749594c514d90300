package deployments

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ably-fanout/ably-emulator/emulator"
	"github.com/ably-fanout/ably-emulator/emulatortest"
	"github.com/ably-fanout/lib/redistest"
	"github.com/ably-fanout/lib/trade"
	"github.com/redis/go-redis/v9"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Timeouts that only stop a hung test; a healthy run takes seconds.
const (
	readyTimeout    = 60 * time.Second
	deliveryTimeout = 60 * time.Second
	// stopTimeout is above the publisher's SHUTDOWN_GRACE of 25s.
	stopTimeout = 45 * time.Second
)

// machine is what the manifests' references resolve to on this machine in
// place of the cluster's Services and Secret.
type machine struct {
	redis         *redistest.Server
	redisPassword string
	ablyKey       string
	// services maps a cluster host:port, such as ably-emulator-service:8081,
	// to the loopback address of the program that serves it here.
	services map[string]string
}

// newMachine starts a private redis-server that requires a random
// password, as the Redis of the manifests does.
func newMachine(tb testing.TB, ablyKey string) *machine {
	tb.Helper()
	server := redistest.Start(tb, redistest.Options{AppendOnly: true})
	password := randomPassword(tb)
	if err := server.Client().ConfigSet(tb.Context(), "requirepass", password).Err(); err != nil {
		tb.Fatalf("set the redis password: %v", err)
	}
	return &machine{
		redis:         server,
		redisPassword: password,
		ablyKey:       ablyKey,
		services:      map[string]string{"redis-service:6379": server.Addr()},
	}
}

// client returns a go-redis client that authenticates with the password.
func (m *machine) client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: m.redis.Addr(), Password: m.redisPassword})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func randomPassword(tb testing.TB) string {
	tb.Helper()
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		tb.Fatalf("generate a password: %v", err)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

// secretValue returns the value a secretKeyRef resolves to.
func (m *machine) secretValue(tb testing.TB, ref *corev1.SecretKeySelector) string {
	tb.Helper()
	if ref.Name != secretName {
		tb.Fatalf("secretKeyRef names Secret %q, want %q", ref.Name, secretName)
	}
	switch ref.Key {
	case "ABLY_KEY":
		return m.ablyKey
	case "REDIS_PASSWORD":
		return m.redisPassword
	}
	tb.Fatalf("secretKeyRef key %q is not in the example Secret", ref.Key)
	return ""
}

// resolveEnv returns the container's environment for this machine. Each
// listen address setting, such as HTTP_ADDR=":8080", moves to a free
// loopback port, returned by container port. Each host:port setting of a
// cluster Service points at the program that serves it here.
func (m *machine) resolveEnv(tb testing.TB, c corev1.Container) (env []string, ports map[int32]int) {
	tb.Helper()
	ports = map[int32]int{}
	env = []string{"PATH=" + os.Getenv("PATH")}
	values := map[string]string{}
	for _, e := range c.Env {
		values[e.Name] = m.resolveValue(tb, e, ports)
	}
	// REDIS_HOST and REDIS_PORT name one Service together.
	if host, ok := values["REDIS_HOST"]; ok {
		local, found := m.services[net.JoinHostPort(host, values["REDIS_PORT"])]
		if !found {
			tb.Fatalf("container %s: REDIS_HOST=%s REDIS_PORT=%s is no known Service", c.Name, host, values["REDIS_PORT"])
		}
		values["REDIS_HOST"], values["REDIS_PORT"], _ = net.SplitHostPort(local)
	}
	for name, value := range values {
		env = append(env, name+"="+value)
	}
	return env, ports
}

func (m *machine) resolveValue(tb testing.TB, e corev1.EnvVar, ports map[int32]int) string {
	tb.Helper()
	if e.ValueFrom != nil {
		switch {
		case e.ValueFrom.SecretKeyRef != nil:
			return m.secretValue(tb, e.ValueFrom.SecretKeyRef)
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			return "pod-" + strings.ToLower(e.Name)
		}
		tb.Fatalf("%s: unsupported valueFrom %+v", e.Name, e.ValueFrom)
	}
	// A listen address on every interface, such as ":8080".
	if host, portText, err := net.SplitHostPort(e.Value); err == nil && (host == "" || host == "0.0.0.0") {
		port, err := strconv.Atoi(portText)
		if err != nil {
			tb.Fatalf("%s=%q: invalid port", e.Name, e.Value)
		}
		free := freePort(tb)
		ports[int32(port)] = free
		return loopbackAddr(free)
	}
	// A URL of a cluster Service, such as http://ably-emulator-service:8081.
	if u, err := url.Parse(e.Value); err == nil && u.Scheme == "http" {
		if local, ok := m.services[u.Host]; ok {
			return "http://" + local
		}
	}
	return e.Value
}

// startContainer runs the program of oc with the container's resolved
// environment in an empty folder, stops it with SIGTERM when the test ends
// and fails the test unless it then exits with status 0. It returns the
// loopback port of each container port.
func (m *machine) startContainer(tb testing.TB, oc ourContainer) map[int32]int {
	tb.Helper()
	env, ports := m.resolveEnv(tb, oc.container)
	logPath := filepath.Join(tb.TempDir(), oc.program+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("create log: %v", err)
	}
	cmd := exec.Command(programPath(tb, oc.program))
	cmd.Dir = tb.TempDir()
	cmd.Env = env
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", oc.program, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	tb.Cleanup(func() {
		defer logFile.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				tb.Errorf("%s exited after SIGTERM with %v; log:\n%s", oc.program, err, tail(logPath))
			}
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
			tb.Errorf("%s did not exit within %s of SIGTERM; log:\n%s", oc.program, stopTimeout, tail(logPath))
		}
		if tb.Failed() {
			tb.Logf("%s log:\n%s", oc.program, tail(logPath))
		}
	})
	return ports
}

// tail returns the last 4 KiB of a log file.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(read %s: %v)", path, err)
	}
	if len(data) > 4096 {
		data = data[len(data)-4096:]
	}
	return string(data)
}

// checkProbes sends the container's liveness and readiness probes to the
// running program until each returns 200.
func checkProbes(t *testing.T, oc ourContainer, ports map[int32]int) {
	t.Helper()
	for kind, probe := range map[string]*corev1.Probe{"livenessProbe": oc.container.LivenessProbe, "readinessProbe": oc.container.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("container %s: %s is no httpGet probe", oc.container.Name, kind)
			continue
		}
		containerPortNumber, ok := containerPort(oc.container, probe.HTTPGet.Port)
		if !ok {
			t.Errorf("container %s: %s port %s is no container port", oc.container.Name, kind, probe.HTTPGet.Port.String())
			continue
		}
		local, ok := ports[containerPortNumber]
		if !ok {
			t.Errorf("container %s: no listen address setting serves the %s port %d", oc.container.Name, kind, containerPortNumber)
			continue
		}
		target := "http://" + loopbackAddr(local) + probe.HTTPGet.Path
		if got := waitForStatus(t, target, 200, readyTimeout); got.status != 200 {
			t.Errorf("container %s: %s GET %s = %d %q (error %v), want 200", oc.container.Name, kind, probe.HTTPGet.Path, got.status, got.body, got.err)
		}
	}
}

// findContainer returns the container of this repository in Deployment
// name.
func findContainer(tb testing.TB, containers []ourContainer, deployment string) ourContainer {
	tb.Helper()
	for _, oc := range containers {
		if oc.deployment.Name == deployment {
			return oc
		}
	}
	tb.Fatalf("no container of this repository in Deployment %s", deployment)
	return ourContainer{}
}

func TestDefault_ProgramsPassTheirProbes(t *testing.T) {
	// The default manifests publish to Ably itself; here the publisher gets
	// ABLY_ENDPOINT of an in-process emulator that accepts the key.
	emu := emulatortest.Start(t)
	m := newMachine(t, emu.Key)
	containers := ourContainers(t, render(t, defaultKustomization))
	if len(containers) != 2 {
		t.Fatalf("found %d containers of this repository's images, want 2", len(containers))
	}

	publisher := findContainer(t, containers, "ably-publisher")
	publisher.container.Env = append(publisher.container.Env, corev1.EnvVar{Name: "ABLY_ENDPOINT", Value: emu.URL})
	for _, oc := range []ourContainer{publisher, findContainer(t, containers, "trading-server")} {
		t.Run(oc.deployment.Name, func(t *testing.T) {
			ports := m.startContainer(t, oc)
			checkProbes(t, oc, ports)
		})
	}
}

func TestEmulatorManifest_DeliversTrades(t *testing.T) {
	m := newMachine(t, emulator.GenerateKey())
	objects := withEmulator(t)
	containers := ourContainers(t, objects)

	// Start order, as readiness gates it in the cluster: the emulator, the
	// publisher, then the trading server.
	emulatorContainer := findContainer(t, containers, "ably-emulator")
	emulatorPorts := m.startContainer(t, emulatorContainer)
	checkProbes(t, emulatorContainer, emulatorPorts)
	for port, local := range emulatorPorts {
		m.services[fmt.Sprintf("ably-emulator-service:%d", port)] = loopbackAddr(local)
	}

	publisher := findContainer(t, containers, "ably-publisher")
	publisherPorts := m.startContainer(t, publisher)
	checkProbes(t, publisher, publisherPorts)

	producer := findContainer(t, containers, "trading-server")
	checkProbes(t, producer, m.startContainer(t, producer))
	if t.Failed() {
		t.FailNow()
	}

	env := containerEnv(t, []corev1.Container{publisher.container}, publisher.container.Name)
	channel := env["CHANNEL_NAME"].Value
	publisherURL := httpURL(t, publisher, publisherPorts)

	t.Run("trades reach the emulator", func(t *testing.T) {
		burst, err := strconv.Atoi(containerEnv(t, []corev1.Container{producer.container}, producer.container.Name)["PUBLISH_RATE"].Value)
		if err != nil || burst < 1 {
			t.Fatalf("trading-server PUBLISH_RATE is not a positive number: %v", err)
		}
		messagesURL := httpURL(t, emulatorContainer, emulatorPorts) + "/_emulator/channels/" + url.PathEscape(channel) + "/messages"
		messages := waitForMessages(t, messagesURL, burst, deliveryTimeout)
		if len(messages) < burst {
			t.Fatalf("the emulator accepted %d messages on channel %q, want at least the first burst of %d", len(messages), channel, burst)
		}
		seen := map[string]bool{}
		for _, msg := range messages {
			if msg.Name != "trade" {
				t.Errorf("message %s has name %q, want trade", msg.ID, msg.Name)
			}
			parsed, err := trade.Parse(msg.Data)
			if err != nil {
				t.Errorf("message %s: data is no valid trade: %v", msg.ID, err)
				continue
			}
			if seen[parsed.ID] {
				t.Errorf("trade %s was delivered twice", parsed.ID)
			}
			seen[parsed.ID] = true
		}
	})

	t.Run("config for the browser", func(t *testing.T) {
		got := getOnce(t.Context(), publisherURL+"/config")
		if got.err != nil || got.status != 200 {
			t.Fatalf("GET /config = %d (error %v), want 200", got.status, got.err)
		}
		var config struct {
			Channel      string `json:"channel"`
			AblyEndpoint string `json:"ablyEndpoint"`
		}
		if err := json.Unmarshal([]byte(got.body), &config); err != nil {
			t.Fatalf("decode /config %q: %v", got.body, err)
		}
		if config.Channel != channel {
			t.Errorf("/config channel = %q, want CHANNEL_NAME %q", config.Channel, channel)
		}
		if want := env["CLIENT_ABLY_ENDPOINT"].Value; config.AblyEndpoint != want {
			t.Errorf("/config ablyEndpoint = %q, want CLIENT_ABLY_ENDPOINT %q", config.AblyEndpoint, want)
		}
	})

	t.Run("token for the browser", func(t *testing.T) {
		got := getOnce(t.Context(), publisherURL+"/token")
		if got.err != nil || got.status != 200 {
			t.Fatalf("GET /token = %d (error %v), want 200", got.status, got.err)
		}
		var request struct {
			KeyName    string `json:"keyName"`
			Capability string `json:"capability"`
		}
		if err := json.Unmarshal([]byte(got.body), &request); err != nil {
			t.Fatalf("decode /token %q: %v", got.body, err)
		}
		wantKeyName, _, _ := strings.Cut(m.ablyKey, ":")
		if request.KeyName != wantKeyName {
			t.Errorf("/token keyName = %q, want %q", request.KeyName, wantKeyName)
		}
		if strings.Contains(got.body, m.ablyKey) {
			t.Error("/token response contains the key secret")
		}
	})
}

// httpURL returns the base URL of the container port named http, as
// served on this machine.
func httpURL(tb testing.TB, oc ourContainer, ports map[int32]int) string {
	tb.Helper()
	port, ok := containerPort(oc.container, intstr.FromString("http"))
	if !ok {
		tb.Fatalf("container %s has no port named http", oc.container.Name)
	}
	local, ok := ports[port]
	if !ok {
		tb.Fatalf("container %s: no listen address setting serves port %d", oc.container.Name, port)
	}
	return "http://" + loopbackAddr(local)
}

// waitForMessages polls the emulator's recorded messages until there are
// at least want or timeout passes, and returns the last list.
func waitForMessages(t *testing.T, messagesURL string, want int, timeout time.Duration) []emulator.RecordedMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var messages []emulator.RecordedMessage
	for attempt := 0; attempt < 1000 && time.Now().Before(deadline); attempt++ {
		got := getOnce(t.Context(), messagesURL)
		if got.err == nil && got.status == 200 {
			messages = nil
			if err := json.NewDecoder(bytes.NewReader([]byte(got.body))).Decode(&messages); err != nil {
				t.Fatalf("decode %s: %v", messagesURL, err)
			}
			if len(messages) >= want {
				return messages
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	return messages
}
