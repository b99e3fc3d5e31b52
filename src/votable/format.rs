//! Output formats and their names (DALI 1.1 section 3.4.3 RESPONSEFORMAT; TAP 1.1 section
//! 2.7.1 FORMAT aliases).

/// The formats the service writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// VOTable 1.4, TABLEDATA serialisation: the default, read by every client.
    VotableTabledata,
    /// VOTable 1.4, BINARY serialisation.
    VotableBinary,
    /// VOTable 1.4, BINARY2 serialisation (null flags per row).
    VotableBinary2,
    Csv,
    Tsv,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::VotableTabledata, Format::VotableBinary, Format::VotableBinary2, Format::Csv, Format::Tsv];

    /// The format a RESPONSEFORMAT / FORMAT value names: MIME types (with or without
    /// parameters) and the short names clients use; case-insensitive. None for unknown ones.
    ///
    /// VOTable MIME types (`application/x-votable+xml`, `text/xml`) take an optional
    /// `serialization` parameter (TABLEDATA, BINARY, BINARY2; TABLEDATA without it); other
    /// parameters (`content`, `charset`, `version`) are ignored. `text/csv` takes
    /// `header=present` (the header line is always written, so `header=absent` is refused).
    pub fn from_param(value: &str) -> Option<Format> {
        let value = value.trim().to_ascii_lowercase();
        let mut parts = value.split(';');
        let base = parts.next().unwrap_or_default().trim();
        let mut serialization = None;
        let mut header = None;
        for part in parts {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (key, val) = part.split_once('=')?;
            let val = val.trim().trim_matches('"');
            match key.trim() {
                "serialization" => serialization = Some(val.to_string()),
                "header" => header = Some(val.to_string()),
                _ => {}
            }
        }
        let format = match base {
            "application/x-votable+xml" | "application/x-votable" | "text/xml" | "votable" => {
                match serialization.as_deref() {
                    None | Some("tabledata") | Some("td") => Format::VotableTabledata,
                    Some("binary") => Format::VotableBinary,
                    Some("binary2") => Format::VotableBinary2,
                    Some(_) => return None,
                }
            }
            "votable/td" | "votabletd" | "votable/tabledata" | "tabledata" => Format::VotableTabledata,
            "votable/b" | "votableb" | "votable/binary" | "binary" => Format::VotableBinary,
            "votable/b2" | "votableb2" | "votable/binary2" | "binary2" => Format::VotableBinary2,
            "text/csv" | "csv" => Format::Csv,
            "text/tab-separated-values" | "tsv" => Format::Tsv,
            _ => return None,
        };
        if serialization.is_some() && !matches!(base, "application/x-votable+xml" | "application/x-votable" | "text/xml" | "votable") {
            return None;
        }
        if format == Format::Csv && header.as_deref().is_some_and(|h| h != "present") {
            return None;
        }
        Some(format)
    }

    /// The MIME type of the response. VOTable: `application/x-votable+xml`, with the
    /// `serialization` parameter for the binary serialisations (as DaCHS and TAPRegExt
    /// registrations write it; pyvo and astropy read the document whatever the parameter).
    pub fn mime_type(self) -> &'static str {
        self.names()[0]
    }

    /// The names (MIME type first, then aliases) a TAPRegExt outputFormat lists.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Format::VotableTabledata => &["application/x-votable+xml", "votable", "votable/td", "text/xml"],
            Format::VotableBinary => &["application/x-votable+xml;serialization=BINARY", "votable/b"],
            Format::VotableBinary2 => &["application/x-votable+xml;serialization=BINARY2", "votable/b2"],
            Format::Csv => &["text/csv;header=present", "csv", "text/csv"],
            Format::Tsv => &["text/tab-separated-values", "tsv"],
        }
    }

    /// The TAPRegExt 1.0 standard identifier of the format, where it has one.
    pub fn ivo_id(self) -> Option<&'static str> {
        match self {
            Format::VotableTabledata => Some("ivo://ivoa.net/std/TAPRegExt#output-votable-td"),
            Format::VotableBinary => Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary"),
            Format::VotableBinary2 => Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary2"),
            Format::Csv | Format::Tsv => None,
        }
    }

    pub fn is_votable(self) -> bool {
        matches!(self, Format::VotableTabledata | Format::VotableBinary | Format::VotableBinary2)
    }
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn every_name_parses_back() {
        for format in Format::ALL {
            assert!(!format.names().is_empty());
            assert_eq!(format.mime_type(), format.names()[0]);
            for name in format.names() {
                assert_eq!(Format::from_param(name), Some(format), "{name}");
            }
        }
    }

    #[test]
    fn dali_and_tap_values() {
        use Format::*;
        let cases = [
            ("application/x-votable+xml", Some(VotableTabledata)),
            ("APPLICATION/X-VOTABLE+XML", Some(VotableTabledata)),
            (" application/x-votable+xml ; serialization = TABLEDATA ", Some(VotableTabledata)),
            ("application/x-votable+xml;serialization=BINARY", Some(VotableBinary)),
            ("application/x-votable+xml;serialization=binary2", Some(VotableBinary2)),
            ("application/x-votable+xml; serialization=\"BINARY2\"", Some(VotableBinary2)),
            ("application/x-votable+xml;content=datalink", Some(VotableTabledata)),
            ("application/x-votable+xml;serialization=BINARY2;charset=UTF-8", Some(VotableBinary2)),
            ("application/x-votable+xml;serialization=FITS", None),
            ("text/xml", Some(VotableTabledata)),
            ("text/xml;content=x-votable", Some(VotableTabledata)),
            ("votable", Some(VotableTabledata)),
            ("VOTable", Some(VotableTabledata)),
            ("votable/td", Some(VotableTabledata)),
            ("votabletd", Some(VotableTabledata)),
            ("votable/b", Some(VotableBinary)),
            ("votable/b2", Some(VotableBinary2)),
            ("votableb2", Some(VotableBinary2)),
            ("votable/b2;serialization=tabledata", None),
            ("text/csv", Some(Csv)),
            ("text/csv;header=present", Some(Csv)),
            ("text/csv; header=present; charset=utf-8", Some(Csv)),
            ("text/csv;header=absent", None),
            ("csv", Some(Csv)),
            ("CSV", Some(Csv)),
            ("text/tab-separated-values", Some(Tsv)),
            ("tsv", Some(Tsv)),
            ("application/fits", None),
            ("fits", None),
            ("text/html", None),
            ("", None),
            ("application/x-votable+xml;bogus", None),
        ];
        for (value, expected) in cases {
            assert_eq!(Format::from_param(value), expected, "{value:?}");
        }
    }

    #[test]
    fn mime_types() {
        assert_eq!(Format::VotableTabledata.mime_type(), "application/x-votable+xml");
        assert_eq!(Format::VotableBinary2.mime_type(), "application/x-votable+xml;serialization=BINARY2");
        assert_eq!(Format::Csv.mime_type(), "text/csv;header=present");
        assert_eq!(Format::Tsv.mime_type(), "text/tab-separated-values");
    }
}
