package deployments

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// objectMeta returns the metadata of a typed object, or nil for an
// unstructured one.
func objectMeta(o object) *metav1.ObjectMeta {
	switch typed := o.Typed.(type) {
	case *appsv1.Deployment:
		return &typed.ObjectMeta
	case *corev1.Service:
		return &typed.ObjectMeta
	case *corev1.PersistentVolumeClaim:
		return &typed.ObjectMeta
	case *corev1.Secret:
		return &typed.ObjectMeta
	case *corev1.ConfigMap:
		return &typed.ObjectMeta
	case *policyv1.PodDisruptionBudget:
		return &typed.ObjectMeta
	}
	return nil
}

// deployments returns the Deployments among objects.
func deployments(objects []object) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, o := range objects {
		if d, ok := o.Typed.(*appsv1.Deployment); ok {
			out = append(out, d)
		}
	}
	return out
}

// containerEnv returns the environment of the named container by variable
// name, failing the test when the container is missing or a name repeats.
func containerEnv(tb testing.TB, containers []corev1.Container, name string) map[string]corev1.EnvVar {
	tb.Helper()
	for _, c := range containers {
		if c.Name != name {
			continue
		}
		env := make(map[string]corev1.EnvVar, len(c.Env))
		for _, e := range c.Env {
			if _, dup := env[e.Name]; dup {
				tb.Errorf("container %s sets %s twice", name, e.Name)
			}
			env[e.Name] = e
		}
		return env
	}
	tb.Fatalf("no container %s", name)
	return nil
}

// containerPort returns the number of a probe's port, which names a
// container port or gives its number, and false when no port matches.
func containerPort(c corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) ||
			(port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func TestWorkloads_Hardened(t *testing.T) {
	objects := withEmulator(t)
	for _, d := range deployments(objects) {
		t.Run(d.Name, func(t *testing.T) {
			checkPodSecurity(t, d.Spec.Template.Spec)
			if d.Spec.Template.Spec.AutomountServiceAccountToken == nil || *d.Spec.Template.Spec.AutomountServiceAccountToken {
				t.Error("automountServiceAccountToken is not false: no container calls the Kubernetes API")
			}
			if d.Spec.Template.Spec.EnableServiceLinks == nil || *d.Spec.Template.Spec.EnableServiceLinks {
				t.Error("enableServiceLinks is not false: Service variables would mix with the settings")
			}
			if len(d.Spec.Template.Spec.Containers) == 0 {
				t.Fatal("no container")
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				checkContainer(t, c)
			}
		})
	}
}

// checkPodSecurity checks the pod-level security context.
func checkPodSecurity(t *testing.T, spec corev1.PodSpec) {
	t.Helper()
	sc := spec.SecurityContext
	if sc == nil {
		t.Error("pod has no securityContext")
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("pod runAsNonRoot is not true")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("pod runAsUser = %v, want a non-zero uid", sc.RunAsUser)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod seccompProfile = %v, want RuntimeDefault", sc.SeccompProfile)
	}
}

// checkContainer checks the container-level security context, resources
// and probes.
func checkContainer(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Errorf("container %s has no securityContext", c.Name)
		return
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("container %s runAsNonRoot is not true", c.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("container %s readOnlyRootFilesystem is not true", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container %s allowPrivilegeEscalation is not false", c.Name)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("container %s is privileged", c.Name)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container %s capabilities = %+v, want drop [ALL] and no add", c.Name, sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("container %s seccompProfile = %v, want RuntimeDefault", c.Name, sc.SeccompProfile)
	}

	for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		request, hasRequest := c.Resources.Requests[resource]
		limit, hasLimit := c.Resources.Limits[resource]
		if !hasRequest || request.IsZero() {
			t.Errorf("container %s has no %s request", c.Name, resource)
		}
		if !hasLimit || limit.IsZero() {
			t.Errorf("container %s has no %s limit", c.Name, resource)
		}
		if hasRequest && hasLimit && request.Cmp(limit) > 0 {
			t.Errorf("container %s %s request %s is above its limit %s", c.Name, resource, request.String(), limit.String())
		}
	}

	for kind, probe := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if probe == nil {
			t.Errorf("container %s has no %s", c.Name, kind)
			continue
		}
		if probe.HTTPGet != nil {
			if _, ok := containerPort(c, probe.HTTPGet.Port); !ok {
				t.Errorf("container %s %s port %s is no container port", c.Name, kind, probe.HTTPGet.Port.String())
			}
		}
		if probe.TCPSocket != nil {
			if _, ok := containerPort(c, probe.TCPSocket.Port); !ok {
				t.Errorf("container %s %s port %s is no container port", c.Name, kind, probe.TCPSocket.Port.String())
			}
		}
		if probe.HTTPGet == nil && probe.TCPSocket == nil && probe.Exec == nil {
			t.Errorf("container %s %s has no handler", c.Name, kind)
		}
	}

	for _, e := range c.Env {
		if errs := validation.IsEnvVarName(e.Name); len(errs) > 0 {
			t.Errorf("container %s: invalid variable name %q: %v", c.Name, e.Name, errs)
		}
	}
}

func TestWorkloads_SelectorsMatch(t *testing.T) {
	objects := withEmulator(t)
	var podLabels []labels.Set
	for _, d := range deployments(objects) {
		selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			t.Errorf("Deployment %s: invalid selector: %v", d.Name, err)
			continue
		}
		if !selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Deployment %s: selector %s does not match its pod labels %v", d.Name, selector, d.Spec.Template.Labels)
		}
		podLabels = append(podLabels, d.Spec.Template.Labels)
	}

	for _, o := range objects {
		switch typed := o.Typed.(type) {
		case *corev1.Service:
			checkServiceTargets(t, typed, deployments(objects))
		case *policyv1.PodDisruptionBudget:
			selector, err := metav1.LabelSelectorAsSelector(typed.Spec.Selector)
			if err != nil {
				t.Errorf("PodDisruptionBudget %s: invalid selector: %v", typed.Name, err)
				continue
			}
			matched := 0
			for _, set := range podLabels {
				if selector.Matches(set) {
					matched++
				}
			}
			if matched != 1 {
				t.Errorf("PodDisruptionBudget %s selects the pods of %d Deployments, want 1", typed.Name, matched)
			}
		}
	}
}

// checkServiceTargets checks that a Service selects the pods of exactly one
// Deployment and that each target port is a port of its container.
func checkServiceTargets(t *testing.T, s *corev1.Service, all []*appsv1.Deployment) {
	t.Helper()
	selector := labels.SelectorFromSet(s.Spec.Selector)
	var target *appsv1.Deployment
	for _, d := range all {
		if len(s.Spec.Selector) > 0 && selector.Matches(labels.Set(d.Spec.Template.Labels)) {
			if target != nil {
				t.Errorf("Service %s selects the pods of %s and %s", s.Name, target.Name, d.Name)
			}
			target = d
		}
	}
	if target == nil {
		t.Errorf("Service %s selects no Deployment's pods", s.Name)
		return
	}
	for _, port := range s.Spec.Ports {
		found := false
		for _, c := range target.Spec.Template.Spec.Containers {
			if _, ok := containerPort(c, port.TargetPort); ok {
				found = true
			}
		}
		if !found {
			t.Errorf("Service %s port %s targets %s, which no container of %s has", s.Name, port.Name, port.TargetPort.String(), target.Name)
		}
	}
}

func TestWorkloads_OriginalNames(t *testing.T) {
	objects := render(t, defaultKustomization)
	publisher := findObject[*appsv1.Deployment](t, objects, "Deployment", "ably-publisher")
	if publisher.Spec.Replicas == nil || *publisher.Spec.Replicas != 3 {
		t.Errorf("ably-publisher replicas = %v, want 3", publisher.Spec.Replicas)
	}
	findObject[*appsv1.Deployment](t, objects, "Deployment", "redis-deployment")
	findObject[*appsv1.Deployment](t, objects, "Deployment", "trading-server")
	findObject[*corev1.Service](t, objects, "Service", "redis-service")
	findObject[*corev1.Service](t, objects, "Service", "ably-publisher-service")

	pdb := findObject[*policyv1.PodDisruptionBudget](t, objects, "PodDisruptionBudget", "ably-publisher")
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		if pdb.Spec.MaxUnavailable.IntValue() < 1 || pdb.Spec.MaxUnavailable.IntValue() >= int(*publisher.Spec.Replicas) {
			t.Errorf("PodDisruptionBudget maxUnavailable = %s, want from 1 to replicas-1", pdb.Spec.MaxUnavailable.String())
		}
	case pdb.Spec.MinAvailable != nil:
		if pdb.Spec.MinAvailable.IntValue() < 1 || pdb.Spec.MinAvailable.IntValue() >= int(*publisher.Spec.Replicas) {
			t.Errorf("PodDisruptionBudget minAvailable = %s, want from 1 to replicas-1", pdb.Spec.MinAvailable.String())
		}
	default:
		t.Error("PodDisruptionBudget sets neither maxUnavailable nor minAvailable")
	}
}
