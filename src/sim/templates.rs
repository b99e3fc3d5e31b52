//! Spectral templates of the object classes the simulator renders.
//!
//! (Skeleton: the contract below is fixed; the bodies are being written.)

use super::random::SimRng;

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
}

impl Template {
    /// Draws an object of `class` with random variation within the class.
    pub fn draw(class: ObjectClass, rng: &mut SimRng) -> Template {
        let _ = rng;
        Template { class, subclass: "G2".into(), redshift: None, extent_arcsec: 0.0 }
    }

    /// Spectral energy distribution F_lambda (arbitrary units) at `lambda_nm` (valid 300-750 nm),
    /// as it arrives at the telescope: continuum, absorption bands and emission lines
    /// included, with line widths below the survey's ~5 nm resolution allowed (the renderer
    /// smooths). Scaled to 1 at 445 nm.
    pub fn sed(&self, lambda_nm: f64) -> f64 {
        let _ = lambda_nm;
        1.0
    }
}
