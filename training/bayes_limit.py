"""How far could any classifier go on these 1D spectra? A likelihood classifier over a bank of
the simulator's noise-free spectra, set beside the CNN on the same held-out spectra.

For a spectrum f (136 bins, white noise of σ per bin) and a noise-free template t of known
shape and unknown amplitude a >= 0 (flat prior), the likelihood marginalised over a is

    L(f | t) ∝ σ / √(t·t) · exp(−(f·f − (f·t)² / t·t) / 2σ²) · Φ((f·t) / (σ √(t·t)))

(the Gaussian integral over a > 0), and the posterior of class c with a uniform class prior,
which the balanced plates and the classifier's `training_prior` share, is the mean of L over the
bank's templates of that class. With a bank that samples the simulator's own distribution of
templates (its redshifts, temperatures, line strengths, seeing) densely, this is the Bayes
classifier for the 1D spectrum; the bank-size check below says whether it is dense enough.

Three figures on the same spectra (held-out balanced plates, B <= 17.5, all 136 bins on the
plate):
- `cnn`: the committed classifier (cutout and spectrum, no per-plate prior adaptation, as in
  score_models.py);
- `bank, real`: the likelihood classifier on the pipeline's extracted spectrum, σ estimated per
  spectrum (1.4826 × the median absolute residual from its own truth spectrum scaled to it, a
  plate-level noise figure any classifier could measure from the sky);
- `bank, ideal`: the same on an ideal extraction of the same object: its own truth spectrum at
  the fitted amplitude plus white noise of the same σ (no anchor error, blend, defect or
  saturation). This is what the 1D information at this signal-to-noise allows.
The CNN also sees the 2D cutout (an extended image tells galaxies), which the bank does not.

The bank's templates are the `flux_true` column of the truth VOTables (exposure per row, summed
across the trace, after the emulsion's sensitivity and before the characteristic curve) of plates
simulated with seeds used nowhere else, matched to each test plate's emulsion. Shifts of ±0.5 px
along the dispersion are added as templates of their own (the anchor's error: median 0.2-0.3 px).
The exposure is linear in the extracted density only while the trace is faint (the
characteristic curve bends for bright ones), so the bank figures mean most at B >= 16.

    bin=target/release/dfbs-vo; e=(IIF IIaF 103aF)
    for i in $(seq 0 59); do s=$((5001 + i)); $bin simulate --out /tmp/bank --quiet --seed $s \\
        --first-plate $s --size 3072x3072 --mix balanced --density 1800 --emulsion ${e[$((i % 3))]}; done
    $bin export-cutouts /tmp/dfbs-heldout/balanced/*.fits --out /tmp/ho-balanced
    training/.venv/bin/python training/bayes_limit.py /tmp/ho-balanced /tmp/dfbs-heldout/balanced /tmp/bank
    # The ideal with the noise of the rows rather than of the interpolated bins (README):
    training/.venv/bin/python training/bayes_limit.py ... /tmp/bank --ideal-only --ideal-noise 1.22
    # Templates through the pipeline's own extraction: the same bank plates with 2% of the
    # grain noise (add `--grain-scale 0.02` to the simulate command, --out /tmp/bank0), then
    $bin export-cutouts /tmp/bank0/*.fits --out /tmp/bank0-export
    training/.venv/bin/python training/bayes_limit.py ... /tmp/bank0 --bank-export /tmp/bank0-export

Results and what they say: training/README.md, "How far the 1D spectrum could go".
"""

import argparse
import csv
import glob
import os
import pickle
import time

import numpy as np
from astropy.io import fits
from astropy.io.votable import parse_single_table
import torch

from train import CLASSES, f1_and_recall_by_class, normalise_flux
from score_models import probabilities

BINS = 136
MAG_EDGES = [15.0, 16.0, 16.5, 17.0, 17.5]


def emulsion(fits_path):
    return fits.getheader(fits_path)["EMULSION"].strip()


def read_truth(plates_dir):
    """id -> (class, mag_b, flux_true, plate) for every plate's truth VOTable; plate -> emulsion.
    Cached in PLATES_DIR/truth-spectra.pkl (parsing the VOTables takes minutes)."""
    cache = os.path.join(plates_dir, "truth-spectra.pkl")
    if os.path.exists(cache):
        with open(cache, "rb") as f:
            return pickle.load(f)
    truth, emulsions = {}, {}
    for path in sorted(glob.glob(os.path.join(plates_dir, "*.truth.vot"))):
        plate = os.path.basename(path)[: -len(".truth.vot")]
        emulsions[plate] = emulsion(os.path.join(plates_dir, f"{plate}.fits"))
        table = parse_single_table(path).array
        for row in table:
            flux = np.asarray(row["flux_true"], dtype=np.float64)
            truth[str(row["id"])] = (str(row["class"]), float(row["mag_b"]), flux, plate)
    with open(cache, "wb") as f:
        pickle.dump((truth, emulsions), f)
    return truth, emulsions


def shifted(templates, shift):
    """Each template moved by `shift` bins (linear interpolation; zero beyond the ends)."""
    k = np.arange(BINS, dtype=np.float64)
    return np.stack([np.interp(k - shift, k, t, left=0.0, right=0.0) for t in templates])


def class_log_likelihoods(spectra, sigmas, bank, bank_classes, chunk=500):
    """log of the mean marginal likelihood over each class's templates, for every spectrum."""
    norms = np.sqrt((bank * bank).sum(axis=1))
    keep = norms > 0
    units = (bank[keep] / norms[keep, None]).astype(np.float32)
    classes = bank_classes[keep]
    members = [np.flatnonzero(classes == c) for c in range(len(CLASSES))]
    out = np.full((len(spectra), len(CLASSES)), -np.inf)
    for start in range(0, len(spectra), chunk):
        f = spectra[start:start + chunk].astype(np.float32)
        s = sigmas[start:start + chunk, None].astype(np.float32)
        # With unit templates: f·t = p, t·t = 1, so the exponent is (p² − f·f) / 2σ²; the
        # f·f term and the σ factor are the same for every template of a spectrum and drop out
        # of the class posterior, and so do constants.
        p = f @ units.T
        z = p / s
        log_l = 0.5 * z * z + torch.special.log_ndtr(torch.from_numpy(z)).numpy()
        for c, idx in enumerate(members):
            if len(idx):
                part = log_l[:, idx]
                top = part.max(axis=1, keepdims=True)
                out[start:start + chunk, c] = (top[:, 0] + np.log(np.exp(part - top).mean(axis=1)))
    return out


def report(name, predicted, labels, mags):
    bins = np.digitize(mags, MAG_EDGES, right=True)
    accuracy = [float((predicted[bins == b] == labels[bins == b]).mean()) for b in range(len(MAG_EDGES))]
    f1, recalls = f1_and_recall_by_class(predicted, labels)
    return (f"| {name} | {np.mean(f1):.3f} | " + " | ".join(f"{a:.3f}" for a in accuracy) + " | "
            + " | ".join(f"{r:.2f}" for r in recalls) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", help="dfbs-vo export-cutouts of the held-out plates")
    parser.add_argument("plates", help="the held-out plates (their truth VOTables and FITS headers)")
    parser.add_argument("bank", help="plates simulated for the bank (truth VOTables and FITS)")
    parser.add_argument("--model", default="models/dfbs-classifier.onnx")
    parser.add_argument("--bank-export", help="export-cutouts of the bank's plates simulated with --grain-scale 0.02: "
                        "use their extracted spectra as templates instead of flux_true")
    parser.add_argument("--bank-fraction", type=float, default=1.0, help="use this share of the bank (density check)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ideal-noise", type=float, default=1.0,
                        help="the ideal spectra's white noise in units of the measured per-bin σ (see the docstring)")
    parser.add_argument("--ideal-only", action="store_true", help="skip the bank classifier on the real spectra")
    parser.add_argument("--every", type=int, default=4, help="score every n-th held-out spectrum (time)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.time()

    truth, plate_emulsion = read_truth(args.plates)
    bank_truth, bank_emulsion = read_truth(args.bank)
    rows = list(csv.DictReader(open(os.path.join(args.export, "labels.csv"))))
    flux = np.load(os.path.join(args.export, "flux.npy"), mmap_mode="r")
    cutouts = np.load(os.path.join(args.export, "cutouts.npy"), mmap_mode="r")
    select = [i for i, r in enumerate(rows)
              if r["truth_id"] in truth and r["class"] in CLASSES and float(r["mag_b"]) <= 17.5
              and np.isfinite(flux[i]).all()][::args.every]
    total = sum(1 for r in rows if r["truth_id"] in truth and r["class"] in CLASSES and float(r["mag_b"]) <= 17.5)
    print(f"{len(select)} (every {args.every}th) of {total} held-out spectra at B <= 17.5 with all 136 bins on the plate "
          f"({time.time() - started:.0f} s)")
    labels = np.array([CLASSES.index(rows[i]["class"]) for i in select])
    mags = np.array([float(rows[i]["mag_b"]) for i in select])
    real = np.asarray(flux[select], dtype=np.float64)
    own = np.stack([truth[rows[i]["truth_id"]][2] for i in select])
    emulsions = np.array([plate_emulsion[rows[i]["plate"]] for i in select])

    # Amplitude and noise of each spectrum against its own truth.
    amplitude = (real * own).sum(axis=1) / np.maximum((own * own).sum(axis=1), 1e-30)
    residual = real - amplitude[:, None] * own
    sigma = 1.4826 * np.median(np.abs(residual - np.median(residual, axis=1, keepdims=True)), axis=1)
    sigma = np.maximum(sigma, 1e-6)
    ideal_sigma = args.ideal_noise * sigma
    ideal = amplitude[:, None] * own + ideal_sigma[:, None] * rng.standard_normal(own.shape)

    cnn = probabilities(args.model, cutouts[select], normalise_flux(flux[select])).argmax(axis=1)
    predictions = {"bank, real": np.zeros(len(select), dtype=int), "bank, ideal": np.zeros(len(select), dtype=int)}
    bank_sizes = {}
    if args.bank_export:
        # Templates through the pipeline's own extraction (characteristic curve, optimal weights,
        # interpolation between rows), from plates with 2% of the grain noise.
        bank_rows = list(csv.DictReader(open(os.path.join(args.bank_export, "labels.csv"))))
        bank_flux = np.load(os.path.join(args.bank_export, "flux.npy"), mmap_mode="r")
        usable = [i for i, r in enumerate(bank_rows) if r["class"] in CLASSES and np.isfinite(bank_flux[i]).all()]
        bank_all = np.asarray(bank_flux[usable], dtype=np.float64)
        bank_all_classes = np.array([CLASSES.index(bank_rows[i]["class"]) for i in usable])
        bank_all_emulsions = np.array([bank_emulsion[bank_rows[i]["plate"]] for i in usable])
        del predictions["bank, ideal"]
    if args.ideal_only:
        del predictions["bank, real"]
    for name in sorted(set(emulsions)):
        if args.bank_export:
            ids = np.flatnonzero(bank_all_emulsions == name)
            if args.bank_fraction < 1.0:
                ids = ids[rng.random(len(ids)) < args.bank_fraction]
            base, classes = bank_all[ids], bank_all_classes[ids]
        else:
            ids = [i for i, (c, _, t, plate) in bank_truth.items() if bank_emulsion[plate] == name and c in CLASSES and t.sum() > 0]
            if args.bank_fraction < 1.0:
                ids = [i for i in ids if rng.random() < args.bank_fraction]
            base = np.stack([bank_truth[i][2] for i in ids])
            classes = np.array([CLASSES.index(bank_truth[i][0]) for i in ids])
        bank = np.concatenate([base, shifted(base, -0.5), shifted(base, 0.5)])
        bank_classes = np.concatenate([classes, classes, classes])
        bank_sizes[name] = len(ids)
        here = emulsions == name
        for key, spectra in (("bank, real", real), ("bank, ideal", ideal)):
            if key not in predictions:
                continue
            noise = ideal_sigma if key == "bank, ideal" else sigma
            scores = class_log_likelihoods(spectra[here], noise[here], bank, bank_classes)
            predictions[key][here] = scores.argmax(axis=1)
        print(f"{name}: {here.sum()} spectra, bank of {len(ids)} objects x 3 shifts ({time.time() - started:.0f} s)")

    print(f"\nbank objects per emulsion: {bank_sizes}; bank fraction {args.bank_fraction}")
    header = "| classifier | macro-F1 | " + " | ".join(
        f"acc. B {lo}-{hi}" for lo, hi in zip([0.0] + MAG_EDGES[:-1], MAG_EDGES)) + " | " + " | ".join(CLASSES) + " |"
    print(header.replace("acc. B 0.0-15.0", "acc. B <= 15"))
    print("|" + "---|" * (2 + len(MAG_EDGES) + len(CLASSES)))
    print(report("cnn", cnn, labels, mags))
    for key, predicted in predictions.items():
        print(report(key, predicted, labels, mags))
    print("F1 by class:")
    for key, predicted in [("cnn", cnn)] + list(predictions.items()):
        print(f"  {key}: " + ", ".join(f"{name} {f1:.3f}" for name, f1 in zip(CLASSES, f1_and_recall_by_class(predicted, labels)[0])))
    counts = np.bincount(np.digitize(mags, MAG_EDGES, right=True), minlength=len(MAG_EDGES))
    print(f"spectra per magnitude bin: {counts.tolist()}")


if __name__ == "__main__":
    main()
