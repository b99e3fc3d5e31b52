//! The classify stage: the CNN and the anomaly model (ONNX, trained offline by
//! training/train.py and training/train_anomaly.py) run with ONNX Runtime through `ort`, on the
//! cutouts and spectra exactly as extraction produced them.
//!
//! ONNX Runtime is loaded at run time (`ort`'s `load-dynamic`): from `classify.onnxruntime`, or
//! ORT_DYLIB_PATH, or the onnxruntime wheel that scripts/install.sh puts into .venv. A missing
//! library or model is an error that says where it looked and what to do.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::value::TensorRef;

use super::catalogue::Classification;
use super::extract::{BOX_EXTRACTION, CUTOUT_COLUMNS, CUTOUT_ROWS};
use super::plate::{Classifier, ClassifierInput};
use super::subclass::SubclassInfo;
use super::wavelength::GRID_BINS;
use crate::sim::templates::ObjectClass;

/// The model's description (models/dfbs-classifier.json, written by training/train.py).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ModelInfo {
    pub name: String,
    pub version: String,
    /// Output order of the probabilities; must be the catalogue's class labels.
    pub classes: Vec<String>,
    /// The class prior the probabilities answer to (the training's effective class mix). Absent:
    /// uniform, as training/train.py weights the loss inversely to class frequency.
    #[serde(default)]
    pub training_prior: Option<Vec<f64>>,
    /// How the training spectra were extracted ([`super::extract::FLUX_EXTRACTION`] names this
    /// pipeline's). Absent: [`BOX_EXTRACTION`], the models up to 1.5.0.
    #[serde(default = "box_extraction")]
    pub flux_extraction: String,
    /// For an ensemble (training/ensemble.py: one graph averaging several networks), the
    /// member networks as "name version"; empty for a single network. Each plate's provenance
    /// records them.
    #[serde(default)]
    pub members: Vec<String>,
}

fn box_extraction() -> String {
    BOX_EXTRACTION.to_string()
}

impl ModelInfo {
    /// Refuses spectra extracted otherwise than the model's training spectra: a model trained on
    /// box sums reads the lower noise of optimally weighted spectra as another class, and the
    /// reverse. `spectra` is how the spectra to classify were extracted; the caller says what to do.
    pub fn check_extraction(&self, spectra: &str) -> Result<(), String> {
        if self.flux_extraction == spectra {
            return Ok(());
        }
        Err(format!(
            "model {} {} was trained on spectra extracted with {} weights, these were extracted with {} weights",
            self.name, self.version, self.flux_extraction, spectra
        ))
    }

    /// The training prior, checked: ten positive fractions, normalised.
    fn prior(&self) -> Result<[f64; 10], String> {
        let Some(prior) = &self.training_prior else { return Ok([0.1; 10]) };
        let prior: [f64; 10] = prior.as_slice().try_into().map_err(|_| format!("training_prior has {} values, not 10", prior.len()))?;
        if prior.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(format!("training_prior {prior:?} must be positive"));
        }
        let total: f64 = prior.iter().sum();
        Ok(prior.map(|p| p / total))
    }
}

/// The anomaly model's description (models/dfbs-anomaly.json, written by
/// training/train_anomaly.py beside the model): what each plate's provenance records, so that
/// anomaly scores of plates ingested under different models can be told apart.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AnomalyInfo {
    pub name: String,
    pub version: String,
    /// How the training spectra were extracted (as [`ModelInfo`]): the autoencoder's residuals
    /// are in units of each spectrum's noise, which the extraction sets.
    pub flux_extraction: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error(
        "ONNX Runtime library not found (looked at: {0}). Set ORT_DYLIB_PATH to libonnxruntime.so, set \
         classify.onnxruntime in the configuration, or run scripts/install.sh, which installs the onnxruntime wheel into .venv"
    )]
    RuntimeMissing(String),
    #[error("cannot load ONNX Runtime from {0}: {1}")]
    RuntimeLoad(PathBuf, String),
    #[error("model {0}: {1}")]
    Model(PathBuf, String),
    #[error("inference failed: {0}")]
    Inference(String),
}

/// Where the ONNX Runtime library is: the configured path, else ORT_DYLIB_PATH, else the
/// onnxruntime wheel in the project's .venv. A path that is given explicitly must exist: it is
/// not silently replaced by another library.
pub fn find_runtime(configured: &str, project_dir: &Path) -> Result<PathBuf, ClassifyError> {
    let explicit = if !configured.is_empty() { Some(configured.to_string()) } else { std::env::var("ORT_DYLIB_PATH").ok() };
    if let Some(path) = explicit {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(ClassifyError::RuntimeMissing(path.display().to_string())) };
    }
    let lib = project_dir.join(".venv/lib");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("site-packages/onnxruntime/capi")))
        .flat_map(|capi| std::fs::read_dir(capi).into_iter().flatten().filter_map(|e| e.ok().map(|e| e.path())))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so")) && p.is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| ClassifyError::RuntimeMissing(format!("{}/python*/site-packages/onnxruntime/capi", lib.display())))
}

static RUNTIME: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Loads ONNX Runtime once per process.
fn load_runtime(path: &Path) -> Result<&'static ort::environment::Environment, ClassifyError> {
    let result = RUNTIME.get_or_init(|| {
        let builder = ort::init_from(path).map_err(|e| e.to_string())?;
        builder.with_name("dfbs-vo").build().map_err(|e| e.to_string())
    });
    result.as_ref().map_err(|message| ClassifyError::RuntimeLoad(path.to_path_buf(), message.clone()))
}

/// The CNN classifier and (optionally) the anomaly and subclass models.
pub struct OnnxClassifier {
    classifier: Mutex<Session>,
    anomaly: Option<(Mutex<Session>, AnomalyInfo)>,
    subclass: Option<(Mutex<Session>, SubclassInfo)>,
    info: ModelInfo,
    threshold: f32,
    batch: usize,
    /// The training prior, when the probabilities are adapted to each plate's class mix
    /// (pipeline::priors); None keeps the model's probabilities as they are.
    adapt_from: Option<[f64; 10]>,
}

/// How the classify stage runs (the `[classify]` configuration).
#[derive(Debug, Clone, Copy)]
pub struct ClassifyOptions {
    /// A label is kept when the top probability reaches this.
    pub threshold: f32,
    /// ONNX Runtime threads per session.
    pub threads: usize,
    /// Spectra per inference batch.
    pub batch: usize,
    /// Adapt the probabilities to each plate's class mix (pipeline::priors).
    pub adapt_priors: bool,
}

fn session(environment: &ort::environment::Environment, path: &Path, threads: usize) -> Result<Session, ClassifyError> {
    if !path.is_file() {
        return Err(ClassifyError::Model(path.to_path_buf(), "no such file (train one with training/train.py)".into()));
    }
    // The builder's own errors (ort::Error<SessionBuilder>) convert into ort::Error.
    let error = |e: ort::Error| ClassifyError::Model(path.to_path_buf(), e.to_string());
    Session::builder(environment)
        .map_err(error)?
        .with_intra_threads(threads.max(1))
        .map_err(|e| error(e.into()))?
        // The classifier, anomaly and subclass sessions run one after another on each batch, each
        // with its own pool of intra-op threads. A pool's threads spin for a while after its run
        // (ONNX Runtime's default), and on a machine with as many cores as threads they take the
        // cores from the next session's run: on 2 cores `cargo bench --bench classify` (classifier
        // 1.8.0, anomaly and subclass models, batches of 256) ran 2,250 spectra/s spinning and
        // 3,040 without, back to back (2026-12-08).
        .with_intra_op_spinning(false)
        .map_err(|e| error(e.into()))?
        .commit_from_file(path)
        .map_err(error)
}

/// The outputs of the models for a batch of spectra.
pub struct Inference {
    /// Class probabilities, one row per spectrum.
    pub probabilities: Vec<[f32; 10]>,
    /// Anomaly scores, when there is an anomaly model.
    pub scores: Option<Vec<f32>>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ClassifyError> {
    std::fs::read_to_string(path)
        .map_err(|e| ClassifyError::Model(path.to_path_buf(), e.to_string()))
        .and_then(|text| serde_json::from_str(&text).map_err(|e| ClassifyError::Model(path.to_path_buf(), e.to_string())))
}

/// The input and output names of a session, checked against a model's contract.
fn check_names(session: &Session, path: &Path, inputs: &[&str], output: &str, retrain: &str) -> Result<(), ClassifyError> {
    let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
    let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
    if names != inputs || !outputs.contains(&output) {
        let why = format!("inputs {names:?} and outputs {outputs:?}, expected inputs {inputs:?} and an output {output:?} (retrain it with {retrain})");
        return Err(ClassifyError::Model(path.to_path_buf(), why));
    }
    Ok(())
}

/// An optional model beside the classifier: `NAME.onnx` with its description `NAME.json`.
trait Companion: serde::de::DeserializeOwned {
    /// How its training spectra were extracted; it must be the classifier's.
    fn flux_extraction(&self) -> &str;
}

impl Companion for AnomalyInfo {
    fn flux_extraction(&self) -> &str {
        &self.flux_extraction
    }
}

impl Companion for SubclassInfo {
    fn flux_extraction(&self) -> &str {
        &self.flux_extraction
    }
}

/// The companion model `name` of `model_dir` (None when its ONNX file is absent) and its
/// description, which must be there, and whose training spectra must have been extracted as
/// the classifier's; `trainer` is the script that writes both.
fn companion<T: Companion>(model_dir: &Path, name: &str, trainer: &str, classifier: &ModelInfo) -> Result<Option<(PathBuf, T)>, ClassifyError> {
    let path = model_dir.join(format!("{name}.onnx"));
    if !path.is_file() {
        return Ok(None);
    }
    let info_path = model_dir.join(format!("{name}.json"));
    if !info_path.is_file() {
        let why = format!(
            "missing: the description of {name}.onnx (name, version and extraction, which each plate's provenance records); {trainer} writes it beside the model"
        );
        return Err(ClassifyError::Model(info_path, why));
    }
    let info: T = read_json(&info_path)?;
    if info.flux_extraction() != classifier.flux_extraction {
        let why = format!(
            "trained on spectra extracted with {} weights, the classifier on {} weights: retrain it with {trainer} on the classifier's data set",
            info.flux_extraction(),
            classifier.flux_extraction
        );
        return Err(ClassifyError::Model(info_path, why));
    }
    Ok(Some((path, info)))
}

/// The anomaly model of `model_dir` (`dfbs-anomaly.onnx` + `.json`), when there is one.
fn load_anomaly(
    environment: &ort::environment::Environment,
    model_dir: &Path,
    threads: usize,
    classifier: &ModelInfo,
) -> Result<Option<(Mutex<Session>, AnomalyInfo)>, ClassifyError> {
    const TRAINER: &str = "training/train_anomaly.py";
    let Some((path, info)) = companion::<AnomalyInfo>(model_dir, "dfbs-anomaly", TRAINER, classifier)? else { return Ok(None) };
    let session = session(environment, &path, threads)?;
    // The contract (models/README.md): the classifier's two inputs, the cutout and the
    // normalised spectrum. The score counts a bin's unexplained emission only where the
    // cutout shows it with the trace's own profile (2.0.0 took `flux` alone and ranked
    // dust grains on faint spectra first; 1.0.0 took the cutout alone and ranked noise).
    check_names(&session, &path, &["cutout", "flux"], "score", TRAINER)?;
    Ok(Some((Mutex::new(session), info)))
}

/// The subclass model of `model_dir` (`dfbs-subclass.onnx` + `.json`), when there is one.
fn load_subclass(
    environment: &ort::environment::Environment,
    model_dir: &Path,
    threads: usize,
    classifier: &ModelInfo,
) -> Result<Option<(Mutex<Session>, SubclassInfo)>, ClassifyError> {
    const TRAINER: &str = "training/train_subclass.py";
    let Some((path, info)) = companion::<SubclassInfo>(model_dir, "dfbs-subclass", TRAINER, classifier)? else { return Ok(None) };
    info.check().map_err(|why| ClassifyError::Model(model_dir.join("dfbs-subclass.json"), why))?;
    let session = session(environment, &path, threads)?;
    check_names(&session, &path, &["flux"], "probabilities", TRAINER)?;
    Ok(Some((Mutex::new(session), info)))
}

impl OnnxClassifier {
    /// Loads `dfbs-classifier.onnx` (+ `.json`) and, when present, `dfbs-anomaly.onnx` (+ `.json`)
    /// and `dfbs-subclass.onnx` (+ `.json`) from `model_dir`.
    pub fn load(runtime: &Path, model_dir: &Path, options: ClassifyOptions) -> Result<OnnxClassifier, ClassifyError> {
        let ClassifyOptions { threshold, threads, batch, adapt_priors } = options;
        let environment = load_runtime(runtime)?;
        let info_path = model_dir.join("dfbs-classifier.json");
        let info: ModelInfo = read_json(&info_path)?;
        let expected: Vec<&str> = ObjectClass::ALL.iter().map(|c| c.label()).collect();
        if info.classes != expected {
            return Err(ClassifyError::Model(
                info_path,
                format!("classes {:?} are not the catalogue's {:?} in that order", info.classes, expected),
            ));
        }
        let training_prior = info.prior().map_err(|why| ClassifyError::Model(info_path.clone(), why))?;
        let classifier = session(environment, &model_dir.join("dfbs-classifier.onnx"), threads)?;
        let anomaly = load_anomaly(environment, model_dir, threads, &info)?;
        let subclass = load_subclass(environment, model_dir, threads, &info)?;
        let adapt_from = adapt_priors.then_some(training_prior);
        Ok(OnnxClassifier { classifier: Mutex::new(classifier), anomaly, subclass, info, threshold, batch: batch.max(1), adapt_from })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The subclass model's description, when there is one.
    pub fn subclass_info(&self) -> Option<&SubclassInfo> {
        self.subclass.as_ref().map(|(_, info)| info)
    }

    /// Probabilities ([n][10]) and anomaly scores of a batch of cutouts and normalised spectra.
    pub fn infer(&self, cutouts: &[f32], fluxes: &[f32]) -> Result<Inference, ClassifyError> {
        let n = cutouts.len() / (CUTOUT_ROWS * CUTOUT_COLUMNS);
        let inference = |e: ort::Error| ClassifyError::Inference(e.to_string());
        // Views of the caller's buffers: no copy per batch.
        let shape = [n, 1, CUTOUT_ROWS, CUTOUT_COLUMNS];
        let cutout = TensorRef::from_array_view((shape, cutouts)).map_err(inference)?;
        let flux = TensorRef::from_array_view(([n, GRID_BINS], fluxes)).map_err(inference)?;
        let probabilities = {
            let mut session = self.classifier.lock().map_err(|_| ClassifyError::Inference("a classifier thread panicked".into()))?;
            let outputs = session.run(ort::inputs!["cutout" => cutout, "flux" => flux]).map_err(inference)?;
            let (_, data) = outputs["probabilities"].try_extract_tensor::<f32>().map_err(inference)?;
            if data.len() != n * 10 {
                return Err(ClassifyError::Inference(format!("{} probabilities for {n} spectra", data.len())));
            }
            data.chunks(10).map(|c| c.try_into().expect("chunks of 10")).collect::<Vec<[f32; 10]>>()
        };
        let scores = match &self.anomaly {
            Some((anomaly, _)) => {
                let cutout = TensorRef::from_array_view((shape, cutouts)).map_err(inference)?;
                let flux = TensorRef::from_array_view(([n, GRID_BINS], fluxes)).map_err(inference)?;
                let mut session = anomaly.lock().map_err(|_| ClassifyError::Inference("an anomaly thread panicked".into()))?;
                let outputs = session.run(ort::inputs!["cutout" => cutout, "flux" => flux]).map_err(inference)?;
                let (_, data) = outputs["score"].try_extract_tensor::<f32>().map_err(inference)?;
                if data.len() != n {
                    return Err(ClassifyError::Inference(format!("{} anomaly scores for {n} spectra", data.len())));
                }
                Some(data.to_vec())
            }
            None => None,
        };
        Ok(Inference { probabilities, scores })
    }

    /// The subclass model's rows ([`SubclassInfo::width`] values each) for a batch of normalised
    /// spectra; empty without a subclass model.
    pub fn infer_subclasses(&self, fluxes: &[f32]) -> Result<Vec<f32>, ClassifyError> {
        let Some((session, info)) = &self.subclass else { return Ok(Vec::new()) };
        let n = fluxes.len() / GRID_BINS;
        let inference = |e: ort::Error| ClassifyError::Inference(e.to_string());
        let flux = TensorRef::from_array_view(([n, GRID_BINS], fluxes)).map_err(inference)?;
        let mut session = session.lock().map_err(|_| ClassifyError::Inference("a subclass thread panicked".into()))?;
        let outputs = session.run(ort::inputs!["flux" => flux]).map_err(inference)?;
        let (_, data) = outputs["probabilities"].try_extract_tensor::<f32>().map_err(inference)?;
        if data.len() != n * info.width() {
            return Err(ClassifyError::Inference(format!("{} subclass probabilities for {n} spectra of {} each", data.len(), info.width())));
        }
        Ok(data.to_vec())
    }

    /// Gives the labelled spectra of a class with subclasses their subclass (the model runs on
    /// those spectra only: on a realistic plate a few per cent of them).
    fn assign_subclasses(&self, inputs: &[ClassifierInput<'_>], classes: &mut [Classification]) -> Result<(), ClassifyError> {
        let Some(info) = self.subclass_info() else { return Ok(()) };
        let wanted: Vec<usize> = (0..classes.len())
            .filter(|&i| classes[i].label.as_deref().is_some_and(|label| info.groups.iter().any(|g| g.class == label)))
            .collect();
        let width = info.width();
        let mut fluxes = Vec::new();
        for chunk in wanted.chunks(self.batch) {
            fluxes.clear();
            for &i in chunk {
                normalise_flux(inputs[i].flux, &mut fluxes);
            }
            let rows = self.infer_subclasses(&fluxes)?;
            for (k, &i) in chunk.iter().enumerate() {
                let class = &mut classes[i];
                let picked = class.label.as_deref().and_then(|label| info.pick(label, &rows[k * width..(k + 1) * width]));
                (class.subclass, class.subclass_probability) = picked.unzip();
            }
        }
        Ok(())
    }

    /// The classification of one spectrum from its probabilities and anomaly score. The label is
    /// kept when the top probability reaches the threshold and the spectrum lies in the training
    /// domain (see [`normalise_flux`]); either way the probabilities and the score are stored.
    /// (The subclass comes after, from the label: [`Self::assign_subclasses`].)
    pub fn classification(&self, probabilities: [f32; 10], score: Option<f32>, in_domain: bool) -> Classification {
        let (best, top) = probabilities
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |acc, (i, p)| if *p > acc.1 { (i, *p) } else { acc });
        Classification {
            label: (in_domain && top >= self.threshold).then(|| ObjectClass::ALL[best].label().to_string()),
            subclass: None,
            subclass_probability: None,
            probability: Some(top),
            class_probabilities: Some(probabilities),
            classifier: Some(self.info.name.clone()),
            classifier_version: Some(self.info.version.clone()),
            anomaly_score: score,
        }
    }
}

/// The largest |value| of a normalised spectrum the classifier was trained on: training/train.py
/// leaves out the spectra beyond it. They have no positive flux to speak of (an extraction at the
/// plate's edge or under a misjudged background, flagged NL or U), so the division by their
/// maximum blows their noise up to thousands (-6.8e5 for the one training spectrum of 1.4.0).
pub const MAX_NORMALISED_FLUX: f32 = 100.0;

/// The spectrum as the models take it: NaN -> 0, divided by its maximum (training/train.py
/// `normalise_flux` does the same). Returns whether the result lies in the domain the classifier
/// was trained on (every |value| <= [`MAX_NORMALISED_FLUX`]); outside it the class probabilities
/// mean nothing.
pub fn normalise_flux(flux: &[Option<f32>], out: &mut Vec<f32>) -> bool {
    let start = out.len();
    out.extend(flux.iter().map(|v| v.filter(|x| x.is_finite()).unwrap_or(0.0)));
    let peak = out[start..].iter().copied().fold(0.0f32, f32::max).max(1e-6);
    let mut in_domain = true;
    for value in &mut out[start..] {
        *value /= peak;
        in_domain &= value.abs() <= MAX_NORMALISED_FLUX;
    }
    in_domain
}

impl Classifier for OnnxClassifier {
    /// `inputs` are one plate's spectra: with `adapt_priors` their probabilities are adapted to
    /// the plate's class mix, estimated from them.
    fn classify(&self, inputs: &[ClassifierInput<'_>]) -> Result<Vec<Classification>, String> {
        let mut probabilities = Vec::with_capacity(inputs.len());
        let mut scores = Vec::with_capacity(inputs.len());
        let mut cutouts = Vec::new();
        let mut fluxes = Vec::new();
        let mut in_domain = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(self.batch) {
            cutouts.clear();
            fluxes.clear();
            for input in chunk {
                if input.cutout.len() != CUTOUT_ROWS * CUTOUT_COLUMNS || input.flux.len() != GRID_BINS {
                    return Err(format!(
                        "a cutout of {} values or a spectrum of {} bins: the model takes {}x{} and {GRID_BINS}",
                        input.cutout.len(),
                        input.flux.len(),
                        CUTOUT_ROWS,
                        CUTOUT_COLUMNS
                    ));
                }
                cutouts.extend_from_slice(input.cutout);
                in_domain.push(normalise_flux(input.flux, &mut fluxes));
            }
            let batch = self.infer(&cutouts, &fluxes).map_err(|e| e.to_string())?;
            match batch.scores {
                Some(s) => scores.extend(s.into_iter().map(Some)),
                None => scores.extend(std::iter::repeat_n(None, batch.probabilities.len())),
            }
            probabilities.extend(batch.probabilities);
        }
        if let Some(training) = &self.adapt_from {
            super::priors::adapt(&mut probabilities, training);
        }
        let mut classes: Vec<Classification> = probabilities
            .into_iter()
            .zip(scores)
            .zip(in_domain)
            .map(|((p, score), in_domain)| self.classification(p, score, in_domain))
            .collect();
        self.assign_subclasses(inputs, &mut classes).map_err(|e| e.to_string())?;
        Ok(classes)
    }

    fn describe(&self) -> (String, String) {
        (self.info.name.clone(), self.info.version.clone())
    }

    /// Name, version, and whether the probabilities were adapted to the plate's class mix,
    /// with that mix (the mean of the adapted probabilities: the EM estimate without its
    /// pseudo-counts), by class label.
    fn provenance(&self, classes: &[Classification]) -> serde_json::Value {
        let mut value = serde_json::json!({
            "name": self.info.name,
            "version": self.info.version,
            "adapt_priors": self.adapt_from.is_some() && super::priors::can_adapt(classes.len()),
        });
        if !self.info.members.is_empty() {
            value["members"] = serde_json::json!(self.info.members);
        }
        if let Some((_, info)) = &self.anomaly {
            value["anomaly_model"] = serde_json::json!({ "name": info.name, "version": info.version });
        }
        if let Some(info) = self.subclass_info() {
            value["subclass_model"] = info.provenance();
        }
        let rows: Vec<&[f32; 10]> = classes.iter().filter_map(|c| c.class_probabilities.as_ref()).filter(|p| p.iter().all(|v| v.is_finite())).collect();
        if !rows.is_empty() {
            let mix: serde_json::Map<String, serde_json::Value> = ObjectClass::ALL
                .iter()
                .enumerate()
                .map(|(k, class)| {
                    let mean = rows.iter().map(|p| p[k] as f64).sum::<f64>() / rows.len() as f64;
                    (class.label().to_string(), serde_json::json!((mean * 1e5).round() / 1e5))
                })
                .collect();
            value["class_mix"] = serde_json::Value::Object(mix);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_is_normalised_like_the_training() {
        let mut out = vec![9.0];
        normalise_flux(&[Some(2.0), None, Some(f32::NAN), Some(4.0)], &mut out);
        assert_eq!(out, vec![9.0, 0.5, 0.0, 0.0, 1.0]);
        let mut zeros = Vec::new();
        assert!(normalise_flux(&[None, None], &mut zeros));
        assert_eq!(zeros, vec![0.0, 0.0]);
    }

    #[test]
    fn a_spectrum_without_positive_flux_is_outside_the_training_domain() {
        // Its noise divided by the floor of 1e-6: the case train.py leaves out.
        assert!(!normalise_flux(&[Some(-0.5), Some(0.0), Some(-2.0)], &mut Vec::new()));
        // A peak of 1e-4 under noise of -0.02: normalised to -200.
        assert!(!normalise_flux(&[Some(1e-4), Some(-0.02)], &mut Vec::new()));
        // Strong absorption under a real peak stays in.
        assert!(normalise_flux(&[Some(1.0), Some(-50.0)], &mut Vec::new()));
    }

    #[test]
    fn the_training_prior_is_checked_and_defaults_to_uniform() {
        let info = |prior: &str| -> ModelInfo {
            serde_json::from_str(&format!(r#"{{"name": "m", "version": "1", "classes": []{prior}}}"#)).unwrap()
        };
        assert_eq!(info("").prior().unwrap(), [0.1; 10]);
        let given = info(r#", "training_prior": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]"#).prior().unwrap();
        assert!(given.iter().all(|p| (p - 0.1).abs() < 1e-12), "normalised: {given:?}");
        assert!(info(r#", "training_prior": [0.5, 0.5]"#).prior().unwrap_err().contains("2 values"));
        assert!(info(r#", "training_prior": [0, 1, 1, 1, 1, 1, 1, 1, 1, 1]"#).prior().unwrap_err().contains("positive"));
    }

    #[test]
    fn a_model_reads_only_spectra_extracted_as_its_training_spectra() {
        let info = |extra: &str| -> ModelInfo {
            serde_json::from_str(&format!(r#"{{"name": "m", "version": "1", "classes": []{extra}}}"#)).unwrap()
        };
        let old = info("");
        assert_eq!(old.flux_extraction, BOX_EXTRACTION, "models that record nothing were trained on box sums");
        assert!(old.check_extraction(BOX_EXTRACTION).is_ok());
        let refused = old.check_extraction(crate::pipeline::extract::FLUX_EXTRACTION).unwrap_err();
        assert!(refused.contains("m 1") && refused.contains("box weights") && refused.contains("optimal weights"), "{refused}");
        let new = info(r#", "flux_extraction": "optimal""#);
        assert!(new.check_extraction(crate::pipeline::extract::FLUX_EXTRACTION).is_ok());
        assert!(new.check_extraction(BOX_EXTRACTION).is_err());
    }

    #[test]
    fn a_missing_runtime_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let message = find_runtime("/nonexistent/libonnxruntime.so", dir.path()).unwrap_err().to_string();
        assert!(message.contains("ORT_DYLIB_PATH") && message.contains("/nonexistent/libonnxruntime.so"), "{message}");
    }
}
