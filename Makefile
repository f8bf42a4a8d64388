# The README names these targets; each is a thin wrapper.
GO ?= go
BINDIR ?= $(shell $(GO) env GOPATH)/bin
# The tools are the directories under cmd/: a new one is built, installed,
# packaged, documented and tested without being named anywhere else.
TOOLS := $(notdir $(wildcard cmd/*))
PKG := github.com/superlance-go/superlance
# git describe and the commit, stamped into every binary for --version;
# without git the binaries fall back to the module's build info.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -s -w -X $(PKG)/internal/cli.stampedVersion=$(VERSION) -X $(PKG)/internal/cli.stampedCommit=$(COMMIT)

.PHONY: test build install demo bench

# Every test, including the integration tests under a real supervisord.
test:
	./scripts/need-supervisor
	./scripts/need-alertmanager
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

build:
	mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o bin/ $(addprefix ./cmd/,$(TOOLS))

install:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BINDIR)/ $(addprefix ./cmd/,$(TOOLS))

# The tools under a real supervisord, with misbehaving programs and a
# built-in mail server; about a minute. See internal/demo.
demo:
	$(GO) run ./internal/demo

# Go benchmarks, then whole-process figures for each tool (internal/benchharness).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/benchharness
