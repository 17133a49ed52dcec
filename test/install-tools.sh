#!/usr/bin/env bash
# Installs the Debian packages the tests need (listed in test/apt-packages.txt) when their command
# is missing. Runs before `npm test`. Needs root (or sudo) only when something is missing.
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
# Programs Debian does not ship at the version a test needs, built from Go modules into the tool
# cache. A failed build does not stop the other tests; the test that needs it fails and says how.
bash ./install-containerd.sh || echo "install-containerd.sh failed: the containerd 2.x render test will fail until it builds"
