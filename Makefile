# The contract that the README and CI both use.
MODULES := lib trading-server ably-publishing-server ably-emulator devstack
PACKAGES := $(addsuffix /...,$(addprefix ./,$(MODULES)))
GO ?= go
TEST_FLAGS ?= -count=1 -timeout 20m

.PHONY: all run test deps build vet bench clean

all: build

## run: start the whole pipeline locally and print the client's address
run:
	@[ -f node_modules/ably/build/ably.min.js ] || ! command -v npm >/dev/null || npm install --no-audit --no-fund --silent || true
	cd devstack && $(GO) run ./cmd/devstack

## test: install what the tests need, then run every test
test: deps vet
	$(GO) test $(TEST_FLAGS) $(PACKAGES)

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

clean:
	rm -rf bin artifacts
