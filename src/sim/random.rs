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

/// Mixes several words into one seed, for streams named by a seed and constants. The parts are
/// XORed into SplitMix64's counter and only the last step is mixed, so the result is linear in
/// the parts before that mix: two sequences whose parts differ together can collide (seeds
/// 1-2000 with plate indices 0-49 gave 2,112 distinct streams for 100,000 plates). With only the
/// first part varying it is injective (each step is a bijection of the counter): that is how
/// [`plate_stream`] uses it. Objects, where two parts vary, use [`hash_parts`].
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

/// The seed of stream `tag` ("the grain noise", "the defects") of plate `index` of a run with
/// `seed`: [`derive_seed`] of (`seed` XOR [`index_key`]`(index)`, 0, `tag`).
///
/// The first plate of a run (index 0) keeps the stream it had when plate streams were
/// `derive_seed(&[seed, index, tag])`, so every single-plate run (the training, validation and
/// held-out sets, the detection tests' plates) is unchanged. Until 2026-12-07 the other plates
/// of multi-plate runs repeated those of runs with nearby seeds (`--seed 1 --plates 50` and
/// `--seed 3 --plates 50` shared 48 of their fields, grain-noise patterns and defect sets). Now two
/// plates share a stream only if `seed ^ index_key(index)` agree, which for seeds below 2^32
/// and runs of up to [`DISTINCT_PLATE_INDICES`] plates cannot happen (a unit test checks that the
/// keys' upper halves differ from each other and from 0).
pub fn plate_stream(seed: u64, index: u64, tag: u64) -> u64 {
    derive_seed(&[seed ^ index_key(index), 0, tag])
}

/// Plate indices below this have keys whose upper 32 bits are distinct and non-zero.
pub const DISTINCT_PLATE_INDICES: u64 = 100_000;

/// 0 for the first plate of a run, else a hash of the index.
fn index_key(index: u64) -> u64 {
    if index == 0 { 0 } else { hash_parts(&[0x504c_4154_4b45_5953, index]) }
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

    /// Stream `tag` of plate `index` of a run with `seed` ([`plate_stream`]).
    pub fn for_plate(seed: u64, index: usize, tag: u64) -> SimRng {
        SimRng::new(plate_stream(seed, index as u64, tag))
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
    fn plates_of_runs_with_other_seeds_have_their_own_streams() {
        // The first plate of a run keeps its old stream (single-plate runs are unchanged).
        for seed in [1u64, 2026, 3101] {
            assert_eq!(plate_stream(seed, 0, 0x4e4f_4953), derive_seed(&[seed, 0, 0x4e4f_4953]));
        }
        // Seeds 1-2000 with 50 plates each: the old derivation gave 2,112 distinct streams.
        let old: std::collections::HashSet<u64> = (1..=2000u64).flat_map(|s| (0..50u64).map(move |i| derive_seed(&[s, i, 0x504c_4154]))).collect();
        assert_eq!(old.len(), 2112);
        let new: std::collections::HashSet<u64> = (1..=2000u64).flat_map(|s| (0..50u64).map(move |i| plate_stream(s, i, 0x504c_4154))).collect();
        assert_eq!(new.len(), 100_000);
        // The guarantee for any seeds below 2^32: the keys' upper halves are distinct and non-zero,
        // so seed ^ key cannot agree for two (seed, index) pairs.
        let mut upper: Vec<u64> = (1..DISTINCT_PLATE_INDICES).map(|i| index_key(i) >> 32).collect();
        assert!(upper.iter().all(|&u| u != 0));
        upper.sort_unstable();
        upper.dedup();
        assert_eq!(upper.len() as u64, DISTINCT_PLATE_INDICES - 1);
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
