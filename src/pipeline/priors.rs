//! The class mix of a plate: adapting the classifier's probabilities to it.
//!
//! The CNN is trained with every class weighted equally (training/train.py weights the loss
//! inversely to class frequency), so its probabilities answer "which class, if all ten were
//! equally common?". On a real plate nine spectra in ten are ordinary stars and planetary nebulae
//! are one in ten thousand: read as they are, the probabilities send hundreds of faint stars to
//! the rare classes (on the held-out realistic plates, 1380 stars came out as Seyferts).
//!
//! By Bayes' rule a change of prior alone rescales the posteriors (Saerens, Latinne &
//! Decaestecker 2002, Neural Computation 14, 21, eq. 2.2):
//!
//! p'(ω | x) ∝ p(ω | x) · π'(ω) / π(ω),
//!
//! with π the training prior and π' the plate's. π' is not known in advance, but it is the
//! fixed point of the EM iteration of their section 2.3: adjust the posteriors with the current
//! π', take π' as the mean adjusted posterior, repeat. Each plate gets its own: the class mix
//! changes with galactic latitude and the plate's depth. A weak Dirichlet prior (one pseudo-count
//! per class) keeps a class that a plate lacks from being ruled out altogether.

/// Plates with fewer spectra than this keep the model's probabilities: the mix of a handful of
/// spectra says little about the sky's.
pub const MIN_SPECTRA: usize = 200;
/// Pseudo-counts per class added to the EM estimate (a Dirichlet(1 + PSEUDO_COUNT) prior).
const PSEUDO_COUNT: f64 = 1.0;
/// EM stops when no class fraction moves by more than this, or after MAX_ITERATIONS.
const TOLERANCE: f64 = 1e-7;
const MAX_ITERATIONS: usize = 1000;

/// The posteriors re-weighted from the training prior to `prior` (normalised to sum to 1).
pub fn reweight<const N: usize>(probabilities: &[f32; N], prior: &[f64; N], training: &[f64; N]) -> [f32; N] {
    let mut out = [0.0f64; N];
    for k in 0..N {
        out[k] = probabilities[k].max(0.0) as f64 * prior[k] / training[k];
    }
    let total: f64 = out.iter().sum();
    if !(total > 0.0 && total.is_finite()) {
        return *probabilities;
    }
    out.map(|v| (v / total) as f32)
}

/// The class fractions of a set of spectra (one plate) by EM over their posteriors, starting
/// from the training prior. Rows with a non-finite probability are left out.
pub fn estimate<const N: usize>(probabilities: &[[f32; N]], training: &[f64; N]) -> [f64; N] {
    let rows: Vec<&[f32; N]> = probabilities.iter().filter(|p| p.iter().all(|v| v.is_finite())).collect();
    let mut prior = *training;
    if rows.is_empty() {
        return prior;
    }
    let denominator = rows.len() as f64 + N as f64 * PSEUDO_COUNT;
    for _ in 0..MAX_ITERATIONS {
        let mut sum = [0.0f64; N];
        for p in &rows {
            let adjusted = reweight(p, &prior, training);
            for k in 0..N {
                sum[k] += adjusted[k] as f64;
            }
        }
        let next = sum.map(|s| (s + PSEUDO_COUNT) / denominator);
        let moved = next.iter().zip(&prior).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        prior = next;
        if moved < TOLERANCE {
            break;
        }
    }
    prior
}

/// Whether a plate of `spectra` spectra has enough of them to estimate its class mix.
pub fn can_adapt(spectra: usize) -> bool {
    spectra >= MIN_SPECTRA
}

/// Adapts one plate's posteriors to its own class mix in place; returns the estimated mix, or
/// None when the plate has too few spectra to estimate it (the probabilities are then kept).
pub fn adapt<const N: usize>(probabilities: &mut [[f32; N]], training: &[f64; N]) -> Option<[f64; N]> {
    if !can_adapt(probabilities.len()) {
        return None;
    }
    let prior = estimate(probabilities, training);
    for p in probabilities.iter_mut().filter(|p| p.iter().all(|v| v.is_finite())) {
        *p = reweight(p, &prior, training);
    }
    Some(prior)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::random::SimRng;

    /// Two classes with unit-variance Gaussian likelihoods at ∓1: the Bayes posterior of class 1
    /// under equal priors is the logistic of 2x.
    fn posterior(x: f64) -> [f32; 2] {
        let p1 = 1.0 / (1.0 + (-2.0 * x).exp());
        [(1.0 - p1) as f32, p1 as f32]
    }

    fn sample(fraction_1: f64, n: usize, seed: u64) -> (Vec<[f32; 2]>, Vec<usize>) {
        let mut rng = SimRng::new(seed);
        (0..n)
            .map(|_| {
                let class = usize::from(rng.chance(fraction_1));
                let x = if class == 1 { 1.0 } else { -1.0 } + rng.normal();
                (posterior(x), class)
            })
            .unzip()
    }

    #[test]
    fn em_recovers_the_mix_and_the_adapted_labels_are_better() {
        let training = [0.5, 0.5];
        let (mut probabilities, truth) = sample(0.1, 20_000, 7);
        let accuracy = |p: &[[f32; 2]]| {
            p.iter().zip(&truth).filter(|(p, t)| usize::from(p[1] > p[0]) == **t).count() as f64 / truth.len() as f64
        };
        let before = accuracy(&probabilities);
        let prior = adapt(&mut probabilities, &training).expect("enough spectra");
        assert!((prior[1] - 0.1).abs() < 0.01, "estimated fraction {prior:?}, true 0.1");
        let after = accuracy(&probabilities);
        // Bayes accuracy at π = 0.1 is about 0.93, at equal priors 0.84.
        assert!(after > before + 0.05 && after > 0.92, "accuracy {before:.3} -> {after:.3}");
        for p in &probabilities {
            assert!((p[0] + p[1] - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn a_mix_like_the_training_one_is_left_almost_alone() {
        let training = [0.5, 0.5];
        let (probabilities, _) = sample(0.5, 20_000, 8);
        let prior = estimate(&probabilities, &training);
        assert!((prior[1] - 0.5).abs() < 0.015, "{prior:?}");
    }

    #[test]
    fn few_spectra_or_broken_rows_keep_the_model_probabilities() {
        let training = [0.5, 0.5];
        let mut few = vec![[0.2f32, 0.8]; MIN_SPECTRA - 1];
        assert!(adapt(&mut few, &training).is_none());
        assert!(few.iter().all(|p| *p == [0.2, 0.8]));
        let mut with_nan = vec![[0.9f32, 0.1]; MIN_SPECTRA];
        with_nan[3] = [f32::NAN, f32::NAN];
        let prior = adapt(&mut with_nan, &training).unwrap();
        assert!(prior.iter().all(|v| v.is_finite()) && prior[0] > 0.9, "{prior:?}");
        assert!(with_nan[3][0].is_nan());
        // Only class 0 is seen: the pseudo-count keeps class 1 possible.
        assert!(prior[1] > 0.0);
    }
}
