//! Deterministic random numbers for the simulator.
//!
//! The simulator promises byte-identical files for the same arguments, whatever the number of
//! threads and whatever version of a random-number crate is around, so it carries its own small
//! generators:
//! - [`SimRng`]: xoshiro256** (Blackman & Vigna 2018), seeded through SplitMix64, for drawing
//!   objects and plate properties in a fixed order;
//! - [`pixel_noise`]: a counter-based hash of (stream, x, y), so that any band of the plate can be
//!   rendered on any thread and still give the same grain noise.

/// SplitMix64 step (Steele, Lea & Flood 2014): a good 64-bit mixer and the recommended seeder
/// of the xoshiro family.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes several words into one seed, for streams named by a seed and constants ("the defects of
/// plate 3 of seed 42"). The parts are XORed into SplitMix64's counter and only the last step is
/// mixed, so the result is linear in the parts before that mix: two sequences whose parts differ
/// together can collide. Kept as it is because every plate's sky, grain noise and defects (and
/// the detection tests, tuned on them) come from it; objects, where two parts vary (seed and
/// object number), use [`hash_parts`].
pub fn derive_seed(parts: &[u64]) -> u64 {
    let mut state = 0x6A09_E667_F3BC_C909u64;
    let mut out = 0;
    for &part in parts {
        state ^= part;
        out = splitmix64(&mut state);
    }
    out
}

/// Mixes several words into one seed, each part XORed into the mixed output of the parts before
/// it: a hash of the whole sequence, for streams named by several varying parts ("object 1234
/// of plate 3 of seed 42").
///
/// Objects were drawn from [`derive_seed`] until 2026-12-07: the seed of (seed, plate, object)
/// was mix(((C ^ seed) + 2γ) ^ object + γ), so plates whose seeds differ in the low bits drew
/// the same objects under other numbers. The 240 training plates (seeds 1001-1240, 3,000 objects
/// each) held 4,032 distinct objects, and the validation plates' objects were all among them
/// (models/README.md).
pub fn hash_parts(parts: &[u64]) -> u64 {
    let mut state = 0x6A09_E667_F3BC_C909u64;
    for &part in parts {
        state ^= part;
        state = splitmix64(&mut state);
    }
    state
}

/// xoshiro256** generator.
#[derive(Debug, Clone)]
pub struct SimRng {
    s: [u64; 4],
}

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        SimRng { s }
    }

    /// A generator for a named sub-stream, independent of how many numbers the parent drew.
    pub fn from_parts(parts: &[u64]) -> SimRng {
        SimRng::new(derive_seed(parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [low, high).
    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Uniform integer in 0..n (n > 0), by Lemire's multiply-shift (bias below 2^-64 * n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Standard normal deviate (Box–Muller; one of the pair is dropped to keep the stream
    /// position independent of call history).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Normal deviate with the given mean and standard deviation.
    pub fn gauss(&mut self, mean: f64, sigma: f64) -> f64 {
        mean + sigma * self.normal()
    }

    /// True with probability p.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Index drawn with probability proportional to `weights` (all >= 0, sum > 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len() - 1
    }
}

/// Counter-based standard-normal noise for pixel (x, y) of stream `stream`: the same value
/// whichever thread asks, in whatever order. Uses the sum of four uniforms (Irwin–Hall,
/// rescaled), which is close enough to Gaussian for grain noise and much cheaper than
/// Box–Muller.
#[inline]
pub fn pixel_noise(stream: u64, x: u32, y: u32) -> f32 {
    let mut state = stream ^ ((y as u64) << 32 | x as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let a = splitmix64(&mut state);
    let b = splitmix64(&mut state);
    let sum = (a & 0xFFFF_FFFF) + (a >> 32) + (b & 0xFFFF_FFFF) + (b >> 32);
    // Sum of four U(0,1): mean 2, variance 4/12.
    let u = sum as f64 / (u32::MAX as f64 + 1.0);
    ((u - 2.0) * (3.0f64).sqrt()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map({
            let mut r = SimRng::new(7);
            move |_| r.next_u64()
        }).collect();
        let b: Vec<u64> = (0..4).map({
            let mut r = SimRng::new(7);
            move |_| r.next_u64()
        }).collect();
        assert_eq!(a, b);
        assert_ne!(SimRng::from_parts(&[1, 2]).next_u64(), SimRng::from_parts(&[2, 1]).next_u64());
    }

    #[test]
    fn every_object_of_every_plate_has_its_own_stream() {
        // The training plates' (seed, plate, object) triples: with the old derivation, 720,000
        // triples gave 4,032 distinct seeds.
        let mut seeds = std::collections::HashSet::new();
        for seed in 1001..1241u64 {
            for object in 1..=3000u64 {
                seeds.insert(hash_parts(&[seed, 0, object]));
            }
        }
        assert_eq!(seeds.len(), 240 * 3000);
        assert!(!seeds.contains(&hash_parts(&[3101, 0, 1])), "held-out plates draw other objects");
        assert_ne!(hash_parts(&[1, 0, 2]), hash_parts(&[2, 0, 1]));
        assert_ne!(hash_parts(&[5]), hash_parts(&[5, 0]), "a trailing zero part still counts");
        // What derive_seed, which drew the objects until 2026-12-07, does with two varying parts.
        let old: std::collections::HashSet<u64> = (1001..1241u64).flat_map(|seed| (1..=3000u64).map(move |o| derive_seed(&[seed, 0, o]))).collect();
        assert_eq!(old.len(), 4032);
    }

    #[test]
    fn normal_moments() {
        let mut rng = SimRng::new(1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn pixel_noise_moments() {
        let n = 300u32;
        let xs: Vec<f64> = (0..n * n).map(|i| pixel_noise(9, i % n, i / n) as f64).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn weighted_follows_weights() {
        let mut rng = SimRng::new(3);
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[rng.weighted(&[1.0, 0.0, 2.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((counts[2] as f64 / counts[0] as f64 - 2.0).abs() < 0.1);
    }
}
