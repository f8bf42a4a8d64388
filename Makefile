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

# The Debian package version: the latest v* tag, else 0.1.0 plus the commit.
DEB_VERSION ?= $(shell v=$$(git describe --tags --match 'v[0-9]*' 2>/dev/null) && echo $${v\#v} | tr - '~' || echo 0.1.0~git$$(git rev-parse --short HEAD 2>/dev/null))
ARCH ?= $(shell $(GO) env GOARCH)

.PHONY: test build install demo bench man deb

# Every test, including the integration tests under a real supervisord.
test:
	./scripts/need-supervisor
	./scripts/need-alertmanager
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	./scripts/test-deb

build:
	mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o bin/ $(addprefix ./cmd/,$(TOOLS))

# Manual pages for every tool in build/man, from each tool's command-line
# model and its doc.go (internal/mangen).
man: build
	$(GO) run ./internal/mangen -bin bin -out build/man

# The Debian package, build/superlance-go_VERSION_ARCH.deb (nfpm.yaml).
deb: man
	rm -rf build/deb && mkdir -p build/deb/bin build/deb/man
	cp $(addprefix bin/,$(TOOLS)) build/deb/bin/
	for page in build/man/*.1; do gzip -9n <$$page >build/deb/man/$${page##*/}.gz; done
	DEB_VERSION='$(DEB_VERSION)' ARCH='$(ARCH)' $(GO) tool nfpm package --packager deb --config nfpm.yaml --target build/

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
