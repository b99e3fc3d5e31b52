#!/usr/bin/env bash
# Builds the classifier's training and validation sets with our own simulator and our own
# extraction (dfbs-vo export-cutouts), so training sees exactly what the pipeline produces.
# Plate seeds: training 1001-1240 (TRAIN_PLATES, default 240: the plates of models 1.5.0 and 1.6.0; 13 min, 16 GB),
# TRAIN_FIRST moves the first training seed (1121 and 1241 with TRAIN_PLATES=120: the candidate members in
# training/README.md, trained on plates that 1.7.0 never saw);
# validation 2001-2003 (VALIDATION_PLATES, default 3; train_subclass.py's model, 1.0.0, was validated
# on 9: 2001-2009); the held-out evaluation plates use
# 3001 and up (training/evaluate.sh) and are never used here.
#   bash training/make_dataset.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-training/data}
cargo build --release --quiet
bin=target/release/dfbs-vo
emulsions=(IIF IIaF 103aF IIAF)
make_set() { # name first_seed count
  local name=$1 first=$2 count=$3
  rm -rf "$out/plates-$name" "$out/$name"
  for ((i = 0; i < count; i++)); do
    seed=$((first + i))
    "$bin" simulate --out "$out/plates-$name" --quiet --seed "$seed" --first-plate "$seed" --size 3072x3072 \
      --mix balanced --density 1800 --emulsion "${emulsions[$((i % 4))]}" 2> /dev/null
  done
  "$bin" export-cutouts "$out/plates-$name"/*.fits --out "$out/$name"
  rm -rf "$out/plates-$name"
}
make_set train "${TRAIN_FIRST:-1001}" "${TRAIN_PLATES:-240}"
make_set validation 2001 "${VALIDATION_PLATES:-3}"
