# The contract that the README and CI both use.
MODULES := lib trading-server ably-publishing-server ably-emulator devstack deployments bench
PACKAGES := $(addsuffix /...,$(addprefix ./,$(MODULES)))
# The system tests run the whole stack as separate processes and count
# messages per second at the emulator, so they run one package at a time
# after the unit tests instead of competing with them for the CPU.
SYSTEM_PACKAGES := $(patsubst %,./%/...,$(wildcard devstack/e2e devstack/faults))
UNIT_PACKAGES := $(filter-out ./devstack/...,$(PACKAGES)) ./devstack/stack/... ./devstack/browser/... ./devstack/cmd/...
GO ?= go
TEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: all run test deps build vet bench clean

all: build

## run: start the whole pipeline locally and print the client's address
run:
	@[ -f node_modules/ably/build/ably.min.js ] || ! command -v npm >/dev/null || npm install --no-audit --no-fund --silent || true
	$(GO) build -o bin/devstack ./devstack/cmd/devstack
	@# The runner itself, not go run, takes Ctrl-C, so that a normal stop
	@# prints its summary and no error.
	bin/devstack

## test: install what the tests need, then run every test
test: deps vet
	$(GO) test $(TEST_FLAGS) $(UNIT_PACKAGES)
	$(GO) test $(TEST_FLAGS) -p 1 $(SYSTEM_PACKAGES)

## deps: install redis-server, chromium, Node.js and the npm packages
deps:
	./scripts/install-deps.sh

## build: compile the three services into bin/
build:
	cd trading-server && CGO_ENABLED=0 $(GO) build -o ../bin/trading-server .
	cd ably-publishing-server && CGO_ENABLED=0 $(GO) build -o ../bin/ably-publishing-server .
	cd ably-emulator && CGO_ENABLED=0 $(GO) build -o ../bin/ably-emulator .

vet:
	$(GO) vet $(PACKAGES)

# BENCH_FLAGS are passed to the bench program (cd bench && go run . -h
# lists them); the report it writes is the source of BENCHMARKS.md.
BENCH_FLAGS ?=
BENCH_OUT ?= $(CURDIR)/bench/results/latest.md

## bench: measure the pipeline against its comparisons (about 20 minutes)
bench:
	cd bench && $(GO) run . -out $(BENCH_OUT) $(BENCH_FLAGS)

clean:
	rm -rf bin artifacts

# Images of docker-build, with the tag that the manifests in deployments/
# use. Build another tag with make docker-build VERSION=1.2.0, then point
# the manifests at it (cd deployments && kustomize edit set image ...).
VERSION ?= dev
DOCKER ?= docker

.PHONY: docker-build print-images

## docker-build: build the images of the two services and the emulator
docker-build:
	$(DOCKER) build -f trading-server/Dockerfile -t ably-fanout/trading-server:$(VERSION) .
	$(DOCKER) build -f ably-publishing-server/Dockerfile -t ably-fanout/ably-publishing-server:$(VERSION) .
	$(DOCKER) build -f ably-emulator/Dockerfile -t ably-fanout/ably-emulator:$(VERSION) .

## print-images: print the image names and tags that docker-build builds
print-images:
	@echo ably-fanout/trading-server:$(VERSION)
	@echo ably-fanout/ably-publishing-server:$(VERSION)
	@echo ably-fanout/ably-emulator:$(VERSION)
