# Atrium. `make run` starts the demo; `make test` runs the whole suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash
GO ?= go
BIN := bin/atrium

.PHONY: help run build generate test test-short lint fmt bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

build: ## build bin/atrium
	$(GO) build -o $(BIN) ./cmd/atrium

run: build ## demo: private PostgreSQL under .data/, migrations, demo data, http://localhost:8080
	./$(BIN) dev

generate: ## regenerate templ components (templ pinned in go.mod)
	$(GO) tool templ generate

test: ## the whole suite on one private PostgreSQL, browser tests included
	$(GO) run ./cmd/testdb -- $(GO) test -count=1 ./...

lint: ## gofmt, go vet, and generated files in step with their sources
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) tool templ generate >/dev/null 2>&1 && git diff --exit-code -- '*_templ.go'

clean: ## remove build output and the demo database
	rm -rf bin .data

# The load benchmark needs Debian's pgbouncer (in /usr/sbin) for its PgBouncer mode.
BENCHFLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

bench: build ## load benchmark vs a bare baseline, 100–100,000 tenants, PgBouncer (BENCHFLAGS=-quick for a short run)
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || { \
		echo "installing pgbouncer (Debian package) for the PgBouncer mode"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench $(BENCHFLAGS)
