# canary: prove that an Istio canary rollout splits traffic as configured.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
FUZZTIME ?= 30s
PKGS     := ./...

.PHONY: help build test interop jaeger demo lab bench fuzz lint tidy golden

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/canary
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/canary ./cmd/canary

demo: build ## run the canary walkthrough on the built-in local Bookinfo mesh
	./bin/canary demo --output canary-demo.md

lab: build ## a real Kubernetes API with the local mesh as its data plane (Debian's etcd-server; builds kube-apiserver once)
	CANARY_KUBE_APISERVER=$$(scripts/kube-apiserver.sh) $(GO) run ./internal/lab/cmd/canary-lab

# cmd/canary's end-to-end gates run alone, after the other packages: on 2
# cores a lab test of another package beside them starved the mesh's pods
# long enough for productpage's retries to skew a server-side count.
test: lint ## lint, then every test with the race detector (end-to-end tests need Debian's prometheus), then interop
	$(GO) test -race -count=1 -timeout 20m $$($(GO) list $(PKGS) | grep -v '/cmd/canary$$')
	$(GO) test -race -count=1 -timeout 25m ./cmd/canary
	GO="$(GO)" ./scripts/interop.sh

jaeger: ## print the path of the Jaeger for the tests' CANARY_JAEGER, building it once (scripts/jaeger.sh)
	./scripts/jaeger.sh

interop: ## tests against Flagger's and Argo Rollouts' own client code (separate modules)
	GO="$(GO)" ./scripts/interop.sh

bench: build ## Go benchmarks (classify, mesh pages/s, attack, the live view's cost)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	./scripts/bench-attack.sh
	./scripts/bench-live.sh

fuzz: ## run each fuzz test for FUZZTIME (default 30s)
	./scripts/fuzz.sh $(FUZZTIME)

golden: ## rewrite golden files after an intended change (the packages whose tests take -update)
	$(GO) test -run 'Golden' $$(grep -rl --include='*_test.go' 'flag.Bool("update"' . | xargs -n1 dirname | sort -u) -update

lint: ## gofmt, go vet and the package import rules
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: run gofmt -w on the files above'; exit 1; }
	$(GO) vet $(PKGS)
	./scripts/deps-check.sh

tidy: ## go mod tidy, failing if it changes anything
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
