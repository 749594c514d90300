package deployments

import (
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kedaManifest is the optional KEDA ScaledObject, outside the default
// kustomization.
const kedaManifest = "optional/keda-scaledobject.yml"

// maxPublishers caps the replicas KEDA may start: the global rate limit
// caps throughput, so more replicas only add load on Redis.
const maxPublishers = 6

func TestKEDA_ScalesPublishersOnQueue(t *testing.T) {
	objects := loadManifest(t, kedaManifest)
	if len(objects) != 1 || objects[0].Kind != "ScaledObject" || objects[0].APIVersion != "keda.sh/v1alpha1" {
		t.Fatalf("%s contains %v, want one keda.sh/v1alpha1 ScaledObject", kedaManifest, objectIDs(objects))
	}
	scaled := objects[0].Typed.(*unstructured.Unstructured)

	base := render(t, defaultKustomization)
	publisher := findObject[*appsv1.Deployment](t, base, "Deployment", "ably-publisher")
	env := containerEnv(t, publisher.Spec.Template.Spec.Containers, "ably-publisher")
	redisService := findObject[*corev1.Service](t, base, "Service", "redis-service")

	t.Run("target", func(t *testing.T) {
		kind := nestedString(t, scaled, "spec", "scaleTargetRef", "kind")
		name := nestedString(t, scaled, "spec", "scaleTargetRef", "name")
		if kind != "Deployment" || name != publisher.Name {
			t.Errorf("scaleTargetRef = %s %s, want Deployment %s", kind, name, publisher.Name)
		}
	})

	t.Run("replica bounds", func(t *testing.T) {
		minReplicas := nestedInt(t, scaled, "spec", "minReplicaCount")
		maxReplicas := nestedInt(t, scaled, "spec", "maxReplicaCount")
		if minReplicas < 2 {
			t.Errorf("minReplicaCount = %d, want at least 2 so that one replica can fail", minReplicas)
		}
		if maxReplicas < minReplicas || maxReplicas > maxPublishers {
			t.Errorf("maxReplicaCount = %d, want from minReplicaCount %d to %d", maxReplicas, minReplicas, maxPublishers)
		}
	})

	t.Run("redis list trigger", func(t *testing.T) {
		triggers, found, err := unstructured.NestedSlice(scaled.Object, "spec", "triggers")
		if err != nil || !found || len(triggers) != 1 {
			t.Fatalf("spec.triggers = %v (found %v, error %v), want one trigger", triggers, found, err)
		}
		trigger, ok := triggers[0].(map[string]any)
		if !ok {
			t.Fatalf("trigger is %T, want an object", triggers[0])
		}
		if trigger["type"] != "redis" {
			t.Errorf("trigger type = %v, want redis (the list length scaler)", trigger["type"])
		}

		metadata, _, err := unstructured.NestedStringMap(trigger, "metadata")
		if err != nil {
			t.Fatalf("trigger metadata: %v", err)
		}
		if got, want := metadata["listName"], env["QUEUE_KEY"].Value; got != want {
			t.Errorf("listName = %q, want the publishers' QUEUE_KEY %q", got, want)
		}

		wantAddress := redisService.Name + "."
		wantPort := ":" + strconv.Itoa(int(redisService.Spec.Ports[0].Port))
		if address := metadata["address"]; !strings.HasPrefix(address, wantAddress) || !strings.HasSuffix(address, ".svc.cluster.local"+wantPort) {
			t.Errorf("address = %q, want the full name of Service %s with port %s", address, redisService.Name, wantPort)
		}

		if got := metadata["passwordFromEnv"]; got != "REDIS_PASSWORD" {
			t.Errorf("passwordFromEnv = %q, want REDIS_PASSWORD", got)
		} else if e := env[got]; e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
			t.Errorf("the publisher's %s does not come from a Secret", got)
		}
		if _, ok := metadata["password"]; ok {
			t.Error("the trigger contains a plain password")
		}

		length, err := strconv.Atoi(metadata["listLength"])
		if err != nil || length < 1 {
			t.Errorf("listLength = %q, want a positive number of trades per replica", metadata["listLength"])
		}
	})
}

func nestedString(t *testing.T, u *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	value, found, err := unstructured.NestedString(u.Object, fields...)
	if err != nil || !found {
		t.Fatalf("%s: found %v, error %v", strings.Join(fields, "."), found, err)
	}
	return value
}

func nestedInt(t *testing.T, u *unstructured.Unstructured, fields ...string) int64 {
	t.Helper()
	value, found, err := unstructured.NestedInt64(u.Object, fields...)
	if err != nil || !found {
		t.Fatalf("%s: found %v, error %v", strings.Join(fields, "."), found, err)
	}
	return value
}
