"""Would the reference catalogue's B - R colour help the classifier? A trial, not part of the
pipeline.

Every plate the pipeline calibrates has a reference catalogue of B and R magnitudes
(`PLATE.ref.csv` from the simulator, Gaia-XP-like errors: 0.03 mag at 16, 0.05 at 18), far more
precise at B 16-17.5 than the colour of a faint objective-prism spectrum. This trial joins each
exported spectrum to its own truth object's catalogue row (an upper bound: the pipeline would
match by position), and fits a small stacker on the classifier's log-probabilities, with and
without the colour, on the first half of the plates; it scores both on the other half. The gain
of the colour is the difference between the two stackers (the stacker alone re-weights the
classes, which moves the macro-F1 by itself).

    target/release/dfbs-vo simulate --out /tmp/coldev/plates --seed 6001 --first-plate 6001 \\
        --size 3072x3072 --mix balanced --density 1800 ...   (one plate per seed, 6001-6012)
    target/release/dfbs-vo export-cutouts /tmp/coldev/plates/*.fits --out /tmp/coldev/set
    training/.venv/bin/python training/colour_trial.py /tmp/coldev/set /tmp/coldev/plates
"""

import argparse
import csv
import os

import numpy as np
import torch

from score_models import probabilities
from train import CLASSES, f1_and_recall_by_class, normalise_flux


def catalogue_colours(rows, plates_dir):
    """B - R of each spectrum's truth object in its plate's reference catalogue (the simulator
    writes PLATE.ref.csv in the order of PLATE.truth.csv)."""
    colour = {}
    for plate in sorted({r["plate"] for r in rows}):
        with open(os.path.join(plates_dir, f"{plate}.truth.csv")) as f:
            truth = list(csv.DictReader(f))
        with open(os.path.join(plates_dir, f"{plate}.ref.csv")) as f:
            reference = list(csv.DictReader(f))
        if len(truth) != len(reference) or any(abs(float(t["ra"]) - float(r["ra"])) > 1e-6 for t, r in zip(truth, reference)):
            raise SystemExit(f"{plate}: the reference catalogue does not follow the truth table's order")
        colour.update({(plate, t["id"]): float(r["mag_b"]) - float(r["mag_r"]) for t, r in zip(truth, reference)})
    return np.array([colour[(r["plate"], r["truth_id"])] for r in rows], dtype=np.float32)


def macro_f1_and_recalls(predicted, labels, selection):
    f1, recall = f1_and_recall_by_class(predicted, labels, selection)
    return float(np.mean(f1)), recall


def stack(features, labels, train, seed):
    """A 64-unit MLP on the features, full-batch Adam, 300 steps."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(features.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, len(CLASSES)))
    optimiser = torch.optim.Adam(net.parameters(), 3e-3)
    x, y = torch.from_numpy(features[train]), torch.from_numpy(labels[train])
    for _ in range(300):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        return net(torch.from_numpy(features)).argmax(1).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", help="export-cutouts output")
    parser.add_argument("plates", help="holds PLATE.truth.csv and PLATE.ref.csv")
    parser.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "models", "dfbs-classifier.onnx"))
    args = parser.parse_args()
    with open(os.path.join(args.data, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    labels = np.array([CLASSES.index(r["class"]) for r in rows])
    mags = np.array([float(r["mag_b"]) for r in rows])
    plates = np.array([r["plate"] for r in rows])
    colour = catalogue_colours(rows, args.plates)
    print("B - R of the reference catalogue by class (median, sd):")
    for c, name in enumerate(CLASSES):
        print(f"  {name:<13} {np.median(colour[labels == c]):6.2f} {np.std(colour[labels == c]):5.2f}")
    cutouts = np.load(os.path.join(args.data, "cutouts.npy"), mmap_mode="r")
    p = probabilities(args.model, cutouts, normalise_flux(np.load(os.path.join(args.data, "flux.npy"))))
    first = np.isin(plates, sorted(set(plates.tolist()))[: len(set(plates.tolist())) // 2])
    test_faint = ~first & (mags <= 17.5)
    log_p = np.log(np.clip(p, 1e-6, 1)).astype(np.float32)
    with_colour = np.concatenate([log_p, colour[:, None]], axis=1)
    f1, recall = macro_f1_and_recalls(p.argmax(1), labels, test_faint)
    print(f"second half of the plates, B <= 17.5 ({test_faint.sum()} spectra): macro-F1 / quasar recall")
    print(f"  the classifier as it is             {f1:.4f} / {recall[CLASSES.index('qso')]:.3f}")
    for seed in (0, 1, 2):
        scores = []
        for features in (log_p, with_colour):
            f1, recall = macro_f1_and_recalls(stack(features, labels, first, seed), labels, test_faint)
            scores.append(f"{f1:.4f} / {recall[CLASSES.index('qso')]:.3f}")
        print(f"  stacker seed {seed}: without colour {scores[0]}, with colour {scores[1]}")


if __name__ == "__main__":
    main()
