#!/usr/bin/env bash
# Installs broom's test-only npm dependencies (real GitHub webhook payloads
# from @octokit/webhooks-examples and GitHub's GraphQL schema from
# @octokit/graphql-schema, pinned in test/npm/package-lock.json) into
# <repo root>/.cache/npm, where internal/pr/prtest looks for them.
#
# Idempotent: when .cache/npm already holds exactly the locked packages it
# exits at once without touching the network.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/test/npm"
dst="$root/.cache/npm"
stamp="$dst/.installed-lock.sha256"
examples="$dst/node_modules/@octokit/webhooks-examples/package.json"
schema="$dst/node_modules/@octokit/graphql-schema/schema.graphql"

want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && -f "$examples" && -f "$schema" && "$(cat "$stamp")" == "$want" ]]; then
	exit 0
fi

mkdir -p "$dst"
cp "$src/package.json" "$src/package-lock.json" "$dst/"
rm -f "$stamp"
npm ci --prefix "$dst" --ignore-scripts --no-audit --no-fund --loglevel=error
echo "$want" >"$stamp"
echo "test-deps: installed test/npm packages into $dst"
