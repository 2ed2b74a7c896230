# onboardbot — build and test. `make test` needs nothing but Go and, as root
# on Debian, installs redis-server itself (scripts/with-redis.sh).

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO      ?= go
# The whole suite stays well under this; a hang fails instead of eating CI.
TEST_TIMEOUT ?= 8m

.PHONY: all build test vet fmt fuzz clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/onboardbot ./cmd/onboardbot

vet:
	$(GO) vet ./...

# Fails listing the files gofmt would change.
fmt:
	@files=$$("$$($(GO) env GOROOT)/bin/gofmt" -l .); if [ -n "$$files" ]; then echo "gofmt: these files are not formatted:"; echo "$$files"; exit 1; fi

# Checks formatting and builds first (what the Dockerfile runs), then vets
# and tests everything against miniredis, a real single Redis and a real
# 3-node cluster.
test: fmt build
	./scripts/with-redis.sh sh -c '$(GO) vet ./... && $(GO) test -race -timeout $(TEST_TIMEOUT) ./...'

# Runs every Fuzz* target in the tree for FUZZTIME each.
FUZZTIME ?= 60s
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh

clean:
	rm -rf bin .redis-test
	$(GO) clean -testcache
