#!/usr/bin/env bash
# broom's benchmarks (issue 6); the figures and how to read them are in
# BENCHMARKS.md. `make bench` runs this; it is not part of the tests. It
# needs what the tests need (Go, moto_server, libfaketime) and takes about
# 30 minutes on 2 CPUs, most of it the paced applies.
#
#   size    the static binary's size
#   plan    broom plan over 1 and 2 regions of 2,000 snapshots (1,000 old),
#           300 volumes, 20 AMIs and 20 addresses each, behind a counting
#           proxy: wall time, peak RSS, API calls
#   start   process start to broom's first API call
#   apply   1,000 snapshot deletions behind a proxy that throttles above 50
#           requests/s, with rate limits set to it and with the defaults
#   scale   broom plan of 20,000 snapshot deletions (against bench/cmd/fakeec2:
#           moto cannot list that many): peak RSS
#   render  the report renderers' benchmarks at 20,000 actions
#   kinds   broom plan over 2 regions of a small estate of every kind, one
#           rule each, behind the counting proxy: wall time, peak RSS, and
#           the API calls per kind and region beside each kind's floor
#   org     broom plan of 20 accounts (assumed roles) × 4 regions against
#           1 account × 1 region, each account and region with a few old
#           snapshots and volumes and more new snapshots: wall time, ratio,
#           API calls, peak RSS
#
# Environment: RUNS (measured runs of each, default 5; start takes at least
# 10), STEPS (default all, in the order above), SCALE (actions of the scale
# step, default 20000), APPLY (the apply step's configs, default
# "apply-tuned apply-default"), QUICK=1 (a tenth of every count: a smoke
# test of this script, not a benchmark), OUT (default bench/results/DATE),
# ORG_MOTOS (the org step's moto servers: 4, one per region, or 1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/lib.sh
ensure_tools

runs="${RUNS:-5}"
steps="${STEPS:-size plan start apply scale render kinds org}"
apply_configs="${APPLY:-apply-tuned apply-default}"
# Every setting is checked before anything is built or run.
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: RUNS=$runs: want a whole number of runs, 1 or more" >&2
	exit 2
fi
for s in $steps; do
	case $s in
	size | plan | start | apply | scale | render | kinds | org) ;;
	*)
		echo "bench: unknown step $s (STEPS takes some of: size plan start apply scale render kinds org)" >&2
		exit 2
		;;
	esac
done
for c in $apply_configs; do
	case $c in
	apply-tuned | apply-default) ;;
	*)
		echo "bench: unknown apply config $c (APPLY takes some of: apply-tuned apply-default)" >&2
		exit 2
		;;
	esac
done
case ${ORG_MOTOS:-4} in
1 | 4) ;;
*)
	echo "bench: ORG_MOTOS=$ORG_MOTOS: want 4 (a moto per region) or 1" >&2
	exit 2
	;;
esac
q=1
[[ -n "${QUICK:-}" ]] && q=10
n_old=$((1000 / q)) n_vol=$((300 / q)) n_ami=$((20 / q)) n_eip=$((20 / q)) n_del=$((1000 / q))
# atleast1 N: N, or 1 when QUICK has made it 0.
atleast1() { echo $(($1 > 0 ? $1 : 1)); }
# The kinds step's estate, per region.
k_snap=$((50 / q)) k_vol=$((20 / q)) k_ami=$(atleast1 $((5 / q))) k_eip=$(atleast1 $((10 / q)))
k_nat=$(atleast1 $((5 / q))) k_sg=$((20 / q)) k_db=$(atleast1 $((3 / q))) k_dbsnap=$(atleast1 $((10 / q)))
k_eni=$((20 / q)) k_inst=$(atleast1 $((10 / q))) k_lb=$(atleast1 $((5 / q)))
k_repo=$(atleast1 $((3 / q))) k_img=$(atleast1 $((6 / q))) k_lg=$(atleast1 $((20 / q)))
# The org step's estate, per account and region: old volumes and
# snapshots the rules delete, and new snapshots no rule matches.
o_vol=$(atleast1 $((4 / q))) o_old=$(atleast1 $((8 / q))) o_new=$(atleast1 $((12 / q)))
scale="${SCALE:-$((20000 / q))}"
if ! [[ $scale =~ ^[1-9][0-9]*$ ]]; then
	echo "bench: SCALE=$scale: want a whole number of actions, 1 or more" >&2
	exit 2
fi
out="${OUT:-bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
bin="$work/bin"
summary="$out/summary.md"
moto="" moto_west="" moto_eu="" moto_ap="" moto_pids=() proxy_pid="" fake_pid=""

cleanup() {
	stop_proxy
	if [[ -n "$fake_pid" ]]; then kill "$fake_pid" 2>/dev/null || true; fi
	local p
	for p in "${moto_pids[@]}"; do
		kill -- "-$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "== $*" >&2; }
# note appends a line to the summary and shows it.
note() { echo "$*" | tee -a "$summary"; }

# num: the numbers on stdin rounded for reading, one a line.
num() { awk '{v = $1 < 0 ? -$1 : $1; printf($1 == int($1) || v >= 100 ? "%.0f\n" : v >= 10 ? "%.1f\n" : "%.2f\n", $1)}'; }
# median of the numbers on stdin, one a line.
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}' | num; }
# field FILE KEY: the value of a "key value" line.
field() { awk -v k="$2" '$1 == k {print $2; exit}' "$1"; }
# op FILE NAME [COLUMN]: an action's requests (3), forwarded (4) or injected (5) calls.
op() { awk -v o="$2" -v c="${3:-3}" '$1 == "op" && $2 == o {n = $c} END {print n + 0}' "$1"; }
# each NAME EXPR: EXPR (awk, over a run's figures) for every run NAME-1 … NAME-RUNS, one a line.
each() {
	local f
	for f in "$out/$1"-[0-9]*.txt; do
		awk -v e="$2" 'BEGIN {} {v[$1] = $2} $1 == "total" {req = $2; fwd = $3; inj = $4}
			$1 == "span" && $2 == "DeleteSnapshot" {dwin = ($4 - $3) / 1e9} $1 == "op" && $2 == "DeleteSnapshot" {dfwd = $4}
			END {
				wall = v["wall_ns"] / 1e9; rss = v["maxrss_kib"] / 1024
				first = (v["first_ns"] - v["start_ns"]) / 1e6; window = (v["last_ns"] - v["first_ns"]) / 1e9
				busy = v["busy_ns"] / 1e9
				if (e == "wall") print wall; else if (e == "rss") print rss; else if (e == "calls") print req
				else if (e == "first") print first; else if (e == "fwd") print fwd; else if (e == "throttled") print inj
				else if (e == "rate") print fwd / wall; else if (e == "window_rate") print fwd / window
				else if (e == "exit") print v["exit"]; else if (e == "inflight") print v["max_in_flight"]
				else if (e == "busy") print busy; else if (e == "own") print wall - busy
				else if (e == "del_window") print dwin; else if (e == "del_rate") print dfwd / dwin
			}' "$f"
	done
}
med() { each "$1" "$2" | median; }
range() { each "$1" "$2" | num | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

build() {
	say "building broom (static, stripped) and the benchmark tools"
	mkdir -p "$bin"
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/broom" ./cmd/broom
	CGO_ENABLED=0 go build -o "$bin/" ./bench/cmd/...
}

# clock OFFSET moves moto's wall clock (libfaketime), e.g. -400d or +0.
clock() { echo "$1" >"$work/clock.tmp" && mv "$work/clock.tmp" "$work/clock"; }

# start_moto VAR: a moto_server under libfaketime (all read the same clock
# file), its URL in $VAR.
start_moto() {
	local port
	port="$(free_port)"
	[[ -f "$work/clock" ]] || clock +0
	say "starting moto_server on 127.0.0.1:$port under libfaketime"
	# FAKETIME_FORCE_MONOTONIC_FIX=0: libfaketime turns that fix on by
	# default with this glibc, and then moto's threads hand the GIL over
	# through a slow path: concurrent calls ran 5–35 times slower. The fix is
	# for a faked monotonic clock, which FAKETIME_DONT_FAKE_MONOTONIC keeps
	# real.
	MOTO_EC2_LOAD_DEFAULT_AMIS=false LD_PRELOAD="$(libfaketime)" FAKETIME_TIMESTAMP_FILE="$work/clock" \
		FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 \
		setsid moto_server -H 127.0.0.1 -p "$port" >>"$out/moto-$1.log" 2>&1 &
	moto_pids+=("$!")
	printf -v "$1" '%s' "http://127.0.0.1:$port"
	for _ in $(seq 300); do
		curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "moto_server did not start: see $out/moto-$1.log" >&2
	return 1
}

reset_moto() { curl -fsS -X POST "$1/moto-api/reset" >/dev/null; }

# seed URL REGION SEED-FLAGS…: make resources in a moto, directly (not counted).
seed() {
	local url=$1 region=$2
	shift 2
	"$bin/seed" -endpoint "$url" -region "$region" "$@" | tee -a "$out/seed.log" >&2
}

# start_proxy URL [PROXY-FLAGS…]: the counting proxy in front of URL.
start_proxy() {
	local target=$1
	shift
	rm -f "$work/proxy.addr"
	setsid "$bin/proxy" -target "$target" -addr-file "$work/proxy.addr" "$@" >>"$out/proxy.log" 2>&1 &
	proxy_pid=$!
	for _ in $(seq 100); do
		[[ -s "$work/proxy.addr" ]] && break
		sleep 0.1
	done
	read -r proxy control <"$work/proxy.addr"
}

stop_proxy() {
	if [[ -n "$proxy_pid" ]]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
	proxy_pid=""
}

# broom NAME ARGS…: one measured broom run through the proxy. Its figures
# (measure's, then the proxy's) go to $out/NAME.txt, its output beside.
broom() {
	local name=$1
	shift
	curl -fsS -X POST "$control/reset"
	env -i PATH="$PATH" HOME="$HOME" AWS_ENDPOINT_URL="$proxy" AWS_ACCESS_KEY_ID=AKIDBENCH \
		AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		"$bin/measure" -o "$out/$name.txt" -- "$bin/broom" "$@" >"$out/$name.out" 2>"$out/$name.log"
	curl -fsS "$control/stats" >>"$out/$name.txt"
}

# config NAME REGIONS RULES [EXTRA]: write a policy file.
config() {
	{
		printf 'version: 1\nid: bench\nregions: [%s]\nmax-actions: 100000\ntimeout: 60m\nrules:\n' "$2"
		for r in $3; do
			case $r in
			snapshots) printf '  - {name: old-snapshots, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n' ;;
			volumes) printf '  - {name: orphan-volumes, resource: ebs-volume, action: delete, where: {unattached: true}}\n' ;;
			amis) printf '  - {name: stale-amis, resource: ami, action: delete, where: {older-than: 90d, unused: true}}\n' ;;
			eips) printf '  - {name: idle-eips, resource: elastic-ip, action: delete, where: {unassociated: true}}\n' ;;
			# The kinds step's rules, one a kind (see kinds_all).
			ebs-snapshot) printf '  - {name: old-snapshots, resource: ebs-snapshot, action: delete, where: {older-than: 30d}}\n' ;;
			ebs-volume) printf '  - {name: orphan-volumes, resource: ebs-volume, action: delete, where: {unattached: true}}\n' ;;
			ami) printf '  - {name: stale-amis, resource: ami, action: delete, where: {older-than: 90d, unused: true}}\n' ;;
			elastic-ip) printf '  - {name: idle-eips, resource: elastic-ip, action: delete, where: {unassociated: true}}\n' ;;
			s3-bucket) printf '  - {name: logs-bucket, resource: s3-bucket, action: ensure, bucket: %s, region: us-east-1, settings: {versioning: true, encryption: AES256}}\n' "$kinds_bucket" ;;
			nat-gateway) printf '  - {name: idle-nats, resource: nat-gateway, action: delete, where: {unused: true, older-than: 30d}}\n' ;;
			security-group) printf '  - {name: idle-groups, resource: security-group, action: delete, where: {unused: true}}\n' ;;
			rds-snapshot) printf '  - {name: old-db-snapshots, resource: rds-snapshot, action: delete, where: {older-than: 30d}}\n' ;;
			network-interface) printf '  - {name: loose-interfaces, resource: network-interface, action: delete, where: {unattached: true}}\n' ;;
			ec2-instance) printf '  - {name: stopped-instances, resource: ec2-instance, action: delete, where: {state: stopped, older-than: 30d}}\n' ;;
			load-balancer) printf '  - {name: idle-balancers, resource: load-balancer, action: delete, where: {unused: true, older-than: 30d}}\n' ;;
			ecr-image) printf '  - {name: untagged-images, resource: ecr-image, action: delete, where: {untagged: true, older-than: 30d}}\n' ;;
			log-group) printf '  - {name: empty-log-groups, resource: log-group, action: delete, where: {empty: true, older-than: 30d}}\n' ;;
			*)
				echo "bench: no rule for $r" >&2
				return 1
				;;
			esac
		done
		printf '%s' "${4:-}"
	} >"$work/$1.yml"
}

# kinds FILE: actions of a JSON plan by kind and status.
kinds() { grep -oE '"(kind|status)": "[a-z0-9-]+"' "$1" | awk -F'"' '{print $4}' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//'; }
# statuses FILE STATUS: how many actions of a JSON plan have STATUS.
statuses() { grep -c "\"status\": \"$2\"" "$1" || true; }

mib() { awk -v s="$1" 'BEGIN {printf "%.1f", s / 1048576}'; }

step_size() {
	local size full linked
	CGO_ENABLED=0 go build -trimpath -o "$work/broom-full" ./cmd/broom
	size="$(stat -c %s "$bin/broom")"
	full="$(stat -c %s "$work/broom-full")"
	linked="$(ldd "$bin/broom" 2>&1 | tr -d "\t" || true)"
	note "## Binary"
	note ""
	note "CGO_ENABLED=0 go build -trimpath -ldflags \"-s -w\": $size bytes ($(mib "$size") MiB); without -ldflags \"-s -w\": $full bytes ($(mib "$full") MiB). ldd: $linked."
	note ""
}

# seed_both SEED-FLAGS…: seed us-east-1 (in $moto) and us-west-2 (in $west,
# step_plan's) alike, at once when each has its own moto.
seed_both() {
	local p1
	if [[ "$west" == "$moto" ]]; then
		seed "$moto" us-east-1 "$@"
		seed "$west" us-west-2 "$@"
		return
	fi
	seed "$moto" us-east-1 "$@" &
	p1=$!
	seed "$west" us-west-2 "$@"
	wait "$p1"
}

step_plan() {
	local west=$moto
	reset_moto "$moto"
	if [[ "${PLAN_MOTOS:-2}" == 2 ]]; then
		[[ -n "$moto_west" ]] || start_moto moto_west
		reset_moto "$moto_west"
		west=$moto_west
	fi
	say "seeding 2 regions: $n_old old snapshots, $n_vol volumes, $n_ami AMIs, $n_eip addresses; then $n_old new snapshots"
	clock -400d
	seed_both -volumes "$n_vol" -snapshots "$n_old" -amis "$n_ami" -addresses "$n_eip"
	clock +0
	seed_both -snapshots "$n_old"
	config plan-1 us-east-1 "snapshots volumes amis eips"
	config plan-2 "us-east-1, us-west-2" "snapshots volumes amis eips"
	config snap-1 us-east-1 snapshots
	start_proxy "$moto" -region us-west-2="$west"
	say "plan: a warm-up run of each, then $runs rounds"
	for c in plan-1 plan-2 snap-1; do broom "warm-$c" plan --config "$work/$c.yml" --out "$out/warm-$c.json"; done
	for i in $(seq "$runs"); do
		for c in plan-1 plan-2 snap-1; do broom "$c-$i" plan --config "$work/$c.yml"; done
	done
	stop_proxy
	note "## Plan (median of $runs runs; range in brackets; moto servers: ${PLAN_MOTOS:-2})"
	note ""
	note "| Config | Actions planned | Wall | API busy | Wall − API busy | Peak RSS | API calls | Most in flight | Calls by action (one run) |"
	note "|:--|:--|--:|--:|--:|--:|--:|--:|:--|"
	for c in plan-1 plan-2 snap-1; do
		note "| $c | $(kinds "$out/warm-$c.json") | $(med "$c" wall) s [$(range "$c" wall)] | $(med "$c" busy) s | $(med "$c" own) s [$(range "$c" own)] | $(med "$c" rss) MiB [$(range "$c" rss)] | $(med "$c" calls) [$(range "$c" calls)] | $(med "$c" inflight) | $(awk '$1 == "op" {printf "%s %d, ", $2, $3}' "$out/$c-1.txt" | sed 's/, $//') |"
	done
	note ""
	note "API busy: the time at least one call was in flight at the proxy (moto answering); Wall − API busy: broom's own time, start-up and report included."
	note ""
	note "Ratio 2 regions / 1 region: $(paste <(each plan-2 wall) <(each plan-1 wall) | awk '{print $1 / $2}' | median) (median of the $runs rounds' ratios; ratio of medians $(awk -v a="$(med plan-2 wall)" -v b="$(med plan-1 wall)" 'BEGIN {printf "%.2f", a / b}'))."
	note "Exit codes: $( (each plan-1 exit; each plan-2 exit; each snap-1 exit) | tr '\n' ' ')"
	note ""
}

step_start() {
	local n=$((runs > 10 ? runs : 10))
	config start-1 eu-west-1 snapshots
	start_proxy "$moto"
	say "start to first API call: $n runs of a plan of an empty region"
	broom start-warm plan --config "$work/start-1.yml"
	for i in $(seq "$n"); do broom "start-$i" plan --config "$work/start-1.yml"; done
	stop_proxy
	note "## Start"
	note ""
	note "Process start to first API call (median of $n): $(med start first) ms [$(range start first)]; whole run $(med start wall) s, peak RSS $(med start rss) MiB."
	note ""
}

step_apply() {
	reset_moto "$moto"
	clock +0
	say "apply: $n_del new snapshots that stay; each run seeds $n_del old ones and deletes them"
	seed "$moto" us-east-1 -snapshots "$n_del"
	# The proxy's allowance, a bucket of 50 refilled at 50/s, split between
	# the three actions the run calls: DeleteSnapshot 40 + 46/s, and
	# DescribeSnapshots and DescribeImages (non-mutating) 5 + 2/s each.
	config apply-tuned us-east-1 snapshots "aws:
  rate-limits:
    DeleteSnapshot: {burst: 40, per-second: 46}
    non-mutating: {burst: 5, per-second: 2}
"
	config apply-default us-east-1 snapshots
	start_proxy "$moto" -rate 50 -burst 50
	for i in $(seq "$runs"); do
		for c in $apply_configs; do
			clock -400d
			seed "$moto" us-east-1 -snapshots "$n_del"
			clock +0
			say "apply: $c run $i"
			broom "$c-$i" apply --yes --config "$work/$c.yml" --out "$out/$c-$i.json"
			echo "done $(statuses "$out/$c-$i.json" "done") failed $(statuses "$out/$c-$i.json" failed)" >>"$out/$c-$i.txt"
		done
	done
	stop_proxy
	note "## Apply: $n_del deletions behind 50 requests/s (median of $runs runs; range in brackets)"
	note ""
	note "| Limits | Wall | Deleting | Deletions/s while deleting | Calls forwarded | Calls/s (÷ 50) | In API window ÷ 50 | Throttled | Failed | Most in flight | Peak RSS |"
	note "|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for c in $apply_configs; do
		note "| $c | $(med "$c" wall) s [$(range "$c" wall)] | $(med "$c" del_window) s [$(range "$c" del_window)] | $(med "$c" del_rate) | $(med "$c" fwd) | $(med "$c" rate) ($(each "$c" rate | awk '{print $1 / 50}' | median)) | $(each "$c" window_rate | awk '{print $1 / 50}' | median) | $(med "$c" throttled) [$(range "$c" throttled)] | $(cat "$out/$c"-[0-9]*.txt | awk '$1 == "done" {print $4}' | median) [max $(cat "$out/$c"-[0-9]*.txt | awk '$1 == "done" {print $4}' | sort -g | tail -1)] | $(med "$c" inflight) | $(med "$c" rss) MiB |"
	done
	note ""
	note "Deleting: from the first DeleteSnapshot's arrival at the proxy to the last one's answer. Calls/s: calls the proxy let through ÷ broom's wall time; In API window: ÷ the time from the first call's arrival to the last answer."
	note ""
	for c in $apply_configs; do
		note "Calls by action, $c run 1: $(awk '$1 == "op" {printf "%s %d (%d throttled), ", $2, $3, $5}' "$out/$c-1.txt" | sed 's/, $//')."
		note "Exit codes, $c: $(each "$c" exit | tr '\n' ' ')"
	done
	note ""
}

step_scale() {
	local f i
	rm -f "$work/fake.addr"
	setsid "$bin/fakeec2" -snapshots "$scale" -addr-file "$work/fake.addr" >>"$out/fakeec2.log" 2>&1 &
	fake_pid=$!
	for _ in $(seq 100); do
		[[ -s "$work/fake.addr" ]] && break
		sleep 0.1
	done
	config scale-1 us-east-1 snapshots
	start_proxy "$(cat "$work/fake.addr")"
	say "scale: broom plan of $scale old snapshots (fakeec2), $runs runs of each format"
	broom scale-warm plan --config "$work/scale-1.yml" --out "$out/scale-warm.json"
	rm -f "$out/scale-warm.out"
	for i in $(seq "$runs"); do
		for f in markdown text json; do
			broom "scale-$f-$i" plan --config "$work/scale-1.yml" --format "$f" --out "$work/scale.json"
			rm -f "$out/scale-$f-$i.out" # the whole report
		done
	done
	stop_proxy
	kill "$fake_pid" 2>/dev/null || true
	wait "$fake_pid" 2>/dev/null || true
	fake_pid=""
	note "## $scale planned actions (median of $runs runs; range in brackets)"
	note ""
	note "broom plan of one region of $scale old snapshots ($(kinds "$out/scale-warm.json")) served by bench/cmd/fakeec2 in pages of 1,000, the whole report to stdout and the JSON plan to --out: $(med scale-markdown calls) API calls."
	note ""
	note "| --format | Peak RSS | Wall |"
	note "|:--|--:|--:|"
	for f in markdown text json; do
		note "| $f | $(med "scale-$f" rss) MiB [$(range "scale-$f" rss)] | $(med "scale-$f" wall) s [$(range "scale-$f" wall)] |"
	done
	note ""
}

step_render() {
	say "render: the report renderer's benchmark, $runs runs"
	CGO_ENABLED=0 go test ./internal/report -run '^$' -bench '(Markdown|Text)20000' -benchmem -count "$runs" | tee "$out/render.txt" >&2
	note "## Report rendering, 20,000 actions (median of $runs runs)"
	note ""
	for b in Markdown20000/comment Markdown20000/summary Markdown20000/unlimited Text20000/width-120 Text20000/unlimited; do
		note "$b: $(awk -v b="$b-" 'index($1, b) {print $3 / 1e6}' "$out/render.txt" | median) ms/op"
	done
	note ""
}

# The kinds step covers every registered kind (internal/resource/registry.go),
# each with a rule line in config, a seed in kind_seed and a floor in
# kind_floor: adding a kind is one case in each.
kinds_all="ebs-snapshot ebs-volume ami elastic-ip s3-bucket nat-gateway security-group rds-snapshot network-interface ec2-instance load-balancer ecr-image log-group"
kinds_bucket=bench-logs

# kind_seed KIND REGION: bench/cmd/seed's flags for KIND's estate in REGION.
kind_seed() {
	case $1 in
	ebs-snapshot) echo "-snapshots $k_snap" ;;
	ebs-volume) echo "-volumes $k_vol" ;;
	ami) echo "-amis $k_ami" ;;
	elastic-ip) echo "-addresses $k_eip" ;;
	s3-bucket) if [[ $2 == us-east-1 ]]; then echo "-bucket $kinds_bucket"; fi ;;
	nat-gateway) echo "-nat-gateways $k_nat" ;;
	security-group) echo "-security-groups $k_sg" ;;
	rds-snapshot) echo "-db-instances $k_db -db-snapshots $k_dbsnap" ;;
	network-interface) echo "-interfaces $k_eni" ;;
	ec2-instance) echo "-instances $k_inst" ;;
	load-balancer) echo "-load-balancers $k_lb" ;;
	ecr-image) echo "-repositories $k_repo -images $k_img" ;;
	log-group) echo "-log-groups $k_lg" ;;
	*)
		echo "bench: no seed for $1" >&2
		return 1
		;;
	esac
}

# kind_floor KIND REGION: the fewest calls KIND's rule needs in REGION for
# the facts its List reads (internal/resource/KIND.go), for kind_seed's
# estate: one paged listing, plus the in-use checks; a check that has a
# region-wide listing counts as that one listing. Then "|" and how.
kind_floor() {
	local fwd=0 attr=0 i
	case $1 in
	ebs-snapshot) echo "2|DescribeSnapshots + DescribeImages (snapshots behind an AMI)" ;;
	ebs-volume) echo "1|DescribeVolumes" ;;
	ami) echo "4|DescribeImages + DescribeInstances + DescribeLaunchTemplates (users; no templates seeded) + DescribeSnapshots (the images' snapshots, 200 ids a call)" ;;
	elastic-ip) echo "1|DescribeAddresses" ;;
	s3-bucket)
		# No listing: the ensure rule's bucket, in its region only.
		if [[ $2 == us-east-1 ]]; then echo "4|HeadBucket + GetBucketTagging (for protect) + one read per setting (versioning, encryption)"; else echo "0|the rule's bucket is in us-east-1"; fi
		;;
	nat-gateway) echo "2|DescribeNatGateways + DescribeRouteTables" ;;
	security-group) echo "2|DescribeSecurityGroups (references are in it) + DescribeNetworkInterfaces" ;;
	rds-snapshot) echo "$((1 + k_dbsnap))|DescribeDBSnapshots + DescribeDBSnapshotAttributes per manual snapshot ($k_dbsnap; no batch call)" ;;
	network-interface) echo "2|DescribeNetworkInterfaces + DescribeNatGateways" ;;
	ec2-instance) echo "$((1 + (k_inst > 1) + k_inst / 2))|DescribeInstances (stopped) + DescribeVolumes (their volumes, if any) + DescribeInstanceAttribute per stopped instance ($((k_inst / 2)); no batch call)" ;;
	load-balancer)
		# Of every five balancers seed makes, three forward to a target
		# group and two are not in use without a redirect (the rule reads
		# deletion protection only of an unused one).
		for ((i = 0; i < k_lb; i++)); do
			if ((i % 5 < 3)); then fwd=$((fwd + 1)); fi
			if ((i % 5 == 2 || i % 5 == 4)); then attr=$((attr + 1)); fi
		done
		echo "$((1 + (k_lb + 19) / 20 + k_lb + (fwd > 0) + fwd + attr))|DescribeLoadBalancers + DescribeTags (20 a call) + DescribeListeners per balancer ($k_lb) + DescribeTargetGroups (the region's, which name their balancers) + DescribeTargetHealth per forwarding balancer ($fwd) + DescribeLoadBalancerAttributes per unused one ($attr)"
		;;
	# Images are listed per repository; a repository's tags are its images'
	# (for protect and the tags filter), one call each.
	ecr-image) echo "$((1 + 2 * k_repo))|DescribeRepositories + per repository ($k_repo) ListTagsForResource + DescribeImages" ;;
	# seed stores an event in every other group, the second, the fourth …:
	# the rest are empty, the only ones whose tags the rule needs.
	log-group) echo "$(((k_lg + 49) / 50 + (k_lg + 1) / 2))|DescribeLogGroups (50 a call) + ListTagsForResource per empty group ($(((k_lg + 1) / 2)); no batch call)" ;;
	*)
		echo "bench: no floor for $1" >&2
		return 1
		;;
	esac
}

# runwide: the calls broom makes once a run, for no kind: the account's id
# and alias (for the report).
runwide="GetCallerIdentity ListAccountAliases"
# rops FILE REGION: a run's "rop" lines for REGION as "ACTION CALLS", one a
# line, runwide's left out.
rops() { awk -v r="$2" -v skip=" $runwide " '$1 == "rop" && $2 == r && !index(skip, " " $3 " ") && $4 > 0 {print $3, $4}' "$1"; }

step_kinds() {
	local west=$moto k r flags_east="" flags_west="" p1 calls floor how over sum_kinds=0 sum_floor=0 all_calls a
	reset_moto "$moto"
	if [[ "${PLAN_MOTOS:-2}" == 2 ]]; then
		[[ -n "$moto_west" ]] || start_moto moto_west
		reset_moto "$moto_west"
		west=$moto_west
	fi
	for k in $kinds_all; do
		flags_east+=" $(kind_seed "$k" us-east-1)"
		flags_west+=" $(kind_seed "$k" us-west-2)"
	done
	say "kinds: seeding 2 regions:$flags_west (us-east-1 also the bucket)"
	clock -400d
	# shellcheck disable=SC2086 # the flags are words
	if [[ "$west" == "$moto" ]]; then
		seed "$moto" us-east-1 $flags_east
		seed "$west" us-west-2 $flags_west
	else
		seed "$moto" us-east-1 $flags_east &
		p1=$!
		seed "$west" us-west-2 $flags_west
		wait "$p1"
	fi
	clock +0
	config kinds-all "us-east-1, us-west-2" "$kinds_all"
	for k in $kinds_all; do config "kind-$k" "us-east-1, us-west-2" "$k"; done
	start_proxy "$moto" -region us-east-1="$moto" -region us-west-2="$west"
	say "kinds: a warm-up run, $runs measured runs of every kind, then one run of each kind alone"
	broom warm-kinds-all plan --config "$work/kinds-all.yml" --out "$out/warm-kinds-all.json"
	for i in $(seq "$runs"); do broom "kinds-all-$i" plan --config "$work/kinds-all.yml"; done
	for k in $kinds_all; do broom "kind-$k" plan --config "$work/kind-$k.yml" --out "$out/kind-$k.json"; done
	stop_proxy
	note "## Every kind, 2 regions (median of $runs runs; range in brackets; moto servers: ${PLAN_MOTOS:-2})"
	note ""
	note "Seeded per region (under the -400d clock):$flags_west; us-east-1 also the bucket $kinds_bucket. One rule per kind ($(echo "$kinds_all" | wc -w) kinds), regions us-east-1 and us-west-2."
	note ""
	note "| Config | Actions planned | Wall | API busy | Wall − API busy | Peak RSS | API calls | Most in flight |"
	note "|:--|:--|--:|--:|--:|--:|--:|--:|"
	note "| kinds-all | $(kinds "$out/warm-kinds-all.json") | $(med kinds-all wall) s [$(range kinds-all wall)] | $(med kinds-all busy) s | $(med kinds-all own) s [$(range kinds-all own)] | $(med kinds-all rss) MiB [$(range kinds-all rss)] | $(med kinds-all calls) [$(range kinds-all calls)] | $(med kinds-all inflight) |"
	note ""
	note "API calls per kind and region: each kind's own run (its rule alone, both regions, through the same proxy), which attributes an action two kinds call (DescribeSnapshots, DescribeImages, DescribeInstances, DescribeVolumes, DescribeNatGateways, DescribeNetworkInterfaces) to each kind that calls it; $runwide, once a run each, to none. Floor: the fewest calls for the facts the kind's List reads (bench/run.sh kind_floor)."
	note ""
	note "| Kind | Region | Calls | Floor | Over floor | Calls by action | Floor: what |"
	note "|:--|:--|--:|--:|--:|:--|:--|"
	for k in $kinds_all; do
		for r in us-east-1 us-west-2; do
			calls="$(rops "$out/kind-$k.txt" "$r" | awk '{n += $2} END {print n + 0}')"
			IFS='|' read -r floor how < <(kind_floor "$k" "$r")
			over=$((calls - floor))
			sum_kinds=$((sum_kinds + calls)) sum_floor=$((sum_floor + floor))
			note "| $k | $r | $calls | $floor | $(if ((over > 0)); then echo "**+$over**"; else echo "$over"; fi) | $(rops "$out/kind-$k.txt" "$r" | awk '{printf "%s %d, ", $1, $2}' | sed 's/, $//') | $how |"
		done
	done
	note ""
	all_calls="$(awk '$1 == "total" {print $2}' "$out/kinds-all-1.txt")"
	note "Every kind at once, run 1: $all_calls calls, of which $(for a in $runwide; do printf '%s %s, ' "$a" "$(op "$out/kinds-all-1.txt" "$a")"; done)the rest $(for r in us-east-1 us-west-2; do rops "$out/kinds-all-1.txt" "$r"; done | awk '{n += $2} END {print n + 0}'); the kinds' own runs add up to $sum_kinds without those (floors: $sum_floor). By action: $(awk '$1 == "op" {printf "%s %d, ", $2, $3}' "$out/kinds-all-1.txt" | sed 's/, $//')."
	note "Calls not signed for either region (should be none): $(awk '$1 == "rop" && $2 == "-" && $4 > 0 {printf "%s %d ", $3, $4}' "$out/kinds-all-1.txt")"
	note "Exit codes: $(each kinds-all exit | tr '\n' ' '); each kind alone: $(for k in $kinds_all; do awk '$1 == "exit" {printf "%s ", $2}' "$out/kind-$k.txt"; done)"
	note ""
}

# org_accounts N: N account ids, one a line.
org_accounts() { seq -f '2000000%05g' 1 "$1"; }
# org_roles N: the role ARNs of org_accounts N, comma-separated.
org_roles() { org_accounts "$1" | sed 's/.*/arn:aws:iam::&:role\/broom/' | paste -sd,; }
# org_yaml N: the accounts: list of org_accounts N.
org_yaml() {
	echo "accounts:"
	org_accounts "$1" | sed 's/.*/  - {id: "&", role: "arn:aws:iam::&:role\/broom"}/'
}

step_org() {
	local regions="us-east-1 us-west-2 eu-west-1 ap-southeast-2" r url p pids=() flags=() c i
	local -A at
	reset_moto "$moto"
	if [[ "${ORG_MOTOS:-4}" == 4 ]]; then
		[[ -n "$moto_west" ]] || start_moto moto_west
		[[ -n "$moto_eu" ]] || start_moto moto_eu
		[[ -n "$moto_ap" ]] || start_moto moto_ap
		for url in "$moto_west" "$moto_eu" "$moto_ap"; do reset_moto "$url"; done
		at=([us-east-1]=$moto [us-west-2]=$moto_west [eu-west-1]=$moto_eu [ap-southeast-2]=$moto_ap)
	else
		at=([us-east-1]=$moto [us-west-2]=$moto [eu-west-1]=$moto [ap-southeast-2]=$moto)
	fi
	say "org: seeding 20 accounts × 4 regions: $o_vol volumes and $o_old snapshots at -400d, then $o_new snapshots at +0, in each"
	clock -400d
	for r in $regions; do
		seed "${at[$r]}" "$r" -roles "$(org_roles 20)" -volumes "$o_vol" -snapshots "$o_old" -workers 4 &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	clock +0
	pids=()
	for r in $regions; do
		seed "${at[$r]}" "$r" -roles "$(org_roles 20)" -snapshots "$o_new" -workers 4 &
		pids+=("$!")
	done
	for p in "${pids[@]}"; do wait "$p"; done
	config org-1 us-east-1 "snapshots volumes" "$(org_yaml 1)
"
	config org-80 "${regions// /, }" "snapshots volumes" "$(org_yaml 20)
"
	config org-80-wide "${regions// /, }" "snapshots volumes" "$(org_yaml 20)
aws: {max-listings: 32}
"
	for r in us-west-2 eu-west-1 ap-southeast-2; do flags+=(-region "$r=${at[$r]}"); done
	start_proxy "$moto" "${flags[@]}"
	say "org: a warm-up run of each, then $runs rounds of 1 × 1, 20 × 4, 20 × 4 with max-listings 32"
	for c in org-1 org-80 org-80-wide; do broom "warm-$c" plan --config "$work/$c.yml" --out "$out/warm-$c.json"; done
	for i in $(seq "$runs"); do
		for c in org-1 org-80 org-80-wide; do broom "$c-$i" plan --config "$work/$c.yml"; done
	done
	stop_proxy
	note "## 20 accounts × 4 regions (median of $runs runs; range in brackets; moto servers: ${ORG_MOTOS:-4})"
	note ""
	note "Seeded in each of 20 accounts (assumed roles arn:aws:iam::2000000000NN:role/broom) × 4 regions ($regions): $o_vol unattached volumes and $o_old snapshots at -400d, then $o_new snapshots at +0. Rules: snapshots older than 30d, unattached volumes. 1 × 1 is the first account in us-east-1, through its role too."
	note ""
	note "| Config | Actions planned | Wall | API busy | Wall − API busy | Peak RSS | API calls | Most in flight | Calls by action (one run) |"
	note "|:--|:--|--:|--:|--:|--:|--:|--:|:--|"
	for c in org-1 org-80 org-80-wide; do
		note "| $c | $(kinds "$out/warm-$c.json") | $(med "$c" wall) s [$(range "$c" wall)] | $(med "$c" busy) s | $(med "$c" own) s [$(range "$c" own)] | $(med "$c" rss) MiB [$(range "$c" rss)] | $(med "$c" calls) [$(range "$c" calls)] | $(med "$c" inflight) | $(awk '$1 == "op" {printf "%s %d, ", $2, $3}' "$out/$c-1.txt" | sed 's/, $//') |"
	done
	note ""
	for c in org-80 org-80-wide; do
		note "Ratio $c / org-1: wall $(paste <(each "$c" wall) <(each org-1 wall) | awk '{print $1 / $2}' | median) (median of the $runs rounds' ratios; ratio of medians $(awk -v a="$(med "$c" wall)" -v b="$(med org-1 wall)" 'BEGIN {printf "%.2f", a / b}')), API calls $(awk -v a="$(med "$c" calls)" -v b="$(med org-1 calls)" 'BEGIN {printf "%.1f", a / b}'), peak RSS $(awk -v a="$(med "$c" rss)" -v b="$(med org-1 rss)" 'BEGIN {printf "%.2f", a / b}')."
	done
	note "Exit codes: $( (each org-1 exit; each org-80 exit; each org-80-wide exit) | tr '\n' ' ')"
	note ""
}

{
	echo "# broom benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "Machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM; $(go version); moto $(python3 -c 'import importlib.metadata as m; print(m.version("moto"))'); libfaketime $(dpkg-query -W -f '${Version}' libfaketime 2>/dev/null || echo '?')."
	echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo
} | tee "$summary"

build
for s in $steps; do
	if [[ $s =~ ^(plan|start|apply|kinds|org)$ && -z "$moto" ]]; then start_moto moto; fi
	"step_$s"
	note "Load average after $s: $(cut -d' ' -f1-3 /proc/loadavg)."
	note ""
done
echo "figures in $out (summary.md)" >&2
