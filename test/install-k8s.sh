#!/usr/bin/env bash
# Builds the real Kubernetes programs and etcd the tests run, from the Go modules named in
# test/k8s/go.mod (the plan's default version), test/k8s-1.35/go.mod (the previous minor, for the
# upgrade path) and test/etcd/go.mod, into a cache outside the checkout keyed by version:
#   ${MUSTER_TOOL_CACHE:-$HOME/.cache/muster-tools}/k8s-vX.Y.Z/bin/  and  .../etcd-vX.Y.Z/bin/
# A binary that is there and reports the right version is left alone, so a second run costs seconds.
# Each build goes to a temporary directory beside bin/ and is renamed into place only after the new
# binary reported the right version: an interrupted build never leaves a broken binary behind.
# Anything missing (Go, a module version on the proxy, a build) fails loudly; there is no fallback.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${MUSTER_TOOL_CACHE:-$HOME/.cache/muster-tools}"

GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[[ -x "$GO" ]] || { echo "install-k8s: FAILED: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go)" >&2; exit 1; }
# The module files decide everything: no toolchain download, no go.work from above, no edits to
# go.mod (go.sum is committed complete, so a fresh module cache fills itself from the proxy).
export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS=-mod=readonly

# An interrupted run exits through the EXIT trap, which removes its temporary build directory.
trap 'exit 130' INT TERM

fail() { echo "install-k8s: FAILED: $*" >&2; exit 1; }
log() { echo "install-k8s: $*"; }

# The version a module file requires, e.g. version_in k8s/go.mod k8s.io/kubernetes -> v1.36.3.
version_in() {
  local v
  v="$(sed -nE "s#^[[:space:]]*(require[[:space:]]+)?${2//./\\.}[[:space:]]+(v[^[:space:]]+).*#\\2#p" "$here/$1" | head -n1)"
  [[ -n "$v" ]] || fail "$1 names no version of $2"
  echo "$v"
}

# One module directory per Kubernetes version; the first is the plan's default.
k8s_module_dirs=(k8s k8s-1.35)
k8s_version="$(version_in k8s/go.mod k8s.io/kubernetes)" # set per build by build_k8s
etcd_version="$(version_in etcd/go.mod go.etcd.io/etcd/server/v3)"
etcdctl_version="$(version_in etcd/go.mod go.etcd.io/etcd/etcdctl/v3)"
[[ "$etcd_version" == "$etcdctl_version" ]] || fail "test/etcd/go.mod: etcd server $etcd_version and etcdctl $etcdctl_version differ"

# What each program prints about its version (one line of it must equal this).
reported_version() { # name version
  case "$1" in
    kubectl) "$2" version --client </dev/null 2>/dev/null | head -n1 ;;
    etcd) "$2" --version </dev/null 2>/dev/null | head -n1 ;;
    etcdctl) "$2" version </dev/null 2>/dev/null | head -n1 ;;
    *) "$2" --version </dev/null 2>/dev/null | head -n1 ;;
  esac
}
expected_version() { # name
  case "$1" in
    kubectl) echo "Client Version: $k8s_version" ;;
    etcd) echo "etcd Version: ${etcd_version#v}" ;;
    etcdctl) echo "etcdctl version: ${etcd_version#v}" ;;
    *) echo "Kubernetes $k8s_version" ;;
  esac
}
has_right_version() { # name path
  [[ -x "$2" ]] && [[ "$(reported_version "$1" "$2" || true)" == "$(expected_version "$1")" ]]
}

# build_set MODULE_DIR OUT_DIR LDFLAGS "MODULE@VERSION..." name=package...
# Builds every missing program in one `go build`, which compiles their shared packages once and
# links in parallel.
build_set() {
  local module_dir="$1" out="$2" ldflags="$3" main_modules="$4"; shift 4
  local names=() pkgs=() entry name lock
  # Several checkouts on one machine share the cache: one build of a version at a time, and the
  # check below runs after the lock, so a waiting run finds the other's binaries and keeps them.
  mkdir -p "$out"
  exec {lock}>"$out/.lock"
  flock -n "$lock" || { log "waiting for another install-k8s.sh building into $out"; flock "$lock"; }
  # Left by a build killed outright (SIGKILL, power loss); a live build holds the lock.
  rm -rf "$out"/.build.*
  for entry in "$@"; do
    name="${entry%%=*}"
    if has_right_version "$name" "$out/bin/$name"; then
      log "$name: $out/bin/$name reports $(expected_version "$name"), kept"
    else
      names+=("$name"); pkgs+=("${entry#*=}")
    fi
  done
  [[ ${#names[@]} -eq 0 ]] && { exec {lock}>&-; return 0; }

  local module mod out_json
  module="$(awk '$1=="module"{print $2}' "$here/$module_dir/go.mod")"
  # The modules holding the main packages, fetched first so that a version the proxy lacks is named
  # plainly rather than buried in the build output.
  for mod in $main_modules; do
    out_json="$(cd "$here/$module_dir" && "$GO" mod download -json "$mod" 2>&1)" ||
      { echo "$out_json" >&2; fail "in test/$module_dir ($module): go mod download $mod (named in test/$module_dir/go.mod) failed: the module proxy ($("$GO" env GOPROXY)) lacks that version or cannot be reached (the go output above says which)"; }
  done
  log "building ${names[*]} from $main_modules into $out/bin"

  mkdir -p "$out/bin"
  local tmp start
  tmp="$(mktemp -d "$out/.build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$SECONDS
  local cmd=("$GO" build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}")
  (cd "$here/$module_dir" && "${cmd[@]}") ||
    fail "in test/$module_dir ($module): $(printf '%q ' "${cmd[@]}") exited non-zero (see the go output above)"
  log "built ${names[*]} in $((SECONDS - start)) s"

  local i built
  for i in "${!names[@]}"; do
    name="${names[$i]}"
    # go build names a binary after the package path's last element, skipping a /vN suffix
    # (go.etcd.io/etcd/server/v3 gives "server").
    built="${pkgs[$i]%/v[0-9]*}"; built="${built##*/}"
    [[ -x "$tmp/$built" ]] || fail "go build in test/$module_dir wrote no $built for $name"
    [[ "$built" == "$name" ]] || mv -f "$tmp/$built" "$tmp/$name"
    has_right_version "$name" "$tmp/$name" ||
      fail "$name built from test/$module_dir reports '$(reported_version "$name" "$tmp/$name" || true)', expected '$(expected_version "$name")'"
    mv -f "$tmp/$name" "$out/bin/$name"
  done
  rm -rf "$tmp"; trap - EXIT
  exec {lock}>&-
}

"$GO" version >/dev/null || fail "$GO version"
log "Kubernetes $(for d in "${k8s_module_dirs[@]}"; do printf '%s ' "$(version_in "$d/go.mod" k8s.io/kubernetes)"; done)etcd $etcd_version, cache $cache, $("$GO" version)"
total_start=$SECONDS

# The variables hack/lib/version.sh (kube::version::ldflags) stamps, in both packages, as the
# Kubernetes release build does: a binary reporting v0.0.0 confuses version-skew checks.
build_k8s() { # MODULE_DIR
  k8s_version="$(version_in "$1/go.mod" k8s.io/kubernetes)"
  local k8s_minor="${k8s_version#v1.}" k8s_ldflags="-s -w" pkg start=$SECONDS
  k8s_minor="${k8s_minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
    k8s_ldflags+=" -X $pkg.gitTreeState=archive -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  build_set "$1" "$cache/k8s-$k8s_version" "$k8s_ldflags" "k8s.io/kubernetes@$k8s_version" \
    kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver \
    kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager \
    kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler \
    kubelet=k8s.io/kubernetes/cmd/kubelet \
    kube-proxy=k8s.io/kubernetes/cmd/kube-proxy \
    kubectl=k8s.io/kubernetes/cmd/kubectl
  log "Kubernetes $k8s_version (test/$1) ready in $((SECONDS - start)) s"
}
for dir in "${k8s_module_dirs[@]}"; do build_k8s "$dir"; done

# etcd's version is a constant in go.etcd.io/etcd/api/v3/version; only the git SHA is stamped by
# its own build script, and a module carries none.
build_set etcd "$cache/etcd-$etcd_version" "-s -w" \
  "go.etcd.io/etcd/server/v3@$etcd_version go.etcd.io/etcd/etcdctl/v3@$etcd_version" \
  etcd=go.etcd.io/etcd/server/v3 \
  etcdctl=go.etcd.io/etcd/etcdctl/v3

log "done in $((SECONDS - total_start)) s"
