//! The classify stage with the committed model and ONNX Runtime from the project's .venv:
//! ingest classifies, `dfbs-vo classify` re-classifies without re-detecting, and a missing
//! runtime is a clear error.

mod common;

use std::path::Path;
use std::process::Output;

use common::*;
use dfbs_vo::sim::{simulate, Mix, SimulateOptions};

fn run(output: std::io::Result<Output>) -> String {
    let output = output.expect("dfbs-vo runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{text}");
    text
}

fn query(data_dir: &std::path::Path, sql: &str) -> String {
    run(dfbs_vo(data_dir).args(["db", "psql", "-tA", "-c", sql]).output()).trim().to_string()
}

#[test]
fn ingest_classifies_and_classify_reclassifies() {
    let dir = test_dir();
    let plates = dir.path().join("plates");
    let options = SimulateOptions { out: plates.clone(), seed: 77, size: (1200, 1200), mix: Mix::Balanced, density: 2500.0, first_plate: 7700, ..SimulateOptions::default() };
    let scan = simulate(&options).unwrap()[0].files.scan.clone();
    let data = dir.path().join("pg");
    run(dfbs_vo(&data).args(["db", "start"]).output());
    // Without a classifier: the class columns stay empty.
    run(dfbs_vo(&data).arg("ingest").arg(&scan).arg("--no-classify").output());
    let counts = query(&data, "SELECT count(*), count(class_prob) FROM dfbs.spectra");
    let (total, classified) = counts.split_once('|').unwrap();
    let total: usize = total.parse().unwrap();
    assert!(total > 50, "{counts}");
    assert_eq!(classified, "0");
    // Re-classification from the catalogue rows and the scan.
    let text = run(dfbs_vo(&data).args(["classify", "--plate", "fbs7700"]).output());
    assert!(text.contains("spectra classified"), "{text}");
    let summary = query(
        &data,
        "SELECT count(class_prob), count(anomaly_score), min(classifier), \
         count(*) FILTER (WHERE abs(prob_star + prob_mstar + prob_carbon + prob_sd + prob_wd + prob_cv + prob_pn + prob_uvx + prob_sy + prob_qso - 1) < 1e-3), \
         count(*) FILTER (WHERE class_label IS NOT NULL AND class_prob < 0.8), count(DISTINCT class_label) FROM dfbs.spectra",
    );
    let fields: Vec<&str> = summary.split('|').collect();
    assert_eq!(fields[0].parse::<usize>().unwrap(), total, "{summary}");
    assert_eq!(fields[1].parse::<usize>().unwrap(), total, "{summary}");
    assert_eq!(fields[2], "dfbs-cnn");
    assert_eq!(fields[3].parse::<usize>().unwrap(), total, "probabilities sum to 1: {summary}");
    assert_eq!(fields[4], "0", "labels below the threshold are not kept: {summary}");
    assert!(fields[5].parse::<usize>().unwrap() >= 5, "a balanced plate gives many classes: {summary}");
    let provenance = query(&data, "SELECT ingest_params->'classifier'->>'name' FROM dfbs.plates WHERE plateid = 'fbs7700'");
    assert_eq!(provenance, "dfbs-cnn");
    // An ensemble's members (models/dfbs-classifier.json, training/ensemble.py) are recorded too.
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let classifier: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(committed.join("dfbs-classifier.json")).unwrap()).unwrap();
    let members = query(&data, "SELECT ingest_params->'classifier'->'members' FROM dfbs.plates WHERE plateid = 'fbs7700'");
    match classifier.get("members") {
        Some(expected) => assert_eq!(serde_json::from_str::<serde_json::Value>(&members).unwrap(), *expected, "{members}"),
        None => assert_eq!(members, "", "a single network records no members"),
    }
    // Subclasses (models/dfbs-subclass.onnx): every labelled spectrum of a published class has
    // one of its class's subclasses, with a probability; nothing else has a subclass.
    let subclass_model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(committed.join("dfbs-subclass.json")).unwrap()).unwrap();
    let groups = subclass_model["groups"].as_array().unwrap();
    let allowed: Vec<String> = groups
        .iter()
        .flat_map(|g| g["subclasses"].as_array().unwrap().iter().map(move |s| format!("{}/{}", g["class"].as_str().unwrap(), s.as_str().unwrap())))
        .collect();
    let classes: Vec<String> = groups.iter().map(|g| format!("'{}'", g["class"].as_str().unwrap())).collect();
    let counts = query(
        &data,
        &format!(
            "SELECT count(*) FILTER (WHERE class_label IN ({0})), count(subclass), count(subclass_prob), \
             count(*) FILTER (WHERE subclass IS NOT NULL AND (class_label IS NULL OR class_label NOT IN ({0}))), \
             count(*) FILTER (WHERE subclass_prob < 0 OR subclass_prob > 1) FROM dfbs.spectra",
            classes.join(", ")
        ),
    );
    let fields: Vec<usize> = counts.split('|').map(|f| f.parse().unwrap()).collect();
    assert!(fields[0] > 10 && fields[1] == fields[0] && fields[2] == fields[0] && fields[3] == 0 && fields[4] == 0, "{counts}");
    let pairs = query(&data, "SELECT string_agg(DISTINCT class_label || '/' || subclass, ',') FROM dfbs.spectra WHERE subclass IS NOT NULL");
    assert!(pairs.split(',').all(|p| allowed.iter().any(|a| a == p)), "{pairs} not all in {allowed:?}");
    let recorded = query(&data, "SELECT ingest_params->'classifier'->'subclass_model'->>'version' FROM dfbs.plates WHERE plateid = 'fbs7700'");
    assert_eq!(recorded, subclass_model["version"].as_str().unwrap());
    // And the anomaly model's name and version, so that scores of plates ingested under
    // different anomaly models can be told apart.
    let anomaly_model: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(committed.join("dfbs-anomaly.json")).unwrap()).unwrap();
    let recorded = query(&data, "SELECT (ingest_params->'classifier'->'anomaly_model')::text FROM dfbs.plates WHERE plateid = 'fbs7700'");
    let recorded: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(recorded, serde_json::json!({ "name": anomaly_model["name"], "version": anomaly_model["version"] }));
    // The probabilities were adapted to the plate's own class mix (pipeline::priors), which the
    // provenance records: a balanced plate, so no class holds most of it.
    let adapted = query(
        &data,
        "SELECT ingest_params->'classifier'->>'adapt_priors',          (SELECT sum(value::float8) FROM jsonb_each_text(ingest_params->'classifier'->'class_mix')),          (SELECT max(value::float8) FROM jsonb_each_text(ingest_params->'classifier'->'class_mix'))          FROM dfbs.plates WHERE plateid = 'fbs7700'",
    );
    let fields: Vec<&str> = adapted.split('|').collect();
    assert!(total >= dfbs_vo::pipeline::priors::MIN_SPECTRA, "{total} spectra: too few to estimate a class mix");
    assert_eq!(fields[0], "true", "{adapted}");
    let (sum, largest): (f64, f64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    assert!((sum - 1.0).abs() < 1e-3 && largest < 0.5, "{adapted}");
    // A re-ingest classifies at once (the model is installed).
    run(dfbs_vo(&data).arg("ingest").arg(&scan).arg("--replace").output());
    assert_eq!(query(&data, "SELECT count(*) = count(class_prob) FROM dfbs.spectra"), "t");
    // Re-classifying with the same model repeats ingest's answer exactly: the same cutouts,
    // deblended traces' included, reach the model.
    let snapshot = "SELECT string_agg(specid || ':' || prob_qso || ':' || anomaly_score || ':' || coalesce(class_label, '-') || ':' \
                    || coalesce(subclass || subclass_prob, '-'), ',' ORDER BY specid) FROM dfbs.spectra";
    let ingested = query(&data, snapshot);
    let text = run(dfbs_vo(&data).args(["classify", "--plate", "fbs7700"]).output());
    assert!(text.contains("spectra classified") && !text.contains("cut again"), "{text}");
    let reclassified = query(&data, snapshot);
    let (a, b): (Vec<&str>, Vec<&str>) = (ingested.split(',').collect(), reclassified.split(',').collect());
    assert_eq!(a.len(), total);
    let differ: Vec<(&&str, &&str)> = a.iter().zip(&b).filter(|(x, y)| x != y).collect();
    assert!(differ.is_empty(), "{} of {total} rows changed, e.g. {:?}", differ.len(), differ.first());
    // A plate ingested by dfbs-vo 0.1.0 (box sums; it recorded no extraction) is not classified
    // with a model trained on optimally extracted spectra: reported, not touched.
    query(&data, "UPDATE dfbs.plates SET ingest_params = ingest_params - 'flux_extraction'");
    let output = dfbs_vo(&data).args(["classify", "--plate", "fbs7700"]).output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && text.contains("extracted with box weights") && text.contains("re-ingest"), "{text}");
    assert_eq!(query(&data, snapshot), reclassified);
    // Model directories that ingest must refuse: `models_with(name, files)` copies the committed
    // files, `refused(models)` runs the ingest with them and returns its error output.
    let models_with = |name: &str, files: &[&str]| {
        let models = dir.path().join(name);
        std::fs::create_dir(&models).unwrap();
        for file in files {
            std::fs::copy(committed.join(file), models.join(file)).unwrap();
        }
        models
    };
    let refused = |models: &Path| {
        let output = dfbs_vo(&data).env("DFBS__CLASSIFY__MODEL_DIR", models).arg("ingest").arg(&scan).arg("--replace").output().unwrap();
        assert!(!output.status.success(), "ingest with {} succeeded", models.display());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    // A model trained on box sums (no flux_extraction in its description) is refused at ingest,
    // which extracts optimally.
    let models = models_with("models-box", &["dfbs-classifier.onnx"]);
    let mut description: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed.join("dfbs-classifier.json")).unwrap()).unwrap();
    description.as_object_mut().unwrap().remove("flux_extraction");
    std::fs::write(models.join("dfbs-classifier.json"), description.to_string()).unwrap();
    let text = refused(&models);
    assert!(text.contains("trained on spectra extracted with box weights"), "{text}");
    // Likewise a subclass model whose spectra were extracted otherwise than the classifier's.
    let models = models_with("models-subclass", &["dfbs-classifier.onnx", "dfbs-classifier.json", "dfbs-subclass.onnx"]);
    let mut box_subclass = subclass_model.clone();
    box_subclass["flux_extraction"] = "box".into();
    std::fs::write(models.join("dfbs-subclass.json"), box_subclass.to_string()).unwrap();
    let text = refused(&models);
    assert!(text.contains("dfbs-subclass.json") && text.contains("train_subclass.py"), "{text}");
    // An anomaly model without its description is refused (the provenance could not say which
    // model scored the plate), and so is one trained on spectra extracted otherwise.
    let models = models_with("models-anomaly", &["dfbs-classifier.onnx", "dfbs-classifier.json", "dfbs-anomaly.onnx"]);
    let text = refused(&models);
    assert!(text.contains("dfbs-anomaly.json") && text.contains("train_anomaly.py"), "{text}");
    let mut box_anomaly = anomaly_model.clone();
    box_anomaly["flux_extraction"] = "box".into();
    std::fs::write(models.join("dfbs-anomaly.json"), box_anomaly.to_string()).unwrap();
    let text = refused(&models);
    assert!(text.contains("box weights") && text.contains("train_anomaly.py"), "{text}");
    // The catalogue still holds the plate as it was ingested before these refusals.
    assert_eq!(query(&data, snapshot), reclassified);
    run(dfbs_vo(&data).args(["db", "stop"]).output());
}

#[test]
fn a_missing_runtime_is_a_clear_error() {
    let dir = test_dir();
    let output = dfbs_vo(dir.path())
        .env("DFBS__CLASSIFY__ONNXRUNTIME", "/nonexistent/libonnxruntime.so")
        .env("DFBS__CLASSIFY__MODEL_DIR", dir.path())
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .args(["classify", "--all"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("ONNX Runtime library not found") && text.contains("ORT_DYLIB_PATH"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
}

/// Cutout row of grid bin 0: the crop's 10 rows of padding, its 5 rows redward of the red
/// border and the 2 px from the border to the 690 nm point (src/pipeline/extract.rs).
const FIRST_BIN_ROW: usize = 17;

/// A cutout as the pipeline cuts it (src/pipeline/extract.rs), drawn from a 1D spectrum: a
/// trace of Gaussian cross-section (sigma 1 px) centred in the 140 x 20 crop, bin k in cutout
/// row k + FIRST_BIN_ROW, on a sky of 0.1 with a little deterministic grain; min-max scaled over the crop,
/// zero-padded. `grain` adds a dust grain: a disc of radius 2 px, 4 px beside the trace, at
/// that bin and with that brightness.
fn trace_cutout(flux: &[f32], grain: Option<(usize, f32)>) -> Vec<f32> {
    use dfbs_vo::pipeline::extract::{CROP_COLUMNS, CROP_ROWS, CUTOUT_COLUMNS, CUTOUT_ROWS};
    let (top, left) = ((CUTOUT_ROWS - CROP_ROWS) / 2, (CUTOUT_COLUMNS - CROP_COLUMNS) / 2);
    let centre = (CROP_COLUMNS as f32 - 1.0) / 2.0;
    let mut seed = 12345u32;
    let mut crop = vec![0f32; CROP_ROWS * CROP_COLUMNS];
    for (r, row) in crop.chunks_mut(CROP_COLUMNS).enumerate() {
        let level = (r + top).checked_sub(FIRST_BIN_ROW).and_then(|k| flux.get(k)).copied().unwrap_or(0.0);
        for (c, value) in row.iter_mut().enumerate() {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let grain_noise = ((seed >> 16) as f32 / 65536.0 - 0.5) * 0.01;
            *value = 0.1 + level * (-0.5 * (c as f32 - centre).powi(2)).exp() + grain_noise;
            if let Some((k, brightness)) = grain {
                let (dy, dx) = (r as f32 - (k + FIRST_BIN_ROW - top) as f32, c as f32 - (centre + 4.0));
                if dy * dy + dx * dx <= 4.0 {
                    *value += brightness;
                }
            }
        }
    }
    let (low, high) = crop.iter().fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    let mut cutout = vec![0f32; CUTOUT_ROWS * CUTOUT_COLUMNS];
    for (r, row) in crop.chunks(CROP_COLUMNS).enumerate() {
        for (c, value) in row.iter().enumerate() {
            cutout[(r + top) * CUTOUT_COLUMNS + c + left] = (value - low) / (high - low);
        }
    }
    cutout
}

/// The anomaly model on the 30 real fbs1163 spectra (tests/data), with cutouts drawn from them:
/// ordinary spectra score low; the same spectra with one strong narrow emission line added at an
/// odd wavelength (550 nm, three bins wide, twice the spectrum's peak) score higher than any of
/// them; and the same excess from a dust grain beside the trace (the extraction sums it into
/// the spectrum all the same) does not: it is not the trace's light.
#[test]
fn an_unexplained_emission_line_raises_the_anomaly_score_and_a_dust_grain_does_not() {
    use dfbs_vo::pipeline::classify::{find_runtime, normalise_flux, ClassifyOptions, OnnxClassifier};
    use dfbs_vo::pipeline::wavelength::{pixel_offset, GRID_BINS};
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = find_runtime("", project).expect("ONNX Runtime in .venv (scripts/install.sh)");
    let options = ClassifyOptions { threshold: 0.8, threads: 1, batch: 64, adapt_priors: false };
    let classifier = OnnxClassifier::load(&runtime, &project.join("models"), options).unwrap();
    let paths: Vec<std::path::PathBuf> = std::fs::read_dir(project.join("tests/data/dfbs-spectra-fbs1163"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "spec"))
        .collect();
    let (plates, errors) = dfbs_vo::pipeline::ingest::spec_records(&paths);
    assert!(errors.is_empty(), "{errors:?}");
    let spectra: Vec<Vec<Option<f32>>> = plates.iter().flat_map(|(_, s)| s.iter().map(|r| r.flux.clone())).collect();
    assert_eq!(spectra.len(), 30);
    let line = pixel_offset(550.0).round() as usize;
    let spike = |flux: &Vec<Option<f32>>| {
        let peak = flux.iter().flatten().fold(0f32, |a, b| a.max(*b));
        let mut spiked = flux.clone();
        for (k, gain) in [(line - 1, 0.8), (line, 2.0), (line + 1, 0.8)] {
            spiked[k] = Some(spiked[k].unwrap_or(0.0) + gain * peak);
        }
        spiked
    };
    // Real spectra, then with the line, then with the grain: spectra and their cutouts.
    let (mut fluxes, mut cutouts) = (Vec::new(), Vec::new());
    for (kind, flux) in (0..3).flat_map(|kind| spectra.iter().map(move |f| (kind, f))) {
        let start = fluxes.len();
        normalise_flux(&if kind == 0 { flux.clone() } else { spike(flux) }, &mut fluxes);
        let normalised = &fluxes[start..];
        match kind {
            0 | 1 => cutouts.extend(trace_cutout(normalised, None)),
            _ => {
                // The extraction summed the grain into the spectrum; the trace itself is the
                // real spectrum's, on the same scale, and the cutout shows the grain beside it.
                let peak = spike(flux).iter().flatten().fold(0f32, |a, b| a.max(*b)).max(1e-6);
                let trace: Vec<f32> = flux.iter().map(|v| v.filter(|x| x.is_finite()).unwrap_or(0.0) / peak).collect();
                cutouts.extend(trace_cutout(&trace, Some((line, 1.0))));
            }
        }
    }
    assert_eq!(fluxes.len(), 90 * GRID_BINS);
    let scores = classifier.infer(&cutouts, &fluxes).unwrap().scores.expect("models/dfbs-anomaly.onnx is committed");
    let (real, rest) = scores.split_at(30);
    let (spiked, grains) = rest.split_at(30);
    let highest = |s: &[f32]| s.iter().fold(f32::MIN, |a, b| a.max(*b));
    let lowest = |s: &[f32]| s.iter().fold(f32::MAX, |a, b| a.min(*b));
    eprintln!("real spectra: {real:?}\nwith the line: {spiked:?}\nwith a grain: {grains:?}");
    assert!(lowest(spiked) > highest(real), "highest real {}, lowest with the line {}", highest(real), lowest(spiked));
    assert!(highest(grains) < lowest(spiked), "highest with a grain {}, lowest with the line {}", highest(grains), lowest(spiked));
}
