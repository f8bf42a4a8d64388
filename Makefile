# The README names these targets; each is a thin wrapper.
GO ?= go
BINDIR ?= $(shell $(GO) env GOPATH)/bin
TOOLS := httpok memmon crashmail crashmailbatch fatalmailbatch crashsms missingmail procmon

.PHONY: test build install demo bench

# Every test, including the integration tests under a real supervisord.
test:
	./scripts/need-supervisor
	./scripts/need-alertmanager
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

build:
	mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/ $(addprefix ./cmd/,$(TOOLS))

install:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BINDIR)/ $(addprefix ./cmd/,$(TOOLS))

# The tools under a real supervisord, with misbehaving programs and a
# built-in mail server; about a minute. See internal/demo.
demo:
	$(GO) run ./internal/demo

# Go benchmarks, then whole-process figures for each tool (internal/benchharness).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/benchharness
