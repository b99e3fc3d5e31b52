//! Emission-line templates: cataclysmic variables, planetary nebulae, Markarian (UV-excess)
//! galaxies, Seyfert 1 / compact galaxies and quasars.
//!
//! Emission lines are Gaussians of realistic width (a few tens of km/s for nebulae, hundreds for
//! galaxies' narrow lines, thousands for broad lines), placed at observed air wavelengths
//! λ_rest (1 + z). Line strengths are drawn as equivalent widths of one reference line against
//! the continuum plus intensity ratios of the others (Osterbrock & Ferland 2006; Kewley et al.
//! 2006, MNRAS 372, 961 for the ranges on the BPT diagram), reddened by internal dust with the
//! Cardelli, Clayton & Mathis (1989) law.

use super::lines::*;
use super::model::{
    kms_to_nm, reddening_relative_to_hbeta, Absorber, ContinuumComponent, ContinuumShape, Igm,
    Side, SpectralModel, FWHM_PER_SIGMA, GAUSS_AREA_PER_FWHM, N_AIR,
};
use super::stars::balmer_absorption;
use super::{log_uniform, scatter};
use crate::sim::random::SimRng;

// ------------------------------------------------------------------------------------------
// Shared pieces

/// Narrow-line spectrum of an H II region, a Seyfert 2 nucleus or a planetary nebula, as
/// intrinsic (dereddened) intensity ratios.
#[derive(Debug, Clone, PartialEq)]
pub struct NarrowLines {
    /// [O III] 500.7 / H-β.
    pub o3_to_hbeta: f64,
    /// [N II] 658.4 / H-α.
    pub n2_to_halpha: f64,
    /// [O II] 372.7 / H-β.
    pub o2_to_hbeta: f64,
    /// [Ne III] 386.9 / [O III] 500.7 (~0.1: Ne and O go together).
    pub ne3_to_o3: f64,
    /// ([S II] 671.6 + 673.1) / H-α.
    pub s2_to_halpha: f64,
    /// [O I] 630.0 / H-α.
    pub o1_to_halpha: f64,
    /// He I 587.6 / H-β.
    pub he1_to_hbeta: f64,
    /// He II 468.6 / H-β.
    pub he2_to_hbeta: f64,
    /// [Ne V] 342.6 / H-β (AGN only).
    pub ne5_to_hbeta: f64,
    /// [O III] 436.3 / [O III] 500.7 (electron temperature).
    pub o3_auroral: f64,
    /// [Ar III] 713.6 / H-β.
    pub ar3_to_hbeta: f64,
    /// Internal colour excess E(B-V) applied to the line ratios.
    pub ebv: f64,
    /// Line FWHM, km/s.
    pub fwhm_kms: f64,
}

impl NarrowLines {
    /// Adds the lines at redshift factor `zp1`, with the observed (reddened) H-β flux
    /// `hbeta_flux` (continuum units × nm).
    pub fn add(&self, s: &mut SpectralModel, zp1: f64, hbeta_flux: f64) {
        let ha = BALMER_CASE_B[0];
        let o3 = self.o3_to_hbeta;
        let n2 = self.n2_to_halpha * ha;
        let he1 = self.he1_to_hbeta;
        let lines: [(f64, f64); 28] = [
            (H_ALPHA, ha),
            (H_BETA, 1.0),
            (H_GAMMA, BALMER_CASE_B[2]),
            (H_DELTA, BALMER_CASE_B[3]),
            (H_EPSILON, BALMER_CASE_B[4]),
            (H8, BALMER_CASE_B[5]),
            (H9, BALMER_CASE_B[6]),
            (H10, BALMER_CASE_B[7]),
            (NE_V_3426, self.ne5_to_hbeta),
            (O_II_3727, self.o2_to_hbeta),
            (NE_III_3869, self.ne3_to_o3 * o3),
            (NE_III_3968, self.ne3_to_o3 * o3 / NE_III_RATIO),
            (HE_I_3889, 0.1 * he1),
            (O_III_4363, self.o3_auroral * o3),
            (HE_I_4471, 0.27 * he1),
            (HE_II_4686, self.he2_to_hbeta),
            (O_III_4959, o3 / O_III_RATIO),
            (O_III_5007, o3),
            (HE_II_5411, 0.08 * self.he2_to_hbeta),
            (N_II_5755, 0.015 * n2),
            (HE_I_5876, he1),
            (O_I_6300, self.o1_to_halpha * ha),
            (O_I_6364, self.o1_to_halpha * ha / 3.0),
            (N_II_6548, n2 / N_II_RATIO),
            (N_II_6584, n2),
            (HE_I_6678, 0.28 * he1),
            (S_II_6717, 0.55 * self.s2_to_halpha * ha),
            (S_II_6731, 0.45 * self.s2_to_halpha * ha),
        ];
        for (rest, ratio) in lines {
            let flux = ratio * reddening_relative_to_hbeta(rest, self.ebv) * hbeta_flux;
            s.emit_flux(rest * zp1, kms_to_nm(self.fwhm_kms, rest * zp1), flux);
        }
        let ar3 = self.ar3_to_hbeta * reddening_relative_to_hbeta(AR_III_7136, self.ebv);
        s.emit_flux(AR_III_7136 * zp1, kms_to_nm(self.fwhm_kms, AR_III_7136 * zp1), ar3 * hbeta_flux);
    }

    /// Observed H-β flux that gives H-α the observed equivalent width `halpha_ew_obs_nm`.
    pub fn hbeta_flux_for_halpha_ew(&self, s: &SpectralModel, zp1: f64, halpha_ew_obs_nm: f64) -> f64 {
        let halpha_flux = halpha_ew_obs_nm * s.continuum_at(H_ALPHA * zp1);
        halpha_flux / (BALMER_CASE_B[0] * reddening_relative_to_hbeta(H_ALPHA, self.ebv))
    }
}

/// Adds an old stellar population (the host galaxy of a Markarian galaxy or Seyfert) worth
/// `fraction` of the continuum at 550 nm rest, and its absorption features, each weakened by the
/// old population's share of the continuum at the feature. Feature strengths are those of an
/// early-type galaxy (Kinney et al. 1996, ApJ 467, 38 templates; 4000 Å break D4000 ~ 1.9):
/// assumption at the ~30 % level.
fn add_old_population(s: &mut SpectralModel, zp1: f64, teff_k: f64, fraction: f64) {
    if fraction <= 0.0 {
        return;
    }
    let old = ContinuumComponent::with_value_at(
        ContinuumShape::Blackbody { temperature_k: teff_k / zp1 },
        550.0 * zp1,
        fraction,
    );
    s.continuum.push(old);
    let share = |s: &SpectralModel, rest: f64| {
        let l = rest * zp1;
        old.at(l) / s.continuum_at(l)
    };
    let d4000 = 0.35 * share(s, 395.0);
    s.edge(400.0 * zp1, 6.0 * zp1, d4000, Side::Blue);
    let features = [
        (CA_II_K, 1.5, 1.2),
        (CA_II_H, 1.5, 1.0),
        (G_BAND, 1.5, 0.6),
        (H_BETA, 1.5, 0.2),
        (MG_B, 1.8, 0.6),
        (FE_5270, 1.2, 0.3),
        (NA_D, 1.5, 0.35),
    ];
    for (rest, fwhm, ew) in features {
        let f = share(s, rest);
        s.absorb_line(rest * zp1, fwhm * zp1, ew * f * zp1);
    }
}

/// Broad Balmer/helium lines and Fe II blends of a type 1 AGN, from the rest equivalent width
/// of broad H-β. Equivalent-width ratios follow the Vanden Berk et al. (2001) composite:
/// H-γ/H-β ≈ 0.27, H-δ/H-β ≈ 0.11, H-α/H-β ≈ 4.2 in EW.
fn add_broad_balmer(
    s: &mut SpectralModel,
    zp1: f64,
    hbeta_ew_rest_nm: f64,
    halpha_ew_rest_nm: f64,
    fwhm_kms: f64,
    fe2_to_hbeta: f64,
) {
    let lines = [
        (H_ALPHA, halpha_ew_rest_nm, 0.9),
        (H_BETA, hbeta_ew_rest_nm, 1.0),
        (H_GAMMA, 0.27 * hbeta_ew_rest_nm, 1.0),
        (H_DELTA, 0.11 * hbeta_ew_rest_nm, 1.0),
        (H_EPSILON, 0.06 * hbeta_ew_rest_nm, 1.0),
        (HE_I_5876, 0.04 * halpha_ew_rest_nm, 1.0),
        (HE_II_4686, 0.06 * hbeta_ew_rest_nm, 1.2),
    ];
    for (rest, ew, width) in lines {
        let l = rest * zp1;
        s.emit_ew(l, kms_to_nm(width * fwhm_kms, l), ew * zp1);
    }
    // Optical Fe II multiplets: broad humps at 446-468 nm ("Fe II 4570") and 510-540 nm
    // (Boroson & Green 1992, ApJS 80, 109: R_FeII = EW(Fe II 4570)/EW(H-β) ~ 0.2-1).
    s.emit_ew(457.0 * zp1, 15.0 * zp1, fe2_to_hbeta * hbeta_ew_rest_nm * zp1);
    s.emit_ew(525.0 * zp1, 20.0 * zp1, 0.9 * fe2_to_hbeta * hbeta_ew_rest_nm * zp1);
}

/// "Small blue bump" (Balmer continuum + blended UV Fe II, 200-400 nm rest, Grandi 1982) as a
/// broad Gaussian hump centred at 300 nm rest, FWHM 120 nm, peaking at `fraction` of the power
/// law (assumption).
fn add_small_blue_bump(s: &mut SpectralModel, zp1: f64, fraction: f64) {
    let l = 300.0 * zp1;
    let fwhm = 120.0 * zp1;
    let flux = fraction * s.continuum_at(l) * GAUSS_AREA_PER_FWHM * fwhm;
    s.emit_flux(l, fwhm, flux);
}

// ------------------------------------------------------------------------------------------
// Cataclysmic variables

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvKind {
    /// Dwarf nova in quiescence: strong Balmer emission, secondary may show in the red.
    DwarfNova,
    /// Novalike (high-state disc): bluer, weaker emission on broad disc absorption.
    NovaLike,
    /// Polar (AM Her): strong He II 468.6 and Bowen blend.
    Polar,
}

impl CvKind {
    pub fn label(self) -> &'static str {
        match self {
            CvKind::DwarfNova => "DN",
            CvKind::NovaLike => "NL",
            CvKind::Polar => "polar",
        }
    }
}

/// A cataclysmic variable (Warner 1995, "Cataclysmic Variable Stars"; Szkody et al. 2002-2011
/// SDSS CV papers for the spread of line strengths).
#[derive(Debug, Clone, PartialEq)]
pub struct CvParams {
    pub kind: CvKind,
    /// Disc continuum F_λ ∝ λ^index (steady-state disc: -7/3).
    pub disk_index: f64,
    /// Secondary star (M dwarf) black body temperature, K.
    pub secondary_teff_k: f64,
    /// Secondary's share of the continuum at 650 nm.
    pub secondary_fraction: f64,
    /// H-α emission equivalent width, nm (DN 3-15, NL 1-5, polar 2-10).
    pub halpha_ew_nm: f64,
    /// EW(H-β) / EW(H-α) (flat Balmer decrement of optically thick discs).
    pub hbeta_to_halpha_ew: f64,
    /// EW(He I 587.6) / EW(H-β).
    pub he1_to_hbeta_ew: f64,
    /// EW(He II 468.6) / EW(H-β).
    pub he2_to_hbeta_ew: f64,
    /// Emission FWHM, km/s (disc rotation; higher for high inclination).
    pub line_fwhm_kms: f64,
    /// Equivalent width of the broad H-β absorption of the disc or white dwarf under the
    /// emission, nm (0: none).
    pub absorption_ew_nm: f64,
    /// Balmer continuum in emission: fractional excess blueward of 364.6 nm.
    pub balmer_emission_jump: f64,
}

impl CvParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let kind = [CvKind::DwarfNova, CvKind::NovaLike, CvKind::Polar]
            [rng.weighted(&[0.60, 0.25, 0.15])];
        let secondary_teff_k = rng.range(3000.0, 3800.0);
        match kind {
            CvKind::DwarfNova => CvParams {
                kind,
                disk_index: rng.range(-2.4, -1.4),
                secondary_teff_k,
                secondary_fraction: rng.range(0.0, 0.35),
                halpha_ew_nm: log_uniform(rng, 3.0, 15.0),
                hbeta_to_halpha_ew: rng.range(0.45, 0.85),
                he1_to_hbeta_ew: rng.range(0.1, 0.3),
                he2_to_hbeta_ew: rng.range(0.0, 0.1),
                line_fwhm_kms: rng.range(1000.0, 2500.0),
                absorption_ew_nm: if rng.chance(0.3) { rng.range(0.3, 1.0) } else { 0.0 },
                balmer_emission_jump: rng.range(0.0, 0.3),
            },
            CvKind::NovaLike => CvParams {
                kind,
                disk_index: rng.range(-2.8, -2.0),
                secondary_teff_k,
                secondary_fraction: rng.range(0.0, 0.1),
                halpha_ew_nm: log_uniform(rng, 1.0, 5.0),
                hbeta_to_halpha_ew: rng.range(0.4, 0.8),
                he1_to_hbeta_ew: rng.range(0.1, 0.3),
                he2_to_hbeta_ew: rng.range(0.1, 0.5),
                line_fwhm_kms: rng.range(800.0, 1500.0),
                absorption_ew_nm: rng.range(0.3, 1.0),
                balmer_emission_jump: 0.0,
            },
            CvKind::Polar => CvParams {
                kind,
                disk_index: rng.range(-2.0, -0.8),
                secondary_teff_k,
                secondary_fraction: rng.range(0.05, 0.35),
                halpha_ew_nm: log_uniform(rng, 2.0, 10.0),
                hbeta_to_halpha_ew: rng.range(0.6, 1.0),
                he1_to_hbeta_ew: rng.range(0.1, 0.3),
                he2_to_hbeta_ew: rng.range(0.5, 1.2),
                line_fwhm_kms: rng.range(500.0, 1200.0),
                absorption_ew_nm: 0.0,
                balmer_emission_jump: rng.range(0.0, 0.3),
            },
        }
    }

    pub fn build(&self) -> SpectralModel {
        let mut s = SpectralModel::new();
        s.add_continuum(ContinuumShape::PowerLaw { index: self.disk_index }, 650.0, 1.0 - self.secondary_fraction);
        s.add_continuum(
            ContinuumShape::Blackbody { temperature_k: self.secondary_teff_k },
            650.0,
            self.secondary_fraction,
        );
        balmer_absorption(&mut s, self.absorption_ew_nm, 6.0, 0.3, 1.0);
        s.edge(BALMER_LIMIT, 1.5, -self.balmer_emission_jump, Side::Blue);
        let hb = self.hbeta_to_halpha_ew * self.halpha_ew_nm;
        let balmer_ew = [1.0, 1.0, 0.85, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1];
        for i in 0..BALMER.len() {
            let ew = if i == 0 { self.halpha_ew_nm } else { balmer_ew[i] * hb };
            s.emit_ew(BALMER[i], kms_to_nm(self.line_fwhm_kms, BALMER[i]), ew);
        }
        let he1 = self.he1_to_hbeta_ew * hb;
        for (line, rel) in [
            (HE_I_5876, 1.0),
            (HE_I_4471, 0.6),
            (HE_I_6678, 0.4),
            (HE_I_5016, 0.3),
            (HE_I_4922, 0.25),
            (HE_I_7065, 0.3),
        ] {
            s.emit_ew(line, kms_to_nm(self.line_fwhm_kms, line), rel * he1);
        }
        let he2 = self.he2_to_hbeta_ew * hb;
        s.emit_ew(HE_II_4686, kms_to_nm(self.line_fwhm_kms, HE_II_4686), he2);
        s.emit_ew(HE_II_5411, kms_to_nm(self.line_fwhm_kms, HE_II_5411), 0.1 * he2);
        if self.kind != CvKind::DwarfNova {
            s.emit_ew(BOWEN_4645, 2.0, 0.3 * he2);
        }
        s
    }
}

// ------------------------------------------------------------------------------------------
// Planetary nebulae

/// A planetary nebula: intensities relative to H-β follow the ranges of Kaler (1978, ApJ 220,
/// 887) and Acker et al. (1992, Strasbourg-ESO Catalogue of Galactic PNe), driven by one
/// excitation parameter (low excitation: strong [O II], [N II], weak [O III], no He II; high
/// excitation: [O III]/H-β ~ 15, He II 468.6 up to ~0.9 H-β).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanetaryNebulaParams {
    /// 0 (low) .. 1 (high excitation).
    pub excitation: f64,
    /// Equivalent width of H-β against the total continuum, nm (100-1000: the continuum over
    /// the band is a few to ~30 % of the line flux).
    pub hbeta_ew_nm: f64,
    pub lines: NarrowLines,
    /// Central star temperature, K (50-150 kK).
    pub star_teff_k: f64,
    /// Nebular (bound-free + two-photon) share of the continuum at 486 nm; modelled as flat in
    /// F_λ with a Balmer-continuum jump (assumption).
    pub nebular_fraction: f64,
}

impl PlanetaryNebulaParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let x = rng.uniform();
        let o3 = (1.5 + 12.0 * x) * scatter(rng, 0.1);
        let he2 = if x > 0.45 { 0.9 * (x - 0.45) / 0.55 * rng.range(0.7, 1.3) } else { 0.0 };
        let lines = NarrowLines {
            o3_to_hbeta: o3,
            n2_to_halpha: 10f64.powf(rng.range(-1.3, 0.1)) * (1.3 - x),
            o2_to_hbeta: 10f64.powf(rng.range(-1.0, 0.4)) * (1.3 - x),
            ne3_to_o3: rng.range(0.06, 0.12),
            s2_to_halpha: 10f64.powf(rng.range(-2.0, -0.8)),
            o1_to_halpha: 10f64.powf(rng.range(-2.5, -1.0)),
            he1_to_hbeta: 0.14 * (1.0 - 0.6 * he2 / 0.9).max(0.2),
            he2_to_hbeta: he2,
            ne5_to_hbeta: 0.0,
            o3_auroral: rng.range(0.005, 0.02),
            ar3_to_hbeta: rng.range(0.05, 0.2),
            ebv: rng.range(0.0, 0.3),
            // FWHM ~ twice the expansion velocity of 15-40 km/s.
            fwhm_kms: 2.0 * rng.range(15.0, 40.0),
        };
        PlanetaryNebulaParams {
            excitation: x,
            hbeta_ew_nm: log_uniform(rng, 100.0, 1000.0),
            lines,
            star_teff_k: rng.range(50_000.0, 150_000.0),
            nebular_fraction: rng.range(0.3, 0.8),
        }
    }

    pub fn subclass(&self) -> String {
        match self.excitation {
            x if x < 1.0 / 3.0 => "low_excitation",
            x if x < 2.0 / 3.0 => "medium_excitation",
            _ => "high_excitation",
        }
        .into()
    }

    pub fn build(&self) -> SpectralModel {
        let mut s = SpectralModel::new();
        let f = self.nebular_fraction;
        s.add_continuum(ContinuumShape::Blackbody { temperature_k: self.star_teff_k }, H_BETA, 1.0 - f);
        s.add_continuum(ContinuumShape::PowerLaw { index: 0.0 }, H_BETA, f);
        // Balmer continuum emission of the nebula: the F_λ continuum roughly doubles blueward of
        // the Balmer limit (assumption, Osterbrock & Ferland 2006 Fig. 4.1).
        s.edge(BALMER_LIMIT, 1.0, -f, Side::Blue);
        let hbeta_flux = self.hbeta_ew_nm * s.continuum_at(H_BETA);
        self.lines.add(&mut s, 1.0, hbeta_flux);
        // Weaker [O II] 732 doublet and He I 706.5 beyond the band.
        s.emit_flux(O_II_7325, 0.1, 0.05 * self.lines.o2_to_hbeta * hbeta_flux);
        s.emit_flux(HE_I_7065, 0.1, 0.3 * self.lines.he1_to_hbeta * hbeta_flux);
        s
    }
}

// ------------------------------------------------------------------------------------------
// Markarian / UV-excess galaxies

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UvxKind {
    Starburst,
    Agn,
    Absorption,
}

impl UvxKind {
    pub fn label(self) -> &'static str {
        match self {
            UvxKind::Starburst => "starburst",
            UvxKind::Agn => "agn",
            UvxKind::Absorption => "absorption",
        }
    }
}

/// A Markarian (UV-excess) galaxy (Markarian et al. 1989; Mazzarella & Balzano 1986, ApJS 62,
/// 751: about 10 % Seyferts, most of the rest starbursts/H II galaxies).
#[derive(Debug, Clone, PartialEq)]
pub struct UvxGalaxyParams {
    pub kind: UvxKind,
    /// 0.005-0.05.
    pub z: f64,
    /// Young population: F_λ ∝ λ^index (starburst, agn) ...
    pub young_index: f64,
    /// ... or, for the "absorption" kind, an A-star dominated black body of this temperature, K
    /// (0 when the power law is used).
    pub young_teff_k: f64,
    /// Old population black body temperature (rest), K.
    pub old_teff_k: f64,
    /// Old population's share of the continuum at 550 nm rest.
    pub old_fraction: f64,
    /// H-β absorption of the young/intermediate population, EW rest, nm.
    pub balmer_absorption_ew_nm: f64,
    /// H-α emission EW, rest, nm.
    pub halpha_ew_nm: f64,
    pub lines: NarrowLines,
}

impl UvxGalaxyParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let kind = [UvxKind::Starburst, UvxKind::Agn, UvxKind::Absorption]
            [rng.weighted(&[0.60, 0.12, 0.28])];
        // p(z) ∝ z (between a volume-limited z² and a flux-limited flatter law; assumption).
        let z = 0.005 + 0.045 * rng.uniform().sqrt();
        let old_teff_k = rng.range(4200.0, 5200.0);
        match kind {
            UvxKind::Starburst => {
                let log_o3 = rng.range(-0.5, 0.8);
                // Star-forming sequence of the BPT diagram: high [O III]/H-β ↔ low [N II]/H-α.
                let log_n2 = (-0.3 - 0.8 * (log_o3 + 0.5) / 1.3 + rng.gauss(0.0, 0.1)).min(-0.2);
                let lines = NarrowLines {
                    o3_to_hbeta: 10f64.powf(log_o3),
                    n2_to_halpha: 10f64.powf(log_n2),
                    o2_to_hbeta: 10f64.powf(rng.range(0.0, 0.5)),
                    ne3_to_o3: rng.range(0.07, 0.11),
                    s2_to_halpha: 10f64.powf(rng.range(-0.9, -0.4)),
                    o1_to_halpha: 10f64.powf(rng.range(-2.0, -1.3)),
                    he1_to_hbeta: rng.range(0.08, 0.12),
                    he2_to_hbeta: 0.0,
                    ne5_to_hbeta: 0.0,
                    o3_auroral: rng.range(0.005, 0.02),
                    ar3_to_hbeta: rng.range(0.05, 0.12),
                    ebv: rng.range(0.0, 0.5),
                    fwhm_kms: rng.range(150.0, 350.0),
                };
                UvxGalaxyParams {
                    kind,
                    z,
                    young_index: rng.range(-2.3, -1.3),
                    young_teff_k: 0.0,
                    old_teff_k,
                    old_fraction: rng.range(0.1, 0.5),
                    balmer_absorption_ew_nm: rng.range(0.15, 0.4),
                    halpha_ew_nm: log_uniform(rng, 1.5, 25.0),
                    lines,
                }
            }
            UvxKind::Agn => {
                let lines = NarrowLines {
                    o3_to_hbeta: 10f64.powf(rng.range(0.5, 1.1)),
                    n2_to_halpha: 10f64.powf(rng.range(-0.2, 0.2)),
                    o2_to_hbeta: 10f64.powf(rng.range(0.3, 0.6)),
                    ne3_to_o3: rng.range(0.08, 0.12),
                    s2_to_halpha: 10f64.powf(rng.range(-0.5, -0.2)),
                    o1_to_halpha: 10f64.powf(rng.range(-1.2, -0.7)),
                    he1_to_hbeta: rng.range(0.08, 0.12),
                    he2_to_hbeta: rng.range(0.1, 0.3),
                    ne5_to_hbeta: rng.range(0.2, 0.8),
                    o3_auroral: rng.range(0.01, 0.03),
                    ar3_to_hbeta: rng.range(0.1, 0.2),
                    ebv: rng.range(0.1, 0.6),
                    fwhm_kms: rng.range(300.0, 700.0),
                };
                UvxGalaxyParams {
                    kind,
                    z,
                    young_index: rng.range(-1.8, -0.8),
                    young_teff_k: 0.0,
                    old_teff_k,
                    old_fraction: rng.range(0.3, 0.7),
                    balmer_absorption_ew_nm: rng.range(0.1, 0.3),
                    halpha_ew_nm: log_uniform(rng, 1.0, 8.0),
                    lines,
                }
            }
            UvxKind::Absorption => {
                let lines = NarrowLines {
                    o3_to_hbeta: 10f64.powf(rng.range(-0.5, 0.3)),
                    n2_to_halpha: 10f64.powf(rng.range(-0.6, -0.2)),
                    o2_to_hbeta: 10f64.powf(rng.range(0.0, 0.5)),
                    ne3_to_o3: 0.08,
                    s2_to_halpha: 10f64.powf(rng.range(-0.8, -0.4)),
                    o1_to_halpha: 0.03,
                    he1_to_hbeta: 0.1,
                    he2_to_hbeta: 0.0,
                    ne5_to_hbeta: 0.0,
                    o3_auroral: 0.01,
                    ar3_to_hbeta: 0.08,
                    ebv: rng.range(0.0, 0.3),
                    fwhm_kms: rng.range(150.0, 350.0),
                };
                UvxGalaxyParams {
                    kind,
                    z,
                    young_index: 0.0,
                    young_teff_k: rng.range(8_000.0, 11_000.0),
                    old_teff_k,
                    old_fraction: rng.range(0.2, 0.5),
                    balmer_absorption_ew_nm: rng.range(0.5, 1.0),
                    halpha_ew_nm: log_uniform(rng, 0.05, 0.6),
                    lines,
                }
            }
        }
    }

    pub fn build(&self) -> SpectralModel {
        let zp1 = 1.0 + self.z;
        let mut s = SpectralModel::new();
        let young = if self.young_teff_k > 0.0 {
            ContinuumShape::Blackbody { temperature_k: self.young_teff_k / zp1 }
        } else {
            ContinuumShape::PowerLaw { index: self.young_index }
        };
        s.add_continuum(young, 550.0 * zp1, 1.0 - self.old_fraction);
        let young_part = s.continuum[0];
        add_old_population(&mut s, zp1, self.old_teff_k, self.old_fraction);
        let young_share = |s: &SpectralModel, rest: f64| {
            let l = rest * zp1;
            young_part.at(l) / s.continuum_at(l)
        };
        // Balmer absorption and Balmer jump of the young/intermediate (A-star) population.
        let ys = young_share(&s, H_BETA);
        balmer_absorption(&mut s, self.balmer_absorption_ew_nm * ys, 2.5, 0.3, zp1);
        if self.kind == UvxKind::Absorption {
            let jump = 0.35 * young_share(&s, 370.0);
            s.edge((BALMER_LIMIT + 3.0) * zp1, 3.0 * zp1, jump, Side::Blue);
        }
        let hbeta_flux = self.lines.hbeta_flux_for_halpha_ew(&s, zp1, self.halpha_ew_nm * zp1);
        self.lines.add(&mut s, zp1, hbeta_flux);
        s
    }
}

// ------------------------------------------------------------------------------------------
// Seyfert 1 / compact galaxies

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeyfertKind {
    /// Seyfert 1: broad lines dominate.
    Sy1,
    /// Seyfert 1.5: broad and narrow H-β comparable, [O III] strong.
    Sy15,
}

impl SeyfertKind {
    pub fn label(self) -> &'static str {
        match self {
            SeyfertKind::Sy1 => "Sy1",
            SeyfertKind::Sy15 => "Sy1.5",
        }
    }
}

/// A Seyfert 1 or compact emission-line galaxy with broad lines.
#[derive(Debug, Clone, PartialEq)]
pub struct SeyfertParams {
    pub kind: SeyfertKind,
    /// 0.01-0.1.
    pub z: f64,
    /// Nuclear continuum F_ν ∝ ν^alpha_nu, -0.7 .. -0.2.
    pub alpha_nu: f64,
    /// Host galaxy share of the continuum at 550 nm rest (0.1-0.5).
    pub host_fraction: f64,
    pub host_teff_k: f64,
    /// Small blue bump strength (fraction of the power law at 300 nm rest).
    pub blue_bump: f64,
    /// Broad H-β FWHM, km/s (2000-6000; H-α 10 % narrower).
    pub broad_fwhm_kms: f64,
    /// Broad H-α EW, rest, nm (Sy1 20-60, Sy1.5 10-30).
    pub halpha_ew_nm: f64,
    /// EW(H-β broad) / EW(H-α broad), 0.18-0.3.
    pub hbeta_to_halpha_ew: f64,
    /// R_FeII = EW(Fe II 4570) / EW(H-β), 0.2-1.
    pub fe2_to_hbeta: f64,
    /// [O III] 500.7 flux / broad H-β flux (Sy1 0.1-0.6, Sy1.5 0.6-2).
    pub o3_to_broad_hbeta: f64,
    /// Narrow-line region (ratios relative to narrow H-β).
    pub narrow: NarrowLines,
}

impl SeyfertParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let kind = [SeyfertKind::Sy1, SeyfertKind::Sy15][rng.weighted(&[0.65, 0.35])];
        let z = 0.01 + 0.09 * rng.uniform().sqrt();
        let (ha_range, o3_range) = match kind {
            SeyfertKind::Sy1 => ((20.0, 60.0), (0.1, 0.6)),
            SeyfertKind::Sy15 => ((10.0, 30.0), (0.6, 2.0)),
        };
        let narrow = NarrowLines {
            o3_to_hbeta: 10f64.powf(rng.range(0.7, 1.1)),
            n2_to_halpha: rng.range(0.5, 1.2),
            o2_to_hbeta: 10f64.powf(rng.range(0.2, 0.5)),
            ne3_to_o3: rng.range(0.08, 0.12),
            s2_to_halpha: 10f64.powf(rng.range(-0.5, -0.2)),
            o1_to_halpha: 10f64.powf(rng.range(-1.2, -0.7)),
            he1_to_hbeta: 0.1,
            he2_to_hbeta: rng.range(0.1, 0.3),
            ne5_to_hbeta: rng.range(0.3, 0.8),
            o3_auroral: rng.range(0.01, 0.03),
            ar3_to_hbeta: 0.1,
            ebv: rng.range(0.0, 0.4),
            fwhm_kms: rng.range(300.0, 600.0),
        };
        SeyfertParams {
            kind,
            z,
            alpha_nu: rng.range(-0.7, -0.2),
            host_fraction: rng.range(0.1, 0.5),
            host_teff_k: rng.range(4300.0, 5200.0),
            blue_bump: rng.range(0.1, 0.3),
            broad_fwhm_kms: rng.range(2000.0, 6000.0),
            halpha_ew_nm: log_uniform(rng, ha_range.0, ha_range.1),
            hbeta_to_halpha_ew: rng.range(0.18, 0.3),
            fe2_to_hbeta: rng.range(0.2, 1.0),
            o3_to_broad_hbeta: log_uniform(rng, o3_range.0, o3_range.1),
            narrow,
        }
    }

    pub fn build(&self) -> SpectralModel {
        let zp1 = 1.0 + self.z;
        let mut s = SpectralModel::new();
        s.add_continuum(
            ContinuumShape::PowerLaw { index: -(2.0 + self.alpha_nu) },
            550.0 * zp1,
            1.0 - self.host_fraction,
        );
        add_small_blue_bump(&mut s, zp1, self.blue_bump);
        add_old_population(&mut s, zp1, self.host_teff_k, self.host_fraction);
        let hb_ew = self.hbeta_to_halpha_ew * self.halpha_ew_nm;
        add_broad_balmer(&mut s, zp1, hb_ew, self.halpha_ew_nm, self.broad_fwhm_kms, self.fe2_to_hbeta);
        let broad_hbeta_flux = hb_ew * zp1 * s.continuum_at(H_BETA * zp1);
        let o3_flux = self.o3_to_broad_hbeta * broad_hbeta_flux;
        let narrow_hbeta = o3_flux / (self.narrow.o3_to_hbeta * reddening_relative_to_hbeta(O_III_5007, self.narrow.ebv));
        self.narrow.add(&mut s, zp1, narrow_hbeta);
        s
    }
}

// ------------------------------------------------------------------------------------------
// Quasars

/// Quasar emission lines: rest wavelength (nm; vacuum below 300 nm, air above), rest equivalent
/// width (nm) of the Vanden Berk et al. (2001, AJ 122, 549, Table 2) composite, whether the
/// wavelength is vacuum, and the line's width relative to the broad-line FWHM (0: narrow line).
/// N V, whose deblended composite EW is tiny, and the Ly-β/O VI blend are our assumptions.
pub const QSO_LINES: [(f64, f64, bool, f64); 17] = [
    (LY_BETA_O_VI, 1.2, true, 1.0),
    (LY_ALPHA, 9.3, true, 0.9),
    (N_V, 1.0, true, 1.0),
    (SI_IV_O_IV, 0.81, true, 1.0),
    (C_IV, 2.38, true, 1.0),
    (HE_II_1640, 0.3, true, 1.0),
    (C_III, 2.12, true, 1.0),
    (MG_II, 3.23, true, 0.85),
    (NE_V_3426, 0.12, false, 0.0),
    (O_II_3727, 0.16, false, 0.0),
    (NE_III_3869, 0.14, false, 0.0),
    (H_DELTA, 0.51, false, 0.9),
    (H_GAMMA, 1.26, false, 0.9),
    (H_BETA, 4.62, false, 0.9),
    (O_III_5007, 1.32, false, 0.0),
    (HE_I_5876, 0.8, false, 0.9),
    (H_ALPHA, 19.5, false, 0.8),
];

/// A broad absorption-line trough (BAL quasars, ~10-15 % of optically selected quasars,
/// Hewett & Foltz 2003, AJ 125, 1784) blueward of C IV, Si IV and N V/Ly-α.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BalTrough {
    /// Outflow velocity of the trough centre, km/s.
    pub velocity_kms: f64,
    /// Trough FWHM, km/s.
    pub fwhm_kms: f64,
    /// Fractional depth at the centre (C IV; Si IV 0.6 and N V 0.8 times this).
    pub depth: f64,
}

/// A quasar.
#[derive(Debug, Clone, PartialEq)]
pub struct QuasarParams {
    /// 0.1-3.2.
    pub z: f64,
    /// Continuum F_ν ∝ ν^alpha_nu, -0.7 .. -0.3 (composite: -0.44).
    pub alpha_nu: f64,
    /// Broad-line FWHM, km/s (3000-8000).
    pub broad_fwhm_kms: f64,
    /// Narrow-line FWHM, km/s.
    pub narrow_fwhm_kms: f64,
    /// Multiplies the equivalent widths of each line of [`QSO_LINES`] (global scatter 0.1 dex
    /// times per-line scatter 0.12 dex).
    pub line_scale: [f64; 17],
    /// Small blue bump strength (fraction of the power law at 300 nm rest).
    pub blue_bump: f64,
    /// R_FeII of the optical Fe II humps.
    pub fe2_to_hbeta: f64,
    /// Scatter of the Lyman-α forest optical depth about the Madau (1995) mean.
    pub igm_tau_scale: f64,
    /// Transmission below the Lyman limit (Lyman-limit systems).
    pub lyman_limit_transmission: f64,
    pub bal: Option<BalTrough>,
}

impl QuasarParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        // Redshift: 40 % 0.1-1, 40 % 1-2.2, 20 % 2.2-3.2 (assumption, after the bright
        // objective-prism Hamburg Quasar Survey, Hagen et al. 1999, whose z distribution is broad
        // with a median near 1).
        let z = match rng.weighted(&[0.4, 0.4, 0.2]) {
            0 => rng.range(0.1, 1.0),
            1 => rng.range(1.0, 2.2),
            _ => rng.range(2.2, 3.2),
        };
        Self::draw_at(rng, z)
    }

    /// Draws a quasar at a given redshift (everything else random).
    pub fn draw_at(rng: &mut SimRng, z: f64) -> Self {
        let alpha_nu = rng.range(-0.7, -0.3);
        let broad_fwhm_kms = rng.range(3000.0, 8000.0);
        let narrow_fwhm_kms = rng.range(400.0, 700.0);
        let global = scatter(rng, 0.1);
        let mut line_scale = [1.0; 17];
        for v in line_scale.iter_mut() {
            *v = global * scatter(rng, 0.12);
        }
        let blue_bump = rng.range(0.1, 0.3);
        let fe2_to_hbeta = rng.range(0.2, 0.8);
        let igm_tau_scale = scatter(rng, 0.1);
        let lyman_limit_transmission = rng.range(0.0, 0.6);
        let bal = if z > 1.5 && rng.chance(0.12) {
            Some(BalTrough {
                velocity_kms: rng.range(3000.0, 15_000.0),
                fwhm_kms: rng.range(3000.0, 12_000.0),
                depth: rng.range(0.3, 0.8),
            })
        } else {
            None
        };
        QuasarParams {
            z,
            alpha_nu,
            broad_fwhm_kms,
            narrow_fwhm_kms,
            line_scale,
            blue_bump,
            fe2_to_hbeta,
            igm_tau_scale,
            lyman_limit_transmission,
            bal,
        }
    }

    /// Observed air wavelength of a rest line.
    pub fn observed(&self, rest_nm: f64, vacuum: bool) -> f64 {
        let l = rest_nm * (1.0 + self.z);
        if vacuum { l / N_AIR } else { l }
    }

    pub fn build(&self) -> SpectralModel {
        let zp1 = 1.0 + self.z;
        let mut s = SpectralModel::new();
        s.add_continuum(ContinuumShape::PowerLaw { index: -(2.0 + self.alpha_nu) }, 500.0, 1.0);
        add_small_blue_bump(&mut s, zp1, self.blue_bump);
        for (i, &(rest, ew, vacuum, width)) in QSO_LINES.iter().enumerate() {
            let l = self.observed(rest, vacuum);
            let fwhm_kms = if width > 0.0 { width * self.broad_fwhm_kms } else { self.narrow_fwhm_kms };
            s.emit_ew(l, kms_to_nm(fwhm_kms, l), ew * self.line_scale[i] * zp1);
            if rest == O_III_5007 {
                let l4959 = self.observed(O_III_4959, false);
                let ew4959 = ew * self.line_scale[i] * zp1 / O_III_RATIO;
                s.emit_ew(l4959, kms_to_nm(fwhm_kms, l4959), ew4959);
            }
        }
        let hb_ew = QSO_LINES[13].1 * self.line_scale[13] * zp1;
        s.emit_ew(457.0 * zp1, 15.0 * zp1, self.fe2_to_hbeta * hb_ew);
        s.emit_ew(525.0 * zp1, 20.0 * zp1, 0.9 * self.fe2_to_hbeta * hb_ew);
        if let Some(bal) = self.bal {
            for (rest, rel) in [(C_IV, 1.0), (SI_IV_O_IV, 0.6), (N_V, 0.8)] {
                let center = self.observed(rest, true) * (1.0 - bal.velocity_kms / 299_792.458);
                let sigma = kms_to_nm(bal.fwhm_kms, center) / FWHM_PER_SIGMA;
                s.absorbers.push(Absorber::Line { center_nm: center, sigma_nm: sigma, depth: bal.depth * rel });
            }
        }
        s.igm = Some(Igm {
            z: self.z,
            tau_scale: self.igm_tau_scale,
            lyman_limit_transmission: self.lyman_limit_transmission,
        });
        s
    }
}
