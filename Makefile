# swarmgate — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build lint typecheck test unit update-golden bench clean proto proto-check

# npm ci writes this file; it is newer than the lockfile once dependencies are installed, so the
# first `make demo` or `make test` on a fresh clone installs them and later runs do not.
DEPS_STAMP := node_modules/.package-lock.json
$(DEPS_STAMP): package-lock.json
	npm ci --no-audit --no-fund

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-16s %s\n", $$1, $$2}'

deps: ## install npm packages (npm ci)
	npm ci --no-audit --no-fund

build: $(DEPS_STAMP) ## compile TypeScript to dist/ (the swarmgate CLI is dist/src/cli/main.js)
	npm run build

lint: $(DEPS_STAMP) ## ESLint, including the pure-core import boundaries
	npx eslint .

typecheck: $(DEPS_STAMP) ## strict TypeScript check of src, test and bench
	npx tsc -p tsconfig.json --noEmit

unit: $(DEPS_STAMP) ## all tests that need no Docker engine (nginx must be installed for nginx -t)
	npx vitest run

test: proto-check lint typecheck unit ## generated types fresh, lint, typecheck and every test that needs no Docker engine

# The .proto files are the API's source of truth; the TypeScript types generated from them are committed.
PROTO_GEN := npx proto-loader-gen-types --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js -I src/api/proto

proto: $(DEPS_STAMP) ## regenerate src/api/generated/ from src/api/proto/*.proto
	rm -rf src/api/generated && $(PROTO_GEN) -O src/api/generated swarmgate/v1/core.proto

proto-check: $(DEPS_STAMP) ## fail when src/api/generated/ is stale (run make proto)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(PROTO_GEN) -O "$$tmp" swarmgate/v1/core.proto >/dev/null \
	  && diff -r "$$tmp" src/api/generated >/dev/null \
	  || { echo "src/api/generated/ is stale: run make proto and commit the result" >&2; exit 1; }

update-golden: ## rewrite test/golden/*/expected files from the current renderer (review the diff!)
	UPDATE_GOLDEN=1 npx vitest run test/golden

bench: ## render 100/1k/10k routes, time render and nginx -t; table on stdout, JSON in bench/results/
	npx tsx bench/render-bench.ts

clean: ## remove build output
	rm -rf dist

# ---- Container images and a local single-node swarm (scripts and Dockerfiles: deploy/) ----
# Images: $(IMAGE_PREFIX)/proxy and $(IMAGE_PREFIX)/swarmgate, tagged $(VERSION) and latest.
IMAGE_PREFIX ?= swarmgate
VERSION ?= $(shell sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' package.json | head -n 1)
# offline: nothing is pulled (debootstrapped Debian base, the host's Node, app built on the host);
# registry: the ordinary deploy/docker/*.Dockerfile, FROM debian:bookworm-slim / node:20-bookworm-slim.
IMAGE_SOURCE ?= offline
# offline only: the imported base image, the Debian mirrors it uses, the Node 20 binary copied in.
BASE_IMAGE ?= $(IMAGE_PREFIX)/debian:bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian
DEBIAN_SECURITY_MIRROR ?= http://deb.debian.org/debian-security
NODE_BIN ?= /usr/bin/node
# swarm-up: address a new swarm advertises; seconds to wait for a dockerd it starts.
SWARM_ADVERTISE_ADDR ?= 127.0.0.1
DOCKERD_WAIT ?= 60

.PHONY: images swarm-up swarm-down demo demo-clean test-int bench-swarm bench-memory bench-reload

images: $(DEPS_STAMP) ## build swarmgate/proxy + swarmgate/swarmgate (IMAGE_SOURCE=offline pulls nothing; =registry uses deploy/docker/)
	@IMAGE_PREFIX='$(IMAGE_PREFIX)' VERSION='$(VERSION)' IMAGE_SOURCE='$(IMAGE_SOURCE)' \
	  BASE_IMAGE='$(BASE_IMAGE)' DEBIAN_MIRROR='$(DEBIAN_MIRROR)' \
	  DEBIAN_SECURITY_MIRROR='$(DEBIAN_SECURITY_MIRROR)' NODE_BIN='$(NODE_BIN)' \
	  bash deploy/scripts/images.sh

swarm-up: ## install/start dockerd and init a single-node swarm as needed; records what it did
	@SWARM_ADVERTISE_ADDR='$(SWARM_ADVERTISE_ADDR)' DOCKERD_WAIT='$(DOCKERD_WAIT)' \
	  bash deploy/scripts/swarm-up.sh

swarm-down: ## undo only what swarm-up recorded (leave its swarm, stop its dockerd; never uninstall)
	@bash deploy/scripts/swarm-down.sh

demo: swarm-up images ## one command: swarm, images, install the core, apply examples/quickstart/, curl it
	@IMAGE_PREFIX='$(IMAGE_PREFIX)' bash deploy/scripts/demo.sh

demo-clean: build ## remove what make demo created (core, proxies, specs, backends); keeps swarm and images
	@bash deploy/scripts/demo-clean.sh

test-int: ## integration tests against the local Swarm (needs make swarm-up images)
	npx vitest run --config vitest.integration.mts

bench-reload: build ## wrk -c50 while 100 route changes apply: non-2xx, socket errors, reloads (needs swarm-up images, wrk)
	@command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
	npx tsx bench/reload-bench.ts

bench-memory: ## RSS and V8 heap of the core converging 1,000 routes over the in-memory Docker fake (flags: NODE_FLAGS=...)
	node --import tsx $(NODE_FLAGS) bench/core-memory.ts

bench-swarm: build ## core latencies on the local Swarm: create/scale/remove → traffic, core RSS at 1k routes (needs swarm-up images)
	npx tsx bench/swarm-bench.ts
