"""Score exported classifiers on a directory written by `dfbs-vo export-cutouts`, without
ingesting anything: macro-F1 at B <= 17.5 and at all magnitudes, each class's recall by
magnitude (train.recall_report), the same for the models' averaged probabilities when more than
one model is given, and with --truth-dir the quasars' recall by redshift; --save-average keeps
those probabilities as a teacher for `train.py --teacher` (distillation).

For quick comparisons of models (seconds per model). The figures of record come from the
catalogue rows through `dfbs-vo evaluate` (training/evaluate.sh), which adds each plate's prior
adaptation (src/pipeline/priors.rs); on the balanced held-out plates that adds about 0.005.

    target/release/dfbs-vo export-cutouts /tmp/dfbs-heldout/balanced/*.fits --out /tmp/ho-balanced
    training/.venv/bin/python training/score_models.py /tmp/ho-balanced models/dfbs-classifier.onnx OTHER.onnx \\
        --truth-dir /tmp/dfbs-heldout/balanced
"""

import argparse
import csv
import os

import numpy as np
import onnxruntime

from train import CLASSES, normalise_flux, recall_report

# Quasar redshift bins (the simulator draws 40% at 0.1-1, 40% at 1-2.2, 20% at 2.2-3.2).
REDSHIFT_EDGES = [0.1, 0.3, 0.5, 0.7, 1.0, 1.5, 2.2, 3.3]


def probabilities(model, cutouts, flux, batch=2048):
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(flux), batch):
        cutout = np.ascontiguousarray(cutouts[i:i + batch], dtype=np.float32)[:, None]
        out.append(session.run(None, {"cutout": cutout, "flux": flux[i:i + batch]})[0])
    return np.concatenate(out)


def read_export(directory):
    """What `dfbs-vo export-cutouts` wrote: the cutouts (memory-mapped), the normalised flux as
    the classify stage gives it to the model, and the rows of labels.csv."""
    cutouts = np.load(os.path.join(directory, "cutouts.npy"), mmap_mode="r")
    flux = normalise_flux(np.load(os.path.join(directory, "flux.npy")))
    with open(os.path.join(directory, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    return cutouts, flux, rows


def redshifts(rows, truth_dir):
    by_id = {}
    for plate in sorted({r["plate"] for r in rows}):
        with open(os.path.join(truth_dir, f"{plate}.truth.csv")) as f:
            by_id.update({t["id"]: float(t["redshift"] or "nan") for t in csv.DictReader(f)})
    return np.array([by_id.get(r["truth_id"], np.nan) for r in rows])


def quasar_table(probabilities_, labels, mags, z):
    predicted = probabilities_.argmax(axis=1)
    qso = CLASSES.index("qso")
    lines = ["quasars by redshift (B <= 17.5): recall (n), most common other labels"]
    for low, high in zip(REDSHIFT_EDGES[:-1], REDSHIFT_EDGES[1:]):
        sel = (labels == qso) & (z >= low) & (z < high) & (mags <= 17.5)
        if not sel.any():
            continue
        counts = np.bincount(predicted[sel], minlength=len(CLASSES))
        others = ", ".join(f"{CLASSES[c]} {counts[c]}" for c in np.argsort(-counts) if c != qso and counts[c])
        lines.append(f"  z {low:.1f}-{high:.1f}: {counts[qso] / sel.sum():.2f} ({sel.sum()}); {others}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="export-cutouts output: cutouts.npy, flux.npy, labels.csv")
    parser.add_argument("models", nargs="+", help="classifier ONNX files (inputs cutout and flux)")
    parser.add_argument("--truth-dir", help="holds PLATE.truth.csv (the simulator's), for the quasars by redshift")
    parser.add_argument("--save-average", metavar="FILE.npy",
                        help="write the probabilities (the models' average when several) in the order of labels.csv: "
                             "the teacher for train.py --teacher")
    args = parser.parse_args()
    cutouts, flux, rows = read_export(args.data)
    # Injected anomalies (class "anomaly") belong to no class the classifier knows: left out.
    known = np.array([r["class"] in CLASSES for r in rows])
    if not known.all():
        print(f"left out {int((~known).sum())} cutouts of classes the classifier does not know "
              f"({', '.join(sorted({r['class'] for r in rows if r['class'] not in CLASSES}))})")
        cutouts, flux = cutouts[known], flux[known]
        rows = [r for r, k in zip(rows, known) if k]
    labels = np.array([CLASSES.index(r["class"]) for r in rows])
    mags = np.array([float(r["mag_b"]) for r in rows])
    z = redshifts(rows, args.truth_dir) if args.truth_dir else None
    scored = [(model, probabilities(model, cutouts, flux)) for model in args.models]
    if len(scored) > 1:
        scored.append(("average of the models", np.mean([p for _, p in scored], axis=0)))
    print(f"{len(rows)} cutouts from {len({r['plate'] for r in rows})} plates")
    if args.save_average:
        if not known.all():
            raise SystemExit("--save-average needs every cutout to be of a known class (they align with labels.csv)")
        np.save(args.save_average, scored[-1][1].astype(np.float32))
        print("wrote", args.save_average)
    for name, p in scored:
        report = recall_report(p, labels, mags)
        print(f"\n{name}: macro-F1 B <= 17.5 {report['macro_f1_b17_5']:.4f}, all {report['macro_f1_all']:.4f}")
        print(report["table"])
        if z is not None:
            print(quasar_table(p, labels, mags, z))


if __name__ == "__main__":
    main()
