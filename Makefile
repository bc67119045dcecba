# iamsql — build, test, docs, benchmarks.
GO      ?= go
BIN     ?= bin/iamsql
PKGS    := ./...
# The concurrent parts, again under the race detector: the server's
# connections, the engine's concurrent IAM calls, the emulator and the
# sandbox's direct calls.
RACE_PKGS := ./internal/server ./internal/sandbox ./internal/emulator ./internal/custody ./provider

.PHONY: all build test docs docs-check bench run vet fmt fuzz-corpus clean fuzz-sql dist

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/iamsql

# Release builds: static binaries (no cgo) for every target, stamped with
# VERSION (iamsql -V prints it), and SHA256SUMS over them, in DIST.
# go.mod's replace (replace/go-icu-regex) makes `go install …@latest`
# impossible, so these are how iamsql is installed without a checkout.
VERSION      ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DIST         ?= dist
DIST_TARGETS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
dist:
	rm -rf $(DIST) && mkdir -p $(DIST)
	set -e; for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; if [ "$$os" = windows ]; then ext=.exe; fi; \
		echo "== $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" \
			-o $(DIST)/iamsql_$(VERSION)_$${os}_$${arch}$$ext ./cmd/iamsql; \
	done
	cd $(DIST) && sha256sum iamsql_* > SHA256SUMS && cat SHA256SUMS

# The whole suite: unit and SQL tests through the real AWS SDK against the
# emulator, the real aws CLI, and the fuzz seed corpora.
test:
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(RACE_PKGS)
	cd replace/go-icu-regex && $(GO) test -count=1 ./...

# The secret-custody fault matrix in full (cmd/iamsql/faults_test.go):
# exec, scripts on stdin, the shell in a pseudo-terminal and serve with
# the mariadb CLI × SIGINT/TERM/HUP/QUIT/KILL, statement timeout, client
# disconnect and server shutdown × the moment the fault comes, and IAM
# faults on the create and the rollback delete; after each case the
# custody oracle compares the emulator's keys with the secrets delivered,
# the audit log and the custody journal. `make test` runs a representative
# subset of it. Prints each case and a summary.
.PHONY: test-faults
test-faults:
	IAMSQL_FAULTS=full $(GO) test -count=1 -timeout 15m -parallel 6 -v \
		-run '^(TestSecretCustodyFaultMatrix|TestCustodyOracleFindsViolations)$$' ./cmd/iamsql

docs:
	$(GO) run ./internal/docs/gendocs docs

# Fails when docs/ differs from what schema/ generates.
docs-check:
	$(GO) test -count=1 -run TestCheckedInDocsMatchSchema ./internal/docs

# Benchmarks against the quality bar's targets (bench/README.md): builds
# iamsql once, runs the benchmarks of bench/ and provider/ three times and
# prints a summary table of medians; exits 1 when a target is missed.
bench:
	$(GO) run ./bench/driver -count 3

# One run with fewer repetitions: a quick look at every target.
.PHONY: bench-quick
bench-quick:
	$(GO) run ./bench/driver -quick

run:
	$(GO) run ./cmd/iamsql --sandbox

# The differential SQL oracle's long campaign (internal/oracle): random
# SELECTs through iamsql against the emulator and through a go-mysql-server
# memory database holding the same accounts; prints queries run, time taken,
# shapes covered, differences found (shrunk, ready to paste) and the highest
# IAM calls per query against the full-scan bound. ORACLE_QUERIES,
# ORACLE_SEED and ORACLE_ACCOUNTS change the campaign; ORACLE_REPORT writes
# the report to a file too. ORACLE_ORG=1 runs it in org mode: each account
# is then an emulated organization (three readable members, one whose role
# cannot be assumed, one throttled, one suspended).
ORACLE_QUERIES  ?= 100000
ORACLE_SEED     ?= 1
ORACLE_ACCOUNTS ?= 12
ORACLE_REPORT   ?=
ORACLE_ORG      ?=
fuzz-sql:
	$(GO) test -count=1 -timeout 0 -v -run '^TestDifferentialCampaign$$' ./internal/oracle \
		-oracle.queries=$(ORACLE_QUERIES) -oracle.seed=$(ORACLE_SEED) \
		-oracle.accounts=$(ORACLE_ACCOUNTS) -oracle.report=$(ORACLE_REPORT) $(if $(ORACLE_ORG),-oracle.org)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DIST)
