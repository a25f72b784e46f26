#!/usr/bin/env bash
# Prints the path of crictl (cri-tools), building it first when this machine has no copy.
# Debian 12 has no cri-tools package: it is built from the Go module proxy, at the pinned
# version, into a cache outside the checkout (never committed), once per machine; later
# calls only print the path. Used by .ci/install-deps.sh and by test/integration/cri.test.ts.
set -euo pipefail

VERSION=v1.37.0
CACHE=${TSRUN_CRICTL_CACHE:-/var/cache/tsrun-crictl}
bin="$CACHE/$VERSION/crictl"

if [[ ! -x $bin ]]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x $go ]] || { echo "crictl: no Go toolchain (go on PATH or /usr/local/go/bin/go) to build cri-tools $VERSION with" >&2; exit 1; }
  # A temp GOBIN, moved into place whole: an interrupted build leaves no half-written crictl.
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # GOTOOLCHAIN=local: build with this toolchain, never fetch another one.
  if ! GOBIN=$tmp GOTOOLCHAIN=local "$go" install \
    -ldflags "-X sigs.k8s.io/cri-tools/pkg/version.Version=$VERSION" \
    "sigs.k8s.io/cri-tools/cmd/crictl@$VERSION" >"$tmp/build.log" 2>&1; then
    echo "crictl: go install sigs.k8s.io/cri-tools/cmd/crictl@$VERSION failed:" >&2
    tail -n 5 "$tmp/build.log" >&2
    exit 1
  fi
  mkdir -p "$CACHE/$VERSION"
  mv "$tmp/crictl" "$bin"
  echo "crictl: built cri-tools $VERSION into $bin" >&2
fi
echo "$bin"
