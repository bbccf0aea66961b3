# hegui — developer entry points. `make help` lists them.

GO      ?= go
BIN     ?= bin
FUZZTIME ?= 10s

.PHONY: help build build-pkcs11 install demo test vet unit fuzz bench bench-openssl bench-proxy bench-kit clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build the static release binary bin/hegui (CGO_ENABLED=0)
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=true -o $(BIN)/hegui ./cmd/hegui

build-pkcs11: ## build bin/hegui-pkcs11, which can use PKCS#11 tokens (cgo)
	CGO_ENABLED=1 $(GO) build -trimpath -buildvcs=true -o $(BIN)/hegui-pkcs11 ./cmd/hegui

install: ## install hegui into $GOBIN (static)
	CGO_ENABLED=0 $(GO) install -trimpath -buildvcs=true ./cmd/hegui

demo: build ## the main job on the built-in example: keys, CA, code-signing certificate, signature, verification
	./scripts/demo.sh $(BIN)/hegui

test: vet unit fuzz ## everything CI runs: vet, the tests against the real peers, short fuzzing

vet: ## gofmt, go vet and staticcheck (fetched through the module proxy, pinned)
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...

unit: ## the test suite (needs openssl, softhsm2, opensc: see .ci/run)
	$(GO) test -count=1 -timeout 20m ./...

fuzz: ## run every fuzz target for FUZZTIME (default 10s)
	./scripts/fuzz.sh $(FUZZTIME)

bench: ## Go benchmarks of the API against the libraries it wraps
	$(GO) test -run '^$$' -bench . -count 10 ./sign ./digest ./symmetric ./keys

bench-openssl: build ## hegui next to openssl on the same files and keys (docs/PERFORMANCE.md)
	./scripts/bench-openssl.sh $(BIN)/hegui

bench-proxy: build ## hegui proxy next to file:// and nginx on restic's module graph (about 20 minutes; docs/PERFORMANCE.md)
	./scripts/bench-proxy.sh $(BIN)/hegui

bench-kit: build ## hegui kit build, install and verify on restic (about 15 minutes; docs/PERFORMANCE.md)
	./scripts/bench-kit.sh $(BIN)/hegui

clean: ## remove build output
	rm -rf $(BIN)
