package deployments

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Manifests, relative to this folder.
const (
	// defaultKustomization is what kubectl apply -k deployments applies.
	defaultKustomization = "."
	// emulatorManifest is the optional Ably emulator, applied with
	// kubectl apply -f next to the default kustomization.
	emulatorManifest = "optional/ably-emulator.yml"
)

// partOfLabel is the label that every object of the system carries.
const partOfLabel = "app.kubernetes.io/part-of"

// render runs kustomize (sigs.k8s.io/kustomize/api, the library behind
// kubectl apply -k) on dir, keeping the order of the files as its default
// options do, and decodes the output strictly.
func render(tb testing.TB, dir string) []object {
	tb.Helper()
	return renderOrdered(tb, dir, krusty.ReorderOptionNone)
}

// renderOrdered is render with the given order: ReorderOptionNone keeps
// the order of the files, ReorderOptionLegacy sorts by kind.
func renderOrdered(tb testing.TB, dir string, order krusty.ReorderOption) []object {
	tb.Helper()
	options := krusty.MakeDefaultOptions()
	options.Reorder = order
	resources, err := krusty.MakeKustomizer(options).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		tb.Fatalf("kustomize build %s: %v", dir, err)
	}
	out, err := resources.AsYaml()
	if err != nil {
		tb.Fatalf("kustomize build %s: write YAML: %v", dir, err)
	}
	objects, err := decodeObjects("kustomize build "+dir, out)
	if err != nil {
		tb.Fatal(err)
	}
	return objects
}

// withEmulator returns the objects of the default kustomization followed
// by those of the optional emulator manifest.
func withEmulator(tb testing.TB) []object {
	tb.Helper()
	return append(render(tb, defaultKustomization), loadManifest(tb, emulatorManifest)...)
}

// loadKustomization decodes dir/kustomization.yaml strictly.
func loadKustomization(tb testing.TB, dir string) types.Kustomization {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		tb.Fatalf("read kustomization: %v", err)
	}
	var k types.Kustomization
	if err := decodeStrict(data, &k); err != nil {
		tb.Fatalf("%s/kustomization.yaml: %v", dir, err)
	}
	return k
}

// objectID names an object for comparisons.
func objectID(o object) string { return o.Kind + "/" + o.Name }

func objectIDs(objects []object) []string {
	ids := make([]string, 0, len(objects))
	for _, o := range objects {
		ids = append(ids, objectID(o))
	}
	return ids
}

// findObject returns the object of kind and name, failing the test when
// there is none.
func findObject[T any](tb testing.TB, objects []object, kind, name string) T {
	tb.Helper()
	for _, o := range objects {
		if o.Kind == kind && o.Name == name {
			typed, ok := o.Typed.(T)
			if !ok {
				tb.Fatalf("%s %s has Go type %T", kind, name, o.Typed)
			}
			return typed
		}
	}
	tb.Fatalf("no %s %s among %v", kind, name, objectIDs(objects))
	var zero T
	return zero
}

func TestKustomization_ListsEveryManifest(t *testing.T) {
	k := loadKustomization(t, defaultKustomization)
	var want []string
	for _, file := range manifestFiles(t) {
		// The example Secret and the optional manifests stay out.
		if file == "secret.example.yml" || strings.HasPrefix(file, "optional"+string(filepath.Separator)) {
			continue
		}
		want = append(want, file)
	}
	got := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(got, want) {
		t.Errorf("kustomization.yaml resources = %v, want %v", got, want)
	}
}

func TestRender_DefaultObjects(t *testing.T) {
	objects := render(t, defaultKustomization)
	want := []string{
		"Service/ably-publisher-service",
		"Service/redis-service",
		"PersistentVolumeClaim/redis-data",
		"Deployment/ably-publisher",
		"Deployment/redis-deployment",
		"Deployment/trading-server",
		"PodDisruptionBudget/ably-publisher",
	}
	got := objectIDs(objects)
	if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))) {
		t.Errorf("rendered objects = %v, want %v", got, want)
	}

	t.Run("same objects as the files", func(t *testing.T) {
		var fromFiles []string
		for _, file := range loadKustomization(t, defaultKustomization).Resources {
			fromFiles = append(fromFiles, objectIDs(loadManifest(t, file))...)
		}
		if !slices.Equal(slices.Sorted(slices.Values(fromFiles)), slices.Sorted(slices.Values(got))) {
			t.Errorf("objects of the files = %v, rendered = %v", fromFiles, got)
		}
	})

	t.Run("no secret", func(t *testing.T) {
		for _, o := range objects {
			if o.Kind == "Secret" {
				t.Errorf("the default kustomization renders Secret %s; the Secret must be created by hand", o.Name)
			}
		}
	})

	t.Run("part-of label", func(t *testing.T) {
		checkPartOfLabel(t, objects)
	})
}

// dependenciesOf lists, per Deployment, the objects it uses.
var dependenciesOf = map[string][]string{
	"Deployment/redis-deployment": {"PersistentVolumeClaim/redis-data", "Service/redis-service"},
	"Deployment/ably-publisher":   {"Service/redis-service", "Service/ably-publisher-service"},
	"Deployment/trading-server":   {"Service/redis-service"},
}

func TestRender_DeploymentsAfterTheirDependencies(t *testing.T) {
	for _, order := range []krusty.ReorderOption{krusty.ReorderOptionNone, krusty.ReorderOptionLegacy} {
		t.Run(string(order), func(t *testing.T) {
			position := map[string]int{}
			for i, o := range renderOrdered(t, defaultKustomization, order) {
				position[objectID(o)] = i
			}
			for deployment, dependencies := range dependenciesOf {
				for _, dependency := range dependencies {
					if position[dependency] > position[deployment] {
						t.Errorf("%s is applied after %s", dependency, deployment)
					}
				}
			}
		})
	}
}

func TestEmulatorManifest_PointsPublishersAtIt(t *testing.T) {
	emulatorObjects := loadManifest(t, emulatorManifest)
	got := objectIDs(emulatorObjects)
	want := []string{"ConfigMap/ably-publisher-endpoints", "Deployment/ably-emulator", "Service/ably-emulator-service"}
	if !slices.Equal(got, want) {
		t.Errorf("%s contains %v, want %v", emulatorManifest, got, want)
	}
	checkPartOfLabel(t, emulatorObjects)

	objects := withEmulator(t)
	publisher := findObject[*appsv1.Deployment](t, objects, "Deployment", "ably-publisher")
	container := publisher.Spec.Template.Spec.Containers[0]
	if len(container.EnvFrom) != 1 || container.EnvFrom[0].ConfigMapRef == nil {
		t.Fatalf("publisher envFrom = %+v, want one configMapRef", container.EnvFrom)
	}
	ref := container.EnvFrom[0].ConfigMapRef
	if ref.Optional == nil || !*ref.Optional {
		t.Error("the publisher's configMapRef is not optional, so the default manifests would not start without the emulator")
	}
	if container.EnvFrom[0].Prefix != "" {
		t.Errorf("the publisher's envFrom has prefix %q, want none", container.EnvFrom[0].Prefix)
	}
	configMap := findObject[*corev1.ConfigMap](t, objects, "ConfigMap", ref.Name)
	service := findObject[*corev1.Service](t, objects, "Service", "ably-emulator-service")
	port := service.Spec.Ports[0].Port
	wantData := map[string]string{
		"ABLY_ENDPOINT":        fmt.Sprintf("http://%s:%d", service.Name, port),
		"CLIENT_ABLY_ENDPOINT": fmt.Sprintf("http://localhost:%d", port),
	}
	if !maps.Equal(configMap.Data, wantData) {
		t.Errorf("ConfigMap %s data = %v, want %v", configMap.Name, configMap.Data, wantData)
	}
	// A variable under env wins over envFrom, so the ConfigMap must not
	// repeat one.
	explicit := containerEnv(t, publisher.Spec.Template.Spec.Containers, container.Name)
	for name := range configMap.Data {
		if _, ok := explicit[name]; ok {
			t.Errorf("ConfigMap %s sets %s, which the publisher's env overrides", configMap.Name, name)
		}
	}
}

// checkPartOfLabel checks that every object and every pod template carries
// the part-of label, and that no selector does.
func checkPartOfLabel(t *testing.T, objects []object) {
	t.Helper()
	for _, o := range objects {
		meta := objectMeta(o)
		if meta == nil {
			continue
		}
		if got := meta.Labels[partOfLabel]; got != "ably-fanout" {
			t.Errorf("%s: label %s = %q, want ably-fanout", objectID(o), partOfLabel, got)
		}
		if d, ok := o.Typed.(*appsv1.Deployment); ok {
			if got := d.Spec.Template.Labels[partOfLabel]; got != "ably-fanout" {
				t.Errorf("%s: pod template label %s = %q, want ably-fanout", objectID(o), partOfLabel, got)
			}
			if _, ok := d.Spec.Selector.MatchLabels[partOfLabel]; ok {
				t.Errorf("%s: selector contains %s; a Deployment's selector cannot change after creation", objectID(o), partOfLabel)
			}
		}
	}
}
