"""Train the subclass model: which subclass, given the class (issue 7: "subclasses (sdB/sdO/sdA,
C-H/C-R/C-N, starburst/AGN Markarian) if they hold up"); export to ONNX the classes whose
subclasses hold up on the validation plates.

Offline and reproducible (CI never trains); the data set is the classifier's
(training/make_dataset.sh), so the spectra are the pipeline's own extraction:

    training/.venv/bin/python training/train_subclass.py --data training/data --out models

Input (the contract of src/pipeline/subclass.rs): "flux" float32 [N, 136], the classifier's
normalised spectrum. Output: "probabilities" [N, S], for each published class (in the order of
dfbs-subclass.json's "groups") the calibrated distribution over its subclasses, side by side.

A 1D CNN with one head per class, trained on the spectra of that class only (the truth's class:
the pipeline reads the head of the spectrum's class label). "Holds up" (this script's rule, on
the validation plates at B <= 17.5, the issue's bar for the classes): every subclass's recall
>= 0.80; for an ordered sequence (M0-M6), 90% within one step. The held-out figures come from
`dfbs-vo evaluate` on the catalogue (training/evaluate.sh).
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

from train import MAX_NORMALISED_FLUX, fit_temperature, flux_extraction, normalise_flux

# The candidate groups: class -> subclass labels (a truth subclass belongs to the label that
# equals it or is its longest prefix: DA for the simulator's DA3.5, F for F5), ordered or not.
CANDIDATES = [
    ("star", ["F", "G", "K"], False),
    ("m_star", ["M0", "M1", "M2", "M3", "M4", "M5", "M6"], True),
    ("carbon", ["C-H", "C-R", "C-N"], False),
    ("hot_subdwarf", ["sdB", "sdO", "sdA"], False),
    ("white_dwarf", ["DA", "DB", "DC"], False),
    ("cv", ["DN", "NL", "polar"], False),
    ("pn", ["low_excitation", "medium_excitation", "high_excitation"], False),
    ("uvx_galaxy", ["starburst", "agn", "absorption"], False),
    ("seyfert", ["Sy1", "Sy1.5"], False),
    ("qso", ["QSO", "BAL_QSO"], False),
]
BRIGHT = 17.5
MIN_RECALL = 0.80
MIN_WITHIN_ONE = 0.90


def truth_subclass(labels, truth):
    """src/pipeline/subclass.rs truth_subclass: the longest label that is a prefix of `truth`."""
    covering = [label for label in labels if truth.startswith(label)]
    return max(covering, key=len) if covering else None


def load(directory):
    flux = normalise_flux(np.load(os.path.join(directory, "flux.npy")))
    with open(os.path.join(directory, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    # (group index, subclass index) per spectrum; -1 where the spectrum has no candidate subclass.
    group = np.full(len(rows), -1, np.int64)
    sub = np.full(len(rows), -1, np.int64)
    for i, r in enumerate(rows):
        for g, (cls, labels, _) in enumerate(CANDIDATES):
            if r["class"] == cls:
                label = truth_subclass(labels, r["subclass"])
                if label is not None:
                    group[i], sub[i] = g, labels.index(label)
    mags = np.array([float(r["mag_b"]) for r in rows], np.float32)
    keep = (group >= 0) & (np.abs(flux).max(axis=1) <= MAX_NORMALISED_FLUX)
    return flux[keep], group[keep], sub[keep], mags[keep]


class Subclassifier(nn.Module):
    """A shared 1D CNN over the spectrum (positions kept, so a feature's wavelength is not pooled
    away) and one linear head per candidate class."""

    def __init__(self, widths):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv1d(1, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
            nn.Conv1d(32, 64, 5, padding=2, stride=2), nn.BatchNorm1d(64), nn.ReLU(),   # 68
            nn.Conv1d(64, 64, 5, padding=2, stride=2), nn.BatchNorm1d(64), nn.ReLU(),   # 34
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 34, 256), nn.ReLU(), nn.Dropout(0.3),
        )
        self.heads = nn.ModuleList(nn.Linear(256, w) for w in widths)

    def forward(self, flux):
        features = self.trunk(flux.unsqueeze(1))
        return [head(features) for head in self.heads]


class Exported(nn.Module):
    """The published heads, each softmax(logits / T_group), side by side."""

    def __init__(self, model, published, temperatures):
        super().__init__()
        self.model, self.published = model, published
        self.register_buffer("temperatures", torch.tensor([temperatures[g] for g in published], dtype=torch.float32))

    def forward(self, flux):
        logits = self.model(flux)
        return torch.cat([F.softmax(logits[g] / self.temperatures[k], dim=1) for k, g in enumerate(self.published)], dim=1)


def group_loss(logits, group, sub, weights):
    """Cross-entropy of each spectrum on its own class's head, class-balanced within the group."""
    total, count = 0.0, 0
    for g, head in enumerate(logits):
        mask = group == g
        if mask.any():
            total = total + F.cross_entropy(head[mask], sub[mask], weight=weights[g], reduction="sum")
            count += int(mask.sum())
    return total / max(count, 1)


def predict(model, flux, batch=4096):
    model.eval()
    with torch.no_grad():
        outs = [model(torch.from_numpy(flux[i:i + batch])) for i in range(0, len(flux), batch)]
    return [torch.cat([o[g] for o in outs]).numpy() for g in range(len(CANDIDATES))]


def group_report(logits, group, sub, mags, temperatures):
    """Per candidate class, on the validation spectra at B <= BRIGHT and at every magnitude:
    accuracy, each subclass's recall, within-one for ordered groups, and whether it holds up."""
    report = []
    for g, (cls, labels, ordered) in enumerate(CANDIDATES):
        entry = {"class": cls, "subclasses": labels, "ordered": ordered}
        for name, bright in [("bright", mags <= BRIGHT), ("all", np.ones_like(mags, bool))]:
            mask = (group == g) & bright
            truth = sub[mask]
            pred = logits[g][mask].argmax(1)
            recall = {label: (float(np.mean(pred[truth == k] == k)) if (truth == k).any() else None, int((truth == k).sum()))
                      for k, label in enumerate(labels)}
            entry[name] = {
                "n": int(mask.sum()),
                "accuracy": float(np.mean(pred == truth)) if mask.any() else None,
                "within_one": float(np.mean(np.abs(pred - truth) <= 1)) if mask.any() and ordered else None,
                "recall": recall,
            }
        bright = entry["bright"]
        if ordered:
            entry["holds_up"] = bright["within_one"] is not None and bright["within_one"] >= MIN_WITHIN_ONE
        else:
            entry["holds_up"] = all(r is not None and r >= MIN_RECALL for r, _ in bright["recall"].values())
        entry["temperature"] = temperatures[g]
        report.append(entry)
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="training/data")
    parser.add_argument("--out", default="models")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.time()
    flux, group, sub, mags = load(os.path.join(args.data, "train"))
    v_flux, v_group, v_sub, v_mags = load(os.path.join(args.data, "validation"))
    print(f"{len(flux)} training and {len(v_flux)} validation spectra of the candidate classes", flush=True)
    widths = [len(labels) for _, labels, _ in CANDIDATES]
    weights = []
    for g, w in enumerate(widths):
        counts = np.bincount(sub[group == g], minlength=w).astype(np.float64)
        weights.append(torch.tensor(counts.sum() / (w * np.maximum(counts, 1)), dtype=torch.float32))
    model = Subclassifier(widths)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=args.epochs)
    x, tg, ts = torch.from_numpy(flux), torch.from_numpy(group), torch.from_numpy(sub)
    vx, vg, vs = torch.from_numpy(v_flux), torch.from_numpy(v_group), torch.from_numpy(v_sub)
    generator = torch.Generator().manual_seed(args.seed)
    best, best_state, since = float("inf"), None, 0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for i in range(0, len(x), args.batch):
            index = order[i:i + args.batch]
            # Noise of a few per cent of the peak: the faint end's spectra are noisier than most.
            batch = x[index] + torch.randn(len(index), x.shape[1], generator=generator) * 0.02
            loss = group_loss(model(batch), tg[index], ts[index], weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(index)
        schedule.step()
        model.eval()
        with torch.no_grad():
            v_loss = float(group_loss(model(vx), vg, vs, weights))
        print(f"epoch {epoch + 1}: training loss {total / len(x):.4f}, validation loss {v_loss:.4f} ({time.time() - started:.0f} s)", flush=True)
        if v_loss < best:
            best, best_state, since = v_loss, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            since += 1
            if since >= args.patience:
                break
    model.load_state_dict(best_state)
    logits = predict(model, v_flux)
    temperatures = [fit_temperature(logits[g][v_group == g], v_sub[v_group == g], max_iter=100) if (v_group == g).any() else 1.0
                    for g in range(len(CANDIDATES))]
    report = group_report(logits, v_group, v_sub, v_mags, temperatures)
    for entry in report:
        b = entry["bright"]
        recalls = ", ".join(f"{k} {r:.2f} ({n})" if r is not None else f"{k} - (0)" for k, (r, n) in b["recall"].items())
        within = f", within one {b['within_one']:.3f}" if b["within_one"] is not None else ""
        print(f"{entry['class']}: B <= {BRIGHT}: accuracy {b['accuracy']:.3f}{within}; recall {recalls}; "
              f"all: accuracy {entry['all']['accuracy']:.3f} -> {'published' if entry['holds_up'] else 'not published'}")
    published = [g for g, entry in enumerate(report) if entry["holds_up"]]
    if not published:
        raise SystemExit("no class's subclasses hold up: nothing to export")
    os.makedirs(args.out, exist_ok=True)
    exported = Exported(model, published, temperatures).eval()
    torch.onnx.export(exported, torch.zeros(2, flux.shape[1]), os.path.join(args.out, "dfbs-subclass.onnx"), input_names=["flux"],
                      output_names=["probabilities"], dynamic_axes={"flux": {0: "n"}, "probabilities": {0: "n"}}, opset_version=17,
                      dynamo=False)
    groups = [{"class": CANDIDATES[g][0], "subclasses": CANDIDATES[g][1], "ordered": CANDIDATES[g][2]} for g in published]
    with open(os.path.join(args.out, "dfbs-subclass.json"), "w") as f:
        json.dump({"name": "dfbs-subclass-cnn", "version": args.version, "groups": groups, "flux_extraction": flux_extraction(args.data),
                   "inputs": {"flux": [None, flux.shape[1]]}, "outputs": {"probabilities": [None, sum(len(g["subclasses"]) for g in groups)]},
                   "trained": datetime.date.today().isoformat()}, f, indent=1)
    with open(os.path.join(args.out, "subclass-report.json"), "w") as f:
        json.dump({"seed": args.seed, "epochs_run": epoch + 1, "best_validation_loss": best, "training_spectra": len(flux),
                   "validation_spectra": len(v_flux), "seconds": round(time.time() - started), "groups": report}, f, indent=1)
    print(f"published {[g['class'] for g in groups]}; wrote {args.out}/dfbs-subclass.onnx, dfbs-subclass.json, subclass-report.json")


if __name__ == "__main__":
    main()
