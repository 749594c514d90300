package deployments

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// object is one decoded Kubernetes object of a manifest file.
type object struct {
	// Source is the file and the document index, for messages.
	Source     string
	APIVersion string
	Kind       string
	Name       string
	// Typed is a pointer to the k8s.io/api type of the kind, or an
	// *unstructured.Unstructured for custom resources such as KEDA's.
	Typed any
}

// typeMeta is the part of every object that selects its Go type.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// newTyped returns an empty object of the Go type of apiVersion and kind,
// and false for a kind the manifests must not contain.
func newTyped(apiVersion, kind string) (any, bool) {
	switch apiVersion + " " + kind {
	case "apps/v1 Deployment":
		return &appsv1.Deployment{}, true
	case "v1 Service":
		return &corev1.Service{}, true
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "v1 Secret":
		return &corev1.Secret{}, true
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, true
	case "policy/v1 PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "keda.sh/v1alpha1 ScaledObject", "keda.sh/v1alpha1 TriggerAuthentication":
		return &unstructured.Unstructured{}, true
	}
	return nil, false
}

// decodeStrict decodes one YAML document into out. It rejects duplicate
// keys, keys that the Go type does not have (compared case-sensitively, as
// the API server does) and data that is not a single object.
func decodeStrict(doc []byte, out any) error {
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("convert YAML to JSON: %w", err)
	}
	if u, ok := out.(*unstructured.Unstructured); ok {
		return u.UnmarshalJSON(data)
	}
	strictErrs, err := kjson.UnmarshalStrict(data, out, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("decode JSON: %w", err)
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("strict decoding: %w", errors.Join(strictErrs...))
	}
	return nil
}

// splitDocuments returns the YAML documents of data that contain more than
// comments.
func splitDocuments(data []byte) ([][]byte, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for range 1000 {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var probe any
		if err := yaml.Unmarshal(doc, &probe); err != nil {
			return nil, err
		}
		if probe != nil {
			docs = append(docs, doc)
		}
	}
	return nil, errors.New("more than 1000 documents")
}

// decodeObjects decodes every document of data strictly into its
// Kubernetes type. source names data in errors.
func decodeObjects(source string, data []byte) ([]object, error) {
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: split documents: %w", source, err)
	}
	objects := make([]object, 0, len(docs))
	for i, doc := range docs {
		where := fmt.Sprintf("%s document %d", source, i+1)
		var meta typeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("%s: read apiVersion and kind: %w", where, err)
		}
		typed, ok := newTyped(meta.APIVersion, meta.Kind)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected kind %q of apiVersion %q", where, meta.Kind, meta.APIVersion)
		}
		if err := decodeStrict(doc, typed); err != nil {
			return nil, fmt.Errorf("%s (%s %s): %w", where, meta.Kind, meta.Metadata.Name, err)
		}
		objects = append(objects, object{
			Source:     where,
			APIVersion: meta.APIVersion,
			Kind:       meta.Kind,
			Name:       meta.Metadata.Name,
			Typed:      typed,
		})
	}
	return objects, nil
}

// loadManifest decodes the manifest file rel, relative to this folder.
func loadManifest(tb testing.TB, rel string) []object {
	tb.Helper()
	data, err := os.ReadFile(rel)
	if err != nil {
		tb.Fatalf("read manifest: %v", err)
	}
	objects, err := decodeObjects(rel, data)
	if err != nil {
		tb.Fatal(err)
	}
	return objects
}

// manifestFiles returns every .yml and .yaml file under this folder except
// the kustomization files, which are no Kubernetes objects.
func manifestFiles(tb testing.TB) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".yml" && ext != ".yaml") || d.Name() == "kustomization.yaml" {
			return nil
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		tb.Fatalf("list manifests: %v", err)
	}
	slices.Sort(files)
	return files
}

func TestManifests_DecodeStrictly(t *testing.T) {
	files := manifestFiles(t)
	if len(files) < 6 {
		t.Fatalf("found %d manifest files (%v), want at least 6", len(files), files)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			objects := loadManifest(t, file)
			if len(objects) == 0 {
				t.Errorf("%s contains no object", file)
			}
			for _, obj := range objects {
				if obj.Name == "" {
					t.Errorf("%s: %s has no metadata.name", obj.Source, obj.Kind)
				}
			}
		})
	}
}

func TestDecodeStrict_RejectsMistakes(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want string
	}{
		{
			name: "unknown field",
			doc:  "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selectr:\n    app: x\n",
			want: "unknown field",
		},
		{
			name: "field in wrong case",
			doc:  "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  Selector:\n    app: x\n",
			want: "unknown field",
		},
		{
			name: "duplicate key",
			doc:  "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  name: t\n",
			want: "already set",
		},
		{
			name: "unexpected kind",
			doc:  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n",
			want: "unexpected kind",
		},
		{
			name: "wrong type",
			doc:  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: three\n",
			want: "decode JSON",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeObjects("case", []byte(tc.doc))
			if err == nil {
				t.Fatal("decodeObjects returned no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
