package deployments

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// readmeSection returns the "Deploying to Kubernetes" section of the
// README, up to the next section of the same level.
func readmeSection(tb testing.TB) string {
	tb.Helper()
	readme := string(readRepoFile(tb, "README.md"))
	const heading = "\n## Deploying to Kubernetes\n"
	start := strings.Index(readme, heading)
	if start < 0 {
		tb.Fatal("README.md has no section Deploying to Kubernetes")
	}
	section := readme[start+len(heading):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return section
}

func TestReadme_DockerBuildCommands(t *testing.T) {
	builds := dockerBuilds(t, readmeSection(t))
	for _, image := range printedImages(t) {
		repository, _ := splitImage(image)
		want := programsByImage[repository] + "/Dockerfile"
		if got, ok := builds[image]; !ok || got != want {
			t.Errorf("README builds %s from %q, want a docker build -f %s -t %s . command", image, got, want, image)
		}
	}
}

// fromLiteral matches one --from-literal=KEY= of kubectl create secret.
var fromLiteral = regexp.MustCompile(`--from-literal=([A-Z_]+)=`)

func TestReadme_CreatesTheSecret(t *testing.T) {
	section := readmeSection(t)
	want := sortedKeys(exampleSecret(t).StringData)
	commands := strings.Split(section, "kubectl create secret generic "+secretName)
	if len(commands) < 2 {
		t.Fatalf("README does not run kubectl create secret generic %s", secretName)
	}
	for i, command := range commands[1:] {
		// The command ends at the first line that does not continue it.
		lines := strings.SplitAfter(command, "\n")
		end := 0
		for end < len(lines) && strings.HasSuffix(strings.TrimRight(lines[end], "\n"), "\\") {
			end++
		}
		text := strings.Join(lines[:min(end+1, len(lines))], "")
		var keys []string
		for _, m := range fromLiteral.FindAllStringSubmatch(text, -1) {
			keys = append(keys, m[1])
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("README secret command %d sets keys %v, want %v", i+1, keys, want)
		}
	}
}

func TestReadme_ClusterSteps(t *testing.T) {
	section := readmeSection(t)
	objects := withEmulator(t)
	publisherService := findObject[*corev1.Service](t, objects, "Service", "ably-publisher-service")
	emulatorService := findObject[*corev1.Service](t, objects, "Service", "ably-emulator-service")
	publisher := findObject[*appsv1.Deployment](t, objects, "Deployment", "ably-publisher")

	want := []string{
		"minikube start",
		"eval $(minikube docker-env)",
		"make docker-build",
		"kubectl apply -k deployments",
		"kubectl apply -f " + "deployments/" + emulatorManifest,
		"kubectl rollout status deployment/",
		portForward(publisherService),
		portForward(emulatorService),
		"client/client.html",
		"kubectl delete -k deployments",
		"kubectl delete -f deployments/" + emulatorManifest,
		"kubectl delete -f deployments/" + kedaManifest,
		"kubectl delete secret " + secretName,
		fmt.Sprintf("termination grace period of %ds", *publisher.Spec.Template.Spec.TerminationGracePeriodSeconds),
	}
	for _, text := range want {
		if !strings.Contains(section, text) {
			t.Errorf("README section Deploying to Kubernetes lacks %q", text)
		}
	}

	t.Run("rollout waits for every Deployment", func(t *testing.T) {
		loop := regexp.MustCompile(`for d in ([a-z -]+); do`).FindStringSubmatch(section)
		if loop == nil {
			t.Fatal("README has no rollout loop over the Deployments")
		}
		var names []string
		for _, d := range deployments(render(t, defaultKustomization)) {
			names = append(names, d.Name)
		}
		if got := strings.Fields(loop[1]); !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(names))) {
			t.Errorf("README waits for %v, want every Deployment %v", got, names)
		}
	})

	t.Run("named files exist", func(t *testing.T) {
		for _, m := range regexp.MustCompile("deployments/[a-z./-]+\\.yml").FindAllString(section, -1) {
			if _, err := os.Stat(strings.TrimPrefix(m, "deployments/")); err != nil {
				t.Errorf("README names %s: %v", m, err)
			}
		}
	})
}

// portForward returns the kubectl port-forward command for the first
// port of s on the same local port.
func portForward(s *corev1.Service) string {
	port := s.Spec.Ports[0].Port
	return fmt.Sprintf("kubectl port-forward service/%s %d:%d", s.Name, port, port)
}
