#!/usr/bin/env bash
# Sets everything up (scripts/install.sh), builds the release binary, then runs the demo:
# the private PostgreSQL catalogue and the service on http://127.0.0.1:8080 (Ctrl-C stops both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --locked --release
exec target/release/dfbs-vo demo "$@"
