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
# Programs Debian does not ship at the version a test needs (containerd 2.x, Kubernetes, etcd 3.6),
# built from Go modules into the tool cache outside the checkout; seconds when the cache holds them.
# A failed build does not stop the other tests; the tests that need it fail and say how.
bash ./install-containerd.sh || echo "install-containerd.sh failed: the containerd 2.x render test will fail until it builds"
bash ./install-k8s.sh || echo "install-k8s.sh failed: the tests that run Kubernetes programs will fail until it builds"
