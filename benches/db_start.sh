#!/usr/bin/env bash
# Times `dfbs-vo db start` on an empty data directory (initdb, start, create database, all
# migrations, TAP_SCHEMA) and `dfbs-vo db stop`, N times (default 5), with the debug or release
# binary (BIN=...). Issue 2's target: start under 5 s; stop leaves no process.
#   bash benches/db_start.sh [N]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n=${1:-5}
bin=${BIN:-target/release/dfbs-vo}
[ -x "$bin" ] || { echo "build first: cargo build --release (or BIN=target/debug/dfbs-vo)"; exit 1; }
tmp=$(mktemp -d)
# Traversable: as root the cluster runs as dfbsvo, which must reach it (else it lives in
# /var/lib/dfbs-vo, outside what this script removes).
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
starts=(); stops=()
for i in $(seq "$n"); do
  data="$tmp/pg$i"
  t0=$(date +%s.%N)
  DFBS__DATABASE__DATA_DIR="$data" RUST_LOG=warn "$bin" db start >/dev/null
  t1=$(date +%s.%N)
  DFBS__DATABASE__DATA_DIR="$data" RUST_LOG=warn "$bin" db stop >/dev/null
  t2=$(date +%s.%N)
  left=$({ pgrep -f "$data/data" || true; } | wc -l)
  starts+=("$(awk "BEGIN{print $t1-$t0}")"); stops+=("$(awk "BEGIN{print $t2-$t1}")")
  echo "run $i: start ${starts[-1]} s, stop ${stops[-1]} s, processes left: $left"
done
printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "db start: median %.2f s, max %.2f s over %d runs\n", a[int((NR+1)/2)], a[NR], NR}'
printf '%s\n' "${stops[@]}" | sort -n | awk '{a[NR]=$1} END {printf "db stop:  median %.2f s, max %.2f s\n", a[int((NR+1)/2)], a[NR]}'
