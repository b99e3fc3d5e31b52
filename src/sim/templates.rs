//! Spectral templates of the object classes the simulator renders.
//!
//! Every [`Template`] holds the parameters drawn for one object ([`ClassParams`], one struct per
//! class) and the [`SpectralModel`] compiled from them: a sum of continuum components (black
//! bodies, power laws) times linearly adding absorption features (Gaussian lines, error-function
//! edges, saw-tooth molecular bands), plus Gaussian emission lines, and for quasars the mean
//! Lyman-series transmission of the intergalactic medium. [`Template::sed`] is a pure function of
//! the template; all randomness is spent in [`Template::draw`].
//!
//! Conventions: F_λ in arbitrary units, normalised to 1 at 445 nm, valid 300-750 nm; air
//! wavelengths in nm (see [`lines`]); line widths are physical (tens of km/s for nebulae up to
//! 8000 km/s for quasar broad lines), i.e. often far below the ~5 nm DFBS resolution.
//! [`Template::sed_smoothed`] gives the spectrum convolved with a Gaussian instrumental profile
//! in closed form and [`Template::sed_mean`] its mean over a wavelength interval (a pixel);
//! point-sampling [`Template::sed`] on a coarse grid would miss narrow lines.
//!
//! The physics per class lives in [`stars`] (F-K, M, carbon, hot subdwarfs, white dwarfs) and
//! [`emission`] (CVs, planetary nebulae, Markarian galaxies, Seyfert 1, quasars); the model
//! and its analytic smoothing in [`model`].

use super::random::SimRng;

pub mod emission;
pub mod lines;
pub mod model;
pub mod stars;

pub use emission::{
    BalTrough, CvKind, CvParams, NarrowLines, PlanetaryNebulaParams, QuasarParams, SeyfertKind,
    SeyfertParams, UvxGalaxyParams, UvxKind,
};
pub use model::SpectralModel;
pub use stars::{
    CarbonKind, CarbonStarParams, HotSubdwarfParams, MStarParams, NormalStarParams, SubdwarfKind,
    WhiteDwarfKind, WhiteDwarfParams,
};

/// The object classes of the catalogue. `label()` is the `class_label` stored in
/// dfbs.spectra (schema/002_catalogue.sql CHECK constraint) and used by the CNN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectClass {
    NormalStar,
    MStar,
    CarbonStar,
    HotSubdwarf,
    WhiteDwarf,
    CataclysmicVariable,
    PlanetaryNebula,
    UvExcessGalaxy,
    SeyfertCompact,
    Quasar,
}

impl ObjectClass {
    pub const ALL: [ObjectClass; 10] = [
        ObjectClass::NormalStar,
        ObjectClass::MStar,
        ObjectClass::CarbonStar,
        ObjectClass::HotSubdwarf,
        ObjectClass::WhiteDwarf,
        ObjectClass::CataclysmicVariable,
        ObjectClass::PlanetaryNebula,
        ObjectClass::UvExcessGalaxy,
        ObjectClass::SeyfertCompact,
        ObjectClass::Quasar,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ObjectClass::NormalStar => "star",
            ObjectClass::MStar => "m_star",
            ObjectClass::CarbonStar => "carbon",
            ObjectClass::HotSubdwarf => "hot_subdwarf",
            ObjectClass::WhiteDwarf => "white_dwarf",
            ObjectClass::CataclysmicVariable => "cv",
            ObjectClass::PlanetaryNebula => "pn",
            ObjectClass::UvExcessGalaxy => "uvx_galaxy",
            ObjectClass::SeyfertCompact => "seyfert",
            ObjectClass::Quasar => "qso",
        }
    }

    pub fn from_label(label: &str) -> Option<ObjectClass> {
        ObjectClass::ALL.into_iter().find(|class| class.label() == label)
    }
}

/// The drawn parameters of one object, by class.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassParams {
    NormalStar(NormalStarParams),
    MStar(MStarParams),
    CarbonStar(CarbonStarParams),
    HotSubdwarf(HotSubdwarfParams),
    WhiteDwarf(WhiteDwarfParams),
    CataclysmicVariable(CvParams),
    PlanetaryNebula(PlanetaryNebulaParams),
    UvExcessGalaxy(UvxGalaxyParams),
    SeyfertCompact(SeyfertParams),
    Quasar(QuasarParams),
}

impl ClassParams {
    /// Draws the spectral parameters of an object of `class`.
    pub fn draw(class: ObjectClass, rng: &mut SimRng) -> ClassParams {
        match class {
            ObjectClass::NormalStar => ClassParams::NormalStar(NormalStarParams::draw(rng)),
            ObjectClass::MStar => ClassParams::MStar(MStarParams::draw(rng)),
            ObjectClass::CarbonStar => ClassParams::CarbonStar(CarbonStarParams::draw(rng)),
            ObjectClass::HotSubdwarf => ClassParams::HotSubdwarf(HotSubdwarfParams::draw(rng)),
            ObjectClass::WhiteDwarf => ClassParams::WhiteDwarf(WhiteDwarfParams::draw(rng)),
            ObjectClass::CataclysmicVariable => ClassParams::CataclysmicVariable(CvParams::draw(rng)),
            ObjectClass::PlanetaryNebula => {
                ClassParams::PlanetaryNebula(PlanetaryNebulaParams::draw(rng))
            }
            ObjectClass::UvExcessGalaxy => ClassParams::UvExcessGalaxy(UvxGalaxyParams::draw(rng)),
            ObjectClass::SeyfertCompact => ClassParams::SeyfertCompact(SeyfertParams::draw(rng)),
            ObjectClass::Quasar => ClassParams::Quasar(QuasarParams::draw(rng)),
        }
    }

    pub fn class(&self) -> ObjectClass {
        match self {
            ClassParams::NormalStar(_) => ObjectClass::NormalStar,
            ClassParams::MStar(_) => ObjectClass::MStar,
            ClassParams::CarbonStar(_) => ObjectClass::CarbonStar,
            ClassParams::HotSubdwarf(_) => ObjectClass::HotSubdwarf,
            ClassParams::WhiteDwarf(_) => ObjectClass::WhiteDwarf,
            ClassParams::CataclysmicVariable(_) => ObjectClass::CataclysmicVariable,
            ClassParams::PlanetaryNebula(_) => ObjectClass::PlanetaryNebula,
            ClassParams::UvExcessGalaxy(_) => ObjectClass::UvExcessGalaxy,
            ClassParams::SeyfertCompact(_) => ObjectClass::SeyfertCompact,
            ClassParams::Quasar(_) => ObjectClass::Quasar,
        }
    }

    /// The subclass label ("G2", "M4", "C-N", "sdB", "DA3.5", "DN", "high_excitation",
    /// "starburst", "Sy1", "QSO", ...).
    pub fn subclass(&self) -> String {
        match self {
            ClassParams::NormalStar(p) => p.spectral_type.into(),
            ClassParams::MStar(p) => p.subclass(),
            ClassParams::CarbonStar(p) => p.kind.label().into(),
            ClassParams::HotSubdwarf(p) => p.kind.label().into(),
            ClassParams::WhiteDwarf(p) => p.subclass(),
            ClassParams::CataclysmicVariable(p) => p.kind.label().into(),
            ClassParams::PlanetaryNebula(p) => p.subclass(),
            ClassParams::UvExcessGalaxy(p) => p.kind.label().into(),
            ClassParams::SeyfertCompact(p) => p.kind.label().into(),
            ClassParams::Quasar(p) => if p.bal.is_some() { "BAL_QSO" } else { "QSO" }.into(),
        }
    }

    /// Cosmological redshift (galaxies and quasars).
    pub fn redshift(&self) -> Option<f64> {
        match self {
            ClassParams::UvExcessGalaxy(p) => Some(p.z),
            ClassParams::SeyfertCompact(p) => Some(p.z),
            ClassParams::Quasar(p) => Some(p.z),
            _ => None,
        }
    }

    /// Compiles the parameters into a normalised spectral model.
    pub fn build(&self) -> SpectralModel {
        let mut model = match self {
            ClassParams::NormalStar(p) => p.build(),
            ClassParams::MStar(p) => p.build(),
            ClassParams::CarbonStar(p) => p.build(),
            ClassParams::HotSubdwarf(p) => p.build(),
            ClassParams::WhiteDwarf(p) => p.build(),
            ClassParams::CataclysmicVariable(p) => p.build(),
            ClassParams::PlanetaryNebula(p) => p.build(),
            ClassParams::UvExcessGalaxy(p) => p.build(),
            ClassParams::SeyfertCompact(p) => p.build(),
            ClassParams::Quasar(p) => p.build(),
        };
        model.normalise();
        model
    }
}

/// 10^N(0, dex): a log-normal multiplicative scatter.
fn scatter(rng: &mut SimRng, dex: f64) -> f64 {
    10f64.powf(rng.gauss(0.0, dex))
}

/// Log-uniform deviate in [low, high).
fn log_uniform(rng: &mut SimRng, low: f64, high: f64) -> f64 {
    rng.range(low.ln(), high.ln()).exp()
}

/// Draws the image extent beyond the seeing, arcsec (assumptions: Markarian galaxies 3-12
/// arcsec log-uniform; Seyfert 1 / compact galaxies 60 % slightly resolved up to 3 arcsec;
/// planetary nebulae at high latitude 40 % star-like, the rest 1-8 arcsec; others point-like).
fn draw_extent(class: ObjectClass, rng: &mut SimRng) -> f64 {
    match class {
        ObjectClass::UvExcessGalaxy => log_uniform(rng, 3.0, 12.0),
        ObjectClass::SeyfertCompact => {
            if rng.chance(0.4) { 0.0 } else { rng.range(0.5, 3.0) }
        }
        ObjectClass::PlanetaryNebula => {
            if rng.chance(0.4) { 0.0 } else { log_uniform(rng, 1.0, 8.0) }
        }
        _ => 0.0,
    }
}

/// One object's spectrum: class, subclass and the drawn parameters.
#[derive(Debug, Clone)]
pub struct Template {
    pub class: ObjectClass,
    /// e.g. "G2", "sdB", "C-N", "starburst"; never empty.
    pub subclass: String,
    /// Cosmological redshift for galaxies and quasars, None for Galactic objects.
    pub redshift: Option<f64>,
    /// FWHM of the object's image in arcsec beyond the seeing (0 for point sources).
    pub extent_arcsec: f64,
    /// The drawn physical parameters.
    pub params: ClassParams,
    /// The spectrum compiled from `params` (normalised to 1 at 445 nm).
    pub model: SpectralModel,
}

impl Template {
    /// Draws an object of `class` with random variation within the class.
    pub fn draw(class: ObjectClass, rng: &mut SimRng) -> Template {
        let params = ClassParams::draw(class, rng);
        let extent_arcsec = draw_extent(class, rng);
        Template::new(params, extent_arcsec)
    }

    /// A template from given parameters (for tests and hand-made objects).
    pub fn new(params: ClassParams, extent_arcsec: f64) -> Template {
        let model = params.build();
        Template {
            class: params.class(),
            subclass: params.subclass(),
            redshift: params.redshift(),
            extent_arcsec,
            params,
            model,
        }
    }

    /// Spectral energy distribution F_lambda (arbitrary units) at `lambda_nm` (valid 300-750 nm),
    /// as it arrives at the telescope: continuum, absorption bands and emission lines
    /// included, with line widths below the survey's ~5 nm resolution allowed (the renderer
    /// smooths). Scaled to 1 at 445 nm.
    pub fn sed(&self, lambda_nm: f64) -> f64 {
        self.model.eval(lambda_nm, 0.0)
    }

    /// [`Template::sed`] convolved with a Gaussian of FWHM `fwhm_nm` (analytic: line widths add
    /// in quadrature, edges and band heads are smeared with error functions). Use this rather
    /// than point samples of `sed` when sampling coarser than the narrowest lines (nebular lines
    /// are ~0.1 nm wide). Not exactly 1 at 445 nm.
    pub fn sed_smoothed(&self, lambda_nm: f64, fwhm_nm: f64) -> f64 {
        self.model.eval(lambda_nm, fwhm_nm.max(0.0) / model::FWHM_PER_SIGMA)
    }

    /// Mean of [`Template::sed`] over the wavelength interval [`lo_nm`, `hi_nm`] (a pixel or a
    /// part of one): what a renderer should use instead of point samples, which miss or
    /// randomly hit lines narrower than the sample spacing (planetary-nebula lines are
    /// ~0.1 nm wide). Emission lines are integrated exactly; absorption features keep their
    /// equivalent width to ~2 %.
    pub fn sed_mean(&self, lo_nm: f64, hi_nm: f64) -> f64 {
        self.model.eval_mean(lo_nm, hi_nm)
    }
}

#[cfg(test)]
mod tests {
    use super::lines::*;
    use super::*;

    const DRAWS: usize = 300;

    fn draws(class: ObjectClass, seed: u64, n: usize) -> Vec<Template> {
        let mut rng = SimRng::new(seed);
        (0..n).map(|_| Template::draw(class, &mut rng)).collect()
    }

    #[test]
    fn normalised_at_445_nm() {
        for class in ObjectClass::ALL {
            for t in draws(class, 11, DRAWS) {
                let v = t.sed(445.0);
                assert!((v - 1.0).abs() < 1e-9, "{class:?} {} sed(445) = {v}", t.subclass);
                assert_eq!(t.class, class);
                assert!(!t.subclass.is_empty());
            }
        }
    }

    #[test]
    fn finite_and_non_negative_over_the_band() {
        for class in ObjectClass::ALL {
            for t in draws(class, 12, 60) {
                let mut l = 300.0;
                while l <= 750.0 {
                    for v in [t.sed(l), t.sed_smoothed(l, 5.0)] {
                        assert!(v.is_finite() && v >= 0.0, "{class:?} {} at {l}: {v}", t.subclass);
                    }
                    l += 0.01;
                }
            }
        }
    }

    #[test]
    fn redshift_and_extent_by_class() {
        for class in ObjectClass::ALL {
            for t in draws(class, 13, DRAWS) {
                match class {
                    ObjectClass::UvExcessGalaxy => {
                        let z = t.redshift.unwrap();
                        assert!((0.005..=0.05).contains(&z));
                        assert!((3.0..=12.0).contains(&t.extent_arcsec));
                    }
                    ObjectClass::SeyfertCompact => {
                        let z = t.redshift.unwrap();
                        assert!((0.01..=0.1).contains(&z));
                        assert!((0.0..=3.0).contains(&t.extent_arcsec));
                    }
                    ObjectClass::Quasar => {
                        let z = t.redshift.unwrap();
                        assert!((0.1..=3.2).contains(&z));
                        assert_eq!(t.extent_arcsec, 0.0);
                    }
                    _ => assert!(t.redshift.is_none()),
                }
            }
        }
    }

    #[test]
    fn deterministic_for_the_same_rng_state() {
        for class in ObjectClass::ALL {
            let mut a = SimRng::new(99);
            let mut b = SimRng::new(99);
            for _ in 0..20 {
                let (ta, tb) = (Template::draw(class, &mut a), Template::draw(class, &mut b));
                assert_eq!(ta.params, tb.params);
                assert_eq!(ta.subclass, tb.subclass);
                for l in [320.0, 372.7, 445.0, 486.1, 500.7, 550.0, 656.3, 690.0] {
                    assert_eq!(ta.sed(l).to_bits(), tb.sed(l).to_bits());
                    assert_eq!(ta.sed_smoothed(l, 5.0).to_bits(), tb.sed_smoothed(l, 5.0).to_bits());
                }
            }
            // The streams stay in step.
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn smoothed_sed_matches_numerical_convolution() {
        // Brute-force convolution of the intrinsic SED with a Gaussian on a 0.004 nm grid.
        let fwhm = 5.0;
        let sigma = fwhm / model::FWHM_PER_SIGMA;
        let convolve = |t: &Template, l: f64| {
            let h = 0.004;
            let n = (5.0 * sigma / h) as i64;
            let mut sum = 0.0;
            let mut wsum = 0.0;
            for i in -n..=n {
                let x = i as f64 * h;
                let w = (-0.5 * (x / sigma).powi(2)).exp();
                sum += w * t.sed(l + x);
                wsum += w;
            }
            sum / wsum
        };
        for class in ObjectClass::ALL {
            for t in draws(class, 14, 6) {
                for l in [340.0, 372.7, 395.0, 434.0, 473.7, 495.5, 500.7, 516.5, 563.6, 615.9, 656.3, 690.0] {
                    let exact = convolve(&t, l);
                    let fast = t.sed_smoothed(l, fwhm);
                    let tol = 0.03 * exact.max(0.05 * t.sed_smoothed(550.0, fwhm)) + 1e-6;
                    assert!(
                        (exact - fast).abs() <= tol,
                        "{class:?} {} at {l}: numerical {exact}, analytic {fast}",
                        t.subclass
                    );
                }
            }
        }
    }

    #[test]
    fn interval_means_match_brute_force() {
        for class in ObjectClass::ALL {
            for t in draws(class, 28, 6) {
                for (lo, width) in [(340.0, 1.0), (370.0, 2.0), (392.0, 2.5), (430.0, 3.0), (484.0, 4.0),
                    (498.0, 4.0), (512.0, 6.0), (560.0, 8.0), (650.0, 10.0), (680.0, 11.0)]
                {
                    let n = (width / 0.0005) as usize;
                    let brute = (0..n).map(|i| t.sed(lo + width * (i as f64 + 0.5) / n as f64)).sum::<f64>()
                        / n as f64;
                    let fast = t.sed_mean(lo, lo + width);
                    // Deep lines cut by the interval's ends leak a little through the
                    // sub-point smoothing: 5 %.
                    let tol = 0.05 * brute.max(0.05 * t.sed_smoothed(550.0, 5.0)) + 1e-6;
                    assert!(
                        (brute - fast).abs() <= tol,
                        "{class:?} {} over [{lo}, {}]: brute {brute}, fast {fast}",
                        t.subclass,
                        lo + width
                    );
                }
            }
        }
    }

    #[test]
    fn normal_stars_cooler_are_redder_and_have_stronger_metal_lines() {
        for t in draws(ObjectClass::NormalStar, 15, DRAWS) {
            let ClassParams::NormalStar(p) = &t.params else { unreachable!() };
            assert!((4000.0..=7500.0).contains(&p.teff_k));
            let first = t.subclass.as_bytes()[0];
            assert!(matches!(first, b'F' | b'G' | b'K'), "{}", t.subclass);
        }
        let make = |teff_k| {
            Template::new(
                ClassParams::NormalStar(NormalStarParams {
                    spectral_type: "G2",
                    teff_k,
                    balmer_scale: 1.0,
                    metal_scale: 1.0,
                }),
                0.0,
            )
        };
        let (f5, g2, k5) = (make(6550.0), make(5770.0), make(4440.0));
        let colour = |t: &Template| t.sed(400.0) / t.sed(650.0);
        assert!(colour(&f5) > colour(&g2) && colour(&g2) > colour(&k5));
        // Ca II K deeper in K than in F; H-β deeper in F than in K.
        let depth = |t: &Template, l: f64, side: f64| 1.0 - t.sed(l) / (0.5 * (t.sed(l - side) + t.sed(l + side)));
        assert!(depth(&k5, CA_II_K, 5.0) > depth(&f5, CA_II_K, 5.0));
        assert!(depth(&f5, H_BETA, 6.0) > depth(&k5, H_BETA, 6.0));
        // Balmer jump of the F star.
        assert!(f5.sed(360.0) < 0.8 * f5.sed(372.0) * (372.0f64 / 360.0).powi(0));
    }

    #[test]
    fn m_star_tio_heads_are_sharp_drops() {
        for t in draws(ObjectClass::MStar, 16, DRAWS) {
            let ClassParams::MStar(p) = &t.params else { unreachable!() };
            assert!((2600.0..=3900.0).contains(&p.teff_k));
            for head in [495.5, 516.7, 544.8, 615.9] {
                let before = t.sed(head - 0.3);
                let after = t.sed(head + 0.3);
                assert!(after < 0.97 * before, "{} at {head}: {before} -> {after}", t.subclass);
            }
        }
        // Deeper in late subtypes (smoothed to the survey resolution).
        let drop = |t: &Template| t.sed_smoothed(550.0, 5.0) / t.sed_smoothed(541.0, 5.0);
        let ts = draws(ObjectClass::MStar, 17, DRAWS);
        let mean = |k: u8| {
            let sel: Vec<f64> = ts.iter().filter(|t| t.subclass == format!("M{k}")).map(drop).collect();
            sel.iter().sum::<f64>() / sel.len() as f64
        };
        assert!(mean(5) < mean(0));
        // Red-heavy: blue almost absent.
        for t in &ts {
            assert!(t.sed(650.0) > 2.0 * t.sed(445.0), "{}", t.subclass);
        }
    }

    #[test]
    fn carbon_stars_absorb_blueward_of_swan_heads() {
        for t in draws(ObjectClass::CarbonStar, 18, DRAWS) {
            for head in [516.5, 563.6] {
                let blue = t.sed(head - 0.5);
                let red = t.sed(head + 0.5);
                assert!(blue < 0.85 * red, "{} at {head}: {blue} vs {red}", t.subclass);
            }
            // Red; extremely weak blue for N types.
            let min_ratio = if t.subclass == "C-N" { 5.0 } else { 1.3 };
            assert!(t.sed(650.0) > min_ratio * t.sed(445.0), "{}", t.subclass);
            assert!(["C-H", "C-R", "C-N"].contains(&t.subclass.as_str()));
        }
        // N types redder than R/H.
        let ts = draws(ObjectClass::CarbonStar, 19, DRAWS);
        let red = |kind: &str| {
            let v: Vec<f64> = ts.iter().filter(|t| t.subclass == kind).map(|t| t.sed(650.0)).collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(red("C-N") > 2.0 * red("C-R"));
    }

    #[test]
    fn planetary_nebula_lines_dominate() {
        for t in draws(ObjectClass::PlanetaryNebula, 20, DRAWS) {
            let ClassParams::PlanetaryNebula(p) = &t.params else { unreachable!() };
            let cont = t.sed_smoothed(540.0, 5.0);
            let o3 = t.sed_smoothed(O_III_5007, 5.0);
            assert!(o3 > 10.0 * cont, "{}: [O III] {o3} vs continuum {cont}", t.subclass);
            assert!(t.sed(O_III_5007) > 100.0 * t.sed(540.0));
            // 500.7 / 495.9 = 2.98 (same reddening within 1 %).
            let l5007 = &t.model.emission.iter().find(|l| l.center_nm == O_III_5007).unwrap();
            let l4959 = &t.model.emission.iter().find(|l| l.center_nm == O_III_4959).unwrap();
            let ratio = l5007.flux() / l4959.flux();
            assert!((ratio / O_III_RATIO - 1.0).abs() < 0.02, "{ratio}");
            assert!(p.lines.o3_to_hbeta > 0.5);
        }
    }

    #[test]
    fn white_dwarf_balmer_lines_are_broad_and_deep() {
        for t in draws(ObjectClass::WhiteDwarf, 21, DRAWS) {
            let ClassParams::WhiteDwarf(p) = &t.params else { unreachable!() };
            if p.kind != WhiteDwarfKind::DA {
                continue;
            }
            assert!(t.subclass.starts_with("DA"));
            assert!((8000.0..=40_000.0).contains(&p.teff_k));
            let cont = 0.5 * (t.sed_smoothed(H_BETA - 25.0, 5.0) + t.sed_smoothed(H_BETA + 25.0, 5.0));
            let core = t.sed_smoothed(H_BETA, 5.0);
            assert!(core < 0.8 * cont, "{}: H-β {core} vs {cont}", t.subclass);
            // Broad: still depressed 4 nm from the centre.
            assert!(t.sed(H_BETA + 4.0) < 0.93 * cont);
        }
    }

    #[test]
    fn hot_subdwarfs_are_bluer_than_g_stars() {
        let g2 = Template::new(
            ClassParams::NormalStar(NormalStarParams {
                spectral_type: "G2",
                teff_k: 5770.0,
                balmer_scale: 1.0,
                metal_scale: 1.0,
            }),
            0.0,
        );
        let g_colour = g2.sed_smoothed(400.0, 5.0) / g2.sed_smoothed(650.0, 5.0);
        for t in draws(ObjectClass::HotSubdwarf, 22, DRAWS) {
            let colour = t.sed_smoothed(400.0, 5.0) / t.sed_smoothed(650.0, 5.0);
            assert!(colour > 2.0 * g_colour, "{}: {colour} vs G2 {g_colour}", t.subclass);
            let ClassParams::HotSubdwarf(p) = &t.params else { unreachable!() };
            if p.kind == SubdwarfKind::SdO {
                let he2 = t.sed(HE_II_4686) / (0.5 * (t.sed(HE_II_4686 - 8.0) + t.sed(HE_II_4686 + 8.0)));
                assert!(he2 < 0.97, "sdO He II {he2}");
            }
        }
    }

    #[test]
    fn cv_shows_balmer_and_helium_emission() {
        for t in draws(ObjectClass::CataclysmicVariable, 23, DRAWS) {
            let ha = t.sed_smoothed(H_ALPHA, 5.0);
            let side = t.sed_smoothed(H_ALPHA + 20.0, 5.0);
            let min_ratio = if t.subclass == "NL" { 1.0 } else { 1.05 };
            assert!(ha > min_ratio * side, "{}: H-α {ha} vs {side}", t.subclass);
            assert!(t.sed(HE_I_5876) > t.sed(HE_I_5876 + 10.0));
            // Blue continuum.
            assert!(t.sed_smoothed(400.0, 5.0) > 0.9 * t.sed_smoothed(600.0, 5.0), "{}", t.subclass);
        }
    }

    #[test]
    fn quasar_lines_move_with_redshift() {
        let mut rng = SimRng::new(24);
        for z in [0.2, 0.9, 1.5, 2.3, 3.0] {
            let t = Template::new(ClassParams::Quasar(QuasarParams::draw_at(&mut rng, z)), 0.0);
            assert_eq!(t.redshift, Some(z));
            let mut seen = 0;
            for (rest, vacuum) in [(H_BETA, false), (MG_II, true), (C_III, true), (C_IV, true), (LY_ALPHA, true)] {
                let l = rest * (1.0 + z) / if vacuum { model::N_AIR } else { 1.0 };
                if !(350.0..=680.0).contains(&l) {
                    continue;
                }
                seen += 1;
                let peak = t.sed_smoothed(l, 5.0);
                let sides = 0.5 * (t.sed_smoothed(l - 40.0, 5.0) + t.sed_smoothed(l + 40.0, 5.0));
                assert!(peak > 1.1 * sides, "z={z} line {rest}: {peak} vs {sides}");
            }
            assert!(seen >= 1, "z={z}");
        }
        // Lyman-α forest: flux blueward of Ly-α depressed at high z.
        let t = Template::new(ClassParams::Quasar(QuasarParams::draw_at(&mut rng, 3.0)), 0.0);
        let ClassParams::Quasar(p) = &t.params else { unreachable!() };
        let igm = t.model.igm.unwrap();
        let edge = LY_ALPHA * 4.0 / model::N_AIR;
        assert!(igm.transmission(edge - 10.0, 0.0) < 0.8);
        assert_eq!(igm.transmission(edge + 10.0, 0.0), 1.0);
        assert!(p.z == 3.0);
    }

    #[test]
    fn galaxies_have_their_lines_where_the_redshift_puts_them() {
        for t in draws(ObjectClass::UvExcessGalaxy, 25, DRAWS) {
            let z = t.redshift.unwrap();
            let ClassParams::UvExcessGalaxy(p) = &t.params else { unreachable!() };
            let l = H_ALPHA * (1.0 + z);
            let line = t.sed_smoothed(l, 5.0);
            let side = t.sed_smoothed(l + 30.0, 5.0);
            if p.kind != UvxKind::Absorption {
                assert!(line > 1.03 * side, "{}: {line} vs {side}", t.subclass);
            }
            // UV excess: flat or rising to the blue compared with a G star.
            assert!(t.sed_smoothed(400.0, 5.0) / t.sed_smoothed(650.0, 5.0) > 0.4, "{}", t.subclass);
        }
        for t in draws(ObjectClass::SeyfertCompact, 26, DRAWS) {
            let z = t.redshift.unwrap();
            let l = H_BETA * (1.0 + z);
            let line = t.sed_smoothed(l, 5.0);
            let side = 0.5 * (t.sed_smoothed(l - 40.0, 5.0) + t.sed_smoothed(l + 60.0, 5.0));
            assert!(line > 1.1 * side, "{}: {line} vs {side}", t.subclass);
            let ClassParams::SeyfertCompact(p) = &t.params else { unreachable!() };
            assert!((2000.0..=6000.0).contains(&p.broad_fwhm_kms));
        }
    }

    #[test]
    fn equivalent_widths_come_out_as_drawn() {
        // H-α emission EW of a CV measured on the model equals the drawn value.
        for t in draws(ObjectClass::CataclysmicVariable, 27, 20) {
            let ClassParams::CataclysmicVariable(p) = &t.params else { unreachable!() };
            let line = t.model.emission.iter().find(|l| l.center_nm == H_ALPHA).unwrap();
            let ew = line.flux() / t.model.continuum_at(H_ALPHA);
            assert!((ew / p.halpha_ew_nm - 1.0).abs() < 1e-9);
        }
    }
}
