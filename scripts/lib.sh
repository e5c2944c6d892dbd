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
