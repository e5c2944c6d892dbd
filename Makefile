# The two commands of the README's quick start, and the checks CI runs.
.PHONY: demo test build vet lint bench mutation

demo: ## start moto under faketime, seed snapshots, run broom plan then apply
	bash scripts/demo/demo.sh

test: ## every test: unit, moto integration, end-to-end
	bash scripts/test.sh

bench: ## benchmarks (BENCHMARKS.md): plan, apply, memory, start-up, many accounts; not part of test
	bash bench/run.sh

mutation: ## mutation testing of the checks that decide what may change (TESTING.md); not part of test
	bash scripts/mutation.sh

build:
	CGO_ENABLED=0 go build -trimpath -o bin/broom ./cmd/broom

vet:
	go vet ./...
