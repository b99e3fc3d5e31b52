//! Parameters of the detection and extraction stages ([`super::detect`], [`super::extract`]).
//!
//! Every number the stages use lives here with its default and the reason for it, so that a run
//! can record exactly what it was run with (the struct serialises to JSON/TOML as provenance).
//! The defaults follow the earlier DFBS pipelines (DFBS.md, "How earlier pipelines extracted
//! spectra") where those give a number, and were tuned on simulated plates (`crate::sim`,
//! tests in `pipeline::detect::tests`) where they do not.

use serde::Serialize;

use crate::sim::plate::RedEnd;

fn serialize_red_end<S: serde::Serializer>(red_end: &RedEnd, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(red_end.keyword())
}

/// What the detection and extraction stages are run with.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineParams {
    /// Which end of a trace is red (the header keyword REDEND when present, `+y` otherwise).
    #[serde(serialize_with = "serialize_red_end")]
    pub red_end: RedEnd,
    /// Pixels from the catalogue position to the 690 nm point, toward the red (header ANCHOFF;
    /// 8 by default, DFBS.md: the catalogue position lies 0-22 px from the red end of a trace).
    pub anchor_offset_px: f64,

    // --- Bands --------------------------------------------------------------------------------
    /// Rows a band owns (its "core"): detections whose anchor falls in them belong to the band.
    pub band_rows: usize,
    /// Rows read on either side of a band's core. Must exceed the longest trace (about 160 px
    /// from beyond the red border to 303 nm) plus the blur radius, so every trace anchored in
    /// the core is seen whole with its surroundings.
    pub band_overlap: usize,

    // --- Masks --------------------------------------------------------------------------------
    /// Scan value below which a run of pixels starting at the left or right edge of the scan is
    /// the unexposed plate-holder corner (about 600, DFBS.md), not a spectrum. A clear plate is
    /// about 14,000; saturated spectrum cores can be darker than the corners, which is why the
    /// corners are found by their contact with the edge of the scan and not by their level.
    pub dark_level: f32,
    /// Shortest run of dark pixels from the edge of the scan that counts as plate holder.
    pub dark_min_run: usize,
    /// Pixels added around the plate-holder mask (in x and y).
    pub mask_margin: usize,
    /// A pixel whose density lies this many noise σ *below* the background is a scratch or
    /// other emulsion loss (clear plate cannot get clearer): it is masked, with one pixel around.
    /// A scratch takes the sky's density down to the base's (about −6 σ of the sky's grain with
    /// little grain of its own); 4 σ catches its soft edges too, while pure noise reaches it
    /// in 3 pixels of 100,000.
    pub bright_defect_sigma: f32,

    // --- Background ---------------------------------------------------------------------------
    /// Cell size (pixels) of the median grid that models the sky, fog and vignetting; bilinear
    /// between cell centres. Large against a trace's width, small against the sky's gradients.
    pub background_cell: usize,

    // --- Blur and threshold -------------------------------------------------------------------
    /// Gaussian σ (pixels) along the dispersion (y): about 8 (DFBS.md), matched to the length of
    /// a trace's red part, so faint traces add up along their length.
    pub blur_sigma_y: f64,
    /// Gaussian σ across the dispersion (x): 0.5 (DFBS.md), about the seeing, so neighbouring
    /// traces stay apart.
    pub blur_sigma_x: f64,
    /// Side (pixels, odd) of the square block of the adaptive mean threshold (19, DFBS.md).
    pub threshold_block: usize,
    /// The threshold's offset above the block mean, in robust σ of (blurred − block mean).
    pub threshold_sigma: f64,
    /// Pixels whose blurred background-subtracted density exceeds this many of its robust σ are
    /// foreground whatever their block mean.
    pub absolute_sigma: f64,

    // --- Boxes --------------------------------------------------------------------------------
    /// Shortest thresholded region (rows) that can hold a trace (20, DFBS.md).
    pub min_box_height: usize,
    /// Widest region (columns) that can be one trace, after splitting touching ones; 20-40 in
    /// the earlier pipelines; extended galaxies and saturated stars reach about 16.
    pub max_box_width: usize,
    /// A column profile is split between two peaks where it falls below this fraction of the
    /// lower peak (traces touching in x).
    pub split_valley: f64,

    // --- Red border ---------------------------------------------------------------------------
    /// Significance (σ) of a candidate red border: the step filter (mean of 6 rows blueward
    /// minus 6 rows redward), local maxima over ±3 rows.
    pub edge_sigma: f64,
    /// Significance (σ) of the step a red border must show: the mean of the red peak (1-10 px
    /// blueward) minus the mean 2-9 px redward.
    pub step_sigma: f64,
    /// Fewest pixels between two red borders in one region (a second trace overlapping along
    /// the dispersion); closer steps are features of one spectrum.
    pub min_border_separation: usize,
    /// A second red border inside a trace must raise the profile by this fraction of the level
    /// just redward of it (the first trace's blue part), so that absorption-band heads and the
    /// rise from the 500 nm gap to the blue peak are not taken for a new spectrum.
    pub secondary_step_ratio: f64,
    /// A second red border inside a trace must be sharp: the step over its nearest two rows on
    /// either side at least this fraction of its full step (a real border rises within 2-3 px).
    pub secondary_sharpness: f64,
    /// Density at which the emulsion saturates (absolute, fog included). Where positive, the
    /// profile that locates the 690 nm point is linearised through the characteristic curve
    /// D = D_bg + (D_sat − D_bg)(1 − e^(−E)) first; 0 turns that off.
    pub saturation_density: f64,
    /// A region whose blurred excess peaks above this many σ holds a spectrum: when none of
    /// its borders passes, the strongest is searched again with thresholds × `fallback_strictness`.
    pub fallback_box_sigma: f64,
    pub fallback_strictness: f64,
    /// Shortest core of a trace (pixels from the red border to where the red part falls to half
    /// its level). Dust grains are round and short; even a very red spectrum keeps more.
    pub min_core_length: f64,
    /// Core length over core width (FWHM across the trace) at least this: spectra are tall and
    /// thin, dust grains round.
    pub min_core_aspect: f64,
    /// Largest drift of the trace's centre in x per row of y: spectra run along y, hairs and
    /// scratches at any angle.
    pub max_tilt: f64,

    // --- Extraction and flags -----------------------------------------------------------------
    /// A row of a trace is visible while its centre pixel (smoothed along the trace) stays this
    /// many grain-noise σ above the background; sets the length and the box.
    pub visible_sigma: f64,
    /// Boxes (expanded by this many pixels) that intersect another detection's box flag both as
    /// NL (neighbours).
    pub neighbour_margin_px: i64,
    /// A red-peak signal-to-noise below this flags a spectrum U (too little signal).
    pub undersignal_snr: f32,
    /// Zero point of the red (487-690 nm) instrumental magnitude: −2.5 log10(Σ density,
    /// k = 0..30) + this. The default makes it approximate B for ordinary stars of 14-17 mag on
    /// simulated plates (median B − mag −0.07, ±0.4 star to star from colour and saturation,
    /// ±0.2 plate to plate). It is a brightness for the detector's checks; the catalogue's
    /// `magb` is the B band's ([`PipelineParams::mag_zero_point_b`]).
    pub mag_zero_point: f64,
    /// Zero point of the B-band instrumental magnitude (−2.5 log10 Σ density over 487-400 nm +
    /// this; `extract::B_BAND_BINS`), the uncalibrated `magb`. The default is B − (−2.5 log10 Σ)
    /// of simulated stars on a plate of the typical limit 17.8 (it follows the limit one to one:
    /// 17.46 at LIMMAG 18.0); a reference catalogue replaces it per plate (`photometry`).
    pub mag_zero_point_b: f64,
    /// Zero point of the R-band instrumental magnitude (`extract::R_BAND_BINS`, 690-597 nm), the
    /// uncalibrated `magr`: R − (−2.5 log10 Σ) of simulated stars at R 14-16 is 16.75 at
    /// LIMMAG 18.0, so 16.55 at the typical 17.8.
    pub mag_zero_point_r: f64,
    /// Seeded search window (DFBS.md): pixels from the seed toward the blue, toward the red, and
    /// either side in x.
    pub seed_search_blue: f64,
    pub seed_search_red: f64,
    pub seed_search_x: f64,
}

impl Default for PipelineParams {
    fn default() -> PipelineParams {
        PipelineParams {
            red_end: RedEnd::PlusY,
            anchor_offset_px: 8.0,
            band_rows: 512,
            band_overlap: 208,
            dark_level: 2500.0,
            dark_min_run: 3,
            mask_margin: 4,
            bright_defect_sigma: 4.0,
            background_cell: 64,
            blur_sigma_y: 8.0,
            blur_sigma_x: 0.5,
            threshold_block: 19,
            threshold_sigma: 3.0,
            absolute_sigma: 5.0,
            min_box_height: 20,
            max_box_width: 30,
            split_valley: 0.6,
            edge_sigma: 4.0,
            step_sigma: 5.0,
            min_border_separation: 8,
            secondary_step_ratio: 0.3,
            secondary_sharpness: 0.65,
            saturation_density: 2.0,
            fallback_box_sigma: 8.0,
            fallback_strictness: 0.7,
            min_core_length: 9.0,
            min_core_aspect: 2.0,
            max_tilt: 0.04,
            visible_sigma: 2.0,
            neighbour_margin_px: 0,
            undersignal_snr: 5.0,
            mag_zero_point: 18.0,
            mag_zero_point_b: default_mag_zero_point_b(),
            mag_zero_point_r: 16.55,
            seed_search_blue: 150.0,
            seed_search_red: 25.0,
            seed_search_x: 25.0,
        }
    }
}

fn default_mag_zero_point_b() -> f64 {
    17.26
}

impl PipelineParams {
    /// The defaults with a plate's red end and anchor offset (header REDEND and ANCHOFF).
    pub fn for_plate(red_end: RedEnd, anchor_offset_px: f64) -> PipelineParams {
        PipelineParams { red_end, anchor_offset_px, ..PipelineParams::default() }
    }

    /// Checks that the parameters make sense together.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("blur_sigma_y", self.blur_sigma_y),
            ("blur_sigma_x", self.blur_sigma_x),
            ("threshold_sigma", self.threshold_sigma),
            ("absolute_sigma", self.absolute_sigma),
            ("split_valley", self.split_valley),
            ("edge_sigma", self.edge_sigma),
            ("step_sigma", self.step_sigma),
            ("max_tilt", self.max_tilt),
            ("seed_search_blue", self.seed_search_blue),
            ("seed_search_red", self.seed_search_red),
            ("seed_search_x", self.seed_search_x),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("pipeline parameter {name} must be positive, got {value}"));
            }
        }
        if !self.anchor_offset_px.is_finite() || self.anchor_offset_px.abs() > 100.0 {
            return Err(format!("anchor_offset_px {} is not a plausible offset", self.anchor_offset_px));
        }
        if self.band_rows < 16 {
            return Err("band_rows must be at least 16".into());
        }
        let needed = (3.0 * self.blur_sigma_y).ceil() as usize + 160;
        if self.band_overlap < needed {
            return Err(format!(
                "band_overlap {} is shorter than the longest trace plus the blur radius ({needed})",
                self.band_overlap
            ));
        }
        if self.threshold_block < 3 || self.threshold_block.is_multiple_of(2) {
            return Err("threshold_block must be odd and at least 3".into());
        }
        if self.background_cell < 8 {
            return Err("background_cell must be at least 8".into());
        }
        if self.min_box_height < 4 || self.max_box_width < 3 {
            return Err("min_box_height must be >= 4 and max_box_width >= 3".into());
        }
        Ok(())
    }

    /// +1 when y grows toward the red.
    pub fn sign(&self) -> f64 {
        self.red_end.sign()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_serialise() {
        let params = PipelineParams::default();
        params.validate().unwrap();
        let json = serde_json::to_string(&params).unwrap();
        assert!(json.contains("\"red_end\":\"+y\""), "{json}");
        let minus = PipelineParams::for_plate(RedEnd::MinusY, 6.0);
        assert!(serde_json::to_string(&minus).unwrap().contains("\"red_end\":\"-y\""));
        let bad = PipelineParams { band_overlap: 20, ..PipelineParams::default() };
        assert!(bad.validate().is_err());
    }
}
