"""Draws docs/sim-faithfulness.png: simulated DFBS spectra beside the 30 real ones of plate
fbs1163, with the metrics the faithfulness test (tests/python/test_simulator.py) checks.

    .venv/bin/python scripts/figures/sim_faithfulness.py [path/to/dfbs-vo]

It simulates the same plate as the test (a 2048 x 2048 plate of fbs1163's field, IIF emulsion,
limit B = 17.8, seed 11) into a temporary directory.
"""

import os
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import dfbs_profiles as profiles  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "dfbs-vo")


def normalised(intensity, wavelength):
    red = np.mean(intensity[(wavelength >= 640) & (wavelength <= 675)])
    return intensity / red


def main():
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([BIN, "simulate", "--out", out, "--quiet", "--seed", "11", "--size", "2048x2048",
                        "--emulsion", "IIF", "--limit", "17.8", "--field", "29.05,20.3", "--density", "3000"],
                       check=True)
        real_summary, sim_summary, real_rows, matched = profiles.faithfulness(os.path.join(out, "fbs5001"))

    fig, axes = plt.subplots(2, 4, figsize=(20, 8.5))
    grid = np.linspace(340, 700, 181)
    for ax, (low, high) in zip(axes[0], [(12.0, 14.5), (14.5, 15.7), (15.7, 17.0)]):
        for rows, colour, label in [(real_rows, "black", "real fbs1163"), (matched, "tab:red", "simulated")]:
            curves = []
            for r in rows:
                if low <= r["mag"] < high:
                    order = np.argsort(r["wavelength"])
                    curves.append(np.interp(grid, r["wavelength"][order],
                                            normalised(r["intensity"], r["wavelength"])[order]))
            if curves:
                curves = np.array(curves)
                ax.plot(grid, np.median(curves, axis=0), color=colour, lw=2, label=f"{label} (median of {len(curves)})")
                ax.fill_between(grid, np.percentile(curves, 25, axis=0), np.percentile(curves, 75, axis=0),
                                color=colour, alpha=0.15)
        ax.set_title(f"ordinary stars, {low} <= B < {high}")
        ax.set_xlabel("wavelength (nm)")
        ax.set_ylabel("intensity / red level (640-675 nm)")
        ax.set_xlim(340, 705)
        ax.set_ylim(-0.2, 1.4)
        ax.axvline(690, color="grey", lw=0.5)
        ax.legend(fontsize=8)
    metrics = [("red_border_offset", "red border: 690 nm minus half-max crossing (px)"),
               ("length", "spectrum length above 3 sigma (px)"), ("blue_red", "blue peak / red peak")]
    for ax, (key, title) in zip(axes[1], metrics):
        ax.scatter([r["mag"] for r in real_rows], [r[key] for r in real_rows], color="black", s=18, label="real fbs1163")
        ax.scatter([r["mag"] for r in matched], [r[key] for r in matched], color="tab:red", s=6, alpha=0.5,
                   label="simulated (magnitude-matched)")
        ax.set_title(f"{title}\nmedian real {real_summary[key][0]:.2f}, simulated {sim_summary[key][0]:.2f}", fontsize=9)
        ax.set_xlabel("B (mag)")
        ax.legend(fontsize=8)
    # The faint end's noise, which every accuracy figure at B <= 17.5 rests on.
    ax = axes[1][3]
    ax.scatter([r["mag"] for r in real_rows], [r["red_snr"] for r in real_rows], color="black", s=18, label="real fbs1163")
    ax.scatter([r["mag"] for r in matched], [r["red_snr"] for r in matched], color="tab:red", s=6, alpha=0.5,
               label="simulated (magnitude-matched)")
    (real_snr, n_real), (sim_snr, n_sim) = profiles.faint_red_snr(real_rows), profiles.faint_red_snr(matched)
    slopes = []
    for rows, colour in ((real_rows, "black"), (matched, "tab:red")):
        slope, intercept = profiles.red_snr_slope(rows)
        b = np.array([13.0, 17.1])
        ax.plot(b, 10 ** (intercept + slope * b), color=colour, lw=1)
        slopes.append(slope)
    ax.set_yscale("log")
    ax.axvline(profiles.FAINT_MAG_B, color="grey", lw=0.5)
    ax.set_title(f"red peak S/N per pixel; B >= {profiles.FAINT_MAG_B}: median real {real_snr:.1f} ({n_real}),\n"
                 f"simulated {sim_snr:.1f} ({n_sim}); slope real {slopes[0]:.2f}, simulated {slopes[1]:.2f} dex/mag", fontsize=9)
    ax.set_xlabel("B (mag)")
    ax.legend(fontsize=8)
    axes[0][3].axis("off")
    fig.suptitle("dfbs-vo simulate vs the real DFBS spectra of plate fbs1163. Emulsion gap: real "
                 f"{real_summary['gap_nm'][0]:.0f} nm at depth {real_summary['gap_depth'][0]:.2f}, simulated "
                 f"{sim_summary['gap_nm'][0]:.0f} nm at depth {sim_summary['gap_depth'][0]:.2f}")
    fig.tight_layout()
    path = os.path.join(ROOT, "docs", "sim-faithfulness.png")
    fig.savefig(path, dpi=80)
    for key in real_summary:
        print(f"{key:18s} real {real_summary[key][0]:8.3f}  simulated {sim_summary[key][0]:8.3f}")
    print("wrote", path)


if __name__ == "__main__":
    main()
