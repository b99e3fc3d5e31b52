//! Subclasses within a class (issue 7: "sdB/sdO/sdA, C-H/C-R/C-N, starburst/AGN Markarian, if
//! they hold up"): the description of the subclass model and the rules that read its output.
//!
//! The model (models/dfbs-subclass.onnx, trained by training/train_subclass.py) takes the
//! classifier's normalised spectrum (`flux`, [n, 136]) and gives, for each class of its
//! description's `groups`, a probability distribution over that class's subclasses, the groups'
//! distributions side by side in one row (`probabilities`, [n, Σ subclasses]). Each distribution
//! answers "which subclass, given that the object is of this class": the pipeline reads the one
//! of the spectrum's class label. Only the classes whose subclasses held up on the validation
//! plates are in the description (models/README.md), so the catalogue never carries a subclass
//! the model cannot tell.

use super::evaluate::Classified;
use crate::sim::templates::ObjectClass;

/// One class and its subclasses, in the order of the model's output.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct Group {
    /// A catalogue class label (`sim::templates::ObjectClass::label`).
    pub class: String,
    /// Subclass labels. A truth subclass belongs to the label that equals it or is its
    /// prefix (`DA` holds the simulator's `DA3.5`; see [`truth_subclass`]).
    pub subclasses: Vec<String>,
    /// The subclasses are steps of one sequence (M0, M1, ...): the evaluation also counts
    /// predictions within one step.
    #[serde(default)]
    pub ordered: bool,
}

/// The subclass model's description (models/dfbs-subclass.json).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SubclassInfo {
    pub name: String,
    pub version: String,
    pub groups: Vec<Group>,
    /// How the training spectra were extracted (as [`super::classify::ModelInfo`]).
    pub flux_extraction: String,
}

impl SubclassInfo {
    /// Every group names a catalogue class once and has two or more distinct, non-empty
    /// subclass labels.
    pub fn check(&self) -> Result<(), String> {
        let mut seen: Vec<&str> = Vec::new();
        for group in &self.groups {
            if !ObjectClass::ALL.iter().any(|c| c.label() == group.class) {
                return Err(format!("group {:?} is not a catalogue class", group.class));
            }
            if seen.contains(&group.class.as_str()) {
                return Err(format!("class {:?} has two groups", group.class));
            }
            seen.push(&group.class);
            if group.subclasses.len() < 2 {
                return Err(format!("class {:?} has {} subclass(es); a group needs two or more", group.class, group.subclasses.len()));
            }
            for (i, label) in group.subclasses.iter().enumerate() {
                if label.is_empty() || group.subclasses[..i].contains(label) {
                    return Err(format!("class {:?}: subclass labels must be distinct and non-empty ({:?})", group.class, group.subclasses));
                }
            }
        }
        Ok(())
    }

    /// Values per row of the model's output: the groups' subclasses, side by side.
    pub fn width(&self) -> usize {
        self.groups.iter().map(|g| g.subclasses.len()).sum()
    }

    /// The most probable subclass of a spectrum of class `class` and its probability, from
    /// its row of the model's output. None: the class has no group, or its probabilities are
    /// not finite.
    pub fn pick(&self, class: &str, row: &[f32]) -> Option<(String, f32)> {
        let mut offset = 0;
        for group in &self.groups {
            let n = group.subclasses.len();
            if group.class == class {
                let slice = row.get(offset..offset + n)?;
                if slice.iter().any(|p| !p.is_finite()) {
                    return None;
                }
                let (best, p) = slice.iter().enumerate().fold((0, f32::NEG_INFINITY), |acc, (i, p)| if *p > acc.1 { (i, *p) } else { acc });
                return Some((group.subclasses[best].clone(), p.clamp(0.0, 1.0)));
            }
            offset += n;
        }
        None
    }

    /// What a plate's provenance records: the model and its groups.
    pub fn provenance(&self) -> serde_json::Value {
        serde_json::json!({ "name": self.name, "version": self.version, "groups": self.groups })
    }
}

/// The label of `subclasses` that a truth subclass belongs to: the one equal to it, else the
/// longest that is its prefix (`DA` for `DA3.5`, `M3` for `M3`). None: no label covers it.
pub fn truth_subclass<'a>(subclasses: &'a [String], truth: &str) -> Option<&'a str> {
    subclasses.iter().filter(|label| truth.starts_with(label.as_str())).max_by_key(|label| label.len()).map(String::as_str)
}

/// The subclass tables of `dfbs-vo evaluate`: for each group, the spectra at B <= `faintest`
/// whose class is right (truth class = catalogue label = the group's class) and which have a
/// subclass: accuracy, each subclass's recall, within one step for ordered groups, and the
/// confusion matrix (rows: truth, mapped by [`truth_subclass`]; a truth subclass no label
/// covers is left out). None when no spectrum has a subclass.
pub fn subclass_tables(classified: &[Classified], groups: &[Group], faintest: f64) -> Option<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    for group in groups {
        let Some(class) = ObjectClass::from_label(&group.class) else { continue };
        let truth_index = ObjectClass::ALL.iter().position(|k| *k == class);
        let n = group.subclasses.len();
        let mut confusion = vec![vec![0usize; n]; n];
        for c in classified {
            if Some(c.truth) != truth_index || c.mag_b > faintest || c.label.as_deref() != Some(group.class.as_str()) {
                continue;
            }
            let (Some(predicted), Some(truth)) = (c.subclass.as_deref(), truth_subclass(&group.subclasses, &c.truth_subclass)) else { continue };
            let (Some(p), Some(t)) = (group.subclasses.iter().position(|s| s == predicted), group.subclasses.iter().position(|s| s == truth)) else {
                continue;
            };
            confusion[t][p] += 1;
        }
        let total: usize = confusion.iter().flatten().sum();
        if total == 0 {
            continue;
        }
        let right: usize = (0..n).map(|k| confusion[k][k]).sum();
        let _ = write!(out, "subclasses of {} (B <= {faintest}, class right): {total} spectra, accuracy {:.3}", group.class, right as f64 / total as f64);
        if group.ordered {
            let near: usize = (0..n).flat_map(|t| (0..n).map(move |p| (t, p))).filter(|(t, p)| t.abs_diff(*p) <= 1).map(|(t, p)| confusion[t][p]).sum();
            let _ = write!(out, ", within one step {:.3}", near as f64 / total as f64);
        }
        let recalls: Vec<String> = (0..n)
            .map(|t| {
                let row: usize = confusion[t].iter().sum();
                let recall = if row > 0 { format!("{:.2}", confusion[t][t] as f64 / row as f64) } else { "-".into() };
                format!("{} {recall} ({row})", group.subclasses[t])
            })
            .collect();
        let _ = writeln!(out, "; recall {}\n", recalls.join(", "));
        let _ = writeln!(out, "| truth \\ predicted | {} |\n|---|{}", group.subclasses.join(" | "), "---|".repeat(n));
        for t in 0..n {
            let cells: Vec<String> = confusion[t].iter().map(usize::to_string).collect();
            let _ = writeln!(out, "| {} | {} |", group.subclasses[t], cells.join(" | "));
        }
        out.push('\n');
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(groups: &str) -> SubclassInfo {
        serde_json::from_str(&format!(r#"{{"name": "s", "version": "1", "flux_extraction": "optimal", "groups": {groups}}}"#)).unwrap()
    }

    #[test]
    fn the_class_label_picks_its_groups_slice() {
        let info = info(
            r#"[{"class": "white_dwarf", "subclasses": ["DA", "DB", "DC"]},
                {"class": "m_star", "subclasses": ["M0", "M1"], "ordered": true}]"#,
        );
        info.check().unwrap();
        assert_eq!(info.width(), 5);
        let row = [0.2, 0.7, 0.1, 0.4, 0.6];
        assert_eq!(info.pick("white_dwarf", &row), Some(("DB".into(), 0.7)));
        assert_eq!(info.pick("m_star", &row), Some(("M1".into(), 0.6)));
        assert_eq!(info.pick("qso", &row), None, "a class without a group has no subclass");
        assert_eq!(info.pick("m_star", &row[..4]), None, "a short row is not read past its end");
        assert_eq!(info.pick("white_dwarf", &[f32::NAN, 0.5, 0.5, 0.0, 1.0]), None);
        assert!(info.groups[1].ordered && !info.groups[0].ordered);
    }

    #[test]
    fn a_bad_description_is_refused() {
        assert!(info(r#"[{"class": "dwarf", "subclasses": ["a", "b"]}]"#).check().unwrap_err().contains("not a catalogue class"));
        assert!(info(r#"[{"class": "cv", "subclasses": ["DN"]}]"#).check().unwrap_err().contains("two or more"));
        assert!(info(r#"[{"class": "cv", "subclasses": ["DN", "DN"]}]"#).check().unwrap_err().contains("distinct"));
        let twice = r#"[{"class": "cv", "subclasses": ["DN", "NL"]}, {"class": "cv", "subclasses": ["a", "b"]}]"#;
        assert!(info(twice).check().unwrap_err().contains("two groups"));
    }

    #[test]
    fn truth_subclasses_map_to_the_longest_covering_label() {
        let labels: Vec<String> = ["DA", "DB", "DC"].map(String::from).to_vec();
        assert_eq!(truth_subclass(&labels, "DA3.5"), Some("DA"));
        assert_eq!(truth_subclass(&labels, "DQ"), None);
        let m: Vec<String> = ["M1", "M10"].map(String::from).to_vec();
        assert_eq!(truth_subclass(&m, "M10"), Some("M10"));
        assert_eq!(truth_subclass(&m, "M1"), Some("M1"));
    }

    #[test]
    fn the_tables_count_spectra_whose_class_is_right() {
        let groups: Vec<Group> = serde_json::from_str(
            r#"[{"class": "white_dwarf", "subclasses": ["DA", "DB"]}, {"class": "m_star", "subclasses": ["M0", "M1", "M2"], "ordered": true}]"#,
        )
        .unwrap();
        let wd = ObjectClass::ALL.iter().position(|c| c.label() == "white_dwarf").unwrap();
        let m = ObjectClass::ALL.iter().position(|c| c.label() == "m_star").unwrap();
        let row = |truth: usize, truth_subclass: &str, label: &str, subclass: Option<&str>, mag_b: f64| Classified {
            truth,
            mag_b,
            truth_subclass: truth_subclass.into(),
            label: Some(label.into()),
            subclass: subclass.map(String::from),
            ..Default::default()
        };
        let rows = [
            row(wd, "DA2.5", "white_dwarf", Some("DA"), 15.0),
            row(wd, "DB3.0", "white_dwarf", Some("DA"), 15.0),
            row(wd, "DB2.0", "white_dwarf", Some("DB"), 16.0),
            row(wd, "DA2.0", "white_dwarf", Some("DB"), 18.0), // too faint
            row(wd, "DA2.0", "qso", None, 15.0),              // class wrong
            row(wd, "DQ", "white_dwarf", Some("DA"), 15.0),   // no label covers DQ
            row(m, "M0", "m_star", Some("M2"), 15.0),
            row(m, "M1", "m_star", Some("M2"), 15.0),
        ];
        let text = subclass_tables(&rows, &groups, 17.5).unwrap();
        assert!(text.contains("subclasses of white_dwarf (B <= 17.5, class right): 3 spectra, accuracy 0.667; recall DA 1.00 (1), DB 0.50 (2)"), "{text}");
        assert!(text.contains("| DB | 1 | 1 |"), "{text}");
        assert!(text.contains("subclasses of m_star (B <= 17.5, class right): 2 spectra, accuracy 0.000, within one step 0.500"), "{text}");
        assert_eq!(subclass_tables(&rows[4..5], &groups, 17.5), None);
    }
}
