#!/usr/bin/env bash
# Installs the Debian packages the tests need (listed in test/apt-packages.txt) when their command
# is missing, then the Kubernetes programs and etcd (install-k8s.sh). Runs before `npm test`. Needs
# root (or sudo) only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
while read -r cmd pkg; do
  [[ -z "${cmd:-}" || "$cmd" == \#* ]] && continue
  command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" || -x "/sbin/$cmd" ]] || missing+=("$pkg")
done < apt-packages.txt
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing test tools: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || echo "apt-get update failed; trying the install with the current lists"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Kubernetes and etcd are not in Debian (current versions): built from Go modules into a cache
# outside the checkout; seconds when the cache already holds them.
bash ./install-k8s.sh
