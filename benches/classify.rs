//! Inference speed of the classify stage: the committed CNN, anomaly and subclass models on batches of
//! cutouts, as the pipeline runs them (ONNX Runtime from the project's .venv, 2 threads), and the
//! subclass model alone.
//!   cargo bench --bench classify

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dfbs_vo::pipeline::classify::{find_runtime, ClassifyOptions, OnnxClassifier};
use dfbs_vo::pipeline::plate::{Classifier, ClassifierInput};

fn inference(c: &mut Criterion) {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let runtime = find_runtime("", project).expect("ONNX Runtime (run scripts/install.sh)");
    // As the pipeline runs it, with the plate's class mix estimated (pipeline::priors).
    let options = ClassifyOptions { threshold: 0.8, threads: 2, batch: 256, adapt_priors: true };
    let classifier = OnnxClassifier::load(&runtime, &project.join("models"), options).expect("the committed model");
    // Cutouts shaped like real ones: a bright vertical trace on a dark, zero-padded frame.
    let n = 1024;
    let mut cutouts = vec![vec![0.0f32; 160 * 50]; n];
    for (i, cutout) in cutouts.iter_mut().enumerate() {
        for row in 10..150 {
            for column in 15..35 {
                let across = (column as f32 - 25.0) / 2.0;
                cutout[row * 50 + column] = (-(across * across)).exp() * (0.3 + 0.7 * ((row + i) % 40) as f32 / 40.0);
            }
        }
    }
    let fluxes: Vec<Vec<Option<f32>>> = (0..n).map(|i| (0..136).map(|k| Some(((k + i) % 50) as f32)).collect()).collect();
    let inputs: Vec<ClassifierInput> = cutouts.iter().zip(&fluxes).map(|(cutout, flux)| ClassifierInput { cutout, flux }).collect();
    let mut group = c.benchmark_group("classify");
    group.throughput(Throughput::Elements(n as u64));
    group.sample_size(10);
    group.bench_function("cnn+anomaly+subclass, 1024 cutouts in batches of 256", |b| b.iter(|| black_box(classifier.classify(&inputs).unwrap())));
    // The subclass model runs only on the spectra labelled with a class that has subclasses
    // (M stars and white dwarfs: a few per cent on a realistic plate, 20% on a balanced one):
    // its cost per such spectrum, in batches of 256.
    let mut normalised = Vec::new();
    for flux in &fluxes {
        dfbs_vo::pipeline::classify::normalise_flux(flux, &mut normalised);
    }
    group.bench_function("subclass model alone, 1024 spectra in batches of 256", |b| {
        b.iter(|| {
            for chunk in normalised.chunks(256 * 136) {
                black_box(classifier.infer_subclasses(chunk).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, inference);
criterion_main!(benches);
