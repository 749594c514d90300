// Package deployments holds no code. Its tests check the Kubernetes
// manifests in this folder, the Dockerfiles of the services and the image
// tags of the Makefile, without a cluster or a container engine.
//
// The tests decode every manifest strictly into the Kubernetes API types
// and render the kustomization. They run the service binaries with the
// manifests' settings and probes, and replay the Dockerfiles' build stages
// on this machine.
package deployments
