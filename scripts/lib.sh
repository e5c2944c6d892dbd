# Shared by the demo and test scripts: make sure the local AWS emulator and
# libfaketime are there, installing Debian's faketime when we can.
# shellcheck shell=bash

libfaketime() {
	local arch
	arch="$(uname -m)-linux-gnu"
	echo "/usr/lib/$arch/faketime/libfaketime.so.1"
}

ensure_tools() {
	if [[ ! -f "$(libfaketime)" ]]; then
		if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
			echo "installing Debian package faketime (libfaketime ages resources in moto)" >&2
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
		else
			echo "libfaketime is missing: install the Debian package faketime" >&2
			return 1
		fi
	fi
	if ! command -v moto_server >/dev/null; then
		echo "moto_server is missing: pip install 'moto[server]'" >&2
		return 1
	fi
}

# check_tidy fails when go.mod or go.sum is not what `go mod tidy` makes.
check_tidy() {
	if ! go mod tidy -diff; then
		echo "go.mod/go.sum are not tidy (the diff above): run go mod tidy" >&2
		return 1
	fi
}

# check_tracked fails when git tracks a build or log artefact: the binary,
# bin/, dist/, .broom/ (the action's files), .cache/, test binaries,
# profiles and logs. .gitignore keeps them out; this catches `git add -f`
# and files added before a rule was.
check_tracked() {
	if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		echo "not a git checkout: tracked files not checked" >&2
		return 0
	fi
	local found
	found="$(git ls-files | grep -E '^broom(\.exe)?$|^(bin|dist)/|(^|/)(\.broom|\.cache)/|\.(log|test|out|prof)$' || true)"
	if [[ -n "$found" ]]; then
		printf 'build or log artefacts tracked by git (git rm --cached them):\n%s\n' "$found" >&2
		return 1
	fi
}
