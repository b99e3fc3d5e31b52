//! Stellar templates: normal F-K stars, M stars, carbon stars, hot subdwarfs, white dwarfs.
//!
//! Continua are black bodies at the effective temperature, which is adequate at the ~5 nm
//! resolution of the DFBS once the main departures are added as absorption features: the Balmer
//! jump, the line-blanketing depression of cool stars below ~420 nm, and the strongest lines and
//! molecular bands. Temperatures of the spectral types follow Pecaut & Mamajek (2013, ApJS 208,
//! 9, table of dwarf colours and temperatures, 2019 update); the equivalent widths are rough
//! values read from the Pickles (1998, PASP 110, 863) library and the Jacoby, Hunter & Christian
//! (1984, ApJS 56, 257) atlas, expressed as simple functions of temperature (assumptions, good to
//! a factor ~1.5).

use super::lines::*;
use super::model::{ContinuumShape, Side, SpectralModel};
use super::{log_uniform, scatter};
use crate::sim::random::SimRng;

/// Equivalent widths of the Balmer absorption lines H-α .. H12 relative to H-β, and their FWHMs
/// relative to H-β's (assumption: higher members weaker and narrower until they merge near the
/// series limit; the merged wings are carried by the Balmer-jump edge).
const BALMER_ABS_EW: [f64; 10] = [0.95, 1.0, 0.9, 0.8, 0.6, 0.45, 0.35, 0.25, 0.18, 0.12];
const BALMER_ABS_FWHM: [f64; 10] = [1.1, 1.0, 0.95, 0.9, 0.85, 0.75, 0.65, 0.55, 0.5, 0.45];

/// Adds the Balmer absorption series with H-β equivalent width `ew_hbeta` and FWHM
/// `fwhm_hbeta` (rest frame, nm), `wing_fraction` of each line's strength in wings 2.5 times
/// wider, at redshift factor `zp1` = 1 + z.
pub(super) fn balmer_absorption(
    s: &mut SpectralModel,
    ew_hbeta: f64,
    fwhm_hbeta: f64,
    wing_fraction: f64,
    zp1: f64,
) {
    for i in 0..BALMER.len() {
        s.absorb_broad_line(
            BALMER[i] * zp1,
            fwhm_hbeta * BALMER_ABS_FWHM[i] * zp1,
            ew_hbeta * BALMER_ABS_EW[i] * zp1,
            wing_fraction,
            2.5,
        );
    }
}

fn blackbody(teff_k: f64) -> ContinuumShape {
    ContinuumShape::Blackbody { temperature_k: teff_k }
}

// ------------------------------------------------------------------------------------------
// Normal F-K stars

/// Spectral types F0 .. K7 of dwarfs with their effective temperatures (Pecaut & Mamajek 2013).
pub const FGK_TYPES: [(&str, f64); 28] = [
    ("F0", 7220.0), ("F1", 7020.0), ("F2", 6820.0), ("F3", 6750.0), ("F4", 6670.0),
    ("F5", 6550.0), ("F6", 6350.0), ("F7", 6280.0), ("F8", 6180.0), ("F9", 6050.0),
    ("G0", 5930.0), ("G1", 5860.0), ("G2", 5770.0), ("G3", 5720.0), ("G4", 5680.0),
    ("G5", 5660.0), ("G6", 5600.0), ("G7", 5550.0), ("G8", 5480.0), ("G9", 5380.0),
    ("K0", 5270.0), ("K1", 5170.0), ("K2", 5100.0), ("K3", 4830.0), ("K4", 4600.0),
    ("K5", 4440.0), ("K6", 4300.0), ("K7", 4100.0),
];

/// A normal F, G or K star.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalStarParams {
    /// "F0" .. "K7".
    pub spectral_type: &'static str,
    /// Effective temperature, 4000-7500 K (type's temperature ± 60 K scatter).
    pub teff_k: f64,
    /// Multiplies the Balmer equivalent widths (scatter in gravity; ±12 %, 1 sigma).
    pub balmer_scale: f64,
    /// Multiplies the metal-line strengths and the blanketing (metallicity; the high-latitude
    /// field includes metal-poor thick-disc and halo stars, so centred slightly below 1).
    pub metal_scale: f64,
}

impl NormalStarParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        // F : G : K among the faint high-latitude field (assumption).
        let letter = rng.weighted(&[0.30, 0.42, 0.28]);
        let index = match letter {
            0 => rng.below(10) as usize,
            1 => 10 + rng.below(10) as usize,
            _ => 20 + rng.below(8) as usize,
        };
        let (spectral_type, teff) = FGK_TYPES[index];
        let teff_k = rng.gauss(teff, 60.0).clamp(4000.0, 7500.0);
        let balmer_scale = scatter(rng, 0.05);
        let metal_scale = 10f64.powf(rng.gauss(-0.05, 0.12));
        NormalStarParams { spectral_type, teff_k, balmer_scale, metal_scale }
    }

    pub fn build(&self) -> SpectralModel {
        let t = self.teff_k;
        // m: metal-line index, 0 at 7500 K, 1 at 4000 K; h: hydrogen-line index, the reverse.
        let m = ((7500.0 - t) / 3500.0).clamp(0.0, 1.0);
        let h = 1.0 - m;
        let z = self.metal_scale;
        let mut s = SpectralModel::new();
        s.add_continuum(blackbody(t), 500.0, 1.0);
        // Line blanketing: the pile-up of metal lines depresses the flux below ~420 nm, by
        // ~15 % in F stars to ~60 % in K stars relative to the black body (assumption,
        // calibrated by eye on Pickles 1998 dwarfs).
        s.edge(400.0, 20.0, ((0.10 + 0.50 * m) * z.min(1.5)).min(0.75), Side::Blue);
        // Balmer jump: strong in F stars (depth ~0.4 at F0), vanishing in K stars.
        let jump = 0.45 * ((t - 5200.0) / 2300.0).clamp(0.0, 1.0).powf(1.2);
        s.edge(BALMER_LIMIT + 3.0, 3.0, jump, Side::Blue);
        // Balmer lines: H-β EW ~0.65 nm at F0, ~0.35 nm at G2, ~0.15 nm at K5.
        let ew_hb = (0.12 + 0.6 * h.powf(1.5)) * self.balmer_scale;
        let fwhm_hb = 0.5 + 1.3 * h * h;
        balmer_absorption(&mut s, ew_hb, fwhm_hb, 0.3, 1.0);
        // Ca II H & K (K: ~0.4 nm at F0, ~1.0 nm at G2, ~1.6 nm at K5; H weaker and blended
        // with H-ε), G band, Ca I 422.7, Fe I 438.4, Mg b, Fe 5270, Na D.
        let ca_k = (0.25 + 1.6 * m) * z;
        s.absorb_line(CA_II_K, 1.5, ca_k);
        s.absorb_line(CA_II_H, 1.5, 0.75 * ca_k);
        s.absorb_line(G_BAND, 1.2, (0.03 + 0.8 * m) * z);
        s.absorb_line(CA_I_4227, 0.6, (0.02 + 0.4 * m.powi(3)) * z);
        s.absorb_line(FE_I_4384, 0.8, (0.02 + 0.2 * m * m) * z);
        s.absorb_line(MG_B, 1.4, (0.05 + 0.65 * m * m) * z);
        s.absorb_line(FE_5270, 0.8, (0.02 + 0.25 * m * m) * z);
        s.absorb_line(NA_D, 1.0, (0.04 + 0.4 * m.powf(2.5)) * z);
        // The first, weak TiO bands appear in late K dwarfs (below ~4400 K).
        if t < 4400.0 {
            let tio = 0.12 * (4400.0 - t) / 400.0;
            for &(head, rel, length) in &TIO_BANDS[1..4] {
                s.band(head, length, tio * rel, Side::Red);
            }
        }
        s
    }
}

// ------------------------------------------------------------------------------------------
// M stars

/// Effective temperatures of M0 .. M6 dwarfs (Pecaut & Mamajek 2013).
pub const M_TEFF: [f64; 7] = [3850.0, 3660.0, 3560.0, 3430.0, 3210.0, 3060.0, 2810.0];

/// An M star (M0-M6).
#[derive(Debug, Clone, PartialEq)]
pub struct MStarParams {
    /// 0 .. 6 for M0 .. M6.
    pub subtype: u8,
    /// 2600-3900 K.
    pub teff_k: f64,
    /// Depth of the strongest TiO band heads: 0.18 + 0.12 · subtype (± 0.04), so ~0.2 at M0 and
    /// ~0.9 at M6 (assumption, matching the TiO5 index sequence of Reid, Hawley & Gizis 1995).
    pub tio_depth: f64,
    /// Extra depression of the blue beyond the black body (TiO, CaOH and metal-line opacity), an
    /// error-function edge at 470 nm, σ 30 nm: 0.34 + 0.08 · subtype (± 0.04), which brings
    /// F(650)/F(445) to ~3 at M0 and ~12 at M5 as in the Pickles (1998) dwarfs (assumption).
    pub blue_depression: f64,
    /// H-α emission equivalent width of active (dMe) stars, 0 for inactive ones.
    pub halpha_emission_ew_nm: f64,
}

impl MStarParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let subtype = rng.weighted(&[0.20, 0.20, 0.18, 0.15, 0.12, 0.09, 0.06]) as u8;
        let k = subtype as f64;
        let teff_k = rng.gauss(M_TEFF[subtype as usize], 50.0).clamp(2600.0, 3900.0);
        let tio_depth = rng.gauss(0.18 + 0.12 * k, 0.04).clamp(0.1, 0.92);
        let blue_depression = 0.34 + 0.08 * k + rng.range(-0.04, 0.04);
        // Activity fraction rises with subtype (West et al. 2008, AJ 135, 785: ~5 % at M0 to
        // ~50 % at M6 near the plane; fewer at high latitude).
        let halpha_emission_ew_nm =
            if rng.chance(0.05 + 0.06 * k) { log_uniform(rng, 0.1, 1.0) } else { 0.0 };
        MStarParams { subtype, teff_k, tio_depth, blue_depression, halpha_emission_ew_nm }
    }

    pub fn subclass(&self) -> String {
        format!("M{}", self.subtype)
    }

    pub fn build(&self) -> SpectralModel {
        let k = self.subtype as f64;
        let mut s = SpectralModel::new();
        s.add_continuum(blackbody(self.teff_k), 500.0, 1.0);
        s.edge(470.0, 30.0, self.blue_depression.min(0.9), Side::Blue);
        for &(head, rel, length) in &TIO_BANDS {
            s.band(head, length, (self.tio_depth * rel).min(0.9), Side::Red);
        }
        s.absorb_line(CA_I_4227, 1.0, (0.3 + 0.1 * k).min(0.8));
        s.absorb_line(NA_D, 1.2, 0.3 + 0.05 * k);
        s.absorb_line(MG_B, 1.5, 0.3);
        // Chromospheric emission (dMe): narrow H-α, weaker H-β.
        if self.halpha_emission_ew_nm > 0.0 {
            s.emit_ew(H_ALPHA, 0.15, self.halpha_emission_ew_nm);
            s.emit_ew(H_BETA, 0.15, 0.5 * self.halpha_emission_ew_nm);
        }
        s
    }
}

// ------------------------------------------------------------------------------------------
// Carbon stars

/// Carbon-star subclasses (Keenan 1993 revised MK classes C-R, C-N, C-H).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarbonKind {
    /// C-H: metal-poor halo giants, strong CH (G band), moderate C2.
    H,
    /// C-R: warmer (early R) carbon giants/clump stars, blue still visible.
    R,
    /// C-N: cool AGB carbon stars, extremely weak blue.
    N,
}

impl CarbonKind {
    pub fn label(self) -> &'static str {
        match self {
            CarbonKind::H => "C-H",
            CarbonKind::R => "C-R",
            CarbonKind::N => "C-N",
        }
    }
}

/// A carbon star.
#[derive(Debug, Clone, PartialEq)]
pub struct CarbonStarParams {
    pub kind: CarbonKind,
    /// C-N 2500-3200 K; C-R and C-H 3500-4500 K.
    pub teff_k: f64,
    /// Depth at the head of the strongest C2 Swan band (516.5 nm).
    pub c2_depth: f64,
    /// Depth scale of the CN bands.
    pub cn_depth: f64,
    /// Central depth of the CH G band.
    pub ch_depth: f64,
    /// Depression of the blue beyond the black body (C3, CN, C2 and metal opacity; assumption).
    pub blue_depression: f64,
    /// Na D equivalent width, nm.
    pub na_ew_nm: f64,
}

impl CarbonStarParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        // Mix among faint high-latitude carbon stars (assumption: N types dominate the
        // FBS carbon-star lists, CH and R types the rest).
        let kind = [CarbonKind::H, CarbonKind::R, CarbonKind::N][rng.weighted(&[0.25, 0.30, 0.45])];
        let (teff, c2, cn, ch, blue) = match kind {
            CarbonKind::N => ((2500.0, 3200.0), (0.45, 0.75), (0.30, 0.55), (0.10, 0.30), (0.70, 0.92)),
            CarbonKind::R => ((3500.0, 4500.0), (0.30, 0.60), (0.25, 0.45), (0.20, 0.40), (0.35, 0.60)),
            CarbonKind::H => ((3500.0, 4500.0), (0.25, 0.50), (0.15, 0.30), (0.40, 0.70), (0.30, 0.55)),
        };
        CarbonStarParams {
            kind,
            teff_k: rng.range(teff.0, teff.1),
            c2_depth: rng.range(c2.0, c2.1),
            cn_depth: rng.range(cn.0, cn.1),
            ch_depth: rng.range(ch.0, ch.1),
            blue_depression: rng.range(blue.0, blue.1),
            na_ew_nm: rng.range(0.3, 1.2),
        }
    }

    pub fn build(&self) -> SpectralModel {
        let mut s = SpectralModel::new();
        s.add_continuum(blackbody(self.teff_k), 500.0, 1.0);
        let blue_edge = if self.kind == CarbonKind::N { 460.0 } else { 440.0 };
        s.edge(blue_edge, 25.0, self.blue_depression, Side::Blue);
        // C2 Swan bands: sharp head on the red side, absorption fading toward the blue.
        for &(head, rel, length) in &C2_SWAN_BANDS {
            s.band(head, length, (self.c2_depth * rel).min(0.9), Side::Blue);
        }
        for &(head, rel, length) in &CN_VIOLET_BANDS {
            s.band(head, length, self.cn_depth * rel, Side::Blue);
        }
        for &(head, rel, length) in &CN_RED_BANDS {
            s.band(head, length, self.cn_depth * rel, Side::Red);
        }
        // CH G band (429.8-431.4 nm): width 2 nm.
        s.absorb_line(G_BAND, 2.0, self.ch_depth * 2.0 * super::model::GAUSS_AREA_PER_FWHM);
        s.absorb_line(NA_D, 1.5, self.na_ew_nm);
        s
    }
}

// ------------------------------------------------------------------------------------------
// Hot subdwarfs

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubdwarfKind {
    SdB,
    SdO,
    SdA,
}

impl SubdwarfKind {
    pub fn label(self) -> &'static str {
        match self {
            SubdwarfKind::SdB => "sdB",
            SubdwarfKind::SdO => "sdO",
            SubdwarfKind::SdA => "sdA",
        }
    }
}

/// A hot subdwarf (Heber 2016, PASP 128, 082001 for sdB/sdO; Kepler et al. 2016, MNRAS 455,
/// 3413 for sdA).
#[derive(Debug, Clone, PartialEq)]
pub struct HotSubdwarfParams {
    pub kind: SubdwarfKind,
    /// sdB 20-40 kK, sdO 40-80 kK, sdA 8-12 kK.
    pub teff_k: f64,
    /// H-β absorption equivalent width, nm (sdB 0.5-1.1, sdO 0.15-0.4, sdA 1.0-1.8).
    pub balmer_ew_nm: f64,
    /// H-β FWHM, nm (high gravity, log g 5-6: broader than main-sequence lines).
    pub balmer_fwhm_nm: f64,
    /// He I 447.1 nm equivalent width, nm (He-rich sdB and cooler sdO).
    pub he1_ew_nm: f64,
    /// He II 468.6 nm equivalent width, nm (sdO).
    pub he2_ew_nm: f64,
    /// Depth of the Balmer jump (sdA large, sdB small, sdO none).
    pub balmer_jump: f64,
}

impl HotSubdwarfParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        // sdB : sdO : sdA (assumption; sdB dominate colour-selected samples).
        let kind = [SubdwarfKind::SdB, SubdwarfKind::SdO, SubdwarfKind::SdA]
            [rng.weighted(&[0.60, 0.25, 0.15])];
        match kind {
            SubdwarfKind::SdB => {
                let teff_k = rng.range(20_000.0, 40_000.0);
                let cool = (40_000.0 - teff_k) / 20_000.0;
                HotSubdwarfParams {
                    kind,
                    teff_k,
                    balmer_ew_nm: (0.5 + 0.5 * cool) * scatter(rng, 0.06),
                    balmer_fwhm_nm: rng.range(2.5, 4.0),
                    he1_ew_nm: rng.range(0.02, 0.15),
                    he2_ew_nm: 0.0,
                    balmer_jump: rng.range(0.03, 0.12),
                }
            }
            SubdwarfKind::SdO => HotSubdwarfParams {
                kind,
                teff_k: rng.range(40_000.0, 80_000.0),
                balmer_ew_nm: rng.range(0.15, 0.4),
                balmer_fwhm_nm: rng.range(1.5, 2.5),
                he1_ew_nm: rng.range(0.0, 0.05),
                he2_ew_nm: rng.range(0.1, 0.35),
                balmer_jump: 0.0,
            },
            SubdwarfKind::SdA => HotSubdwarfParams {
                kind,
                teff_k: rng.range(8_000.0, 12_000.0),
                balmer_ew_nm: rng.range(1.0, 1.8),
                balmer_fwhm_nm: rng.range(2.5, 4.5),
                he1_ew_nm: 0.0,
                he2_ew_nm: 0.0,
                balmer_jump: rng.range(0.40, 0.60),
            },
        }
    }

    pub fn build(&self) -> SpectralModel {
        let mut s = SpectralModel::new();
        s.add_continuum(blackbody(self.teff_k), 500.0, 1.0);
        s.edge(BALMER_LIMIT + 3.0, 3.0, self.balmer_jump, Side::Blue);
        balmer_absorption(&mut s, self.balmer_ew_nm, self.balmer_fwhm_nm, 0.35, 1.0);
        let he1 = self.he1_ew_nm;
        for (line, rel) in [(HE_I_4471, 1.0), (HE_I_5876, 1.0), (HE_I_4026, 0.7), (HE_I_4922, 0.5)] {
            s.absorb_line(line, 1.0, he1 * rel);
        }
        let he2 = self.he2_ew_nm;
        for (line, rel) in [(HE_II_4686, 1.0), (HE_II_5411, 0.6), (HE_II_4541, 0.4), (HE_II_4200, 0.3)] {
            s.absorb_line(line, 1.5, he2 * rel);
        }
        if self.kind == SubdwarfKind::SdA {
            s.absorb_line(CA_II_K, 1.0, 0.1);
        }
        s
    }
}

// ------------------------------------------------------------------------------------------
// White dwarfs

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteDwarfKind {
    /// Hydrogen atmosphere: broad Balmer lines.
    DA,
    /// Helium atmosphere: broad He I lines (12-30 kK).
    DB,
    /// Featureless (cool).
    DC,
}

/// A white dwarf. The brief asks for DA; DB and DC (about 8 % and 7 % of blue-selected white
/// dwarfs, e.g. Kleinman et al. 2013, ApJS 204, 5) are included for realism.
#[derive(Debug, Clone, PartialEq)]
pub struct WhiteDwarfParams {
    pub kind: WhiteDwarfKind,
    /// DA 8-40 kK (log-uniform), DB 12-30 kK, DC 5-11 kK.
    pub teff_k: f64,
    /// Equivalent width of H-β (DA) or He I 447.1 (DB), nm; DA 2-8 nm, strongest near 13 kK.
    pub line_ew_nm: f64,
    /// FWHM of H-β (DA, 5-15 nm, Stark broadened) or He I 447.1 (DB), nm.
    pub line_fwhm_nm: f64,
    /// Depth of the Balmer jump (DA).
    pub balmer_jump: f64,
}

impl WhiteDwarfParams {
    pub fn draw(rng: &mut SimRng) -> Self {
        let kind = [WhiteDwarfKind::DA, WhiteDwarfKind::DB, WhiteDwarfKind::DC]
            [rng.weighted(&[0.85, 0.08, 0.07])];
        match kind {
            WhiteDwarfKind::DA => {
                let teff_k = log_uniform(rng, 8_000.0, 40_000.0);
                // Balmer lines peak near 13 kK (Bergeron, Saffer & Liebert 1992, ApJ 394, 228).
                let peak = (-((teff_k / 13_000.0).log10() / 0.33).powi(2)).exp();
                WhiteDwarfParams {
                    kind,
                    teff_k,
                    line_ew_nm: (2.0 + 6.0 * peak) * scatter(rng, 0.05),
                    line_fwhm_nm: ((5.0 + 9.0 * peak) * scatter(rng, 0.05)).clamp(5.0, 15.0),
                    balmer_jump: 0.08 + 0.22 * ((22_000.0 - teff_k) / 10_000.0).clamp(0.0, 1.0),
                }
            }
            WhiteDwarfKind::DB => WhiteDwarfParams {
                kind,
                teff_k: rng.range(12_000.0, 30_000.0),
                line_ew_nm: rng.range(0.8, 1.8),
                line_fwhm_nm: rng.range(3.0, 6.0),
                balmer_jump: 0.0,
            },
            WhiteDwarfKind::DC => WhiteDwarfParams {
                kind,
                teff_k: rng.range(5_000.0, 11_000.0),
                line_ew_nm: 0.0,
                line_fwhm_nm: 0.0,
                balmer_jump: 0.0,
            },
        }
    }

    /// "DA3.5" etc.: type and temperature index 50400/Teff to the nearest half (McCook & Sion
    /// 1999, ApJS 121, 1).
    pub fn subclass(&self) -> String {
        let index = (2.0 * 50_400.0 / self.teff_k).round() / 2.0;
        let kind = match self.kind {
            WhiteDwarfKind::DA => "DA",
            WhiteDwarfKind::DB => "DB",
            WhiteDwarfKind::DC => "DC",
        };
        format!("{kind}{index:.1}")
    }

    pub fn build(&self) -> SpectralModel {
        let mut s = SpectralModel::new();
        s.add_continuum(blackbody(self.teff_k), 500.0, 1.0);
        match self.kind {
            WhiteDwarfKind::DA => {
                // The higher Balmer lines merge (Inglis-Teller) into a broad depression that
                // joins the Balmer jump: a wide edge at ~372 nm.
                s.edge(372.0, 5.0, self.balmer_jump, Side::Blue);
                balmer_absorption(&mut s, self.line_ew_nm, self.line_fwhm_nm, 0.4, 1.0);
            }
            WhiteDwarfKind::DB => {
                for (line, rel) in [
                    (HE_I_4471, 1.0),
                    (HE_I_4026, 0.6),
                    (HE_I_4388, 0.4),
                    (HE_I_4713, 0.4),
                    (HE_I_4922, 0.6),
                    (HE_I_5016, 0.5),
                    (HE_I_5876, 0.9),
                    (HE_I_6678, 0.5),
                ] {
                    s.absorb_broad_line(line, self.line_fwhm_nm, self.line_ew_nm * rel, 0.3, 2.5);
                }
            }
            WhiteDwarfKind::DC => {}
        }
        s
    }
}
