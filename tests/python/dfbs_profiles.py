"""Measuring DFBS spectral profiles the same way on real and simulated data.

Used by test_simulator.py (the faithfulness test) and by scripts/figures/sim_faithfulness.py
(the committed figure docs/sim-faithfulness.png). Real profiles are the 30 ASCII spectra of
plate fbs1163 (tests/data/dfbs-spectra-fbs1163); simulated ones are extracted from a simulated
scan at the truth positions with a plain box extraction in photographic density.

Every metric is defined on a profile given as (intensity per pixel, wavelength per pixel):
- red_border_offset: pixels from the half-maximum crossing on the red side to the 690 nm
  pixel (positive: the crossing lies redward);
- length: pixels between the first and last pixel above 3 sigma of the profile's own noise
  (estimated beyond the red cut-off, > 705 nm, where there is no signal);
- gap_nm / gap_depth: wavelength of the minimum of the 3-pixel running mean between 470 and
  530 nm, and that minimum over the red peak level (mean of 640-675 nm);
- blue_red: mean of 435-460 nm over the mean of 640-675 nm;
- red_snr: the red peak level (mean of 640-675 nm) over the noise of one pixel beyond the
  cut-off (1.4826 x the median absolute deviation beyond 705 nm): the signal-to-noise per pixel
  that decides how well a faint spectrum can be classified. Compared at the faint end only
  ([`faint_red_snr`]): the real extraction's box width is not published (a box of w columns
  scales the noise as sqrt(w)), so agreement within a factor 1.5 is what it can show.
"""

import glob
import math
import os
import re

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REAL_DIR = os.path.join(ROOT, "tests", "data", "dfbs-spectra-fbs1163")


def wavelength_nm(k):
    """The DFBS dispersion relation (pipeline::wavelength): k pixels blueward of 690 nm."""
    return 189.97 + 21933.6 / (np.asarray(k, dtype=float) + 43.864)


def read_real():
    """The real spectra: list of dicts with mag_b, quality, intensity, wavelength."""
    spectra = []
    for path in sorted(glob.glob(os.path.join(REAL_DIR, "*.spec"))):
        text = open(path, encoding="ascii").read()
        mag_b = float(re.search(r"mag B:\s*([-\d.]+)", text).group(1))
        quality = re.search(r"spectrum class:\s*(\w+)", text).group(1)
        rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        data = np.array([[float(v) for v in row] for row in rows])
        spectra.append({"mag_b": mag_b, "quality": quality, "intensity": data[:, 1], "wavelength": data[:, 2],
                        "length_header": float(re.search(r"length:\s*([\d.]+)", text).group(1)),
                        "name": os.path.basename(path)})
    return spectra


def _band_mean(intensity, wavelength, low, high):
    sel = (wavelength >= low) & (wavelength <= high)
    return float(np.mean(intensity[sel])) if sel.any() else float("nan")


def metrics(intensity, wavelength):
    intensity = np.asarray(intensity, dtype=float)
    wavelength = np.asarray(wavelength, dtype=float)
    red = _band_mean(intensity, wavelength, 640, 675)
    blue = _band_mean(intensity, wavelength, 435, 460)
    # Red border: walking from the red peak toward longer wavelengths, the first pixel below
    # half of the red level; interpolate the crossing.
    order = np.argsort(-wavelength)  # red first
    lam = wavelength[order]
    inten = intensity[order]
    peak_index = int(np.argmin(np.abs(lam - 660)))
    crossing = float("nan")
    for i in range(peak_index, 0, -1):
        if inten[i - 1] < 0.5 * red <= inten[i]:
            t = (inten[i] - 0.5 * red) / (inten[i] - inten[i - 1])
            crossing = i - t
            break
    index_690 = float(np.interp(690.0, lam[::-1], np.arange(len(lam))[::-1]))
    red_border_offset = index_690 - crossing
    # Noise beyond the cut-off.
    beyond = intensity[wavelength > 705]
    noise = 1.4826 * float(np.median(np.abs(beyond - np.median(beyond)))) if beyond.size >= 5 else float("nan")
    above = np.nonzero(inten > 3 * max(noise, 1e-9))[0]
    length = float(above[-1] - above[0] + 1) if above.size else 0.0
    smooth = np.convolve(inten, np.ones(3) / 3, mode="same")
    sel = (lam >= 470) & (lam <= 530)
    gap_index = np.nonzero(sel)[0][int(np.argmin(smooth[sel]))]
    return {
        "red": red,
        "blue_red": blue / red,
        "gap_nm": float(lam[gap_index]),
        "gap_depth": float(smooth[gap_index]) / red,
        "red_border_offset": red_border_offset,
        "length": length,
        "noise": noise,
        "red_snr": red / noise if noise > 0 else float("nan"),
    }


def extract_simulated(data, x, y, anchor_offset=8.0, red_sign=1, half_width=3, k_range=(-30, 150)):
    """Box extraction at a truth anchor (FITS pixels): density above the local background,
    summed over 2*half_width+1 columns, per row from k_range[0] to k_range[1] pixels blueward
    of the 690 nm point. Returns (intensity, wavelength) ordered red to blue."""
    height, width = data.shape
    y690 = y + red_sign * anchor_offset
    ks = np.arange(k_range[0], k_range[1] + 1)
    intensity = np.full(ks.shape, np.nan)
    xc = int(round(x)) - 1
    if xc - 14 < 0 or xc + 14 >= width:
        return None
    for i, k in enumerate(ks):
        row = int(round(y690 - red_sign * k)) - 1
        if row < 0 or row >= height:
            return None
        values = data[row].astype(float)
        density = -np.log10(np.clip(values, 1, None) / 16383.0)
        background = np.median(np.concatenate([density[xc - 14:xc - 7], density[xc + 8:xc + 15]]))
        intensity[i] = float(np.sum(density[xc - half_width:xc + half_width + 1] - background))
    return intensity, wavelength_nm(ks)


def summarise(rows):
    """Median and quartiles of each metric over a list of metric dicts."""
    out = {}
    for key in ("blue_red", "gap_nm", "gap_depth", "red_border_offset", "length"):
        values = np.array([r[key] for r in rows if math.isfinite(r[key])])
        out[key] = (float(np.median(values)), float(np.percentile(values, 25)), float(np.percentile(values, 75)))
    return out


# The faint end, where the classes overlap in noise (models/README.md): the real spectra of
# fbs1163 from here on are 11, most of them flagged U.
FAINT_MAG_B = 15.5


def faint_red_snr(rows):
    """Median red-peak signal-to-noise per pixel of the rows at B >= FAINT_MAG_B, and their count."""
    values = [r["red_snr"] for r in rows if r["mag"] >= FAINT_MAG_B and math.isfinite(r["red_snr"])]
    return float(np.median(values)), len(values)


def red_snr_slope(rows, low=13.0, high=17.1):
    """Theil-Sen slope of log10(red_snr) against B over low <= B < high (dex per magnitude) and
    the intercept: -0.4 where the signal is linear in the light and the noise is the sky's."""
    rows = [r for r in rows if low <= r["mag"] < high and math.isfinite(r["red_snr"]) and r["red_snr"] > 0]
    x = np.array([r["mag"] for r in rows])
    y = np.log10([r["red_snr"] for r in rows])
    slopes = [(y[j] - y[i]) / (x[j] - x[i]) for i in range(len(x)) for j in range(i + 1, len(x)) if x[j] != x[i]]
    slope = float(np.median(slopes))
    return slope, float(np.median(y - slope * x))


def magnitude_matched(real_rows, sim_rows, per_real=5):
    """For each real spectrum, the `per_real` simulated ones closest in B magnitude (each
    simulated spectrum used once): the comparison sample of similar magnitudes."""
    available = sorted(sim_rows, key=lambda r: r["mag"])
    used = set()
    matched = []
    for real in sorted(real_rows, key=lambda r: r["mag"]):
        candidates = sorted((i for i in range(len(available)) if i not in used),
                            key=lambda i: abs(available[i]["mag"] - real["mag"]))[:per_real]
        for i in candidates:
            used.add(i)
            matched.append(available[i])
    return matched


def faithfulness(plate_prefix):
    """Real and magnitude-matched simulated profiles of a simulated plate (files
    `<plate_prefix>.fits` and `.truth.vot`): (real summary, simulated summary, real rows,
    matched simulated rows); each row holds its metrics, `mag`, `intensity` and `wavelength`."""
    from astropy.io import fits
    from astropy.table import Table

    real_rows = []
    for spectrum in read_real():
        if spectrum["quality"] == "NL":  # disturbed by neighbours
            continue
        row = metrics(spectrum["intensity"], spectrum["wavelength"])
        row.update(mag=spectrum["mag_b"], intensity=spectrum["intensity"], wavelength=spectrum["wavelength"])
        real_rows.append(row)
    data = fits.getdata(f"{plate_prefix}.fits")
    truth = Table.read(f"{plate_prefix}.truth.vot")
    selected = truth[(truth["class"] == "star") & ~truth["overlaps"] & (truth["mag_b"] > 12) & (truth["mag_b"] < 17.5)]
    sim_rows = []
    for row in selected:
        extracted = extract_simulated(data, row["x"], row["y"])
        if extracted is None:
            continue
        row_metrics = metrics(*extracted)
        row_metrics.update(mag=float(row["mag_b"]), intensity=extracted[0], wavelength=extracted[1])
        sim_rows.append(row_metrics)
    matched = magnitude_matched(real_rows, sim_rows)
    return summarise(real_rows), summarise(matched), real_rows, matched
