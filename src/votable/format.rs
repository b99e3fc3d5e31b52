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
    pub fn from_param(value: &str) -> Option<Format> {
        let _ = value;
        unimplemented!("votable::Format::from_param")
    }

    /// The MIME type of the response.
    pub fn mime_type(self) -> &'static str {
        unimplemented!("votable::Format::mime_type")
    }

    /// The names (MIME type first, then aliases) a TAPRegExt outputFormat lists.
    pub fn names(self) -> &'static [&'static str] {
        unimplemented!("votable::Format::names")
    }

    pub fn is_votable(self) -> bool {
        matches!(self, Format::VotableTabledata | Format::VotableBinary | Format::VotableBinary2)
    }
}
