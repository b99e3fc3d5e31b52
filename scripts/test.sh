#!/usr/bin/env bash
# Sets everything up (scripts/install.sh), then runs every test:
#   - Rust unit tests and integration tests (tests/*.rs) against a real PostgreSQL 15 + q3c
#     private cluster that the tests start and stop themselves;
#   - Python tests (tests/python) with the real VO clients (astropy, pyvo) and validators.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
export PATH="$HOME/.cargo/bin:$PATH"
started=$(date +%s)
cargo build --locked --all-targets
cargo test --locked --no-fail-fast
.venv/bin/python -m pytest tests/python -q -rs
echo "all tests passed in $(( $(date +%s) - started )) s (after setup)"
