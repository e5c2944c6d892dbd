#!/usr/bin/env bash
# Mutation testing of the code that decides what may change (TESTING.md):
# gremlins mutates one operator at a time and runs the package's tests; a
# mutant the tests do not notice ("lived") is a check no test pins.
#
#   bash scripts/mutation.sh                      # every target below
#   bash scripts/mutation.sh internal/gate        # one target
#
# Writes .cache/mutation/<target>.json (gremlins' results) and
# .cache/mutation/report.md (scores and every surviving mutant with its
# source line). Not part of make test: it runs each package's tests once
# per mutant (about 15 minutes for all targets on 2 CPUs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CGO_ENABLED=0
gremlins="github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0"
out=.cache/mutation
mkdir -p "$out"
bash scripts/test-deps.sh

# target → the files mutated in it (all of its non-test files when empty).
declare -A files=(
	[internal/gate]=""
	[internal/plan]=""
	[internal/policy]=""
	[internal/action]="approval.go shardgate.go shardapply.go shardresults.go"
	[internal/engine]="apply.go reread.go"
	[internal/config]="load.go settings.go"
)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
	targets=(internal/gate internal/plan internal/policy internal/action internal/engine internal/config)
fi
for t in "${targets[@]}"; do
	if [[ ! -v "files[$t]" ]]; then
		echo "mutation: unknown target $t (known: ${!files[*]})" >&2
		exit 2
	fi
	exclude=()
	if [[ -n "${files[$t]}" ]]; then
		for f in "$t"/*.go; do
			base="$(basename "$f")"
			[[ "$base" == *_test.go ]] && continue
			[[ " ${files[$t]} " == *" $base "* ]] && continue
			exclude+=(--exclude-files "$base\$")
		done
	fi
	name="${t//\//-}"
	echo "== mutation: $t ${files[$t]}"
	# One worker: the moto-backed packages start servers of their own.
	go run "$gremlins" unleash --workers 1 --invert-logical --timeout-coefficient 3 \
		"${exclude[@]}" --output "$out/$name.json" "./$t" >"$out/$name.log" 2>&1 || {
		tail -20 "$out/$name.log" >&2
		exit 1
	}
	tail -6 "$out/$name.log"
done
python3 scripts/mutation-report.py "$out" >"$out/report.md"
echo "mutation: report in $out/report.md"
