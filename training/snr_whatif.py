"""What would the held-out figures be if the simulated spectra gained signal-to-noise with
brightness as fast as the real ones of plate fbs1163? (models/README.md, "Limits".)

The faithfulness figure (docs/sim-faithfulness.png, tests/python/dfbs_profiles.py) fits
log10 S/N = a + s B (Theil-Sen, 13 <= B < 17.1) to the red-peak signal-to-noise per pixel of the
26 real fbs1163 spectra and of magnitude-matched simulated ones of a plate like it: the real
slope is steeper (-0.47 against -0.36 dex/mag). A real object of magnitude B then looks like a
simulated one of the B' where the two fits give the same S/N,

    B' = (a_real - a_sim + s_real B) / s_sim,

so the metric on real-like plates is the metric on the simulated spectra with each one at B'
standing for a real object at B(B'), re-weighted so that each class keeps the simulator's own
magnitude distribution n_c: weight n_c(B(B')) / n_c(B') x dB/dB' (0.1 mag bins; bins of B' with
fewer than 20 spectra of the class get no weight), and the cut B <= 17.5 applied to B(B'). One
plate's relation stands for every held-out plate, and the real fit rests on 26 spectra (its
slope's 95% bootstrap interval is -0.56 to -0.37): an estimate of the direction and size of
the effect, not a measurement.

    bin=target/release/dfbs-vo
    $bin export-cutouts /tmp/dfbs-heldout/balanced/*.fits --out /tmp/ho-balanced
    training/.venv/bin/python training/snr_whatif.py /tmp/ho-balanced models/dfbs-classifier.onnx --seeds 11 12 13
    # Only the slopes' difference, the two fits meeting at B 17 (near the faint end, where the
    # faithfulness test holds the levels together):
    training/.venv/bin/python training/snr_whatif.py ... --pin 17

Each seed simulates the faithfulness test's plate again (2048 x 2048, fbs1163's field, IIF,
limit 17.8; seconds). No per-plate prior adaptation (as score_models.py).

How far to trust the re-weighting: `--limit-check /tmp/dfbs-heldout/balanced` (the plates' FITS
headers give LIMMAG) predicts the held-out plates of the deeper half of the limits from those of
the shallower half (a deeper plate is the same plate with every S/N shifted by the limits'
difference, so B' = B - (L_deep - L_shallow)) and the reverse, beside what those plates scored.
On the 36 plates (limits 17.35 and 18.07 on average) it predicts 0.916 for the deep half, which
scored 0.899, and 0.847 for the shallow half, which scored 0.869: the re-weighting makes 1.6-1.7
times the change it should, so its figures above are upper bounds on the effect.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

from score_models import probabilities, read_export
from train import CLASSES, f1_and_recall_by_class

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import dfbs_profiles as profiles  # noqa: E402


def snr_fits(binary, seed):
    """(real slope, real intercept), (simulated slope, simulated intercept) for one seed."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([binary, "simulate", "--out", out, "--quiet", "--seed", str(seed), "--size", "2048x2048",
                        "--emulsion", "IIF", "--limit", "17.8", "--field", "29.05,20.3", "--density", "3000"],
                       check=True, capture_output=True)
        _, _, real, matched = profiles.faithfulness(os.path.join(out, "fbs5001"))
    return profiles.red_snr_slope(real), profiles.red_snr_slope(matched)


def real_like_weights(labels, mags, real, simulated, cut=17.5, bin_width=0.1, min_count=20):
    """The weight of each simulated spectrum as a stand-in for real objects (module docstring)."""
    (s_real, a_real), (s_sim, a_sim) = real, simulated
    as_real = (s_sim * mags + a_sim - a_real) / s_real  # B(B')
    edges = np.arange(np.floor(mags.min()), np.ceil(max(mags.max(), as_real.max())) + bin_width, bin_width)
    weights = np.zeros(len(mags))
    for c in range(len(CLASSES)):
        mine = labels == c
        counts = np.histogram(mags[mine], edges)[0].astype(float)
        at_sim = np.clip(np.digitize(mags[mine], edges) - 1, 0, len(counts) - 1)
        at_real = np.clip(np.digitize(as_real[mine], edges) - 1, 0, len(counts) - 1)
        enough = counts[at_sim] >= min_count
        weights[mine] = np.where(enough, counts[at_real] / np.maximum(counts[at_sim], 1), 0.0) * (s_sim / s_real)
    weights[as_real > cut] = 0.0
    return weights


def limit_check(plates_dir, rows, labels, mags, line):
    """The re-weighting tried where the answer is known (module docstring)."""
    from astropy.io import fits

    limits = {}
    for plate in sorted({r["plate"] for r in rows}):
        limits[plate] = float(fits.getheader(os.path.join(plates_dir, f"{plate}.fits"))["LIMMAG"])
    limit = np.array([limits[r["plate"]] for r in rows])
    middle = float(np.median(list(limits.values())))
    deep = limit >= middle
    mean = {True: np.mean([v for v in limits.values() if v >= middle]), False: np.mean([v for v in limits.values() if v < middle])}
    slope = -0.4  # any slope: equal on both sides, only the shift matters
    for target in (True, False):
        shift = mean[target] - mean[not target]
        source = deep != target
        weights = np.zeros(len(mags))
        weights[source] = real_like_weights(labels[source], mags[source], (slope, -slope * shift), (slope, 0.0))
        name = "deeper" if target else "shallower"
        line(f"the {name} half (mean limit {mean[target]:.2f}) predicted from the other", weights)
        line(f"the {name} half as it scored", (deep == target) & (mags <= 17.5))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", help="export-cutouts output of the held-out plates")
    parser.add_argument("model", help="classifier .onnx")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--pin", type=float, default=None,
                        help="keep only the slopes' difference: move the real fit to meet the simulated one at this B (the level "
                             "of the real S/N also depends on the unknown width of the real extraction's box)")
    parser.add_argument("--limit-check", metavar="PLATES_DIR",
                        help="instead: predict the deeper half of the held-out plates from the shallower and the reverse (docstring)")
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "dfbs-vo"))
    args = parser.parse_args()
    cutouts, flux, rows = read_export(args.export)
    labels = np.array([CLASSES.index(r["class"]) for r in rows])
    mags = np.array([float(r["mag_b"]) for r in rows])
    predicted = probabilities(args.model, cutouts, flux).argmax(axis=1)

    def line(name, selection):
        f1, recall = f1_and_recall_by_class(predicted, labels, selection)
        lowest = int(np.argmin(recall))
        print(f"{name}: macro-F1 {np.mean(f1):.4f}, lowest recall {recall[lowest]:.3f} ({CLASSES[lowest]}), "
              f"quasars {recall[CLASSES.index('qso')]:.3f}")

    line("as simulated, B <= 17.5", mags <= 17.5)
    if args.limit_check:
        limit_check(args.limit_check, rows, labels, mags, line)
        return
    for seed in args.seeds:
        real, simulated = snr_fits(args.binary, seed)
        if args.pin is not None:
            real = (real[0], simulated[1] + (simulated[0] - real[0]) * args.pin)
        print(f"seed {seed}: S/N slope real {real[0]:.3f}, simulated {simulated[0]:.3f} dex/mag; S/N at B 15 "
              f"{10 ** (real[1] + 15 * real[0]):.1f} against {10 ** (simulated[1] + 15 * simulated[0]):.1f}, at B 16.5 "
              f"{10 ** (real[1] + 16.5 * real[0]):.1f} against {10 ** (simulated[1] + 16.5 * simulated[0]):.1f}")
        line(f"seed {seed}, real-like B <= 17.5", real_like_weights(labels, mags, real, simulated))


if __name__ == "__main__":
    main()
