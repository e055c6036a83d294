#!/usr/bin/env bash
# Installs the Debian packages edhub needs to build, test and benchmark.
# Idempotent: only missing packages are installed. Usage: scripts/deps.sh [build|test|bench]
set -euo pipefail
what=${1:-build}
pkgs=(build-essential pkg-config libjson-c-dev libmicrohttpd-dev libsqlite3-dev libssl-dev libpq-dev libxml2-dev libcurl4-openssl-dev)
case "$what" in
  build) ;;
  test)  pkgs+=(clang libclang-rt-14-dev libcriterion-dev python3 curl postgresql-15) ;;
  bench) pkgs+=(clang libclang-rt-14-dev libcriterion-dev python3 curl wrk sqlite3 postgresql-15) ;;
  --help|-h) echo "usage: scripts/deps.sh [build|test|bench]  installs missing Debian packages (apt)"; exit 0 ;;
  *) echo "scripts/deps.sh: unknown target '$what' (use build, test or bench)" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
