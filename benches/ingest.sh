#!/usr/bin/env bash
# Pipeline benchmark: full-size simulated plates (9601 x 9602, about 15,000 spectra each)
# ingested into a private catalogue, 1, 2 and 4 plates at a time (release build, 1 worker,
# classification included when a model is installed): wall time, per plate, peak RSS.
#   bash benches/ingest.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
cargo build --release --quiet
bin=$PWD/target/release/dfbs-vo
export DFBS__DATABASE__DATA_DIR="$work/pg"
trap '"$bin" db stop > /dev/null 2>&1 || true' EXIT
"$bin" db start > /dev/null
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
for seed in 1 2 3 4; do
  [ -f "$work/plates/fbs$((8200 + seed)).fits" ] || "$bin" simulate --out "$work/plates" --quiet --seed $((4000 + seed)) \
    --first-plate $((8200 + seed)) --size full 2> /dev/null
done
for count in 1 2 4; do
  plates=()
  for seed in $(seq 1 $count); do plates+=("$work/plates/fbs$((8200 + seed)).fits"); done
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" ingest "${plates[@]}" --replace --workers 1 2> "$work/log"
  read -r wall rss < "$work/time"
  spectra=$(awk '/spectra written/ {print $(NF-2)}' "$work/log")
  echo "$count plate(s): ${wall} s wall ($(awk "BEGIN {printf \"%.1f\", $wall / $count}") s per plate), $spectra spectra, peak RSS $((rss / 1024)) MB"
done
