//! The plate's world coordinate system: gnomonic (TAN) projection with SIP distortion, both
//! directions.
//!
//! References:
//! - Calabretta & Greisen 2002, A&A 395, 1077 ("Paper II"): TAN projection (§5.1.3), the
//!   native-to-celestial rotation with LONPOLE = 180° for zenithal projections (§2.5).
//! - Shupe et al. 2005, ASP Conf. Ser. 347, 491: the SIP convention. With FITS pixel
//!   coordinates (p1, p2), 1-based, u = p1 - CRPIX1, v = p2 - CRPIX2:
//!   `(x, y) = CD · (u + f(u, v), v + g(u, v))`, `f = Σ A_p_q u^p v^q` (2 <= p + q <= A_ORDER),
//!   and likewise g with B; the inverse polynomials AP/BP map (U, V) = CD⁻¹·(x, y) back to
//!   (u, v) = (U + Σ AP_p_q U^p V^q, V + Σ BP_p_q U^p V^q).
//!
//! `sky_to_pixel` does not trust AP/BP alone: it starts from them and refines with Newton's
//! method on the forward polynomials, so both directions agree to 1e-9 pixel whatever the
//! quality of the inverse fit (astropy's `all_world2pix` likewise iterates on the forward
//! model). The CD matrix is inverted as a full 2×2 matrix (the `wcs` 0.4 crate swapped its
//! off-diagonal terms, which is wrong for rotated plates).

use std::f64::consts::PI;

const DEG: f64 = PI / 180.0;

/// A SIP polynomial: coefficient `[p][q]` multiplies u^p v^q.
#[derive(Debug, Clone, PartialEq)]
pub struct SipPolynomial {
    pub order: usize,
    pub coefficients: Vec<Vec<f64>>,
}

impl SipPolynomial {
    pub fn zero(order: usize) -> SipPolynomial {
        SipPolynomial { order, coefficients: vec![vec![0.0; order + 1]; order + 1] }
    }

    pub fn get(&self, p: usize, q: usize) -> f64 {
        self.coefficients.get(p).and_then(|row| row.get(q)).copied().unwrap_or(0.0)
    }

    pub fn set(&mut self, p: usize, q: usize, value: f64) {
        if p + q <= self.order {
            self.coefficients[p][q] = value;
        }
    }

    /// The (p, q) pairs with p + q in `min_degree..=order`, the order they are written in.
    pub fn terms(&self, min_degree: usize) -> Vec<(usize, usize)> {
        let mut terms = Vec::new();
        for degree in min_degree..=self.order {
            for p in (0..=degree).rev() {
                terms.push((p, degree - p));
            }
        }
        terms
    }

    /// Value and partial derivatives (∂/∂u, ∂/∂v) at (u, v), by Horner-free direct powers
    /// (orders here are at most 5).
    pub fn evaluate(&self, u: f64, v: f64) -> (f64, f64, f64) {
        let n = self.order + 1;
        let mut upow = [1.0f64; 10];
        let mut vpow = [1.0f64; 10];
        for i in 1..n.min(10) {
            upow[i] = upow[i - 1] * u;
            vpow[i] = vpow[i - 1] * v;
        }
        let (mut value, mut du, mut dv) = (0.0, 0.0, 0.0);
        for p in 0..n.min(10) {
            for q in 0..(n - p).min(10) {
                let c = self.coefficients[p][q];
                if c == 0.0 {
                    continue;
                }
                value += c * upow[p] * vpow[q];
                if p > 0 {
                    du += c * p as f64 * upow[p - 1] * vpow[q];
                }
                if q > 0 {
                    dv += c * q as f64 * upow[p] * vpow[q - 1];
                }
            }
        }
        (value, du, dv)
    }
}

/// The SIP distortion: forward A/B, and optionally the inverse AP/BP.
#[derive(Debug, Clone, PartialEq)]
pub struct Sip {
    pub a: SipPolynomial,
    pub b: SipPolynomial,
    pub ap: Option<SipPolynomial>,
    pub bp: Option<SipPolynomial>,
}

/// TAN(-SIP) plate solution. Pixel coordinates are FITS ones: 1-based, (1, 1) is the centre of
/// the first pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateWcs {
    pub crpix: [f64; 2],
    /// Reference point (RA, Dec) in degrees, ICRS.
    pub crval: [f64; 2],
    /// CD matrix, degrees per pixel: `cd[i][j]` = CDi_j (1-based in FITS).
    pub cd: [[f64; 2]; 2],
    pub sip: Option<Sip>,
}

/// Why a header does not give a usable plate solution.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WcsError {
    #[error("the header has no {0} keyword, so the plate has no usable WCS")]
    Missing(&'static str),
    #[error("CTYPE1/CTYPE2 are {0:?}/{1:?}; only RA---TAN(-SIP) / DEC--TAN(-SIP) plates are supported")]
    UnsupportedProjection(String, String),
    #[error("the CD matrix is singular (determinant {0:e}): pixels cannot be mapped to the sky")]
    SingularMatrix(f64),
    #[error("{0} = {1} is not a finite number")]
    NotFinite(String, f64),
}

/// A header value as the WCS keywords need it.
#[derive(Debug, Clone, PartialEq)]
pub enum CardValue {
    Real(f64),
    Integer(i64),
    Text(String),
}

impl PlateWcs {
    /// Reads the plate solution from header keywords. `real` returns a numeric keyword,
    /// `text` a string one. Accepts CDi_j, or PCi_j with CDELTi, or CDELTi/CROTA2.
    pub fn from_header(
        real: &dyn Fn(&str) -> Option<f64>,
        text: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PlateWcs, WcsError> {
        let ctype1 = text("CTYPE1").ok_or(WcsError::Missing("CTYPE1"))?;
        let ctype2 = text("CTYPE2").ok_or(WcsError::Missing("CTYPE2"))?;
        let c1 = ctype1.trim().to_ascii_uppercase();
        let c2 = ctype2.trim().to_ascii_uppercase();
        let has_sip = c1.ends_with("-SIP") && c2.ends_with("-SIP");
        let base1 = c1.trim_end_matches("-SIP");
        let base2 = c2.trim_end_matches("-SIP");
        if base1 != "RA---TAN" || base2 != "DEC--TAN" {
            return Err(WcsError::UnsupportedProjection(ctype1, ctype2));
        }
        let need = |key: &'static str| -> Result<f64, WcsError> {
            let value = real(key).ok_or(WcsError::Missing(key))?;
            if value.is_finite() { Ok(value) } else { Err(WcsError::NotFinite(key.into(), value)) }
        };
        let crpix = [need("CRPIX1")?, need("CRPIX2")?];
        let crval = [need("CRVAL1")?, need("CRVAL2")?];
        let cd = if real("CD1_1").is_some() || real("CD2_2").is_some() {
            let get = |key: &str| real(key).unwrap_or(0.0);
            [[get("CD1_1"), get("CD1_2")], [get("CD2_1"), get("CD2_2")]]
        } else {
            let cdelt = [need("CDELT1")?, need("CDELT2")?];
            if real("PC1_1").is_some() || real("PC2_2").is_some() {
                let pc = |key: &str, default: f64| real(key).unwrap_or(default);
                [
                    [cdelt[0] * pc("PC1_1", 1.0), cdelt[0] * pc("PC1_2", 0.0)],
                    [cdelt[1] * pc("PC2_1", 0.0), cdelt[1] * pc("PC2_2", 1.0)],
                ]
            } else {
                // CROTA2 convention (Calabretta & Greisen 2002, §6.1, eq. 188).
                let rho = real("CROTA2").unwrap_or(0.0) * DEG;
                [
                    [cdelt[0] * rho.cos(), -cdelt[1] * rho.sin()],
                    [cdelt[0] * rho.sin(), cdelt[1] * rho.cos()],
                ]
            }
        };
        for (i, row) in cd.iter().enumerate() {
            for (j, value) in row.iter().enumerate() {
                if !value.is_finite() {
                    return Err(WcsError::NotFinite(format!("CD{}_{}", i + 1, j + 1), *value));
                }
            }
        }
        let det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0];
        if det == 0.0 || !det.is_finite() {
            return Err(WcsError::SingularMatrix(det));
        }
        let sip = if has_sip {
            let read_poly = |name: &str| -> Option<SipPolynomial> {
                let order = real(&format!("{name}_ORDER"))? as usize;
                let order = order.min(9);
                let mut poly = SipPolynomial::zero(order);
                for p in 0..=order {
                    for q in 0..=(order - p) {
                        if let Some(value) = real(&format!("{name}_{p}_{q}")) {
                            poly.set(p, q, value);
                        }
                    }
                }
                Some(poly)
            };
            let a = read_poly("A").ok_or(WcsError::Missing("A_ORDER"))?;
            let b = read_poly("B").ok_or(WcsError::Missing("B_ORDER"))?;
            Some(Sip { a, b, ap: read_poly("AP"), bp: read_poly("BP") })
        } else {
            None
        };
        Ok(PlateWcs { crpix, crval, cd, sip })
    }

    /// The header cards that describe this solution (RADESYS ICRS, CTYPE, CRPIX, CRVAL, CD,
    /// SIP), with comments.
    pub fn header_cards(&self) -> Vec<(String, CardValue, &'static str)> {
        let sip_suffix = if self.sip.is_some() { "-SIP" } else { "" };
        let mut cards = vec![
            ("WCSAXES".into(), CardValue::Integer(2), "number of WCS axes"),
            ("RADESYS".into(), CardValue::Text("ICRS".into()), "reference frame"),
            ("EQUINOX".into(), CardValue::Real(2000.0), "equinox of the coordinates"),
            ("CTYPE1".into(), CardValue::Text(format!("RA---TAN{sip_suffix}")), "gnomonic projection"),
            ("CTYPE2".into(), CardValue::Text(format!("DEC--TAN{sip_suffix}")), "gnomonic projection"),
            ("CUNIT1".into(), CardValue::Text("deg".into()), ""),
            ("CUNIT2".into(), CardValue::Text("deg".into()), ""),
            ("CRPIX1".into(), CardValue::Real(self.crpix[0]), "reference pixel"),
            ("CRPIX2".into(), CardValue::Real(self.crpix[1]), "reference pixel"),
            ("CRVAL1".into(), CardValue::Real(self.crval[0]), "[deg] RA at the reference pixel"),
            ("CRVAL2".into(), CardValue::Real(self.crval[1]), "[deg] Dec at the reference pixel"),
            ("CD1_1".into(), CardValue::Real(self.cd[0][0]), "[deg/pixel] linear transformation"),
            ("CD1_2".into(), CardValue::Real(self.cd[0][1]), "[deg/pixel] linear transformation"),
            ("CD2_1".into(), CardValue::Real(self.cd[1][0]), "[deg/pixel] linear transformation"),
            ("CD2_2".into(), CardValue::Real(self.cd[1][1]), "[deg/pixel] linear transformation"),
        ];
        if let Some(sip) = &self.sip {
            let mut push_poly = |name: &str, poly: &SipPolynomial, min_degree: usize| {
                cards.push((format!("{name}_ORDER"), CardValue::Integer(poly.order as i64), "SIP polynomial order"));
                for (p, q) in poly.terms(min_degree) {
                    let value = poly.get(p, q);
                    if value != 0.0 {
                        cards.push((format!("{name}_{p}_{q}"), CardValue::Real(value), ""));
                    }
                }
            };
            push_poly("A", &sip.a, 2);
            push_poly("B", &sip.b, 2);
            if let (Some(ap), Some(bp)) = (&sip.ap, &sip.bp) {
                push_poly("AP", ap, 1);
                push_poly("BP", bp, 1);
            }
        }
        cards
    }

    fn cd_inverse(&self) -> [[f64; 2]; 2] {
        let [[a, b], [c, d]] = self.cd;
        let det = a * d - b * c;
        [[d / det, -b / det], [-c / det, a / det]]
    }

    /// FITS pixel (1-based) to (RA, Dec) in degrees, RA in [0, 360).
    pub fn pixel_to_sky(&self, p1: f64, p2: f64) -> (f64, f64) {
        let u = p1 - self.crpix[0];
        let v = p2 - self.crpix[1];
        let (fu, fv) = match &self.sip {
            Some(sip) => (u + sip.a.evaluate(u, v).0, v + sip.b.evaluate(u, v).0),
            None => (u, v),
        };
        let x = self.cd[0][0] * fu + self.cd[0][1] * fv;
        let y = self.cd[1][0] * fu + self.cd[1][1] * fv;
        intermediate_to_sky(x, y, self.crval)
    }

    /// (RA, Dec) in degrees to the FITS pixel (1-based). None for points on the far
    /// hemisphere, which the gnomonic projection cannot show.
    pub fn sky_to_pixel(&self, ra: f64, dec: f64) -> Option<(f64, f64)> {
        let (x, y) = sky_to_intermediate(ra, dec, self.crval)?;
        let inv = self.cd_inverse();
        let big_u = inv[0][0] * x + inv[0][1] * y;
        let big_v = inv[1][0] * x + inv[1][1] * y;
        let Some(sip) = &self.sip else {
            return Some((big_u + self.crpix[0], big_v + self.crpix[1]));
        };
        // Start from the inverse polynomials where present.
        let (mut u, mut v) = match (&sip.ap, &sip.bp) {
            (Some(ap), Some(bp)) => (big_u + ap.evaluate(big_u, big_v).0, big_v + bp.evaluate(big_u, big_v).0),
            _ => (big_u, big_v),
        };
        // Newton on F(u, v) = (u + f, v + g) - (U, V).
        for _ in 0..20 {
            let (f, fu, fv) = sip.a.evaluate(u, v);
            let (g, gu, gv) = sip.b.evaluate(u, v);
            let r1 = u + f - big_u;
            let r2 = v + g - big_v;
            let j11 = 1.0 + fu;
            let j12 = fv;
            let j21 = gu;
            let j22 = 1.0 + gv;
            let det = j11 * j22 - j12 * j21;
            if det == 0.0 || !det.is_finite() {
                return None;
            }
            let du = (j22 * r1 - j12 * r2) / det;
            let dv = (-j21 * r1 + j11 * r2) / det;
            u -= du;
            v -= dv;
            if du.abs() < 1e-11 && dv.abs() < 1e-11 {
                break;
            }
        }
        Some((u + self.crpix[0], v + self.crpix[1]))
    }

    /// Pixel scale in arcsec/pixel (the square root of |det CD|).
    pub fn pixel_scale_arcsec(&self) -> f64 {
        let det = self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0];
        det.abs().sqrt() * 3600.0
    }

    /// Fits AP/BP of the given order to invert A/B over a `width` × `height` plate, by least
    /// squares on a 40 × 40 grid, as astrometry packages write them. Returns the largest
    /// residual of the fitted inverse alone, in pixels.
    pub fn fit_inverse_sip(&mut self, order: usize, width: usize, height: usize) -> f64 {
        let Some(sip) = &self.sip else { return 0.0 };
        let template = SipPolynomial::zero(order);
        let terms = template.terms(1);
        let mut rows = Vec::new();
        let mut targets_u = Vec::new();
        let mut targets_v = Vec::new();
        let grid = 40;
        for i in 0..=grid {
            for j in 0..=grid {
                let p1 = 1.0 + (width as f64 - 1.0) * i as f64 / grid as f64;
                let p2 = 1.0 + (height as f64 - 1.0) * j as f64 / grid as f64;
                let u = p1 - self.crpix[0];
                let v = p2 - self.crpix[1];
                let big_u = u + sip.a.evaluate(u, v).0;
                let big_v = v + sip.b.evaluate(u, v).0;
                rows.push(terms.iter().map(|&(p, q)| big_u.powi(p as i32) * big_v.powi(q as i32)).collect::<Vec<_>>());
                targets_u.push(u - big_u);
                targets_v.push(v - big_v);
            }
        }
        let solve_u = least_squares(&rows, &targets_u);
        let solve_v = least_squares(&rows, &targets_v);
        let mut ap = SipPolynomial::zero(order);
        let mut bp = SipPolynomial::zero(order);
        for (index, &(p, q)) in terms.iter().enumerate() {
            ap.set(p, q, solve_u[index]);
            bp.set(p, q, solve_v[index]);
        }
        let mut worst = 0.0f64;
        for (row, (tu, tv)) in rows.iter().zip(targets_u.iter().zip(&targets_v)) {
            let pu: f64 = row.iter().zip(&solve_u).map(|(a, b)| a * b).sum();
            let pv: f64 = row.iter().zip(&solve_v).map(|(a, b)| a * b).sum();
            worst = worst.max((pu - tu).hypot(pv - tv));
        }
        if let Some(sip) = &mut self.sip {
            sip.ap = Some(ap);
            sip.bp = Some(bp);
        }
        worst
    }
}

/// Gnomonic deprojection: intermediate world coordinates (x, y) in degrees to (RA, Dec).
/// Calabretta & Greisen 2002 eqs. 2, 54 with φ_p = 180°, written in the standard-coordinate
/// form: α = α₀ + atan2(ξ, cos δ₀ − η sin δ₀), δ = atan2(η cos δ₀ + sin δ₀, √(ξ² + (cos δ₀ − η sin δ₀)²)).
pub fn intermediate_to_sky(x: f64, y: f64, crval: [f64; 2]) -> (f64, f64) {
    let xi = x * DEG;
    let eta = y * DEG;
    let (sin_d0, cos_d0) = (crval[1] * DEG).sin_cos();
    let denominator = cos_d0 - eta * sin_d0;
    let ra = crval[0] + xi.atan2(denominator) / DEG;
    let dec = (eta * cos_d0 + sin_d0).atan2(xi.hypot(denominator)) / DEG;
    (ra.rem_euclid(360.0), dec)
}

/// Gnomonic projection of (RA, Dec) to intermediate world coordinates in degrees; None beyond
/// 90° from the tangent point.
pub fn sky_to_intermediate(ra: f64, dec: f64, crval: [f64; 2]) -> Option<(f64, f64)> {
    let (sin_d, cos_d) = (dec * DEG).sin_cos();
    let (sin_d0, cos_d0) = (crval[1] * DEG).sin_cos();
    let (sin_da, cos_da) = ((ra - crval[0]) * DEG).sin_cos();
    let cos_c = sin_d * sin_d0 + cos_d * cos_d0 * cos_da;
    if cos_c <= 1e-10 {
        return None;
    }
    let xi = cos_d * sin_da / cos_c;
    let eta = (sin_d * cos_d0 - cos_d * sin_d0 * cos_da) / cos_c;
    Some((xi / DEG, eta / DEG))
}

/// Least squares by the normal equations and Gaussian elimination with partial pivoting; the
/// systems here are small (≤ 14 unknowns) and well conditioned after the caller's scaling.
fn least_squares(rows: &[Vec<f64>], targets: &[f64]) -> Vec<f64> {
    let n = rows.first().map_or(0, Vec::len);
    // Scale columns to unit RMS to keep the normal matrix well conditioned (powers of ~5000
    // pixels span 10 decades).
    let mut scale = vec![0.0; n];
    for row in rows {
        for (s, value) in scale.iter_mut().zip(row) {
            *s += value * value;
        }
    }
    for s in &mut scale {
        *s = if *s > 0.0 { (*s / rows.len() as f64).sqrt() } else { 1.0 };
    }
    let mut m = vec![vec![0.0; n + 1]; n];
    for (row, target) in rows.iter().zip(targets) {
        for i in 0..n {
            let ri = row[i] / scale[i];
            for j in 0..n {
                m[i][j] += ri * row[j] / scale[j];
            }
            m[i][n] += ri * target;
        }
    }
    for col in 0..n {
        let pivot = (col..n).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs())).unwrap_or(col);
        m.swap(col, pivot);
        let p = m[col][col];
        if p.abs() < 1e-300 {
            continue;
        }
        for row in 0..n {
            if row != col {
                let factor = m[row][col] / p;
                if factor != 0.0 {
                    for k in col..=n {
                        m[row][k] -= factor * m[col][k];
                    }
                }
            }
        }
    }
    (0..n).map(|i| if m[i][i].abs() < 1e-300 { 0.0 } else { m[i][n] / m[i][i] / scale[i] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plate solution of DFBS.md's example plate, with SIP terms of a plausible size.
    fn example() -> PlateWcs {
        let mut a = SipPolynomial::zero(2);
        a.set(2, 0, 2.1e-7);
        a.set(1, 1, -1.3e-7);
        a.set(0, 2, 0.8e-7);
        let mut b = SipPolynomial::zero(2);
        b.set(2, 0, -0.9e-7);
        b.set(1, 1, 1.7e-7);
        b.set(0, 2, 2.4e-7);
        PlateWcs {
            crpix: [4801.0, 4701.0],
            crval: [29.05, 20.3],
            cd: [[-4.309e-4, 1.545e-5], [1.539e-5, 4.279e-4]],
            sip: Some(Sip { a, b, ap: None, bp: None }),
        }
    }

    #[test]
    fn round_trip_over_the_plate_without_and_with_inverse_polynomials() {
        let mut wcs = example();
        for pass in 0..2 {
            for i in 0..=20 {
                for j in 0..=20 {
                    let p1 = 1.0 + 9600.0 * i as f64 / 20.0;
                    let p2 = 1.0 + 9601.0 * j as f64 / 20.0;
                    let (ra, dec) = wcs.pixel_to_sky(p1, p2);
                    let (q1, q2) = wcs.sky_to_pixel(ra, dec).expect("on the near side");
                    assert!((q1 - p1).abs() < 1e-7 && (q2 - p2).abs() < 1e-7, "pass {pass}: {p1},{p2} -> {q1},{q2}");
                }
            }
            let residual = wcs.fit_inverse_sip(3, 9601, 9602);
            assert!(residual < 0.05, "inverse fit residual {residual}");
        }
    }

    #[test]
    fn orientation_east_left_north_up() {
        let wcs = PlateWcs { sip: None, ..example() };
        let (ra0, dec0) = wcs.pixel_to_sky(4801.0, 4701.0);
        assert!((ra0 - 29.05).abs() < 1e-12 && (dec0 - 20.3).abs() < 1e-12);
        let (ra_left, _) = wcs.pixel_to_sky(4701.0, 4701.0);
        assert!(ra_left > ra0, "east is toward -x");
        let (_, dec_up) = wcs.pixel_to_sky(4801.0, 4801.0);
        assert!(dec_up > dec0, "north is toward +y");
        assert!((wcs.pixel_scale_arcsec() - 1.5443).abs() < 0.01);
    }

    #[test]
    fn rotated_plate_inverts_the_full_matrix() {
        // 30 degree rotation: a swapped off-diagonal inverse would be off by hundreds of pixels.
        let (s, c) = (30.0 * DEG).sin_cos();
        let scale = 4.3e-4;
        let wcs = PlateWcs { crpix: [100.0, 100.0], crval: [180.0, 60.0], cd: [[-scale * c, scale * s], [scale * s, scale * c]], sip: None };
        let (ra, dec) = wcs.pixel_to_sky(900.0, 20.0);
        let (p1, p2) = wcs.sky_to_pixel(ra, dec).unwrap();
        assert!((p1 - 900.0).abs() < 1e-8 && (p2 - 20.0).abs() < 1e-8);
    }

    #[test]
    fn ra_wraps_and_far_side_is_refused() {
        let wcs = PlateWcs { crpix: [1.0, 1.0], crval: [0.1, 0.0], cd: [[-1e-3, 0.0], [0.0, 1e-3]], sip: None };
        let (ra, _) = wcs.pixel_to_sky(200.0, 1.0);
        assert!(ra > 359.0 && ra < 360.0, "{ra}");
        assert!(wcs.sky_to_pixel(180.1, 0.0).is_none());
    }

    #[test]
    fn header_round_trip() {
        let mut wcs = example();
        wcs.fit_inverse_sip(3, 9601, 9602);
        let cards = wcs.header_cards();
        let real = |key: &str| {
            cards.iter().find(|(k, _, _)| k == key).and_then(|(_, v, _)| match v {
                CardValue::Real(x) => Some(*x),
                CardValue::Integer(i) => Some(*i as f64),
                CardValue::Text(_) => None,
            })
        };
        let text = |key: &str| {
            cards.iter().find(|(k, _, _)| k == key).and_then(|(_, v, _)| match v {
                CardValue::Text(t) => Some(t.clone()),
                _ => None,
            })
        };
        let back = PlateWcs::from_header(&real, &text).unwrap();
        assert_eq!(back, wcs);
    }

    #[test]
    fn header_errors_are_explained() {
        let no_real = |_: &str| None::<f64>;
        let no_text = |_: &str| None::<String>;
        let err = PlateWcs::from_header(&no_real, &no_text).unwrap_err();
        assert!(err.to_string().contains("CTYPE1"));
        let text = |key: &str| Some(if key == "CTYPE1" { "RA---SIN".to_string() } else { "DEC--SIN".to_string() });
        let err = PlateWcs::from_header(&no_real, &text).unwrap_err();
        assert!(matches!(err, WcsError::UnsupportedProjection(..)));
    }
}
