//! Line and band wavelengths, nm.
//!
//! Optical lines are standard air wavelengths (NIST Atomic Spectra Database; nebular lines as
//! tabulated by Osterbrock & Ferland 2006, "Astrophysics of Gaseous Nebulae and Active Galactic
//! Nuclei", 2nd ed.). Ultraviolet quasar lines (below 300 nm rest) are vacuum wavelengths
//! (Vanden Berk et al. 2001, AJ 122, 549, Table 2); they are converted to air when redshifted
//! into the observed band.

// Hydrogen Balmer series (air).
pub const H_ALPHA: f64 = 656.28;
pub const H_BETA: f64 = 486.13;
pub const H_GAMMA: f64 = 434.05;
pub const H_DELTA: f64 = 410.17;
pub const H_EPSILON: f64 = 397.01;
pub const H8: f64 = 388.91;
pub const H9: f64 = 383.54;
pub const H10: f64 = 379.79;
pub const H11: f64 = 377.06;
pub const H12: f64 = 375.02;
/// Balmer series limit (air).
pub const BALMER_LIMIT: f64 = 364.6;

/// Balmer series H-α .. H12.
pub const BALMER: [f64; 10] =
    [H_ALPHA, H_BETA, H_GAMMA, H_DELTA, H_EPSILON, H8, H9, H10, H11, H12];

/// Case B recombination intensities relative to H-β, T_e = 10^4 K, n_e = 10^2 cm^-3
/// (Osterbrock & Ferland 2006, Table 4.4; H8 .. H12 from Storey & Hummer 1995).
pub const BALMER_CASE_B: [f64; 10] =
    [2.86, 1.0, 0.468, 0.259, 0.159, 0.105, 0.0731, 0.0530, 0.0397, 0.0305];

// Helium.
pub const HE_I_3889: f64 = 388.86;
pub const HE_I_4026: f64 = 402.62;
pub const HE_I_4388: f64 = 438.79;
pub const HE_I_4471: f64 = 447.15;
pub const HE_I_4713: f64 = 471.31;
pub const HE_I_4922: f64 = 492.19;
pub const HE_I_5016: f64 = 501.57;
pub const HE_I_5876: f64 = 587.56;
pub const HE_I_6678: f64 = 667.82;
pub const HE_I_7065: f64 = 706.52;
pub const HE_II_4200: f64 = 419.99;
pub const HE_II_4541: f64 = 454.16;
pub const HE_II_4686: f64 = 468.57;
pub const HE_II_5411: f64 = 541.15;
/// Bowen blend C III / N III 464.7-465.0 nm of hot accretion flows.
pub const BOWEN_4645: f64 = 464.5;

// Metals in stellar spectra.
pub const CA_II_K: f64 = 393.37;
pub const CA_II_H: f64 = 396.85;
pub const CA_I_4227: f64 = 422.67;
/// CH A-X (0,0) "G band", centre of the 429.8-431.4 nm blend.
pub const G_BAND: f64 = 430.5;
/// Fe I 438.35 nm + neighbours.
pub const FE_I_4384: f64 = 438.4;
/// Mg I b triplet 516.73, 517.27, 518.36 nm (with MgH in K dwarfs): blend centre.
pub const MG_B: f64 = 517.5;
/// Fe I 526.95 / 527.04 nm blend ("Fe 5270" Lick index).
pub const FE_5270: f64 = 527.0;
/// Na I D 588.995 / 589.592 nm: blend centre.
pub const NA_D: f64 = 589.3;

// Forbidden and other nebular lines (air).
pub const NE_V_3426: f64 = 342.58;
pub const O_II_3727: f64 = 372.7; // 372.60 + 372.88 doublet
pub const NE_III_3869: f64 = 386.88;
pub const NE_III_3968: f64 = 396.75;
pub const O_III_4363: f64 = 436.32;
pub const O_III_4959: f64 = 495.89;
pub const O_III_5007: f64 = 500.68;
pub const N_II_5755: f64 = 575.46;
pub const O_I_6300: f64 = 630.03;
pub const O_I_6364: f64 = 636.38;
pub const N_II_6548: f64 = 654.80;
pub const N_II_6584: f64 = 658.35;
pub const S_II_6717: f64 = 671.64;
pub const S_II_6731: f64 = 673.08;
pub const AR_III_7136: f64 = 713.58;
pub const O_II_7325: f64 = 732.5; // 731.99 + 733.00 blend

/// [O III] 500.7 / 495.9 intensity ratio fixed by atomic physics (Storey & Zeippen 2000: 2.98).
pub const O_III_RATIO: f64 = 2.98;
/// [N II] 658.4 / 654.8 ratio (Osterbrock & Ferland 2006: ~3.05).
pub const N_II_RATIO: f64 = 3.05;
/// [Ne III] 386.9 / 396.8 ratio (~3.3 from transition probabilities).
pub const NE_III_RATIO: f64 = 3.3;

// Ultraviolet quasar lines, vacuum rest wavelengths (Vanden Berk et al. 2001).
pub const LY_BETA_O_VI: f64 = 102.9; // Ly-β 102.57 + O VI 103.19/103.76 blend
pub const LY_ALPHA: f64 = 121.567;
pub const N_V: f64 = 124.01;
pub const SI_IV_O_IV: f64 = 139.8;
pub const C_IV: f64 = 154.906;
pub const HE_II_1640: f64 = 164.042;
pub const C_III: f64 = 190.873;
pub const MG_II: f64 = 279.875;

/// TiO band heads (air, red-degraded) used for M stars, with relative strength and the length
/// over which the band's absorption is spread (up to the next head). Heads: α system 476.1,
/// 495.4, 516.7, 544.8, 584.7 (weaker), 615.9 nm; γ system 665.1 and 705.3 nm (Turnshek et al.
/// 1985, "An Atlas of Digital Spectra of Cool Stars"; Kirkpatrick, Henry & McCarthy 1991,
/// ApJS 77, 417). Relative strengths and lengths are our assumption from the look of M-dwarf
/// spectra at low resolution. The 665.1 nm head stands in for the "670 nm" band of the brief.
pub const TIO_BANDS: [(f64, f64, f64); 8] = [
    (476.1, 0.35, 18.0),
    (495.5, 0.75, 20.0),
    (516.7, 0.85, 27.0),
    (544.8, 0.95, 30.0),
    (584.7, 0.40, 25.0),
    (615.9, 1.00, 40.0),
    (665.1, 0.65, 36.0),
    (705.3, 1.00, 40.0),
];

/// C2 Swan band heads (air, violet-degraded): Δv = +2, +1, 0, -1, -2 sequences (Pearse & Gaydon
/// 1976, "The Identification of Molecular Spectra"; P. Berlind's stellar atlas lists 4380, 4738,
/// 5165, 5635, 6122 Å), with relative strength and length (the extent of each Δv sequence:
/// e.g. 516.5, 512.9, 509.8 nm heads of (0,0), (1,1), (2,2)); strengths are our assumption.
pub const C2_SWAN_BANDS: [(f64, f64, f64); 5] = [
    (438.2, 0.50, 10.0),
    (473.7, 0.80, 14.0),
    (516.5, 1.00, 16.0),
    (563.6, 0.90, 16.0),
    (612.2, 0.60, 14.0),
];

/// CN violet system heads (air, violet-degraded): (0,0) 388.3 and (0,1) 421.6 nm; strengths
/// and lengths assumed.
pub const CN_VIOLET_BANDS: [(f64, f64, f64); 2] = [(388.3, 0.8, 10.0), (421.6, 0.9, 12.0)];

/// CN red system heads (air, red-degraded) near 620.6 ((4,0)), 647.8, 692.5 ((3,0)) and
/// 708.8 ((4,1)) nm, the CN features seen in low-resolution carbon-star spectra (Barnbaum,
/// Stone & Keenan 1996, ApJS 105, 419); the 647.8 nm head and all strengths are assumptions.
pub const CN_RED_BANDS: [(f64, f64, f64); 4] =
    [(620.6, 0.6, 14.0), (647.8, 0.6, 12.0), (692.5, 0.9, 14.0), (708.8, 0.8, 20.0)];
