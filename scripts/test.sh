#!/usr/bin/env bash
# Runs every broom test: unit tests, integration tests against moto_server
# (started by the tests on loopback, aged with libfaketime) and end-to-end
# tests of the built binary against moto and the OpenAPI-checked GitHub fake.
# Also the static checks: gofmt, go mod tidy, no build or log artefacts in
# git, go vet, staticcheck, actionlint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

ensure_tools
bash scripts/test-deps.sh
# One build configuration for vet, staticcheck, the tests and the binary the
# end-to-end tests build: the AWS SDK's EC2 package takes minutes to compile
# and a second configuration would compile it twice.
export CGO_ENABLED=0

echo "== gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*'))"
if [[ -n "$unformatted" ]]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
echo "== go mod tidy"
check_tidy
echo "== tracked files"
check_tracked
echo "== go vet"
go vet ./...
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== actionlint"
# Every workflow file: ours and the copy-pasteable examples. actionlint also
# runs shellcheck on run: scripts when shellcheck is installed.
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12 -no-color \
	.github/workflows/*.yml examples/workflows/*.yml
echo "== go test"
# Strict whatever the environment holds: a missing moto_server, libfaketime
# or npm fixture fails its tests instead of skipping them (internal/testenv).
BROOM_STRICT_TESTS=1 go test -count=1 -timeout 15m "$@" ./...
