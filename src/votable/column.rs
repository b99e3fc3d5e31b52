//! How each result column is written: its VOTable datatype and arraysize on the wire, the
//! FIELD ID, and the value a cell of any variant becomes in that column.

use crate::adql::ResultColumn;
use crate::catalog::{ArraySize, Datatype};

use super::Cell;

/// The length rule of an array or string column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Exactly n elements: no count in BINARY/BINARY2; shorter values are padded.
    Fixed(usize),
    /// At most n elements: a count, longer values are cut.
    AtMost(usize),
    /// Any number of elements: a count.
    Variable,
}

impl Shape {
    fn of(arraysize: Option<ArraySize>) -> Shape {
        match arraysize {
            Some(ArraySize::Fixed(n)) if n > 0 => Shape::Fixed(n as usize),
            Some(ArraySize::AtMost(n)) if n > 0 => Shape::AtMost(n as usize),
            _ => Shape::Variable,
        }
    }

    /// The most elements a value may have.
    pub fn limit(self) -> usize {
        match self {
            Shape::Fixed(n) | Shape::AtMost(n) => n,
            Shape::Variable => usize::MAX,
        }
    }

    fn arraysize(self) -> String {
        match self {
            Shape::Fixed(n) => n.to_string(),
            Shape::AtMost(n) => format!("{n}*"),
            Shape::Variable => "*".to_string(),
        }
    }
}

/// What a column holds, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    UnsignedByte,
    Short,
    Int,
    Long,
    Float,
    Double,
    FloatArray(Shape),
    DoubleArray(Shape),
    /// A DALI geometry (xtype point, circle, polygon): double arrays whose values must
    /// have the shape of the xtype; others are written as NULL (see [`Geometry::accepts`]).
    Geometry(Geometry),
    /// `char` (7-bit ASCII: used for timestamps, which are ASCII by construction).
    Ascii(Shape),
    /// `unicodeChar` (UTF-16 code units in BINARY/BINARY2): every other string column, so
    /// that any text can be written in every serialisation.
    Unicode(Shape),
}

impl Kind {
    pub fn of(column: &ResultColumn) -> Kind {
        match column.datatype {
            Datatype::Boolean => Kind::Boolean,
            Datatype::UnsignedByte => Kind::UnsignedByte,
            Datatype::Short => Kind::Short,
            Datatype::Int => Kind::Int,
            Datatype::Long => Kind::Long,
            Datatype::Float if column.arraysize.is_some() => Kind::FloatArray(Shape::of(column.arraysize)),
            Datatype::Float => Kind::Float,
            Datatype::Double if column.arraysize.is_some() => {
                let shape = Shape::of(column.arraysize);
                match (column.xtype.as_deref(), shape) {
                    (Some("point"), Shape::Fixed(2)) => Kind::Geometry(Geometry::Point),
                    (Some("circle"), Shape::Fixed(3)) => Kind::Geometry(Geometry::Circle),
                    (Some("polygon"), _) => Kind::Geometry(Geometry::Polygon(shape)),
                    _ => Kind::DoubleArray(shape),
                }
            }
            Datatype::Double => Kind::Double,
            // Declared char (timestamps, uploaded char columns) is written as char, ASCII;
            // declared unicodeChar as unicodeChar, so the FIELD matches TAP_SCHEMA and the
            // uploaded metadata. Timestamps are char whatever was declared (VOTable 1.4).
            Datatype::Char => Kind::Ascii(Shape::of(column.arraysize)),
            Datatype::UnicodeChar => {
                if column.xtype.as_deref() == Some("timestamp") {
                    Kind::Ascii(Shape::of(column.arraysize))
                } else {
                    Kind::Unicode(Shape::of(column.arraysize))
                }
            }
        }
    }

    pub fn datatype(self) -> &'static str {
        match self {
            Kind::Boolean => "boolean",
            Kind::UnsignedByte => "unsignedByte",
            Kind::Short => "short",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float | Kind::FloatArray(_) => "float",
            Kind::Double | Kind::DoubleArray(_) | Kind::Geometry(_) => "double",
            Kind::Ascii(_) => "char",
            Kind::Unicode(_) => "unicodeChar",
        }
    }

    pub fn arraysize(self) -> Option<String> {
        match self {
            // A single character has no arraysize: arraysize="1" is deprecated since the
            // VOTable 1.3 erratum 3.
            Kind::Ascii(Shape::Fixed(1)) | Kind::Unicode(Shape::Fixed(1)) => None,
            Kind::FloatArray(shape) | Kind::DoubleArray(shape) | Kind::Ascii(shape) | Kind::Unicode(shape) => {
                Some(shape.arraysize())
            }
            Kind::Geometry(geometry) => Some(geometry.shape().arraysize()),
            _ => None,
        }
    }

    /// The value BINARY writes for NULL in an integer column (declared by VALUES null).
    pub fn null_sentinel(self) -> Option<i64> {
        match self {
            Kind::UnsignedByte => Some(255),
            Kind::Short => Some(i64::from(i16::MIN)),
            Kind::Int => Some(i64::from(i32::MIN)),
            Kind::Long => Some(i64::MIN),
            _ => None,
        }
    }
}

/// The DALI 1.1 geometries (section 3.3.5 to 3.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geometry {
    /// double[2]: longitude, latitude.
    Point,
    /// double[3]: centre longitude, latitude, radius.
    Circle,
    /// double[*]: at least three vertices, longitude and latitude each.
    Polygon(Shape),
}

impl Geometry {
    pub fn shape(self) -> Shape {
        match self {
            Geometry::Point => Shape::Fixed(2),
            Geometry::Circle => Shape::Fixed(3),
            Geometry::Polygon(shape) => shape,
        }
    }

    /// Whether coordinates make a value of this geometry: the right count, all finite. A
    /// point with one NaN coordinate or a polygon with an odd count is no valid DALI value
    /// (votlint reports them as errors), so the writers write such values as NULL.
    pub fn accepts(self, len: usize, all_finite: bool) -> bool {
        all_finite
            && match self {
                Geometry::Point => len == 2,
                Geometry::Circle => len == 3,
                Geometry::Polygon(shape) => {
                    len.is_multiple_of(2)
                        && len >= 6
                        && match shape {
                            Shape::Fixed(n) => len == n,
                            Shape::AtMost(n) => len <= n,
                            Shape::Variable => true,
                        }
                }
            }
    }

    /// Whether the coordinates of a cell make a value of this geometry.
    pub fn accepts_cell(self, cell: &Cell) -> bool {
        match cell {
            Cell::DoubleArray(values) => self.accepts(values.len(), values.iter().all(|v| v.is_some_and(f64::is_finite))),
            Cell::FloatArray(values) => self.accepts(values.len(), values.iter().all(|v| v.is_some_and(f32::is_finite))),
            _ => false,
        }
    }
}

/// A result column as the writer sees it.
#[derive(Debug, Clone)]
pub struct OutColumn {
    pub kind: Kind,
    /// FIELD ID: unique in the document and an XML NCName.
    pub id: String,
}

impl OutColumn {
    pub fn all(columns: &[ResultColumn]) -> Vec<OutColumn> {
        let mut ids: Vec<String> = Vec::with_capacity(columns.len());
        let mut out = Vec::with_capacity(columns.len());
        for column in columns {
            let base = ncname(&column.name);
            let mut id = base.clone();
            let mut n = 1;
            while ids.contains(&id) {
                n += 1;
                id = format!("{base}_{n}");
            }
            ids.push(id.clone());
            out.push(OutColumn { kind: Kind::of(column), id });
        }
        out
    }
}

/// An XML NCName made from a column name: ASCII letters, digits, '_', '-' and '.' stay,
/// anything else becomes '_'; a name not starting with a letter or '_' gets a "c" in front.
pub fn ncname(name: &str) -> String {
    let mut id = String::with_capacity(name.len() + 1);
    for c in name.chars() {
        id.push(if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') { c } else { '_' });
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, 'c');
    }
    id
}

/// The integer a cell holds, if any.
#[inline]
pub fn cell_integer(cell: &Cell) -> Option<i64> {
    match *cell {
        Cell::Short(v) => Some(i64::from(v)),
        Cell::Int(v) => Some(i64::from(v)),
        Cell::Long(v) => Some(v),
        Cell::Boolean(v) => Some(i64::from(v)),
        _ => None,
    }
}

/// The number a cell holds, if any, as a double.
#[inline]
pub fn cell_double(cell: &Cell) -> Option<f64> {
    match *cell {
        Cell::Double(v) => Some(v),
        Cell::Float(v) => Some(f64::from(v)),
        Cell::Short(v) => Some(f64::from(v)),
        Cell::Int(v) => Some(f64::from(v)),
        Cell::Long(v) => Some(v as f64),
        _ => None,
    }
}

/// The number a cell holds, if any, as a float.
#[inline]
pub fn cell_float(cell: &Cell) -> Option<f32> {
    match *cell {
        Cell::Float(v) => Some(v),
        Cell::Double(v) => Some(v as f32),
        _ => cell_double(cell).map(|v| v as f32),
    }
}

/// The integer of a cell, if it fits the column's type (else the cell is written as NULL).
#[inline]
pub fn integer_for(kind: Kind, cell: &Cell) -> Option<i64> {
    let value = cell_integer(cell)?;
    let fits = match kind {
        Kind::UnsignedByte => (0..=255).contains(&value),
        Kind::Short => i16::try_from(value).is_ok(),
        Kind::Int => i32::try_from(value).is_ok(),
        _ => true,
    };
    fits.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adql::ValueType;

    #[test]
    fn ids_are_ncnames_and_unique() {
        assert_eq!(ncname("ra"), "ra");
        assert_eq!(ncname("2mass"), "c2mass");
        assert_eq!(ncname("a b\"<é"), "a_b___");
        assert_eq!(ncname(""), "c");
        assert_eq!(ncname("_x.y-z"), "_x.y-z");
        let columns: Vec<ResultColumn> = ["x", "x", "x_2", "X"]
            .iter()
            .map(|n| ResultColumn::computed(n.to_string(), ValueType::Double))
            .collect();
        let ids: Vec<String> = OutColumn::all(&columns).into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["x", "x_2", "x_2_2", "X"]);
    }

    #[test]
    fn kinds_follow_the_metadata() {
        let kind = |t| Kind::of(&ResultColumn::computed("c".into(), t));
        assert_eq!(kind(ValueType::Point), Kind::Geometry(Geometry::Point));
        assert_eq!(kind(ValueType::Polygon), Kind::Geometry(Geometry::Polygon(Shape::Variable)));
        assert_eq!(kind(ValueType::DoubleArray), Kind::DoubleArray(Shape::Variable));
        assert_eq!(kind(ValueType::Circle).arraysize().as_deref(), Some("3"));
        assert_eq!(kind(ValueType::String), Kind::Unicode(Shape::Variable));
        assert_eq!(kind(ValueType::Timestamp), Kind::Ascii(Shape::Variable));
        assert_eq!(kind(ValueType::SmallInt).datatype(), "short");
        assert_eq!(Kind::Unicode(Shape::AtMost(8)).arraysize().as_deref(), Some("8*"));
    }

    #[test]
    fn geometries_must_have_their_shape() {
        let cell = |v: &[f64]| Cell::DoubleArray(v.iter().map(|x| Some(*x)).collect());
        assert!(Geometry::Point.accepts_cell(&cell(&[1.0, 2.0])));
        assert!(!Geometry::Point.accepts_cell(&cell(&[f64::NAN, 2.0])));
        assert!(!Geometry::Point.accepts_cell(&cell(&[1.0])));
        assert!(!Geometry::Point.accepts_cell(&Cell::DoubleArray(vec![Some(1.0), None])));
        assert!(Geometry::Circle.accepts_cell(&cell(&[1.0, 2.0, 0.5])));
        assert!(!Geometry::Circle.accepts_cell(&cell(&[1.0, f64::INFINITY, 0.5])));
        let polygon = Geometry::Polygon(Shape::Variable);
        assert!(polygon.accepts_cell(&cell(&[0.0, 0.0, 1.0, 0.0, 1.0, 1.0])));
        assert!(!polygon.accepts_cell(&cell(&[0.0, 0.0, 1.0, 0.0, 1.0])));
        assert!(!polygon.accepts_cell(&cell(&[0.0, 0.0, 1.0, 0.0])));
        assert!(!polygon.accepts_cell(&cell(&[])));
        assert!(!polygon.accepts_cell(&Cell::Null));
    }

    #[test]
    fn integers_that_do_not_fit_are_null() {
        assert_eq!(integer_for(Kind::Short, &Cell::Long(70000)), None);
        assert_eq!(integer_for(Kind::Short, &Cell::Int(-5)), Some(-5));
        assert_eq!(integer_for(Kind::UnsignedByte, &Cell::Short(-1)), None);
        assert_eq!(integer_for(Kind::Long, &Cell::Text("1".into())), None);
    }
}
