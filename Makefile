# swarmgate — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build lint typecheck test unit update-golden bench clean

help: ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  %-16s %s\n", $$1, $$2}'

deps: ## install npm packages (npm ci)
	npm ci --no-audit --no-fund

build: ## compile TypeScript to dist/ (the swarmgate CLI is dist/src/cli/main.js)
	npm run build

lint: ## ESLint, including the pure-core import boundaries
	npx eslint .

typecheck: ## strict TypeScript check of src, test and bench
	npx tsc -p tsconfig.json --noEmit

unit: ## all tests that need no Docker engine (nginx must be installed for nginx -t)
	npx vitest run

test: lint typecheck unit ## lint, typecheck and every test that needs no Docker engine

update-golden: ## rewrite test/golden/*/expected files from the current renderer (review the diff!)
	UPDATE_GOLDEN=1 npx vitest run test/golden

bench: ## render 100/1k/10k routes, time render and nginx -t; table on stdout, JSON in bench/results/
	npx tsx bench/render-bench.ts

clean: ## remove build output
	rm -rf dist
