#!/usr/bin/env bash
# The quick-start demo: a local AWS (moto) with snapshots made 400 days ago
# (libfaketime) and today, then `broom plan` (changes nothing) and
# `broom apply` (deletes exactly what the plan showed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source scripts/lib.sh
if [[ "$(uname -s)" != Linux ]]; then
	echo "make demo runs on Linux only: it ages moto's resources with libfaketime (LD_PRELOAD)" >&2
	exit 1
fi
ensure_tools
# seed.py talks to moto with boto3, through whichever python3 is on PATH.
if ! python3 -c 'import boto3' 2>/dev/null; then
	echo "$(command -v python3) cannot import boto3, which seeds the demo: pip install 'moto[server]>=5.2,<5.3' with that python3" >&2
	exit 1
fi

work="$(mktemp -d)"
moto_pid=""
cleanup() {
	if [[ -n "$moto_pid" ]]; then kill -- "-$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

export CGO_ENABLED=0 # same cache key as the tests
# The first build compiles the AWS SDK's EC2 package, which takes minutes:
# say so rather than sit silent.
if [[ "$(go list -f '{{.Stale}}' github.com/aws/aws-sdk-go-v2/service/ec2 2>/dev/null)" != false ]]; then
	echo "== building broom (the first build compiles the AWS SDK: a few minutes; later builds take seconds)…"
else
	echo "== building broom"
fi
go build -o "$work/broom" ./cmd/broom

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
echo "+0" >"$work/clock"
echo "== starting moto_server on 127.0.0.1:$port under libfaketime"
MOTO_EC2_LOAD_DEFAULT_AMIS=false LD_PRELOAD="$(libfaketime)" FAKETIME_TIMESTAMP_FILE="$work/clock" \
	FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
	setsid moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 100); do
	curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
	sleep 0.2
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo \
	AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
	AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

echo "== seeding: 400-day-old snapshots (3 stale, 1 protected, 1 behind an AMI), NAT gateways (1 idle, 1 routed), security groups (1 idle, 1 in use), 2 idle network interfaces (1 protected), CI instances (1 idle, 1 in an Auto Scaling group) and 2 idle load balancers (1 with deletion protection)"
echo "-400d" >"$work/clock"
python3 scripts/demo/seed.py old
echo "== seeding: 2 snapshots made today"
echo "+0" >"$work/clock"
python3 scripts/demo/seed.py young

cat >"$work/broom.yml" <<'YAML'
version: 1
id: demo
regions: [us-east-1]
protect:
  tags: {"broom:keep": "*"}
rules:
  - name: old-ci-snapshots
    resource: ebs-snapshot
    action: delete
    where:
      older-than: 30d
      tags: {Environment: ci}
  - name: idle-nat-gateways
    resource: nat-gateway
    action: delete
    where: {unused: true, older-than: 7d}
  - name: idle-security-groups
    resource: security-group
    action: delete
    where: {unused: true, tags: {Environment: ci}}
  - name: idle-enis
    resource: network-interface
    action: delete
    where: {unattached: true, tags: {Environment: ci}}
  - name: stop-idle-ci-instances
    resource: ec2-instance
    action: stop
    where: {state: running, older-than: 7d, tags: {Environment: ci}}
  - name: idle-load-balancers
    resource: load-balancer
    action: delete
    where: {unused: true, older-than: 30d}
YAML

echo
echo "== broom plan (dry run: changes nothing)"
# The text table, fitted to the terminal (--format markdown is what a pull
# request comment shows).
"$work/broom" plan --config "$work/broom.yml"
echo
# On a terminal, broom apply asks you to type the account id; a script says
# --yes (or pins the plan it reviewed with --expect-fingerprint).
echo "== broom apply --yes (plans again, shows the plan, then deletes exactly that)"
"$work/broom" apply --yes --config "$work/broom.yml"
echo
echo "== broom apply again (idempotent: nothing to do, so nothing to confirm)"
"$work/broom" apply --config "$work/broom.yml"
