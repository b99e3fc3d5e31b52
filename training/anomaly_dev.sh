#!/usr/bin/env bash
# The development loop for the anomaly score: three full-size realistic plates with 50 injected
# anomalies each, on seeds used neither in training (1001-1040), validation (2001-2003) nor the
# held-out evaluation (3001 and up), extracted once; then any anomaly model is scored on them in
# seconds (training/anomaly_topk.py). Choose models here; report the held-out figures of
# training/evaluate.sh.
#   bash training/anomaly_dev.sh [WORK_DIR] [MODEL.onnx]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/tmp/dfbs-anomaly-dev}
model=${2:-models/dfbs-anomaly.onnx}
cargo build --release --quiet
bin=$PWD/target/release/dfbs-vo
# Plates simulated before 2026-12-07 repeated their objects (src/sim/random.rs, hash_parts).
if [ ! -f "$work/.objects-hashed" ]; then
  rm -rf "$work/plates" "$work/set"
fi
if [ ! -f "$work/set/labels.csv" ]; then
  mkdir -p "$work" && touch "$work/.objects-hashed"
  for spec in "2101 7101 IIF" "2702 7102 IIaF" "2703 7103 103aF"; do
    read -r seed plate emulsion <<< "$spec"
    "$bin" simulate --out "$work/plates" --quiet --seed "$seed" --first-plate "$plate" \
      --size full --mix realistic --emulsion "$emulsion" --limit 18.0 --anomalies 50
  done
  "$bin" export-cutouts "$work/plates"/*.fits --out "$work/set"
fi
training/.venv/bin/python training/anomaly_topk.py --model "$model" "$work/set"
