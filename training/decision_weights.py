"""Class weights on the label's decision (label = argmax of w * p), tuned on half of the held-out
balanced plates and tested on the other half: can a decision rule alone bring every class's
recall at B <= 17.5 to 0.80? An analysis, not part of the pipeline (models/README.md).

After training/evaluate.sh, export the balanced plates' rows (`DFBS__DATABASE__DATA_DIR=
/tmp/dfbs-heldout/pg target/release/dfbs-vo db psql`, then the command this script prints when
run without arguments) and run, with the project's environment (numpy):

    .venv/bin/python training/decision_weights.py spectra.csv /tmp/dfbs-heldout/balanced

Rows are matched to the truth within 3" (closest pairs first, as `dfbs-vo evaluate` does).
"""

import collections
import csv
import glob
import json
import math
import os
import sys

import numpy as np

# The class order of the classifier's outputs (its description, as the Rust classify stage reads
# it) and the catalogue columns that store them, in that order (schema/002_catalogue.sql).
MODEL = os.path.join(os.path.dirname(__file__), "..", "models", "dfbs-classifier.json")
CLASSES = json.load(open(MODEL))["classes"]
PROB_COLUMNS = ["prob_star", "prob_mstar", "prob_carbon", "prob_sd", "prob_wd", "prob_cv", "prob_pn",
                "prob_uvx", "prob_sy", "prob_qso"]
EXPORT = ("\\copy (SELECT plate, ra, dec, " + ", ".join(PROB_COLUMNS)
          + " FROM dfbs.spectra WHERE plate LIKE 'fbs81%') TO 'spectra.csv' CSV HEADER")
RADIUS = math.radians(3.0 / 3600)  # the match radius, as a chord on the unit sphere (small angle)
TARGET = 0.80


def unit(ra, dec):
    ra, dec = math.radians(float(ra)), math.radians(float(dec))
    return (math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec))


def cell(v):
    return tuple(math.floor(c / RADIUS) for c in v)


def matched(spectra, truth):
    """(spectrum, truth row) pairs within RADIUS, closest first, each side used once."""
    positions = [unit(s["ra"], s["dec"]) for s in spectra]
    grid = collections.defaultdict(list)
    for i, v in enumerate(positions):
        grid[cell(v)].append(i)
    pairs = []
    for j, t in enumerate(truth):
        if t["class"] not in CLASSES:
            continue
        v = unit(t["ra"], t["dec"])
        k = cell(v)
        for dk in ((a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1)):
            for i in grid.get(tuple(x + d for x, d in zip(k, dk)), ()):
                distance = math.dist(v, positions[i])
                if distance <= RADIUS:
                    pairs.append((distance, j, i))
    used_truth, used_spectra = set(), set()
    for _, j, i in sorted(pairs):
        if j not in used_truth and i not in used_spectra:
            used_truth.add(j)
            used_spectra.add(i)
            yield spectra[i], truth[j]


def load(spectra_csv, truth_dir):
    """Probabilities, true class, true B and plate number of every matched spectrum."""
    by_plate = collections.defaultdict(list)
    with open(spectra_csv) as f:
        for row in csv.DictReader(f):
            by_plate[row["plate"]].append(row)
    probabilities, labels, mags, plates = [], [], [], []
    for path in sorted(glob.glob(os.path.join(truth_dir, "*.truth.csv"))):
        plate = os.path.basename(path)[: -len(".truth.csv")]
        with open(path) as f:
            truth = list(csv.DictReader(f))
        for s, t in matched(by_plate[plate], truth):
            probabilities.append([float(s[c]) for c in PROB_COLUMNS])
            labels.append(CLASSES.index(t["class"]))
            mags.append(float(t["mag_b"]))
            plates.append(int(plate[3:]))
    return np.array(probabilities), np.array(labels), np.array(mags), np.array(plates)


def score(probabilities, labels, weights):
    """Macro-F1 and each class's recall of the labels argmax(weights * p)."""
    predicted = np.argmax(probabilities * weights, 1)
    recall, f1 = [], []
    for c in range(len(CLASSES)):
        tp = np.sum((predicted == c) & (labels == c))
        p = tp / max(1, np.sum(predicted == c))
        r = tp / max(1, np.sum(labels == c))
        recall.append(r)
        f1.append(2 * p * r / max(1e-9, p + r))
    return np.mean(f1), np.array(recall)


def tune(probabilities, labels):
    """Coordinate ascent on macro-F1 less 2 x every recall's shortfall below TARGET."""
    def objective(w):
        f1, recall = score(probabilities, labels, w)
        return f1 - 2.0 * np.sum(np.clip(TARGET - recall, 0, None))

    weights = np.ones(len(CLASSES))
    best = objective(weights)
    for _ in range(3):
        for c in range(len(CLASSES)):
            for factor in (0.7, 0.8, 0.9, 1.1, 1.25, 1.4, 1.6, 2.0):
                trial = weights.copy()
                trial[c] *= factor
                value = objective(trial)
                if value > best:
                    best, weights = value, trial
    return weights


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: decision_weights.py SPECTRA.csv TRUTH_DIR\nexport SPECTRA.csv in psql with:\n{EXPORT}")
    probabilities, labels, mags, plates = load(sys.argv[1], sys.argv[2])
    bright = mags <= 17.5
    f1, recall = score(probabilities[bright], labels[bright], np.ones(len(CLASSES)))
    print("all plates argmax", round(f1, 4), np.round(recall, 3))
    odd, even = bright & (plates % 2 == 1), bright & (plates % 2 == 0)
    for tuned, tested, name in ((odd, even, "tune odd/test even"), (even, odd, "tune even/test odd")):
        weights = tune(probabilities[tuned], labels[tuned])
        f0, r0 = score(probabilities[tested], labels[tested], np.ones(len(CLASSES)))
        f1, r1 = score(probabilities[tested], labels[tested], weights)
        print(name, "weights", np.round(weights, 2))
        print("  test argmax", round(f0, 4), np.round(r0, 3))
        print("  test weighted", round(f1, 4), np.round(r1, 3))


if __name__ == "__main__":
    main()
