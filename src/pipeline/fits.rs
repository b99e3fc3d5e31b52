//! Reading plate scans: the FITS header as cards, and the image in row bands (CFITSIO through
//! the `fitsio` crate), so a 184 MB plate is never held whole in memory.

use std::path::{Path, PathBuf};

use fitsio::FitsFile;

use super::wcs::{PlateWcs, WcsError};

/// Why a plate cannot be read. Each message names the file and says what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum PlateError {
    #[error("{path}: cannot open as FITS ({message}); is it a complete FITS file?")]
    Open { path: PathBuf, message: String },
    #[error("{path}: BITPIX = {bitpix}; DFBS plate scans are 16-bit integer images (BITPIX = 16)")]
    Bitpix { path: PathBuf, bitpix: i64 },
    #[error("{path}: the primary HDU is not a 2-dimensional image (NAXIS = {naxis})")]
    Shape { path: PathBuf, naxis: i64 },
    #[error("{path}: image of {width} x {height} pixels is too small to hold DFBS spectra")]
    TooSmall { path: PathBuf, width: usize, height: usize },
    #[error("{path}: no usable plate solution: {source}")]
    Wcs { path: PathBuf, source: WcsError },
    #[error("{path}: reading rows {first}..{last}: {message} (the file may be truncated)")]
    Read { path: PathBuf, first: usize, last: usize, message: String },
}

/// A FITS header as a list of cards.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// (keyword, value text as written, comment).
    pub cards: Vec<(String, String, String)>,
}

impl Header {
    /// Parses a header given as consecutive 80-character cards (FITS 4.0 §4.1).
    pub fn parse(bytes: &[u8]) -> Header {
        let mut cards = Vec::new();
        for chunk in bytes.chunks(80) {
            // Work on bytes: a corrupt header may hold non-ASCII bytes, and slicing text at
            // fixed byte offsets could then cut a character.
            if chunk.len() < 10 || &chunk[8..10] != b"= " {
                continue;
            }
            let key = String::from_utf8_lossy(&chunk[..8]).trim().to_string();
            let (value, comment) = split_value(&String::from_utf8_lossy(&chunk[10..]));
            cards.push((key, value, comment));
        }
        Header { cards }
    }

    pub fn raw(&self, key: &str) -> Option<&str> {
        self.cards.iter().find(|(k, _, _)| k == key).map(|(_, v, _)| v.as_str())
    }

    /// A numeric value (FITS allows D exponents).
    pub fn real(&self, key: &str) -> Option<f64> {
        let raw = self.raw(key)?;
        if raw.starts_with('\'') {
            return None;
        }
        raw.replace(['D', 'd'], "E").parse().ok()
    }

    /// A string value, without quotes and trailing blanks (FITS 4.0 §4.2.1).
    pub fn text(&self, key: &str) -> Option<String> {
        let raw = self.raw(key)?;
        let inner = raw.strip_prefix('\'')?.strip_suffix('\'')?;
        Some(inner.replace("''", "'").trim_end().to_string())
    }

    /// The cards as a header string (80-character cards), for dfbs.plates.wcs_header.
    pub fn render(&self, keys: &dyn Fn(&str) -> bool) -> String {
        let mut out = String::new();
        for (key, value, comment) in &self.cards {
            if keys(key) {
                let card = if comment.is_empty() { format!("{key:<8}= {value:>20}") } else { format!("{key:<8}= {value:>20} / {comment}") };
                out.push_str(&format!("{:<80.80}", card));
            }
        }
        out
    }

    /// The plate solution of this header.
    pub fn wcs(&self) -> Result<PlateWcs, WcsError> {
        PlateWcs::from_header(&|key| self.real(key), &|key| self.text(key))
    }
}

/// Splits a card's value field into the value and the comment, respecting quotes.
fn split_value(field: &str) -> (String, String) {
    let trimmed = field.trim_start();
    if let Some(rest) = trimmed.strip_prefix('\'') {
        // Find the closing quote ('' is an escaped quote).
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                let value = format!("'{}'", &rest[..i]);
                let comment = rest[i + 1..].trim().trim_start_matches('/').trim().to_string();
                return (value, comment);
            }
            i += 1;
        }
        return (trimmed.trim_end().to_string(), String::new());
    }
    match trimmed.split_once('/') {
        Some((value, comment)) => (value.trim().to_string(), comment.trim().to_string()),
        None => (trimmed.trim().to_string(), String::new()),
    }
}

/// An open plate scan.
pub struct PlateScan {
    path: PathBuf,
    file: FitsFile,
    hdu: fitsio::hdu::FitsHdu,
    pub header: Header,
    pub width: usize,
    pub height: usize,
}

impl PlateScan {
    /// Opens a scan and checks it is a 16-bit 2-D image.
    pub fn open(path: &Path) -> Result<PlateScan, PlateError> {
        let open_error = |message: String| PlateError::Open { path: path.to_path_buf(), message };
        let mut file = FitsFile::open(path).map_err(|e| open_error(e.to_string()))?;
        let hdu = file.primary_hdu().map_err(|e| open_error(e.to_string()))?;
        let header = Header::parse(&read_header_bytes(&mut file).map_err(open_error)?);
        let bitpix = header.real("BITPIX").unwrap_or(0.0) as i64;
        if bitpix != 16 {
            return Err(PlateError::Bitpix { path: path.to_path_buf(), bitpix });
        }
        let naxis = header.real("NAXIS").unwrap_or(0.0) as i64;
        if naxis != 2 {
            return Err(PlateError::Shape { path: path.to_path_buf(), naxis });
        }
        let width = header.real("NAXIS1").unwrap_or(0.0) as usize;
        let height = header.real("NAXIS2").unwrap_or(0.0) as usize;
        if width < 64 || height < 200 {
            return Err(PlateError::TooSmall { path: path.to_path_buf(), width, height });
        }
        Ok(PlateScan { path: path.to_path_buf(), file, hdu, header, width, height })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The plate solution, or why there is none.
    pub fn wcs(&self) -> Result<PlateWcs, PlateError> {
        self.header.wcs().map_err(|source| PlateError::Wcs { path: self.path.clone(), source })
    }

    /// Reads rows first..first+rows (0-based) as scan values; BLANK pixels become NaN.
    pub fn read_rows(&mut self, first: usize, rows: usize, out: &mut Vec<f32>) -> Result<(), PlateError> {
        let start = first * self.width;
        let end = (first + rows).min(self.height) * self.width;
        let values: Vec<f32> = self.hdu.read_section(&mut self.file, start, end).map_err(|e| PlateError::Read {
            path: self.path.clone(),
            first,
            last: first + rows,
            message: e.to_string(),
        })?;
        out.clear();
        out.extend_from_slice(&values);
        Ok(())
    }
}

/// The current HDU's header as one string of 80-character cards (CFITSIO ffhdr2str), as bytes:
/// a corrupt header may not be text, and its 80-byte framing must survive.
fn read_header_bytes(file: &mut FitsFile) -> Result<Vec<u8>, String> {
    let mut status = 0;
    let mut header_ptr: *mut std::os::raw::c_char = std::ptr::null_mut();
    let mut cards = 0;
    // SAFETY: ffhdr2str allocates the string and stores its pointer in header_ptr; we copy
    // it and release it with fffree, as CFITSIO documents.
    unsafe {
        fitsio::sys::ffhdr2str(file.as_raw(), 0, std::ptr::null_mut(), 0, &mut header_ptr, &mut cards, &mut status);
        if status != 0 || header_ptr.is_null() {
            return Err(format!("cannot read the header (CFITSIO status {status})"));
        }
        let bytes = std::ffi::CStr::from_ptr(header_ptr).to_bytes().to_vec();
        fitsio::sys::fffree(header_ptr as *mut std::os::raw::c_void, &mut status);
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(text: &str) -> String {
        format!("{text:<80}")
    }

    #[test]
    fn parses_values_strings_and_comments() {
        let text = [
            card("BITPIX  =                   16 / number of bits"),
            card("CTYPE1  = 'RA---TAN-SIP'       / gnomonic"),
            card("OBJECT  = 'O''Brien plate  '"),
            card("CD1_1   = -4.309D-04"),
            card("COMMENT   not a value card"),
            card("EXPTIME =                1200. / [s] exposure / time"),
        ]
        .concat();
        let header = Header::parse(text.as_bytes());
        assert_eq!(header.real("BITPIX"), Some(16.0));
        assert_eq!(header.text("CTYPE1").as_deref(), Some("RA---TAN-SIP"));
        assert_eq!(header.text("OBJECT").as_deref(), Some("O'Brien plate"));
        assert_eq!(header.real("CD1_1"), Some(-4.309e-4));
        assert_eq!(header.real("EXPTIME"), Some(1200.0));
        assert_eq!(header.real("CTYPE1"), None);
        assert!(header.raw("COMMENT").is_none());
    }

    #[test]
    fn non_ascii_bytes_do_not_panic() {
        let mut bytes = format!("{:<80}", "OBJECT  = 'plate'").into_bytes();
        bytes[3] = 0xC3;
        bytes[12] = 0xA9;
        bytes.extend_from_slice(format!("{:<80}", "EXPTIME =                1200.").as_bytes());
        let header = Header::parse(&bytes);
        assert_eq!(header.real("EXPTIME"), Some(1200.0));
    }
}
