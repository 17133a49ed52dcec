#!/usr/bin/env bash
# Builds containerd 2.x (Debian ships 1.6, which reads only config.toml schema version 2) from its Go
# module into the tool cache outside the checkout, keyed by version; does nothing when that build is
# already there. The render tests load muster's schema-3 config.toml with it
# (`containerd --config F config dump`).
#
# `go install ...@version` is refused (containerd's go.mod has exclude directives), so the build
# goes through a throwaway wrapper module that requires containerd and repeats its excludes. Only
# the daemon is built; CGO off drops the btrfs snapshotter, and the tags drop what a config check
# does not need. No containerd source lands in the repo.
set -euo pipefail
VERSION="${MUSTER_CONTAINERD_V2_VERSION:-v2.1.9}"
CACHE="${MUSTER_TOOL_CACHE:-$HOME/.cache/muster-tools}"
DEST="$CACHE/containerd-$VERSION/bin"
[[ -x "$DEST/containerd" ]] && exit 0
command -v go >/dev/null 2>&1 || { echo "install-containerd: go is not on PATH; cannot build containerd $VERSION" >&2; exit 1; }
echo "building containerd $VERSION into $DEST (first run only)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOFLAGS=-mod=mod CGO_ENABLED=0
cat > go.mod <<MOD
module muster.local/containerd-build

go 1.24

// Repeated from containerd's own go.mod: excludes only apply in the main module.
exclude (
	github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc
	github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2
)
MOD
go get "github.com/containerd/containerd/v2/cmd/containerd@$VERSION"
go build -trimpath -tags "no_btrfs no_devmapper no_zfs urfave_cli_no_docs" \
  -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$VERSION" \
  -o "$work/containerd" github.com/containerd/containerd/v2/cmd/containerd
"$work/containerd" --version
mkdir -p "$DEST"
mv "$work/containerd" "$DEST/containerd.tmp" && mv "$DEST/containerd.tmp" "$DEST/containerd"
