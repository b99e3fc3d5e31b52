"""Train the anomaly model: an autoencoder of the 1D spectra, scored by its most significant
unexplained emission where the cutout shows it as the object's own light; export it to ONNX
(models/dfbs-anomaly.onnx).

Offline and reproducible (CI never trains); the data are the classifier's training set
(training/make_dataset.sh), of which only the spectra of the first 20 plates are used, and no
labels: the model is unsupervised.

    training/.venv/bin/python training/train_anomaly.py --data training/data --out models

Why this model. The first anomaly model (1.0.0) scored the mean squared reconstruction error
of the 2D cutout: that error grows with the grain noise, so the top of its ranking was the
faintest spectra, and injected oddities ranked at the median. 2.0.0 scored the spectrum alone,
and ranked first the faint stars that a dust grain or a hair sits on. Here:

* inputs exactly the classifier's: `cutout` float32 [N, 1, 160, 50] and `flux` float32
  [N, 136] (the spectrum on the DFBS grid divided by its maximum; bins without data are 0, and
  an exact 0 is read as "no data": a measured value is never exactly 0);
* a small dense autoencoder (136-256-256-12-256-256-136) learns the normal spectra. It is kept
  small on purpose: with a wider bottleneck it learns to reproduce narrow spikes too;
* each spectrum's own noise: sigma = 1.4826 * median|second difference| / sqrt(6) over its
  valid bins (the second difference of white noise has variance 6 sigma^2; the median makes it
  blind to a few strong features);
* training weights each residual by 1 / (sigma^2 + 0.03^2): faint noisy spectra do not drive
  the fit, and 0.03 (3% of the peak) is the floor of the model's own error on bright ones;
* per bin, z = (flux - reconstruction) / sqrt(sigma^2 + 0.03^2): the significance of emission
  the model of normal spectra cannot explain. Positive residuals only count: an absorption the
  model misses is common (noise, overlaps), an emission line nothing normal has is the
  interesting case;
* a bin counts only where the cutout shows its excess light with the trace's own profile
  across the dispersion (`trace_shaped`): a dust grain or a hair on the trace, or grain noise,
  does not;
* score = max of z over the bins that count.
"""

import argparse
import datetime
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from train import CROP_ROWS, CUTOUT_COLUMNS, CUTOUT_ROWS, WINDOW_COLUMNS, WINDOW_ROWS, flux_extraction, load

FLOOR = 0.03


class SpectrumAutoEncoder(nn.Module):
    def __init__(self, hidden=256, bottleneck=12):
        super().__init__()
        self.encode = nn.Sequential(nn.Linear(136, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, bottleneck))
        self.decode = nn.Sequential(nn.Linear(bottleneck, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 136))

    def forward(self, flux):
        return self.decode(self.encode(flux))


def spectrum_noise(flux):
    """Per-spectrum pixel noise from the (lower) median of |second differences| over valid
    bins; 1.0 when there are none (so such a spectrum never scores high). Written with sort and
    gather so that it exports to ONNX."""
    valid = flux != 0
    d2 = (flux[:, 2:] - 2 * flux[:, 1:-1] + flux[:, :-2]).abs()
    ok = valid[:, 2:] & valid[:, 1:-1] & valid[:, :-2]
    big = torch.full_like(d2, 1e9)
    ordered, _ = torch.sort(torch.where(ok, d2, big), dim=1)
    count = ok.sum(dim=1, keepdim=True)
    index = torch.clamp((count - 1) // 2, min=0)
    median = torch.gather(ordered, 1, index)
    median = torch.where(count > 0, median, torch.ones_like(median))
    return 1.4826 * median / 6 ** 0.5 + 1e-3


# The cutout's rows and columns that the trace test reads (train.py's window columns: the
# 20-column crop and 2 columns of padding each side). Bin k of the grid lies k pixels blueward of
# the 690 nm point, which lies RED_BORDER_TO_690 px blueward of the red border; the crop starts
# CROP_RED_MARGIN px redward of it and is centred in the cutout (src/pipeline/extract.rs,
# src/pipeline/wavelength.rs): bin k is cutout row k + FIRST_BIN_ROW (17).
CROP_RED_MARGIN, RED_BORDER_TO_690 = 5, 2
FIRST_BIN_ROW = (CUTOUT_ROWS - CROP_ROWS) // 2 + CROP_RED_MARGIN + RED_BORDER_TO_690
TRACE_COLUMNS = WINDOW_COLUMNS
# Rows above and below a row (3-8 away) whose mean is its continuum, and the red rows whose
# median is the trace's cross-dispersion profile.
CONTINUUM_OFFSETS = (-8, -7, -6, -5, -4, -3, 3, 4, 5, 6, 7, 8)
PROFILE_ROWS = slice(FIRST_BIN_ROW, 80)
# A bin counts only when at least 1 - OFF_TRACE of its excess light has the trace's profile.
OFF_TRACE = 0.3


def excess_matrix(rows=CUTOUT_ROWS, bins=136):
    """The [bins, rows] matrix that takes a cutout column to each bin's excess: the bin's row
    and its two neighbours, each less the mean of the rows CONTINUUM_OFFSETS away (rows beyond
    the cutout read as its first or last row). Linear, so one matrix product does it. (The
    median of the 12 rows ranked the development plates' anomalies the same, 38 / 40 / 36, but
    made the whole model 14 times slower in ONNX Runtime: 1,390 against 19,550 spectra/s.)"""
    matrix = np.zeros((bins, rows), np.float32)
    for k in range(bins):
        for row in (k + FIRST_BIN_ROW - 1, k + FIRST_BIN_ROW, k + FIRST_BIN_ROW + 1):
            matrix[k, row] += 1.0
            for offset in CONTINUUM_OFFSETS:
                matrix[k, min(max(row + offset, 0), rows - 1)] -= 1.0 / len(CONTINUUM_OFFSETS)
    return torch.from_numpy(matrix)


EXCESS_OF_BIN = excess_matrix()


def median_last_axis(x):
    """Median along the last axis (the mean of the two middle values for an even count), by
    sort so that it exports to ONNX (ONNX Runtime sorts along the last axis fastest)."""
    ordered, _ = torch.sort(x, dim=-1)
    n = x.shape[-1]
    return (ordered[..., n // 2] + ordered[..., (n - 1) // 2]) / 2


def trace_shaped(cutout):
    """For each bin of the grid, whether the light it has above its continuum has the shape of
    the trace across the dispersion: [N, 136] bool.

    In the cutout's columns around the trace, a row's excess is its value less the mean of the
    rows 3-8 above and below (the continuum, blind to a line 1-2 px tall), summed over the row
    and its two neighbours (a line's height). Its projection on the trace's profile (the
    median of the red rows, less the median column, clipped at 0, unit norm) is the part with
    the trace's shape; what remains is light from elsewhere. An emission line of the object
    itself is the trace's image at one wavelength and projects almost wholly; a dust grain or a
    hair crossing the trace lies off its centre or is wider or slanted, and so does grain noise,
    which is spread over all the columns. The bin is trace-shaped when the projection holds at
    least 1 - OFF_TRACE of the excess's squared sum."""
    image = cutout[:, 0, :, TRACE_COLUMNS]                           # [N, 160, 24]
    excess = torch.matmul(EXCESS_OF_BIN, image)                      # [N, 136, 24]
    profile = median_last_axis(image[:, PROFILE_ROWS].transpose(1, 2))   # [N, 24]
    profile = torch.clamp(profile - median_last_axis(profile).unsqueeze(1), min=0)
    profile = profile / torch.sqrt((profile ** 2).sum(dim=1, keepdim=True) + 1e-9)
    along = (excess * profile.unsqueeze(1)).sum(dim=2)
    total = (excess ** 2).sum(dim=2) + 1e-9
    off_trace = 1 - torch.clamp(along, min=0) ** 2 / total
    return off_trace < OFF_TRACE


class AnomalyScore(nn.Module):
    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder

    def significance(self, flux):
        """Per bin, the emission the autoencoder does not explain, in the spectrum's noise."""
        sigma = torch.sqrt(spectrum_noise(flux) ** 2 + FLOOR ** 2)
        residual = torch.where(flux != 0, flux - self.autoencoder(flux), torch.zeros_like(flux))
        return residual / sigma

    def forward(self, cutout, flux):
        z = self.significance(flux)
        # Bins whose excess light is not the trace's own count only as "nothing unexplained".
        z = torch.where(trace_shaped(cutout), z, torch.clamp(z, max=0))
        return z.amax(dim=1)


def score_window(scorer, window, flux, chunk=4096):
    """Scores of spectra given their cutouts' windows (train.load), padded back to the full
    cutout (outside the window a cutout is zeros), chunk by chunk."""
    pad = (WINDOW_COLUMNS.start, CUTOUT_COLUMNS - WINDOW_COLUMNS.stop, WINDOW_ROWS.start, CUTOUT_ROWS - WINDOW_ROWS.stop)
    scores = []
    with torch.no_grad():
        for i in range(0, len(flux), chunk):
            cutout = F.pad(torch.as_tensor(window[i:i + chunk]).unsqueeze(1), pad)
            scores.append(scorer(cutout, torch.as_tensor(flux[i:i + chunk])).numpy())
    return np.concatenate(scores)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="training/data", help="holds train/ (export-cutouts output)")
    parser.add_argument("--out", default="models")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--plates", type=int, default=20,
                        help="train on the first PLATES training plates (fbs1001 on); the autoencoder of 20 ranked the development plates' anomalies as well as one of 80")
    parser.add_argument("--version", default="3.1.0")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    window, flux, _, plates, _ = load(os.path.join(args.data, "train"))
    keep = np.isin(plates, sorted(set(plates.tolist()))[:args.plates])
    window, flux, plates = window[keep], flux[keep], plates[keep]
    flux = torch.from_numpy(flux)
    weight = 1.0 / (spectrum_noise(flux) ** 2 + FLOOR ** 2) * (flux != 0)
    model = SpectrumAutoEncoder()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.epochs)
    history = []
    for epoch in range(args.epochs):
        started = time.time()
        order = torch.randperm(len(flux), generator=generator)
        total = 0.0
        for i in range(0, len(order), 256):
            index = order[i:i + 256]
            x = flux[index]
            loss = ((model(x) - x) ** 2 * weight[index]).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss) * len(index)
        schedule.step()
        history.append({"epoch": epoch + 1, "weighted_mse": total / len(order)})
        print(f"epoch {epoch + 1}: noise-weighted MSE {total / len(order):.4f} ({time.time() - started:.1f} s)", flush=True)
    scorer = AnomalyScore(model).eval()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "dfbs-anomaly.onnx")
    example = (torch.zeros(2, 1, CUTOUT_ROWS, CUTOUT_COLUMNS), torch.zeros(2, 136))
    torch.onnx.export(scorer, example, path, input_names=["cutout", "flux"], output_names=["score"],
                      dynamic_axes={"cutout": {0: "n"}, "flux": {0: "n"}, "score": {0: "n"}}, opset_version=17, dynamo=False)
    scores = score_window(scorer, window, flux)
    report = {
        "date": datetime.date.today().isoformat(),
        "version": args.version,
        "seed": args.seed,
        "epochs": args.epochs,
        "floor": FLOOR,
        "off_trace": OFF_TRACE,
        "history": history,
        "train_plates": sorted(set(plates.tolist())),
        "train_spectra": len(flux),
        "train_score_percentiles": {str(p): float(np.percentile(scores, p)) for p in (50, 90, 99, 99.9)},
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "anomaly-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    # What the Rust classify stage reads beside the model: name and version (each plate's
    # provenance records them) and how the training spectra were extracted (it must be the
    # classifier's).
    with open(os.path.join(args.out, "dfbs-anomaly.json"), "w") as f:
        json.dump({"name": "dfbs-anomaly", "version": args.version, "flux_extraction": flux_extraction(args.data),
                   "inputs": {"cutout": [None, 1, 160, 50], "flux": [None, 136]}, "outputs": {"score": [None]},
                   "trained": report["date"]}, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
