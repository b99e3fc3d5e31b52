//! The compiled spectral model every template turns into, and its evaluation.
//!
//! A template's drawn parameters are compiled once (in `Template::draw`) into a
//! [`SpectralModel`]:
//!
//! ```text
//! F(λ) = scale · T_igm(λ) · [ C(λ) · Π_k (1 - D_k(λ)) · t(Σ_i A_i(λ)) + Σ_j E_j(λ) ]
//! ```
//!
//! - `C` is a sum of smooth continuum components (black bodies, power laws);
//! - `A_i` are absorption features given as *fractional depths*: Gaussian lines and saw-tooth
//!   molecular bands add linearly, `t(a) = 1 - a`, rolled off smoothly below 0.1 so that
//!   heavily overlapping features never drive the flux negative (an assumption of the model,
//!   not physics); broad error-function edges (Balmer jump, line-blanketing depression,
//!   4000 Å break) multiply, `Π (1 - d_k)`, so that lines inside a depressed region keep their
//!   equivalent width;
//! - `E_j` are Gaussian emission lines (additive, amplitudes in the same units as `C`);
//! - `T_igm` is the mean intergalactic Lyman-series transmission of quasars (Madau 1995).
//!
//! Because every feature is linear in the depths and built from Gaussians, error functions and
//! piecewise-linear ramps, its convolution with a Gaussian instrumental profile is known in
//! closed form: [`SpectralModel::eval`] takes the instrumental sigma (0 for the intrinsic
//! spectrum) and returns the smoothed spectrum without numerical integration. The continuum
//! components are smooth on the scale of the DFBS resolution (~5 nm) and are not smoothed; the
//! smoothing of the product `C · Π(1 - D) · t(ΣA)` is approximated by the product of the
//! smoothed factors, exact where the continuum and edges are locally linear and the lines do
//! not saturate (within ~3 % of a brute-force convolution at 5 nm FWHM in the tests).

use std::f64::consts::{PI, SQRT_2};

/// Second radiation constant hc/k in nm·K (CODATA 2018: 1.438 776 877e-2 m·K).
pub const C2_NM_K: f64 = 1.438_776_877e7;
/// Speed of light in km/s.
pub const C_KM_S: f64 = 299_792.458;
/// FWHM / sigma of a Gaussian, 2·sqrt(2 ln 2).
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;
/// Equivalent width / (depth · FWHM) of a Gaussian, sqrt(pi / (4 ln 2)).
pub const GAUSS_AREA_PER_FWHM: f64 = 1.064_467_019_431_226;
/// Deepest fractional depth given to a single Gaussian absorption line; stronger lines are
/// widened at constant equivalent width instead (at ~5 nm resolution only the equivalent width
/// is seen).
pub const MAX_LINE_DEPTH: f64 = 0.85;
/// Refractive index of standard air in the visible (Edlén 1966 at 500 nm: 1.000 279), used to
/// bring vacuum rest wavelengths of ultraviolet quasar lines to observed air wavelengths.
pub const N_AIR: f64 = 1.000_279;

/// Which side of a reference wavelength a feature lies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Toward shorter wavelengths ("degraded to the violet" for a band).
    Blue,
    /// Toward longer wavelengths ("degraded to the red" for a band).
    Red,
}

/// Spectral shape of a continuum component (F_λ).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ContinuumShape {
    /// Planck function B_λ(T).
    Blackbody { temperature_k: f64 },
    /// F_λ ∝ λ^index (index = -(2 + α_ν) for F_ν ∝ ν^α_ν).
    PowerLaw { index: f64 },
}

impl ContinuumShape {
    /// Unnormalised shape, of order 1 near 500 nm for the temperatures used here.
    #[inline]
    pub fn shape(self, lambda_nm: f64) -> f64 {
        match self {
            ContinuumShape::Blackbody { temperature_k } => {
                let x = C2_NM_K / (lambda_nm * temperature_k);
                if x > 700.0 {
                    return 0.0;
                }
                let r = 500.0 / lambda_nm;
                let r2 = r * r;
                r2 * r2 * r / x.exp_m1()
            }
            ContinuumShape::PowerLaw { index } => (lambda_nm / 500.0).powf(index),
        }
    }
}

/// One continuum component: `scale · shape(λ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinuumComponent {
    pub shape: ContinuumShape,
    pub scale: f64,
}

impl ContinuumComponent {
    /// A component whose value at `lambda_ref_nm` is `value`.
    pub fn with_value_at(shape: ContinuumShape, lambda_ref_nm: f64, value: f64) -> Self {
        let s = shape.shape(lambda_ref_nm);
        let scale = if s > 0.0 { value / s } else { 0.0 };
        ContinuumComponent { shape, scale }
    }

    #[inline]
    pub fn at(&self, lambda_nm: f64) -> f64 {
        self.scale * self.shape.shape(lambda_nm)
    }
}

/// An absorption feature, as a fractional depth that adds to the others.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Absorber {
    /// Gaussian line: `depth · exp(-(λ-c)²/2σ²)`; equivalent width `depth · σ · sqrt(2π)`.
    Line { center_nm: f64, sigma_nm: f64, depth: f64 },
    /// Smooth step: `depth · Φ((c-λ)/σ)` on the blue side (`Side::Blue`, e.g. a Balmer jump or
    /// the line-blanketing depression of cool stars), `depth · Φ((λ-c)/σ)` on the red side.
    /// A negative depth is an emission edge.
    Edge { center_nm: f64, sigma_nm: f64, depth: f64, side: Side },
    /// Molecular band: full `depth` at the head, falling linearly to 0 over `length_nm` toward
    /// the side the band is degraded to (TiO: red; C2 Swan: blue). The head is sharp.
    Band { head_nm: f64, length_nm: f64, depth: f64, shaded: Side },
}

/// Standard normal density.
#[inline]
fn phi(t: f64) -> f64 {
    (-0.5 * t * t).exp() * (1.0 / (2.0 * PI).sqrt())
}

/// Complementary error function, Chebyshev fit of Numerical Recipes (`erfcc`, Press et al.
/// 2007 §6.2), fractional error below 1.2e-7 everywhere.
#[inline]
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Standard normal cumulative distribution.
#[inline]
pub fn big_phi(t: f64) -> f64 {
    0.5 * erfc(-t / SQRT_2)
}

/// A step from 0 to 1 at t = 0, smoothed by the Gaussian of width `sigma` (t in the same units).
#[inline]
fn smooth_step(t: f64, sigma: f64) -> f64 {
    if sigma > 0.0 {
        big_phi(t / sigma)
    } else if t > 0.0 {
        1.0
    } else if t < 0.0 {
        0.0
    } else {
        0.5
    }
}

impl Absorber {
    /// Fractional depth at `lambda_nm`, smoothed by a Gaussian of sigma `smooth_nm` (0: none).
    #[inline]
    pub fn depth_at(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        match *self {
            Absorber::Line { center_nm, sigma_nm, depth } => {
                let s2 = sigma_nm * sigma_nm + smooth_nm * smooth_nm;
                let dx = lambda_nm - center_nm;
                if dx * dx > 64.0 * s2 {
                    return 0.0;
                }
                let s = s2.sqrt();
                depth * sigma_nm / s * (-0.5 * dx * dx / s2).exp()
            }
            Absorber::Edge { center_nm, sigma_nm, depth, side } => {
                let s = (sigma_nm * sigma_nm + smooth_nm * smooth_nm).sqrt();
                let t = match side {
                    Side::Blue => center_nm - lambda_nm,
                    Side::Red => lambda_nm - center_nm,
                };
                depth * smooth_step(t, s)
            }
            Absorber::Band { head_nm, length_nm, depth, shaded } => {
                // u: distance from the head into the band.
                let u0 = match shaded {
                    Side::Red => lambda_nm - head_nm,
                    Side::Blue => head_nm - lambda_nm,
                };
                let s = smooth_nm;
                if s <= 0.0 {
                    return if (0.0..=length_nm).contains(&u0) {
                        depth * (1.0 - u0 / length_nm)
                    } else {
                        0.0
                    };
                }
                if u0 < -8.0 * s || u0 > length_nm + 8.0 * s {
                    return 0.0;
                }
                // ∫_0^L d (1 - u/L) N(u; u0, s) du in closed form.
                let t0 = -u0 / s;
                let t1 = (length_nm - u0) / s;
                depth
                    * ((1.0 - u0 / length_nm) * (big_phi(t1) - big_phi(t0))
                        + s / length_nm * (phi(t1) - phi(t0)))
            }
        }
    }
}

/// A Gaussian emission line; `amplitude` is the peak in continuum units, so the line flux is
/// `amplitude · σ · sqrt(2π)` (units · nm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmissionLine {
    pub center_nm: f64,
    pub sigma_nm: f64,
    pub amplitude: f64,
}

impl EmissionLine {
    #[inline]
    pub fn at(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        let s2 = self.sigma_nm * self.sigma_nm + smooth_nm * smooth_nm;
        let dx = lambda_nm - self.center_nm;
        if dx * dx > 64.0 * s2 {
            return 0.0;
        }
        self.amplitude * self.sigma_nm / s2.sqrt() * (-0.5 * dx * dx / s2).exp()
    }

    pub fn flux(&self) -> f64 {
        self.amplitude * self.sigma_nm * (2.0 * PI).sqrt()
    }
}

/// Rest wavelengths (vacuum, nm) and Madau (1995, ApJ 441, 18, eq. 2 and Table 2) coefficients
/// A_j of the mean Lyman-series effective optical depth of the intergalactic medium,
/// τ_j = A_j (λ_obs / λ_j)^3.46 for λ_obs < λ_j (1 + z_em).
const LYMAN_SERIES: [(f64, f64); 4] =
    [(121.567, 3.6e-3), (102.572, 1.7e-3), (97.254, 1.2e-3), (94.974, 9.3e-4)];
/// Lyman limit, vacuum nm.
pub const LYMAN_LIMIT_NM: f64 = 91.175;

/// Mean intergalactic transmission blueward of Lyman α of a source at redshift `z`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Igm {
    pub z: f64,
    /// Multiplies the Madau optical depths (sight-line to sight-line scatter; assumption).
    pub tau_scale: f64,
    /// Residual transmission below the Lyman limit (Lyman-limit systems; assumption).
    pub lyman_limit_transmission: f64,
}

impl Igm {
    #[inline]
    pub fn transmission(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        let zp1 = (1.0 + self.z) / N_AIR;
        let lya_edge = LYMAN_SERIES[0].0 * zp1;
        if lambda_nm > lya_edge + 8.0 * smooth_nm {
            return 1.0;
        }
        let mut t = 1.0;
        for &(lambda_j, a_j) in &LYMAN_SERIES {
            let edge = lambda_j * zp1;
            let w = smooth_step(edge - lambda_nm, smooth_nm);
            if w > 0.0 {
                let tau = self.tau_scale * a_j * (lambda_nm * N_AIR / lambda_j).powf(3.46);
                t *= 1.0 - (1.0 - (-tau).exp()) * w;
            }
        }
        let w = smooth_step(LYMAN_LIMIT_NM * zp1 - lambda_nm, smooth_nm);
        t * (1.0 - (1.0 - self.lyman_limit_transmission) * w)
    }
}

/// The compiled spectrum of one template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpectralModel {
    pub continuum: Vec<ContinuumComponent>,
    pub absorbers: Vec<Absorber>,
    pub emission: Vec<EmissionLine>,
    pub igm: Option<Igm>,
    /// Normalisation making the intrinsic spectrum 1 at [`NORM_LAMBDA_NM`].
    pub scale: f64,
}

/// Wavelength at which every template is normalised to 1.
pub const NORM_LAMBDA_NM: f64 = 445.0;

/// Transmission of the summed fractional depth `a`: 1 - a, continued below 0.1 by an
/// exponential tail with matching value and slope (never reaches 0).
#[inline]
fn transmission_of_depth(a: f64) -> f64 {
    if a <= 0.9 { 1.0 - a } else { 0.1 * (-(a - 0.9) / 0.1).exp() }
}

impl SpectralModel {
    pub fn new() -> Self {
        SpectralModel { scale: 1.0, ..Default::default() }
    }

    /// Sum of the continuum components at `lambda_nm` (no absorption, no lines).
    #[inline]
    pub fn continuum_at(&self, lambda_nm: f64) -> f64 {
        self.continuum.iter().map(|c| c.at(lambda_nm)).sum()
    }

    /// Continuum times absorption (edges, lines, bands), smoothed by `smooth_nm`.
    #[inline]
    fn absorbed_continuum(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        let c = self.continuum_at(lambda_nm);
        let mut a = 0.0;
        let mut edges = 1.0;
        for f in &self.absorbers {
            let d = f.depth_at(lambda_nm, smooth_nm);
            if matches!(f, Absorber::Edge { .. }) {
                edges *= 1.0 - d;
            } else {
                a += d;
            }
        }
        c * edges * transmission_of_depth(a)
    }

    #[inline]
    fn igm_at(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        match &self.igm {
            Some(igm) => igm.transmission(lambda_nm, smooth_nm),
            None => 1.0,
        }
    }

    /// Unnormalised model, smoothed by a Gaussian of sigma `smooth_nm` (0: intrinsic).
    pub fn eval_raw(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        let e: f64 = self.emission.iter().map(|l| l.at(lambda_nm, smooth_nm)).sum();
        (self.absorbed_continuum(lambda_nm, smooth_nm) + e) * self.igm_at(lambda_nm, smooth_nm)
    }

    /// Normalised mean of the intrinsic model over [`lo_nm`, `hi_nm`] (a pixel): emission lines
    /// integrated exactly (error functions), the absorbed continuum averaged over 4 sub-points,
    /// each smoothed by a Gaussian of half the sub-point spacing so that narrow absorption
    /// lines keep their equivalent width (to ~2 %; within 5 % of the exact mean also where the
    /// interval cuts through a deep line).
    pub fn eval_mean(&self, lo_nm: f64, hi_nm: f64) -> f64 {
        let (lo, hi) = if lo_nm <= hi_nm { (lo_nm, hi_nm) } else { (hi_nm, lo_nm) };
        let width = hi - lo;
        if width <= 0.0 {
            return self.eval(lo, 0.0);
        }
        const N: usize = 4;
        let step = width / N as f64;
        let smooth = 0.5 * step;
        let mut absorbed = 0.0;
        for i in 0..N {
            let l = lo + (i as f64 + 0.5) * step;
            absorbed += self.absorbed_continuum(l, smooth) * self.igm_at(l, smooth);
        }
        absorbed /= N as f64;
        let mut emitted = 0.0;
        for line in &self.emission {
            let (a, b) = ((lo - line.center_nm) / line.sigma_nm, (hi - line.center_nm) / line.sigma_nm);
            if b < -8.0 || a > 8.0 {
                continue;
            }
            emitted += line.flux() * (big_phi(b) - big_phi(a));
        }
        emitted /= width;
        let mid = 0.5 * (lo + hi);
        self.scale * (absorbed + emitted * self.igm_at(mid, width / 12f64.sqrt()))
    }

    /// Normalised model (see [`SpectralModel::eval_raw`]).
    #[inline]
    pub fn eval(&self, lambda_nm: f64, smooth_nm: f64) -> f64 {
        self.scale * self.eval_raw(lambda_nm, smooth_nm)
    }

    /// Fixes `scale` so that the intrinsic spectrum is 1 at [`NORM_LAMBDA_NM`].
    pub fn normalise(&mut self) {
        self.scale = 1.0;
        let raw = self.eval_raw(NORM_LAMBDA_NM, 0.0);
        self.scale = 1.0 / raw;
    }

    // ---- builders -------------------------------------------------------------------------

    /// Adds a continuum component worth `value` at `lambda_ref_nm`.
    pub fn add_continuum(&mut self, shape: ContinuumShape, lambda_ref_nm: f64, value: f64) {
        if value > 0.0 {
            self.continuum.push(ContinuumComponent::with_value_at(shape, lambda_ref_nm, value));
        }
    }

    /// Gaussian absorption line of equivalent width `ew_nm` and FWHM `fwhm_nm`; widened (at
    /// constant equivalent width) where it would be deeper than [`MAX_LINE_DEPTH`].
    pub fn absorb_line(&mut self, center_nm: f64, fwhm_nm: f64, ew_nm: f64) {
        if ew_nm <= 0.0 {
            return;
        }
        let fwhm = fwhm_nm.max(ew_nm / (GAUSS_AREA_PER_FWHM * MAX_LINE_DEPTH));
        let depth = ew_nm / (GAUSS_AREA_PER_FWHM * fwhm);
        self.absorbers.push(Absorber::Line { center_nm, sigma_nm: fwhm / FWHM_PER_SIGMA, depth });
    }

    /// Pressure-broadened line as a Gaussian core plus a Gaussian wing `wing_width` times wider
    /// holding `wing_fraction` of the equivalent width (a cheap stand-in for a Voigt/Stark
    /// profile whose convolution stays analytic).
    pub fn absorb_broad_line(
        &mut self,
        center_nm: f64,
        fwhm_nm: f64,
        ew_nm: f64,
        wing_fraction: f64,
        wing_width: f64,
    ) {
        self.absorb_line(center_nm, fwhm_nm, ew_nm * (1.0 - wing_fraction));
        self.absorb_line(center_nm, fwhm_nm * wing_width, ew_nm * wing_fraction);
    }

    pub fn edge(&mut self, center_nm: f64, sigma_nm: f64, depth: f64, side: Side) {
        if depth != 0.0 {
            let depth = depth.min(0.98);
            self.absorbers.push(Absorber::Edge { center_nm, sigma_nm, depth, side });
        }
    }

    pub fn band(&mut self, head_nm: f64, length_nm: f64, depth: f64, shaded: Side) {
        if depth > 0.0 {
            self.absorbers.push(Absorber::Band { head_nm, length_nm, depth, shaded });
        }
    }

    /// Emission line of integrated flux `flux` (continuum units × nm).
    pub fn emit_flux(&mut self, center_nm: f64, fwhm_nm: f64, flux: f64) {
        if flux > 0.0 {
            let sigma_nm = fwhm_nm / FWHM_PER_SIGMA;
            let amplitude = flux / (sigma_nm * (2.0 * PI).sqrt());
            self.emission.push(EmissionLine { center_nm, sigma_nm, amplitude });
        }
    }

    /// Emission line of (observed-frame) equivalent width `ew_nm` against the continuum already
    /// added; returns its flux.
    pub fn emit_ew(&mut self, center_nm: f64, fwhm_nm: f64, ew_nm: f64) -> f64 {
        let flux = ew_nm * self.continuum_at(center_nm);
        self.emit_flux(center_nm, fwhm_nm, flux);
        flux
    }
}

/// Cardelli, Clayton & Mathis (1989, ApJ 345, 245) extinction law A(λ)/A(V) for R_V = 3.1,
/// optical/near-infrared branch (eq. 3a, 3b; 1.1 ≤ x ≤ 3.3 µm⁻¹) and ultraviolet branch
/// (eq. 4a, 4b; x ≤ 5.9) for shorter wavelengths.
pub fn ccm_a_lambda_over_a_v(lambda_nm: f64) -> f64 {
    const R_V: f64 = 3.1;
    let x = 1000.0 / lambda_nm;
    if x < 1.1 {
        let xp = x.powf(1.61);
        return 0.574 * xp - 0.527 * xp / R_V;
    }
    if x <= 3.3 {
        let y = x - 1.82;
        let a = 1.0
            + y * (0.176_99
                + y * (-0.504_47
                    + y * (-0.024_27 + y * (0.720_85 + y * (0.019_79 + y * (-0.775_30 + y * 0.329_99))))));
        let b = y
            * (1.413_38
                + y * (2.283_05
                    + y * (1.072_33 + y * (-5.384_34 + y * (-0.622_51 + y * (5.302_60 - y * 2.090_02))))));
        return a + b / R_V;
    }
    let x = x.min(5.9);
    let a = 1.752 - 0.316 * x - 0.104 / ((x - 4.67).powi(2) + 0.341);
    let b = -3.090 + 1.825 * x + 1.206 / ((x - 4.62).powi(2) + 0.263);
    a + b / R_V
}

/// Factor by which dust of colour excess `ebv` dims light of `lambda_nm` relative to H-β
/// (486.13 nm): 10^(-0.4 · E(B-V) · R_V · (A_λ - A_Hβ)/A_V). Used for Balmer decrements and
/// other emission-line ratios of nebulae and galaxies.
pub fn reddening_relative_to_hbeta(lambda_nm: f64, ebv: f64) -> f64 {
    let k = 3.1 * (ccm_a_lambda_over_a_v(lambda_nm) - ccm_a_lambda_over_a_v(486.13));
    10f64.powf(-0.4 * ebv * k)
}

/// Full width at half maximum in nm of a line of velocity FWHM `kms` at `lambda_nm`.
#[inline]
pub fn kms_to_nm(kms: f64, lambda_nm: f64) -> f64 {
    lambda_nm * kms / C_KM_S
}
