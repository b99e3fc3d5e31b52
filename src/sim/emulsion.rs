//! Emulsion response on the DFBS pixel scale, per emulsion.
//!
//! DFBS.md gives the profile of real IIF spectra of ordinary stars, peak-normalised, on the
//! pixel scale of the prism: red peak 650–670 nm = 1.00, the sharp cut-off at 690 nm (0.45),
//! a deep minimum plateau at 480–505 nm (0.20), the blue peak at 440–455 nm (0.38), a drop near
//! 399 nm and 0.06 at 370 nm. That profile already folds together the emulsion's sensitivity,
//! the prism's dispersion (11.4 nm/pixel at 690 nm, 2.7 at H-gamma) and the spectrum of a
//! typical star of the survey. The simulator therefore uses it as the *response to the reference
//! star* ([`REFERENCE_TEMPERATURE_K`]); an object's exposure per pixel is this profile times the
//! ratio of its SED to the reference SED, both scaled to 1 at 445 nm.
//!
//! The curves are exposure-space responses: the photographic density response (saturation)
//! flattens the observed ratios for bright objects, so the gap and blue peak are set a little
//! deeper here than the observed density profile of DFBS.md, and the faithfulness test measures
//! the rendered and extracted result against the real spectra.
//!
//! The emulsions other than IIF differ in the depth of the gap and the height of the blue peak
//! [inferred: Kodak's published sensitivity curves show the F emulsions sharing the 690 nm red
//! cut-off with the green-sensitivity gap of differing depth; the numbers are ours].

/// Effective temperature of the reference star whose spectrum the tabulated profile describes
/// (the median star of the real fbs1163 sample has B-R ≈ 0.9, a late G star) [inferred].
pub const REFERENCE_TEMPERATURE_K: f64 = 5600.0;

/// An emulsion's response: control points (nm, relative response), interpolated linearly.
#[derive(Debug, Clone, PartialEq)]
pub struct Emulsion {
    pub name: &'static str,
    points: &'static [(f64, f64)],
}

/// Kodak IIF, the common DFBS emulsion. Control points read off DFBS.md's profile and then
/// adjusted so that rendered-and-extracted spectra match the real fbs1163 ones.
const IIF: &[(f64, f64)] = &[
    (300.0, 0.000),
    (330.0, 0.009),
    (345.0, 0.026),
    (360.0, 0.040),
    (370.0, 0.053),
    (385.0, 0.097),
    (395.0, 0.167),
    (401.0, 0.220),
    (410.0, 0.264),
    (425.0, 0.317),
    (440.0, 0.343),
    (455.0, 0.339),
    (465.0, 0.290),
    (475.0, 0.224),
    (482.0, 0.189),
    (495.0, 0.176),
    (505.0, 0.185),
    (515.0, 0.229),
    (530.0, 0.317),
    (550.0, 0.442),
    (575.0, 0.624),
    (600.0, 0.790),
    (625.0, 0.890),
    (645.0, 0.970),
    (655.0, 1.000),
    (670.0, 1.000),
    (680.0, 0.900),
    (686.0, 0.720),
    (690.0, 0.450),
    (694.0, 0.120),
    (698.0, 0.000),
    (800.0, 0.000),
];

/// Kodak IIaF: similar cut-off, a shallower gap and a stronger blue peak [inferred].
const IIAF_LOWER: &[(f64, f64)] = &[
    (300.0, 0.000),
    (330.0, 0.013),
    (345.0, 0.035),
    (360.0, 0.053),
    (370.0, 0.066),
    (385.0, 0.114),
    (395.0, 0.194),
    (401.0, 0.255),
    (410.0, 0.299),
    (425.0, 0.343),
    (440.0, 0.370),
    (455.0, 0.361),
    (465.0, 0.317),
    (475.0, 0.246),
    (482.0, 0.202),
    (495.0, 0.189),
    (505.0, 0.198),
    (515.0, 0.238),
    (530.0, 0.326),
    (550.0, 0.469),
    (575.0, 0.643),
    (600.0, 0.800),
    (625.0, 0.900),
    (645.0, 0.970),
    (655.0, 1.000),
    (670.0, 1.000),
    (680.0, 0.880),
    (686.0, 0.700),
    (690.0, 0.440),
    (694.0, 0.110),
    (698.0, 0.000),
    (800.0, 0.000),
];

/// Kodak 103aF: the deepest gap and weakest blue of the three [inferred].
const E103AF: &[(f64, f64)] = &[
    (300.0, 0.000),
    (330.0, 0.007),
    (345.0, 0.022),
    (360.0, 0.035),
    (370.0, 0.044),
    (385.0, 0.084),
    (395.0, 0.150),
    (401.0, 0.198),
    (410.0, 0.233),
    (425.0, 0.264),
    (440.0, 0.286),
    (455.0, 0.282),
    (465.0, 0.238),
    (475.0, 0.167),
    (482.0, 0.132),
    (495.0, 0.119),
    (505.0, 0.128),
    (515.0, 0.172),
    (530.0, 0.273),
    (550.0, 0.423),
    (575.0, 0.614),
    (600.0, 0.780),
    (625.0, 0.885),
    (645.0, 0.965),
    (655.0, 1.000),
    (670.0, 1.000),
    (680.0, 0.910),
    (686.0, 0.740),
    (690.0, 0.460),
    (694.0, 0.130),
    (698.0, 0.000),
    (800.0, 0.000),
];

impl Emulsion {
    /// The emulsions the simulator knows. Upper and lower case in names denote different Kodak
    /// products (DFBS.md), so the match is exact: "IIaF" and "IIAF" are both known and distinct
    /// ("IIAF" is rendered with the IIF curve, its closest relative [inferred]).
    pub fn by_name(name: &str) -> Option<Emulsion> {
        let points = match name {
            "IIF" => IIF,
            "IIaF" => IIAF_LOWER,
            "IIAF" => IIF,
            "103aF" => E103AF,
            _ => return None,
        };
        let name = Emulsion::NAMES.into_iter().find(|known| *known == name)?;
        Some(Emulsion { name, points })
    }

    pub const NAMES: [&'static str; 4] = ["IIF", "IIaF", "IIAF", "103aF"];

    /// Relative response (exposure per pixel of the reference star) at `lambda_nm`.
    pub fn response(&self, lambda_nm: f64) -> f64 {
        let points = self.points;
        if lambda_nm <= points[0].0 {
            return points[0].1;
        }
        for pair in points.windows(2) {
            let (l0, r0) = pair[0];
            let (l1, r1) = pair[1];
            if lambda_nm <= l1 {
                return r0 + (r1 - r0) * (lambda_nm - l0) / (l1 - l0);
            }
        }
        points[points.len() - 1].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iif_profile_has_the_features_of_dfbs_md() {
        let e = Emulsion::by_name("IIF").unwrap();
        assert_eq!(e.response(660.0), 1.0);
        assert!((e.response(690.0) - 0.45).abs() < 1e-12);
        assert!(e.response(495.0) <= 0.2);
        assert!(e.response(447.0) > 0.3 && e.response(447.0) < 0.4);
        assert!(e.response(370.0) < 0.07);
        assert_eq!(e.response(700.0), 0.0);
    }

    #[test]
    fn names_are_case_sensitive() {
        assert!(Emulsion::by_name("IIaF").is_some());
        assert!(Emulsion::by_name("IIAF").is_some());
        assert!(Emulsion::by_name("iiaf").is_none());
        assert_ne!(Emulsion::by_name("IIaF"), Emulsion::by_name("IIAF"));
    }
}
