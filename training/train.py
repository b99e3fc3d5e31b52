"""Train the DFBS spectrum classifier; export it to ONNX (the anomaly model is
training/train_anomaly.py).

Offline and reproducible (CI never trains). Data come from our own simulator and our own
extraction, so training and inference see identical preprocessing:

    bash training/make_dataset.sh          # simulate plates, export cutouts (dfbs-vo export-cutouts)
    training/.venv/bin/python training/train.py --data training/data --out models

Inputs (the contract the Rust classify stage follows, see models/README.md):
  cutout: float32 [N, 1, 160, 50], the pipeline's 2D cutout (inverted, min-max scaled to [0, 1],
          zero-padded, red end at row 0)
  flux:   float32 [N, 136], the 1D spectrum on the DFBS grid divided by its maximum, NaN -> 0
Output: "probabilities" [N, 10] (calibrated: softmax(logits / T), T fitted on the validation
plates).
"""

import argparse
import csv
import datetime
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = ["star", "m_star", "carbon", "hot_subdwarf", "white_dwarf", "cv", "pn", "uvx_galaxy", "seyfert", "qso"]


# The pipeline's cutout (src/pipeline/extract.rs): a CROP_ROWS x CROP_COLUMNS crop, centred and
# zero-padded to CUTOUT_ROWS x CUTOUT_COLUMNS. The model sees only the crop and MAX_SHIFT pixels
# of padding on every side (the augmentation's shifts move them into view): the rest is zeros,
# and convolving it cost 57% of the old model's multiply-adds. The exported model crops its
# input itself, so the input contract stays [N, 1, CUTOUT_ROWS, CUTOUT_COLUMNS].
CUTOUT_ROWS, CUTOUT_COLUMNS = 160, 50
CROP_ROWS, CROP_COLUMNS = 140, 20
MAX_SHIFT = 2


def _window(full, crop):
    first = (full - crop) // 2 - MAX_SHIFT
    return slice(first, first + crop + 2 * MAX_SHIFT)


WINDOW_ROWS = _window(CUTOUT_ROWS, CROP_ROWS)  # 8-151
WINDOW_COLUMNS = _window(CUTOUT_COLUMNS, CROP_COLUMNS)  # 13-36


def load(directory):
    cutouts = np.load(os.path.join(directory, "cutouts.npy"), mmap_mode="r")
    # Read in chunks so that only the window, never the whole padded array, is held in memory.
    window = np.empty((len(cutouts), WINDOW_ROWS.stop - WINDOW_ROWS.start, WINDOW_COLUMNS.stop - WINDOW_COLUMNS.start), np.float32)
    for i in range(0, len(cutouts), 8192):
        window[i:i + 8192] = cutouts[i:i + 8192, WINDOW_ROWS, WINDOW_COLUMNS]
    flux = np.load(os.path.join(directory, "flux.npy"))
    with open(os.path.join(directory, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    labels = np.array([CLASSES.index(r["class"]) for r in rows], dtype=np.int64)
    plates = np.array([r["plate"] for r in rows])
    mags = np.array([float(r["mag_b"]) for r in rows], dtype=np.float32)
    return window, normalise_flux(flux), labels, plates, mags


# Spectra beyond this |normalised flux| (no positive flux) are left out of training; the classify
# stage leaves their label empty (MAX_NORMALISED_FLUX in src/pipeline/classify.rs: keep the two equal).
MAX_NORMALISED_FLUX = 100


def flux_extraction(data):
    """How the training set's `flux` was extracted (dataset.json of export-cutouts; "box" for sets
    exported before it recorded this, by dfbs-vo 0.1.0)."""
    path = os.path.join(data, "train", "dataset.json")
    if not os.path.exists(path):
        return "box"
    with open(path) as f:
        return json.load(f)["flux_extraction"]


def normalise_flux(flux):
    """The classify stage does the same in Rust: NaN -> 0, divide by the maximum (if > 0)."""
    flux = np.nan_to_num(np.asarray(flux, dtype=np.float32), nan=0.0)
    peak = np.maximum(flux.max(axis=1, keepdims=True), 1e-6)
    return flux / peak


class Classifier(nn.Module):
    """A small two-branch CNN: the cutout's window (WINDOW_ROWS x WINDOW_COLUMNS; features kept
    per row, so the wavelength of a feature is not pooled away) and the 1D spectrum, which
    carries the finer wavelength detail (34 positions of 4 bins, 64 channels)."""

    def __init__(self, classes=len(CLASSES), image_channels=(8, 16, 32, 32), spectrum_channels=(32, 64, 64), redshift_output=False):
        super().__init__()
        self.classes = classes
        c1, c2, c3, c4 = image_channels
        s1, s2, s3 = spectrum_channels
        self.image = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),     # 72 x 12
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),    # 36 x 6
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(), nn.MaxPool2d(2),    # 18 x 3
            nn.Conv2d(c3, c4, 3, padding=1), nn.BatchNorm2d(c4), nn.ReLU(),
        )
        self.spectrum = nn.Sequential(
            nn.Conv1d(1, s1, 5, padding=2), nn.BatchNorm1d(s1), nn.ReLU(), nn.MaxPool1d(2),     # 68
            nn.Conv1d(s1, s2, 5, padding=2), nn.BatchNorm1d(s2), nn.ReLU(), nn.MaxPool1d(2),    # 34
            nn.Conv1d(s2, s3, 3, padding=1), nn.BatchNorm1d(s3), nn.ReLU(),
        )
        self.head = nn.Sequential(
            nn.Linear(c4 * 18 + s3 * 34, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, classes + int(redshift_output))
        )

    def forward(self, cutout, flux, with_redshift=False):
        """Class logits; with `with_redshift` (a model built with `redshift_output`, trial
        --redshift-weight) also the auxiliary ln(1 + z) estimate."""
        image = self.image(cutout).amax(dim=3)  # max over columns: [N, 32, 18]
        spectrum = self.spectrum(flux.unsqueeze(1))
        out = self.head(torch.cat([image.flatten(1), spectrum.flatten(1)], dim=1))
        if with_redshift:
            return out[:, :self.classes], out[:, self.classes]
        return out[:, :self.classes]


class Calibrated(nn.Module):
    """The exported classifier: probabilities from temperature-scaled logits."""

    def __init__(self, model, temperature):
        super().__init__()
        self.model = model
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, cutout, flux):
        window = cutout[:, :, WINDOW_ROWS, WINDOW_COLUMNS]  # the pipeline's padded cutout
        return F.softmax(self.model(window, flux) / self.temperature, dim=1)


def augment(cutout, flux, generator):
    """Augmentation that respects prism physics: small shifts across (x) and along (y) the
    dispersion, mirror across the dispersion (the image is symmetric in x; never flipped in y,
    which would swap red and blue), changes of PSF width (blur) and of density contrast."""
    n = cutout.shape[0]
    dx = int(torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (1,), generator=generator))
    dy = int(torch.randint(-MAX_SHIFT, MAX_SHIFT + 1, (1,), generator=generator))
    cutout = torch.roll(cutout, shifts=(dy, dx), dims=(2, 3))
    if torch.rand(1, generator=generator) < 0.5:
        cutout = torch.flip(cutout, dims=(3,))
    if torch.rand(1, generator=generator) < 0.3:
        kernel = torch.tensor([0.25, 0.5, 0.25]).view(1, 1, 3, 1)
        cutout = F.conv2d(cutout, kernel.expand(1, 1, 3, 1), padding=(1, 0)) if cutout.shape[1] == 1 else cutout
    gamma = torch.exp(torch.randn(n, 1, 1, 1, generator=generator) * 0.15)
    cutout = cutout.clamp(min=0) ** gamma
    flux = flux * torch.exp(torch.randn(n, 1, generator=generator) * 0.05)
    return cutout, flux


# Magnitude bins of the per-class recall table (as `dfbs-vo evaluate` prints it): B < 16, then
# half magnitudes.
MAGNITUDE_EDGES = [16.0, 16.5, 17.0, 17.5, 18.0, 18.5]


def f1_and_recall_by_class(predicted, labels, selection=None):
    """Each class's F1 and recall among the selected rows (all rows when None); `selection` may
    also weight the rows (floats; snr_whatif.py)."""
    weight = np.ones(len(labels)) if selection is None else np.asarray(selection, dtype=float)
    f1, recall = [], []
    for c in range(len(CLASSES)):
        tp = weight[(predicted == c) & (labels == c)].sum()
        fp = weight[(predicted == c) & (labels != c)].sum()
        fn = weight[(predicted != c) & (labels == c)].sum()
        f1.append(float(2 * tp / (2 * tp + fp + fn)) if 2 * tp + fp + fn > 0 else 0.0)
        recall.append(float(tp / (tp + fn)) if tp + fn > 0 else 0.0)
    return f1, recall


def recall_report(probabilities, labels, mags):
    """Macro-F1 at B <= 17.5 and at all magnitudes, and each class's recall by magnitude."""
    predicted = probabilities.argmax(axis=1)

    def macro_f1(selection):
        return float(np.mean(f1_and_recall_by_class(predicted, labels, selection)[0]))

    bright = mags <= 17.5
    report = {"macro_f1_b17_5": macro_f1(bright), "macro_f1_all": macro_f1(np.ones_like(bright)), "recall_by_magnitude": {}}
    bins = np.digitize(mags, MAGNITUDE_EDGES)
    header = ["B<16"] + [f"{a}-{b}" for a, b in zip(MAGNITUDE_EDGES[:-1], MAGNITUDE_EDGES[1:])] + [">18.5"]
    lines = ["class         " + " ".join(f"{h:>10}" for h in header) + "   B<=17.5"]
    for c, name in enumerate(CLASSES):
        cells, row = [], []
        for b in range(len(header)):
            sel = (labels == c) & (bins == b)
            recall = float((predicted[sel] == c).mean()) if sel.any() else None
            row.append(recall)
            cells.append(f"{recall:.2f} ({sel.sum()})" if recall is not None else "-")
        sel = (labels == c) & bright
        overall = float((predicted[sel] == c).mean()) if sel.any() else float("nan")
        report["recall_by_magnitude"][name] = row + [overall]
        lines.append(f"{name:<13} " + " ".join(f"{cell:>10}" for cell in cells) + f"   {overall:.3f}")
    report["table"] = "\n".join(lines)
    return report


def expected_calibration_error(probabilities, labels, bins=15):
    confidence = probabilities.max(axis=1)
    predicted = probabilities.argmax(axis=1)
    ece = 0.0
    edges = np.linspace(0, 1, bins + 1)
    for low, high in zip(edges[:-1], edges[1:]):
        sel = (confidence > low) & (confidence <= high)
        if sel.any():
            ece += sel.mean() * abs((predicted[sel] == labels[sel]).mean() - confidence[sel].mean())
    return float(ece)


def fit_temperature(logits, labels, max_iter=200):
    """Temperature scaling (Guo et al. 2017): the T > 0 that minimises the log loss of
    softmax(logits / T) on (validation) labels, by LBFGS on log T."""
    logits, labels = torch.as_tensor(logits), torch.as_tensor(labels)
    log_t = torch.zeros(1, requires_grad=True)
    lbfgs = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter)

    def closure():
        lbfgs.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    lbfgs.step(closure)
    return float(log_t.exp().detach())


def soft_cross_entropy(logits, targets, sample_weights):
    """Cross-entropy against soft targets (distillation; Hinton, Vinyals & Dean 2015, at
    temperature 1 since the teacher's probabilities are calibrated), each example weighted by its
    label's class weight and normalised by their sum, as F.cross_entropy does with hard labels."""
    per_example = -(targets * F.log_softmax(logits, dim=1)).sum(dim=1)
    return (sample_weights * per_example).sum() / sample_weights.sum()


def predict_logits(model, cutouts, flux, batch=1024):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(cutouts), batch):
            out.append(model(torch.from_numpy(cutouts[i:i + batch]).unsqueeze(1), torch.from_numpy(flux[i:i + batch])))
    return torch.cat(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="training/data", help="holds train/ and validation/ (export-cutouts output)")
    parser.add_argument("--out", default="models")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--version", default="1.0.0", help="model version recorded with every classified row")
    parser.add_argument("--max-minutes", type=float, default=0,
                        help="stop after the epoch that passes this much training time (0: no limit); the report records the epochs run")
    parser.add_argument("--train-plates", type=int, default=0, help="use only the first N training plates (quick trials)")
    parser.add_argument("--schedule", choices=["plateau", "cosine"], default="plateau",
                        help="learning rate: halved when the validation loss stalls (plateau), or a cosine from 2e-3 to 0 over --epochs, per batch (cosine)")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="training loss only; validation and calibration use the plain loss")
    parser.add_argument("--ema-epochs", type=float, default=0.0,
                        help="keep an exponential moving average of the weights over about this many epochs (decay 1 - 1/(epochs x batches per epoch) per batch), and validate and export it (0: off)")
    parser.add_argument("--image-channels", default="8,16,32,32", help="channels of the four 2D convolutions (trials)")
    parser.add_argument("--spectrum-channels", default="32,64,64", help="channels of the three 1D convolutions (trials)")
    parser.add_argument("--redshift-weight", type=float, default=0.0,
                        help="trial: an auxiliary output regressing ln(1 + z) of the galaxies and quasars (labels.csv's redshift "
                             "column, export-cutouts since 2026-12-08), its Huber loss weighted by this (0: off); the exported model "
                             "keeps only the class probabilities")
    parser.add_argument("--faint-weight", type=float, default=1.0,
                        help="trial: the training loss of spectra fainter than B 17.5 (the acceptance's cut) is multiplied by this")
    parser.add_argument("--teacher", help="distillation: a .npy of teacher probabilities [N, 10] for the training set, in the order of "
                        "train/labels.csv (score_models.py --save-average); they answer to the uniform class prior, as this "
                        "model's do")
    parser.add_argument("--teacher-weight", type=float, default=0.7,
                        help="with --teacher, the training loss is (1 - w) x the labels' cross-entropy + w x the teacher's")
    args = parser.parse_args()
    if args.teacher and not 0 <= args.teacher_weight <= 1:
        parser.error("--teacher-weight must lie in [0, 1]")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    train = load(os.path.join(args.data, "train"))
    validation = load(os.path.join(args.data, "validation"))
    if args.teacher:
        teacher = np.load(args.teacher).astype(np.float32)
        if teacher.shape != (len(train[2]), len(CLASSES)):
            raise SystemExit(f"{args.teacher}: shape {teacher.shape}, the training set needs ({len(train[2])}, {len(CLASSES)})")
        train = train + (teacher,)  # filtered with the rest below
    redshift_index = None
    if args.redshift_weight:
        with open(os.path.join(args.data, "train", "labels.csv")) as f:
            rows = list(csv.DictReader(f))
        if "redshift" not in rows[0]:
            raise SystemExit(f"{args.data}/train/labels.csv has no redshift column: export the set again (dfbs-vo export-cutouts)")
        redshift_index = len(train)
        train = train + (np.array([float(r["redshift"]) if r["redshift"] else np.nan for r in rows], dtype=np.float32),)
    if args.train_plates:
        keep = np.isin(train[3], sorted(set(train[3].tolist()))[:args.train_plates])
        train = tuple(part[keep] for part in train)
    # A spectrum with no positive flux comes out of normalise_flux divided by 1e-6: one such in
    # fbs1001-1240 (its values down to -6.8e5) upset the spectrum branch's batch-norm statistics
    # for hundreds of batches after each time it was drawn (most likely the jumps of 1.4.0's
    # validation loss at epochs 5 and 9; with the weights' moving average, whole epochs were
    # spoilt). Train without them.
    sane = np.abs(train[1]).max(axis=1) <= MAX_NORMALISED_FLUX
    if not sane.all():
        print(f"left out {int((~sane).sum())} training spectra with no positive flux (|normalised flux| > {MAX_NORMALISED_FLUX})")
        train = tuple(part[sane] for part in train)
    print(f"train {len(train[2])} cutouts from {len(set(train[3]))} plates; validation {len(validation[2])} from {len(set(validation[3]))}")
    counts = np.bincount(train[2], minlength=len(CLASSES))
    print("train counts:", dict(zip(CLASSES, counts.tolist())))
    # Class imbalance: weights inverse to the class frequency (normalised to mean 1).
    weights = torch.tensor(counts.sum() / np.maximum(counts, 1) / len(CLASSES), dtype=torch.float32)

    channels = lambda text: tuple(int(c) for c in text.split(","))
    model = Classifier(image_channels=channels(args.image_channels), spectrum_channels=channels(args.spectrum_channels),
                       redshift_output=args.redshift_weight > 0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    steps_per_epoch = (len(train[2]) + 127) // 128
    if args.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=args.epochs * steps_per_epoch)
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.5, patience=2)
    # With --ema-epochs the averaged weights (batch-norm statistics averaged too) are what is
    # validated and exported. The decay warms up as (1 + n) / (10 + n) over the first updates, so
    # the average does not hold the random initial weights for long (as timm's ModelEmaV2 does).
    averaged = None
    if args.ema_epochs:
        decay = 1 - 1 / max(args.ema_epochs * steps_per_epoch, 1)

        def ema(average, current, n):
            d = min(decay, (1 + float(n)) / (10 + float(n)))
            return average * d + current * (1 - d)

        averaged = torch.optim.swa_utils.AveragedModel(model, avg_fn=ema, use_buffers=True)
    evaluated = averaged.module if averaged is not None else model
    best = (float("inf"), None, 0)
    cut_t, flux_t, lab_t = torch.from_numpy(train[0]).unsqueeze(1), torch.from_numpy(train[1]), torch.from_numpy(train[2])
    teacher_t = torch.from_numpy(train[5]) if args.teacher else None
    redshift_t = torch.from_numpy(train[redshift_index]) if redshift_index is not None else None
    faint_t = torch.from_numpy(np.where(train[4] > 17.5, args.faint_weight, 1.0).astype(np.float32)) if args.faint_weight != 1.0 else None
    history = []
    training_started = time.time()
    for epoch in range(args.epochs):
        started = time.time()
        model.train()
        order = torch.randperm(len(lab_t), generator=generator)
        total, auxiliary_total = 0.0, 0.0
        for i in range(0, len(order), 128):
            index = order[i:i + 128]
            cutout, flux = augment(cut_t[index], flux_t[index], generator)
            if redshift_t is not None:
                logits, log1pz = model(cutout, flux, with_redshift=True)
            else:
                logits = model(cutout, flux)
            if faint_t is not None:
                # The class-weighted mean, as cross_entropy's, with each example's weight scaled.
                per_example = F.cross_entropy(logits, lab_t[index], weight=weights, label_smoothing=args.label_smoothing, reduction="none")
                example_weights = weights[lab_t[index]] * faint_t[index]
                loss = (per_example * faint_t[index]).sum() / example_weights.sum()
            else:
                loss = F.cross_entropy(logits, lab_t[index], weight=weights, label_smoothing=args.label_smoothing)
            if redshift_t is not None:
                target = redshift_t[index]
                known = torch.isfinite(target)
                if bool(known.any()):
                    auxiliary = F.smooth_l1_loss(log1pz[known], torch.log1p(target[known]), beta=0.1)
                    loss = loss + args.redshift_weight * auxiliary
                    auxiliary_total += float(auxiliary.detach()) * int(known.sum())
            if teacher_t is not None:
                loss = (1 - args.teacher_weight) * loss + args.teacher_weight * soft_cross_entropy(
                    logits, teacher_t[index], weights[lab_t[index]])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if averaged is not None:
                averaged.update_parameters(model)
            if args.schedule == "cosine":
                scheduler.step()
            total += float(loss.detach()) * len(index)
        logits = predict_logits(evaluated, validation[0], validation[1])
        val_loss = float(F.cross_entropy(logits, torch.from_numpy(validation[2])))
        accuracy = float((logits.argmax(1).numpy() == validation[2]).mean())
        if args.schedule == "plateau":
            scheduler.step(val_loss)
        history.append({"epoch": epoch + 1, "train_loss": total / len(order), "val_loss": val_loss, "val_accuracy": accuracy})
        auxiliary_note = f", redshift loss {auxiliary_total / max(int(torch.isfinite(redshift_t).sum()), 1):.4f}" if redshift_t is not None else ""
        print(f"epoch {epoch + 1}: train loss {total / len(order):.4f}{auxiliary_note}, validation loss {val_loss:.4f}, accuracy {accuracy:.4f} ({time.time() - started:.0f} s)", flush=True)
        if val_loss < best[0]:
            best = (val_loss, {k: v.clone() for k, v in evaluated.state_dict().items()}, epoch + 1)
        elif epoch + 1 - best[2] >= args.patience:
            print(f"early stop: no improvement since epoch {best[2]}")
            break
        if args.max_minutes and time.time() - training_started > 60 * args.max_minutes:
            print(f"time budget of {args.max_minutes} min spent after epoch {epoch + 1}; best epoch {best[2]}")
            break
    model = evaluated
    model.load_state_dict(best[1])

    # Temperature scaling on the validation plates.
    logits = predict_logits(model, validation[0], validation[1])
    temperature = fit_temperature(logits, validation[2])
    before = expected_calibration_error(F.softmax(logits, 1).numpy(), validation[2])
    after = expected_calibration_error(F.softmax(logits / temperature, 1).numpy(), validation[2])
    print(f"temperature {temperature:.3f}: validation ECE {before:.4f} -> {after:.4f}")
    recalls = recall_report(F.softmax(logits / temperature, 1).numpy(), validation[2], validation[4])
    print(f"validation macro-F1: B <= 17.5 {recalls['macro_f1_b17_5']:.4f}, all {recalls['macro_f1_all']:.4f}")
    print(recalls["table"])

    os.makedirs(args.out, exist_ok=True)
    calibrated = Calibrated(model, temperature).eval()
    dummy = (torch.zeros(2, 1, CUTOUT_ROWS, CUTOUT_COLUMNS), torch.zeros(2, 136))
    torch.onnx.export(calibrated, dummy, os.path.join(args.out, "dfbs-classifier.onnx"), input_names=["cutout", "flux"],
                      output_names=["probabilities"], dynamic_axes={"cutout": {0: "n"}, "flux": {0: "n"}, "probabilities": {0: "n"}},
                      opset_version=17, dynamo=False)
    report = {
        "date": datetime.date.today().isoformat(),
        "seed": args.seed,
        "schedule": args.schedule,
        "ema_epochs": args.ema_epochs,
        "teacher": os.path.basename(args.teacher) if args.teacher else None,
        "teacher_weight": args.teacher_weight if args.teacher else None,
        "classes": CLASSES,
        "temperature": temperature,
        "validation_ece_before": before,
        "validation_ece_after": after,
        "validation_macro_f1_b17_5": recalls["macro_f1_b17_5"],
        "validation_macro_f1_all": recalls["macro_f1_all"],
        "validation_recall_by_magnitude": recalls["recall_by_magnitude"],
        "best_epoch": best[2],
        "history": history,
        "train_counts": dict(zip(CLASSES, counts.tolist())),
        "train_plates": sorted(set(train[3].tolist())),
        "validation_plates": sorted(set(validation[3].tolist())),
        "torch": torch.__version__,
    }
    with open(os.path.join(args.out, "training-report.json"), "w") as f:
        json.dump(report, f, indent=1)
    # What the Rust classify stage reads: name, version, the output order of the classes, and the
    # class prior the probabilities answer to: uniform, as the loss is weighted inversely to class
    # frequency (the classify stage re-weights them to each plate's class mix, pipeline::priors).
    # And how the training spectra were extracted (dataset.json, written by export-cutouts; sets
    # without it were box sums), which the classify stage requires of the spectra it classifies.
    with open(os.path.join(args.out, "dfbs-classifier.json"), "w") as f:
        json.dump({"name": "dfbs-cnn", "version": args.version, "classes": CLASSES, "flux_extraction": flux_extraction(args.data),
                   "training_prior": [1.0 / len(CLASSES)] * len(CLASSES), "temperature": temperature,
                   "inputs": {"cutout": [None, 1, 160, 50], "flux": [None, 136]}, "outputs": {"probabilities": [None, 10]},
                   "anomaly_model": "dfbs-anomaly.onnx", "trained": report["date"]}, f, indent=1)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
