#!/usr/bin/env bash
# Installs what the tests and the local stack need on Debian: redis-server,
# Chromium for the browser tests, Node.js and npm for ably-js, and the npm
# packages of package.json. It uses apt-get when it runs as root or with
# password-less sudo; otherwise it stops and prints the command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]} > 0)); then
	if [[ $(id -u) == 0 ]]; then
		apt_get=(apt-get)
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		apt_get=(sudo apt-get)
	else
		echo "missing: ${missing[*]}" >&2
		echo "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "installing ${missing[*]} with apt-get"
	"${apt_get[@]}" update -q
	DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi

if [[ ! -f node_modules/ably/build/ably.min.js ]]; then
	echo "installing npm packages"
	if [[ -f package-lock.json ]]; then
		npm ci --no-audit --no-fund
	else
		npm install --no-audit --no-fund
	fi
fi
