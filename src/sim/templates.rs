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
//! in closed form; point-sampling [`Template::sed`] on a coarse grid would miss narrow lines.
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
}
