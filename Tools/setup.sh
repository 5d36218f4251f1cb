#!/usr/bin/env bash
# Installs the Debian packages sledger needs, when they are missing.
#   Tools/setup.sh            what building and running need (liblmdb-dev, libmimalloc-dev)
#   Tools/setup.sh --tests    also what the tests need (python3-lmdb, for the Python reader test)
set -euo pipefail

packages=(liblmdb-dev libmimalloc-dev pkg-config)
if [[ "${1:-}" == "--tests" ]]; then packages+=(python3-lmdb); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
# A fresh machine has no package lists: update first.
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
