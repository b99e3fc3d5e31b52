"""Train the anomaly model: an autoencoder of the 1D spectra, scored by its most significant
unexplained emission; export it to ONNX (models/dfbs-anomaly.onnx).

Offline and reproducible (CI never trains); the data are the classifier's training set
(training/make_dataset.sh), of which only the spectra are used, and no labels: the model is
unsupervised.

    training/.venv/bin/python training/train_anomaly.py --data training/data --out models

Why this model. The first anomaly model (1.0.0) scored the mean squared reconstruction error
of the 2D cutout: that error grows with the grain noise, so the top of its ranking was the
faintest spectra, and injected oddities ranked at the median. Here:

* input `flux` float32 [N, 136], exactly the classifier's `flux` input (the spectrum on the
  DFBS grid divided by its maximum; bins without data are 0, and an exact 0 is read as "no
  data": a measured value is never exactly 0);
* a small dense autoencoder (136-256-256-12-256-256-136) learns the normal spectra. It is kept
  small on purpose: with a wider bottleneck it learns to reproduce narrow spikes too;
* each spectrum's own noise: sigma = 1.4826 * median|second difference| / sqrt(6) over its
  valid bins (the second difference of white noise has variance 6 sigma^2; the median makes it
  blind to a few strong features);
* training weights each residual by 1 / (sigma^2 + 0.03^2): faint noisy spectra do not drive
  the fit, and 0.03 (3% of the peak) is the floor of the model's own error on bright ones;
* score = max over valid bins of (flux - reconstruction) / sqrt(sigma^2 + 0.03^2): the
  significance of the strongest emission the model of normal spectra cannot explain. Positive
  residuals only: an absorption the model misses is common (noise, overlaps), an emission
  line nothing normal has is the interesting case.
"""

import argparse
import datetime
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn

from train import load

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


class AnomalyScore(nn.Module):
    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, flux):
        sigma = torch.sqrt(spectrum_noise(flux) ** 2 + FLOOR ** 2)
        residual = torch.where(flux != 0, flux - self.autoencoder(flux), torch.zeros_like(flux))
        return (residual / sigma).amax(dim=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="training/data", help="holds train/ (export-cutouts output)")
    parser.add_argument("--out", default="models")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--version", default="2.0.0")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    _, flux, _, plates, _ = load(os.path.join(args.data, "train"))
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
    torch.onnx.export(scorer, (torch.zeros(2, 136),), path, input_names=["flux"], output_names=["score"],
                      dynamic_axes={"flux": {0: "n"}, "score": {0: "n"}}, opset_version=17, dynamo=False)
    with torch.no_grad():
        scores = scorer(flux).numpy()
    report = {
        "date": datetime.date.today().isoformat(),
        "version": args.version,
        "seed": args.seed,
        "epochs": args.epochs,
        "floor": FLOOR,
        "history": history,
        "train_plates": sorted(set(plates.tolist())),
        "train_spectra": len(flux),
        "train_score_percentiles": {str(p): float(np.percentile(scores, p)) for p in (50, 90, 99, 99.9)},
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "anomaly-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
