//! VOUnit 1.0 (IVOA Recommendation 2014-05-23) parsing, enough for IN_UNIT (ADQL 2.1 section
//! 4.9): a unit string becomes a scale factor and a dimension vector over the SI base units
//! plus angle, so that two units convert when their dimensions agree.

/// Exponents of m, kg, s, A, K, mol, cd, rad, pixel, count.
type Dims = [i32; 10];

const M: usize = 0;
const KG: usize = 1;
const S: usize = 2;
const AMP: usize = 3;
const K: usize = 4;
const MOL: usize = 5;
const CD: usize = 6;
const RAD: usize = 7;
const PIX: usize = 8;
const CT: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Quantity {
    factor: f64,
    dims: Dims,
}

fn dims(pairs: &[(usize, i32)]) -> Dims {
    let mut d = [0; 10];
    for &(i, e) in pairs {
        d[i] = e;
    }
    d
}

/// Known unit symbols (VOUnit 1.0 section 2.4 and its tables), as SI factor and dimensions.
fn known(symbol: &str) -> Option<Quantity> {
    use std::f64::consts::PI;
    let q = |factor: f64, pairs: &[(usize, i32)]| Some(Quantity { factor, dims: dims(pairs) });
    match symbol {
        "m" => q(1.0, &[(M, 1)]),
        "g" => q(1e-3, &[(KG, 1)]),
        "s" => q(1.0, &[(S, 1)]),
        "A" => q(1.0, &[(AMP, 1)]),
        "K" => q(1.0, &[(K, 1)]),
        "mol" => q(1.0, &[(MOL, 1)]),
        "cd" => q(1.0, &[(CD, 1)]),
        "rad" => q(1.0, &[(RAD, 1)]),
        "sr" => q(1.0, &[(RAD, 2)]),
        "deg" => q(PI / 180.0, &[(RAD, 1)]),
        "arcmin" => q(PI / 180.0 / 60.0, &[(RAD, 1)]),
        "arcsec" => q(PI / 180.0 / 3600.0, &[(RAD, 1)]),
        "mas" => q(PI / 180.0 / 3.6e6, &[(RAD, 1)]),
        "Hz" => q(1.0, &[(S, -1)]),
        "N" => q(1.0, &[(KG, 1), (M, 1), (S, -2)]),
        "J" => q(1.0, &[(KG, 1), (M, 2), (S, -2)]),
        "W" => q(1.0, &[(KG, 1), (M, 2), (S, -3)]),
        "Pa" => q(1.0, &[(KG, 1), (M, -1), (S, -2)]),
        "C" => q(1.0, &[(AMP, 1), (S, 1)]),
        "V" => q(1.0, &[(KG, 1), (M, 2), (S, -3), (AMP, -1)]),
        "T" => q(1.0, &[(KG, 1), (S, -2), (AMP, -1)]),
        "min" => q(60.0, &[(S, 1)]),
        "h" => q(3600.0, &[(S, 1)]),
        "d" => q(86400.0, &[(S, 1)]),
        "a" | "yr" => q(31_557_600.0, &[(S, 1)]),
        "AU" | "au" => q(1.495_978_707e11, &[(M, 1)]),
        "pc" => q(3.085_677_581_491_367e16, &[(M, 1)]),
        "Angstrom" | "angstrom" => q(1e-10, &[(M, 1)]),
        "solMass" => q(1.988_47e30, &[(KG, 1)]),
        "solRad" => q(6.957e8, &[(M, 1)]),
        "solLum" => q(3.828e26, &[(KG, 1), (M, 2), (S, -3)]),
        "eV" => q(1.602_176_634e-19, &[(KG, 1), (M, 2), (S, -2)]),
        "erg" => q(1e-7, &[(KG, 1), (M, 2), (S, -2)]),
        "Jy" => q(1e-26, &[(KG, 1), (S, -2)]),
        "pix" | "pixel" => q(1.0, &[(PIX, 1)]),
        "ct" | "count" => q(1.0, &[(CT, 1)]),
        "ph" | "photon" => q(1.0, &[(CT, 1)]),
        _ => None,
    }
}

/// SI prefixes (VOUnit 1.0 section 2.5).
fn prefix(p: &str) -> Option<f64> {
    Some(match p {
        "y" => 1e-24,
        "z" => 1e-21,
        "a" => 1e-18,
        "f" => 1e-15,
        "p" => 1e-12,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "c" => 1e-2,
        "d" => 1e-1,
        "da" => 1e1,
        "h" => 1e2,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Z" => 1e21,
        "Y" => 1e24,
        _ => return None,
    })
}

fn symbol(text: &str) -> Option<Quantity> {
    if let Some(q) = known(text) {
        return Some(q);
    }
    for split in [2, 1] {
        if text.len() > split && text.is_char_boundary(split) {
            let (p, rest) = text.split_at(split);
            if let (Some(f), Some(q)) = (prefix(p), known(rest)) {
                return Some(Quantity { factor: f * q.factor, dims: q.dims });
            }
        }
    }
    None
}

/// One factor: `symbol`, `symbol**n`, `symbol**(n)`, `symbol**(a/b)` with integer a/b = n.
fn factor(text: &str) -> Option<Quantity> {
    let (base, power) = match text.split_once("**") {
        Some((b, p)) => (b, p.trim_start_matches('(').trim_end_matches(')').parse::<i32>().ok()?),
        None => (text, 1),
    };
    let q = symbol(base)?;
    let mut d = q.dims;
    for e in d.iter_mut() {
        *e *= power;
    }
    Some(Quantity { factor: q.factor.powi(power), dims: d })
}

fn product(text: &str) -> Option<Quantity> {
    let mut total = Quantity { factor: 1.0, dims: [0; 10] };
    for part in text.split('.') {
        let q = factor(part)?;
        total.factor *= q.factor;
        for i in 0..total.dims.len() {
            total.dims[i] += q.dims[i];
        }
    }
    Some(total)
}

fn parse(unit: &str) -> Option<Quantity> {
    let unit = unit.trim();
    if unit.is_empty() {
        return None;
    }
    match unit.split_once('/') {
        None => product(unit),
        Some((num, den)) => {
            let n = if num == "1" { Quantity { factor: 1.0, dims: [0; 10] } } else { product(num)? };
            let d = product(den.trim_start_matches('(').trim_end_matches(')'))?;
            let mut dims = n.dims;
            for i in 0..dims.len() {
                dims[i] -= d.dims[i];
            }
            Some(Quantity { factor: n.factor / d.factor, dims })
        }
    }
}

/// The factor that converts values in `from` to `to`, or why it cannot.
pub fn conversion_factor(from: &str, to: &str) -> Result<f64, String> {
    if from == to {
        return Ok(1.0);
    }
    let f = parse(from).ok_or_else(|| format!("the unit '{from}' is not a VOUnit this service can convert"))?;
    let t = parse(to).ok_or_else(|| format!("'{to}' is not a VOUnit this service can convert to"))?;
    if f.dims != t.dims {
        return Err(format!("'{from}' cannot be converted to '{to}': they measure different quantities"));
    }
    Ok(f.factor / t.factor)
}

#[cfg(test)]
mod tests {
    use super::conversion_factor as c;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn angles_lengths_times() {
        assert!(close(c("deg", "arcsec").unwrap(), 3600.0));
        assert!(close(c("arcsec", "mas").unwrap(), 1000.0));
        assert!(close(c("nm", "Angstrom").unwrap(), 10.0));
        assert!(close(c("m", "nm").unwrap(), 1e9));
        assert!(close(c("d", "s").unwrap(), 86400.0));
        assert!(close(c("km/s", "m/s").unwrap(), 1000.0));
        assert!(close(c("m.s**-1", "km/s").unwrap(), 1e-3));
        assert!(close(c("mJy", "Jy").unwrap(), 1e-3));
        assert!(close(c("Pa", "Pa").unwrap(), 1.0));
        assert!(close(c("deg**2", "arcmin**2").unwrap(), 3600.0));
    }

    #[test]
    fn refusals_say_why() {
        assert!(c("deg", "m").unwrap_err().contains("different quantities"));
        assert!(c("furlong", "m").unwrap_err().contains("not a VOUnit"));
        assert!(c("mag", "Jy").is_err());
    }
}
