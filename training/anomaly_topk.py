"""How many injected anomalies an anomaly model ranks in the top 1% of its scores, per plate, and
what else fills that top (by truth class; spectra with masked bins). Input: directories written
by `dfbs-vo export-cutouts` (training/anomaly_dev.sh builds the development set).

    training/.venv/bin/python training/anomaly_topk.py --model models/dfbs-anomaly.onnx DIR...
"""

import argparse
import collections
import csv
import os

import numpy as np
import onnxruntime

from train import CUTOUT_COLUMNS, CUTOUT_ROWS, normalise_flux


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/dfbs-anomaly.onnx")
    parser.add_argument("--top", type=float, default=0.01, help="fraction of each plate's spectra")
    parser.add_argument("sets", nargs="+")
    args = parser.parse_args()
    session = onnxruntime.InferenceSession(args.model)
    for directory in args.sets:
        flux = normalise_flux(np.load(os.path.join(directory, "flux.npy"))).astype(np.float32)
        cutouts = np.load(os.path.join(directory, "cutouts.npy"), mmap_mode="r")
        with open(os.path.join(directory, "labels.csv")) as f:
            rows = list(csv.DictReader(f))
        classes = np.array([r["class"] for r in rows])
        plates = np.array([r["plate"] for r in rows])
        # In chunks: the cutouts of three full plates take 1.1 GB.
        score = np.concatenate([
            session.run(None, {"cutout": np.ascontiguousarray(cutouts[i:i + 4096], dtype=np.float32).reshape(-1, 1, CUTOUT_ROWS, CUTOUT_COLUMNS),
                               "flux": flux[i:i + 4096]})[0].ravel()
            for i in range(0, len(flux), 4096)])
        masked = (flux == 0).any(axis=1)
        for plate in sorted(set(plates)):
            index = np.nonzero(plates == plate)[0]
            n = int(round(args.top * len(index)))
            top = index[np.argsort(-score[index])[:n]]
            anomalies = (classes[index] == "anomaly").sum()
            found = (classes[top] == "anomaly").sum()
            others = collections.Counter(classes[top][classes[top] != "anomaly"]).most_common(4)
            print(f"{plate}: {found}/{anomalies} anomalies in the top {n} ({100 * found / max(anomalies, 1):.0f}%);"
                  f" score threshold {score[top[-1]]:.2f}; masked spectra in the top {masked[top].sum()};"
                  f" others {', '.join(f'{c} {k}' for c, k in others)}")


if __name__ == "__main__":
    main()
