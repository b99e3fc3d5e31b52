"""Join exported classifiers into one ONNX classifier: the mean of their probabilities,
recalibrated by one temperature fitted on the validation plates (a deep ensemble;
Lakshminarayanan, Pritzel & Blundell 2017). The result keeps the input contract of a single
model (inputs `cutout` and `flux`, output `probabilities`), so the Rust classify stage runs it
unchanged, at the cost of one network per member.

    training/.venv/bin/python training/ensemble.py DATA/validation MEMBER.onnx MEMBER.onnx ... \\
        --out models --version 1.8.0

The members' probabilities each answer to the uniform class prior (train.py), so their mean
does too. Averaging makes them less confident than each member (on the validation plates
1.6.0 + 1.7.0 had ECE 0.016 averaged, 0.006 for 1.7.0 alone); the temperature T of
p ~ exp(log(mean) / T), fitted like train.py's, restores it.
"""

import argparse
import datetime
import hashlib
import json
import os

import numpy as np
import onnx
import onnx.compose
import torch
from onnx import helper, numpy_helper

from score_models import probabilities, read_export
from train import CLASSES, expected_calibration_error, fit_temperature, recall_report

FLOOR = 1e-30  # a mean probability that underflows to 0 still has a finite logarithm


def sharpen(p, temperature):
    """The graph's last step in NumPy: softmax(log(max(p, FLOOR)) / T)."""
    logits = np.log(np.maximum(p, FLOOR)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def joined_graph(members, temperature):
    """One graph: each member's nodes under a prefix of its own, fed by the shared inputs, then
    Mean -> Max(FLOOR) -> Log -> Mul(1/T) -> Softmax."""
    nodes, initializers, outputs = [], [], []
    for i, path in enumerate(members):
        model = onnx.load(path)
        if model.opset_import[0].version != 17:
            raise SystemExit(f"{path}: opset {model.opset_import[0].version}, expected 17 (train.py's export)")
        inputs = {v.name for v in model.graph.input}
        if inputs != {"cutout", "flux"} or [v.name for v in model.graph.output] != ["probabilities"]:
            raise SystemExit(f"{path}: inputs {sorted(inputs)}, outputs {[v.name for v in model.graph.output]}; "
                             "expected cutout, flux -> probabilities")
        prefixed = onnx.compose.add_prefix(model, f"m{i}/", rename_inputs=False)
        nodes.extend(prefixed.graph.node)
        initializers.extend(prefixed.graph.initializer)
        outputs.append(f"m{i}/probabilities")
        graph_inputs = model.graph.input
    initializers.append(numpy_helper.from_array(np.array(FLOOR, np.float32), "ensemble/floor"))
    initializers.append(numpy_helper.from_array(np.array(1.0 / temperature, np.float32), "ensemble/inverse_temperature"))
    nodes += [
        helper.make_node("Mean", outputs, ["ensemble/mean"]),
        helper.make_node("Max", ["ensemble/mean", "ensemble/floor"], ["ensemble/floored"]),
        helper.make_node("Log", ["ensemble/floored"], ["ensemble/log"]),
        helper.make_node("Mul", ["ensemble/log", "ensemble/inverse_temperature"], ["ensemble/logits"]),
        helper.make_node("Softmax", ["ensemble/logits"], ["probabilities"], axis=1),
    ]
    output = helper.make_tensor_value_info("probabilities", onnx.TensorProto.FLOAT, ["n", len(CLASSES)])
    graph = helper.make_graph(nodes, "dfbs-cnn-ensemble", list(graph_inputs), [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="training/ensemble.py")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("validation", help="export-cutouts output of the validation plates (cutouts.npy, flux.npy, labels.csv)")
    parser.add_argument("members", nargs="+", help="classifier ONNX files exported by train.py, each beside its .json")
    parser.add_argument("--out", default="models")
    parser.add_argument("--version", required=True, help="the ensemble's version, recorded with every classified row")
    args = parser.parse_args()
    if len(args.members) < 2:
        parser.error("an ensemble needs at least two members")
    infos = []
    for path in args.members:
        with open(os.path.splitext(path)[0] + ".json") as f:
            infos.append(json.load(f))
    extractions = {info["flux_extraction"] for info in infos}
    if len(extractions) != 1 or any(info["classes"] != CLASSES for info in infos):
        raise SystemExit(f"the members must share the class order and the flux extraction (have {sorted(extractions)})")

    cutouts, flux, rows = read_export(args.validation)
    labels = np.array([CLASSES.index(r["class"]) for r in rows])
    mags = np.array([float(r["mag_b"]) for r in rows])
    members = [probabilities(path, cutouts, flux) for path in args.members]
    mean = np.mean(members, axis=0)
    temperature = fit_temperature(torch.from_numpy(np.log(np.maximum(mean, FLOOR))), torch.from_numpy(labels))
    calibrated = sharpen(mean, temperature)
    figures = {}
    for name, p in [*((os.path.basename(m), q) for m, q in zip(args.members, members)), ("mean", mean), ("ensemble", calibrated)]:
        report = recall_report(p, labels, mags)
        figures[name] = {"macro_f1_b17_5": report["macro_f1_b17_5"], "macro_f1_all": report["macro_f1_all"],
                         "ece": expected_calibration_error(p, labels)}
        print(f"{name}: validation macro-F1 B <= 17.5 {report['macro_f1_b17_5']:.4f}, all {report['macro_f1_all']:.4f}, "
              f"ECE {figures[name]['ece']:.4f}")
    print(f"temperature {temperature:.4f}")

    model = joined_graph(args.members, temperature)
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "dfbs-classifier.onnx")
    onnx.save(model, onnx_path)
    # The file as written must give what was measured.
    worst = float(np.abs(probabilities(onnx_path, cutouts[:512], flux[:512]) - calibrated[:512]).max())
    if worst > 1e-4:
        raise SystemExit(f"the joined graph differs from the measured ensemble by {worst}")
    today = datetime.date.today().isoformat()
    with open(os.path.join(args.out, "ensemble-report.json"), "w") as f:
        json.dump({"date": today, "temperature": temperature,
                   "members": [{"file": os.path.basename(m), "sha256": sha256(m), "name": i["name"], "version": i["version"],
                                "temperature": i.get("temperature"), "trained": i.get("trained")} for m, i in zip(args.members, infos)],
                   "validation_plates": sorted({r["plate"] for r in rows}), "validation": figures}, f, indent=1)
    with open(os.path.join(args.out, "dfbs-classifier.json"), "w") as f:
        json.dump({**infos[-1], "version": args.version, "temperature": temperature, "trained": today,
                   "members": [f"{i['name']} {i['version']}" for i in infos]}, f, indent=1)
    print("wrote", args.out, f"(graph and measurement agree within {worst:.1e})")


if __name__ == "__main__":
    main()
