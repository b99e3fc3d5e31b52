#!/usr/bin/env bash
# Simulator benchmark: a full-size plate (9601 x 9602, about 15,000 spectra) and a small one
# (2048 x 2048), release build, wall time and peak memory (GNU time's maximum RSS).
#   bash benches/simulate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/dfbs-vo
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
run() {
  local label=$1; shift
  for i in 1 2 3; do
    rm -rf "$out"/*
    /usr/bin/time -f "%e %M" -o "$out/time" "$bin" simulate --out "$out" --quiet "$@" 2> "$out/log"
    read -r wall rss < "$out/time"
    objects=$(awk 'NR==2 {print $6}' "$out/log")
    echo "$label run $i: ${wall} s wall, peak RSS $((rss / 1024)) MB, $objects objects"
  done
}
run "full 9601x9602" --seed 1 --size full
run "small 2048x2048" --seed 1 --size 2048x2048
