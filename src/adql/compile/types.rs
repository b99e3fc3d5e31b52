//! The types of ADQL values (ADQL 2.1 section 2.5 and 4.2) and the VOTable metadata of result
//! columns.

use crate::catalog::{ArraySize, Column, Datatype};

/// What an expression evaluates to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    String,
    Timestamp,
    /// DALI point, SQL double precision[2].
    Point,
    /// DALI circle, SQL double precision[3].
    Circle,
    /// DALI polygon, SQL double precision[].
    Polygon,
    /// A numeric array column (e.g. the flux of a spectrum).
    RealArray,
    DoubleArray,
    /// NULL: fits anything.
    Null,
}

impl ValueType {
    pub fn is_numeric(self) -> bool {
        matches!(self, ValueType::SmallInt | ValueType::Integer | ValueType::BigInt | ValueType::Real | ValueType::Double | ValueType::Null)
    }

    pub fn is_integer(self) -> bool {
        matches!(self, ValueType::SmallInt | ValueType::Integer | ValueType::BigInt | ValueType::Null)
    }

    pub fn is_string(self) -> bool {
        matches!(self, ValueType::String | ValueType::Null)
    }

    pub fn is_geometry(self) -> bool {
        matches!(self, ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::Null)
    }

    /// The wider of two numeric types (for arithmetic and set operations).
    pub fn numeric_union(a: ValueType, b: ValueType) -> ValueType {
        use ValueType::*;
        let rank = |t: ValueType| match t {
            Null => 0,
            SmallInt => 1,
            Integer => 2,
            BigInt => 3,
            Real => 4,
            _ => 5,
        };
        if rank(a) >= rank(b) { if a == Null { b } else { a } } else { b }
    }

    /// The name used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            ValueType::Boolean => "a condition",
            ValueType::SmallInt | ValueType::Integer | ValueType::BigInt => "an integer",
            ValueType::Real | ValueType::Double => "a number",
            ValueType::String => "a string",
            ValueType::Timestamp => "a timestamp",
            ValueType::Point => "a POINT",
            ValueType::Circle => "a CIRCLE",
            ValueType::Polygon => "a POLYGON",
            ValueType::RealArray | ValueType::DoubleArray => "an array",
            ValueType::Null => "NULL",
        }
    }

    /// The PostgreSQL type a result column of this type is cast to, so that the rows carry
    /// exactly the type the VOTable metadata announces.
    pub fn sql_type(self) -> &'static str {
        match self {
            ValueType::Boolean => "boolean",
            ValueType::SmallInt => "smallint",
            ValueType::Integer => "integer",
            ValueType::BigInt => "bigint",
            ValueType::Real => "real",
            ValueType::Double => "double precision",
            ValueType::String | ValueType::Null => "text",
            ValueType::Timestamp => "timestamp",
            ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::DoubleArray => "double precision[]",
            ValueType::RealArray => "real[]",
        }
    }

    /// The type of a published column.
    pub fn of_column(column: &Column) -> ValueType {
        match column.xtype.as_deref() {
            Some("timestamp") => return ValueType::Timestamp,
            Some("point") => return ValueType::Point,
            Some("circle") => return ValueType::Circle,
            Some("polygon") => return ValueType::Polygon,
            _ => {}
        }
        let array = column.arraysize.is_some() && !column.datatype.is_character();
        match column.datatype {
            Datatype::Boolean => ValueType::Boolean,
            Datatype::UnsignedByte | Datatype::Short => ValueType::SmallInt,
            Datatype::Int => ValueType::Integer,
            Datatype::Long => ValueType::BigInt,
            Datatype::Float if array => ValueType::RealArray,
            Datatype::Float => ValueType::Real,
            Datatype::Double if array => ValueType::DoubleArray,
            Datatype::Double => ValueType::Double,
            Datatype::Char | Datatype::UnicodeChar => ValueType::String,
        }
    }
}

/// The VOTable description of a result column (VOTable 1.4 FIELD; DALI 1.1 xtypes).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultColumn {
    pub name: String,
    pub value_type: ValueType,
    pub datatype: Datatype,
    pub arraysize: Option<ArraySize>,
    pub xtype: Option<String>,
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
    /// The column has an index (from tap/): geometry uses it to give q3c the indexed side.
    pub indexed: bool,
}

impl ResultColumn {
    /// A column computed by an expression: datatype, arraysize and xtype follow its type.
    pub fn computed(name: String, value_type: ValueType) -> ResultColumn {
        let (datatype, arraysize, xtype) = match value_type {
            ValueType::Boolean => (Datatype::Boolean, None, None),
            ValueType::SmallInt => (Datatype::Short, None, None),
            ValueType::Integer => (Datatype::Int, None, None),
            ValueType::BigInt => (Datatype::Long, None, None),
            ValueType::Real => (Datatype::Float, None, None),
            ValueType::Double => (Datatype::Double, None, None),
            // Strings are written as unicodeChar (see votable::column): announce them so.
            ValueType::String | ValueType::Null => (Datatype::UnicodeChar, Some(ArraySize::Variable), None),
            ValueType::Timestamp => (Datatype::Char, Some(ArraySize::Variable), Some("timestamp")),
            ValueType::Point => (Datatype::Double, Some(ArraySize::Fixed(2)), Some("point")),
            ValueType::Circle => (Datatype::Double, Some(ArraySize::Fixed(3)), Some("circle")),
            ValueType::Polygon => (Datatype::Double, Some(ArraySize::Variable), Some("polygon")),
            ValueType::RealArray => (Datatype::Float, Some(ArraySize::Variable), None),
            ValueType::DoubleArray => (Datatype::Double, Some(ArraySize::Variable), None),
        };
        ResultColumn {
            name,
            value_type,
            datatype,
            arraysize,
            xtype: xtype.map(str::to_string),
            unit: None,
            ucd: None,
            utype: None,
            description: None,
            indexed: false,
        }
    }

    /// A published column, selected as it is.
    pub fn from_catalog(name: String, column: &Column) -> ResultColumn {
        ResultColumn {
            name,
            value_type: ValueType::of_column(column),
            datatype: column.datatype,
            arraysize: column.arraysize,
            xtype: column.xtype.clone(),
            unit: column.unit.clone(),
            ucd: column.ucd.clone(),
            utype: column.utype.clone(),
            description: Some(column.description.clone()),
            indexed: column.indexed,
        }
    }

    /// Keeps the metadata but takes another name (an alias).
    pub fn renamed(mut self, name: String) -> ResultColumn {
        self.name = name;
        self
    }
}
