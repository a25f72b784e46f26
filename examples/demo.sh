#!/usr/bin/env bash
# Install what tsrun needs (Debian packages when missing, npm ci, build, an
# example rootfs) and run a real container from examples/hello.
set -euo pipefail
cd "$(dirname "$0")/.."

.ci/install-deps.sh
id="demo-$$"
echo "+ bin/tsrun run --bundle examples/hello $id" >&2
exec bin/tsrun run --bundle examples/hello "$id"
