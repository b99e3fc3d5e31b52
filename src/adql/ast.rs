//! Typed syntax tree for ADQL 2.1 queries (Appendix A, BNF grammar).
//!
//! Node equality ignores source positions: [`Ident`] carries a [`Span`] that
//! is excluded from `PartialEq`/`Hash`, so `parse(print(ast)) == ast`.
//! Parentheses are not stored; the printer re-creates the ones the tree
//! structure needs.

use std::hash::{Hash, Hasher};

pub use super::lexer::{NumberKind, Span};

/// An identifier (§2.1.5, §2.1.6). Regular identifiers keep the case they
/// were written in and compare case-insensitively in ADQL semantics
/// ([`Ident::matches`]); delimited identifiers (`"..."`) are case-sensitive.
#[derive(Debug, Clone, Eq)]
pub struct Ident {
    pub value: String,
    pub delimited: bool,
    /// Where it was written; ignored by `==`.
    pub span: Span,
}

impl Ident {
    /// A regular identifier (no position).
    pub fn new(value: impl Into<String>) -> Self {
        Ident {
            value: value.into(),
            delimited: false,
            span: Span::default(),
        }
    }

    /// A delimited identifier (no position).
    pub fn delimited(value: impl Into<String>) -> Self {
        Ident {
            value: value.into(),
            delimited: true,
            span: Span::default(),
        }
    }

    /// Whether two identifiers name the same thing under ADQL case rules
    /// (§2.1.7): two regular identifiers compare case-insensitively; when
    /// either is delimited the text must match exactly.
    pub fn matches(&self, other: &Ident) -> bool {
        if self.delimited || other.delimited {
            self.value == other.value
        } else {
            self.value.eq_ignore_ascii_case(&other.value)
        }
    }
}

impl PartialEq for Ident {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.delimited == other.delimited
    }
}

impl Hash for Ident {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
        self.delimited.hash(state);
    }
}

/// A whole query (§2.2, `<query_specification>`): optional common table
/// expressions (ADQL 2.1 §4.5), a set expression, then ORDER BY and OFFSET
/// (ADQL 2.1 §4.10 "Cardinality") applying to the whole set expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub with: Vec<Cte>,
    pub body: SetExpr,
    pub order_by: Vec<OrderByItem>,
    pub offset: Option<u64>,
}

/// `<with_query>`: `name AS (select_expression)` (ADQL 2.1 §4.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Cte {
    pub name: Ident,
    pub query: Box<Query>,
}

/// `<query_set_expression>` (ADQL 2.1 §4.6): INTERSECT binds tighter than
/// UNION and EXCEPT; all are left-associative.
#[derive(Debug, Clone, PartialEq)]
pub enum SetExpr {
    Select(Box<Select>),
    SetOperation {
        op: SetOperator,
        all: bool,
        left: Box<SetExpr>,
        right: Box<SetExpr>,
    },
    /// A parenthesised query with its own ORDER BY and/or OFFSET, used as an
    /// operand of a set operation. (Parentheses without ORDER BY/OFFSET are
    /// not kept.)
    Query(Box<Query>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetOperator {
    Union,
    Except,
    Intersect,
}

/// `<select_query>` (§2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub quantifier: Option<SetQuantifier>,
    /// `TOP n` (§2.2).
    pub top: Option<u64>,
    pub projection: Vec<SelectItem>,
    pub from: Vec<TableRef>,
    pub selection: Option<Expr>,
    pub group_by: Vec<Expr>,
    pub having: Option<Expr>,
}

/// `DISTINCT` or `ALL` (`<set_quantifier>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQuantifier {
    All,
    Distinct,
}

/// An entry of the select list (`<select_list>`).
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*` (only allowed as the whole select list).
    Wildcard,
    /// `qualifier.*`
    QualifiedWildcard(TableName),
    /// `value_expression [[AS] alias]`
    Expr { expr: Expr, alias: Option<Ident> },
}

/// `<table_name>`: `[catalog.][schema.]table`, 1 to 3 parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName(pub Vec<Ident>);

impl TableName {
    /// The last part (the table itself).
    pub fn table(&self) -> Option<&Ident> {
        self.0.last()
    }
}

/// `<column_reference>`: `[qualifier.]column` where the qualifier is a table
/// name (up to 3 parts) or a correlation name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnRef {
    pub qualifier: Vec<Ident>,
    pub column: Ident,
}

/// `<table_reference>` (§2.2, §2.2.2).
#[derive(Debug, Clone, PartialEq)]
pub enum TableRef {
    Table {
        name: TableName,
        alias: Option<Ident>,
    },
    /// `(subquery) [AS] alias`; the alias is mandatory in the grammar.
    Derived {
        subquery: Box<Query>,
        alias: Ident,
    },
    Join(Box<Join>),
}

/// `<qualified_join>` (§2.2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub left: TableRef,
    pub right: TableRef,
    pub kind: JoinKind,
    pub constraint: JoinConstraint,
}

/// `<join_type>`; plain `JOIN` is `INNER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JoinKind {
    Inner,
    LeftOuter,
    RightOuter,
    FullOuter,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JoinConstraint {
    /// `NATURAL ... JOIN` (no ON/USING).
    Natural,
    On(Expr),
    Using(Vec<Ident>),
}

/// `<order_by_term>`; a bare unsigned integer is a select-list position.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderByItem {
    pub expr: Expr,
    pub direction: Option<SortDirection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortDirection {
    Asc,
    Desc,
}

/// A literal (`<unsigned_literal>` or `NULL`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Literal {
    /// An unsigned number, exactly as written (signs are unary operators).
    Number { text: String, kind: NumberKind },
    /// A string literal, unescaped.
    String(String),
    /// `NULL` (ADQL 2.1 `<value_expression>`).
    Null,
}

/// Value expressions and search conditions.
///
/// One enum holds both, as in sqlparser; the parser guarantees that
/// condition variants (comparison, BETWEEN, IN, LIKE, IS NULL, EXISTS, AND,
/// OR, NOT) appear only where the grammar wants a `<search_condition>`, and
/// value variants only where it wants a `<value_expression>`; see
/// [`Expr::is_condition`].
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Column(ColumnRef),
    Literal(Literal),
    /// `-x`, `+x` (`<factor>`) or `~x` (bitwise not, ADQL 2.1 optional "Bitwise operators").
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
    },
    /// Arithmetic, concatenation (`||`) and bitwise operators.
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Standard math/trig/string functions and user-defined functions.
    Function(FunctionCall),
    /// COUNT/AVG/MIN/MAX/SUM (`<set_function_specification>`).
    Aggregate(Aggregate),
    /// `CAST(x AS type)` (ADQL 2.1 §4.7).
    Cast {
        expr: Box<Expr>,
        target: CastType,
    },
    /// `COALESCE(a, b, ...)` (ADQL 2.1 §4.8).
    Coalesce(Vec<Expr>),
    /// Geometric functions (ADQL 2.1 §4.2; ADQL 2.0 §2.4).
    Geometry(Box<GeometryFunction>),

    // ---- search conditions (§2.2.3) ----
    Comparison {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Between {
        expr: Box<Expr>,
        negated: bool,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        negated: bool,
        list: Vec<Expr>,
    },
    InSubquery {
        expr: Box<Expr>,
        negated: bool,
        subquery: Box<Query>,
    },
    /// `LIKE`, or `ILIKE` when `case_insensitive` (ADQL 2.1 §4.4).
    Like {
        expr: Box<Expr>,
        negated: bool,
        case_insensitive: bool,
        pattern: Box<Expr>,
    },
    /// `column IS [NOT] NULL`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Exists(Box<Query>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

impl Expr {
    /// Whether this node is a search condition (predicate or boolean
    /// combination) rather than a value.
    pub fn is_condition(&self) -> bool {
        matches!(
            self,
            Expr::Comparison { .. }
                | Expr::Between { .. }
                | Expr::InList { .. }
                | Expr::InSubquery { .. }
                | Expr::Like { .. }
                | Expr::IsNull { .. }
                | Expr::Exists(_)
                | Expr::And(..)
                | Expr::Or(..)
                | Expr::Not(_)
        )
    }

    /// A column reference expression from dotted parts (last is the column).
    pub fn column(parts: &[&str]) -> Expr {
        let mut idents: Vec<Ident> = parts.iter().map(|p| Ident::new(*p)).collect();
        let column = idents.pop().unwrap_or_else(|| Ident::new(""));
        Expr::Column(ColumnRef {
            qualifier: idents,
            column,
        })
    }

    /// An integer literal.
    pub fn int(n: u64) -> Expr {
        Expr::Literal(Literal::Number {
            text: n.to_string(),
            kind: NumberKind::Integer,
        })
    }

    /// A string literal.
    pub fn string(s: impl Into<String>) -> Expr {
        Expr::Literal(Literal::String(s.into()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Minus,
    Plus,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    /// `||` (`<concatenation>`)
    Concat,
    /// `&` (ADQL 2.1 optional "Bitwise operators")
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
}

/// `<comp_op>`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    /// `<>` or `!=`
    NotEq,
    Lt,
    Gt,
    LtEq,
    GtEq,
}

/// A call of a standard scalar function or of a user-defined function.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCall {
    pub func: Function,
    pub args: Vec<Expr>,
}

/// Scalar functions known to the grammar (§2.3 math and trig functions,
/// ADQL 2.1 §4.4 string functions, §4.9 IN_UNIT) plus user-defined ones
/// (§4.3, `<user_defined_function>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Function {
    Abs,
    Ceiling,
    Degrees,
    Exp,
    Floor,
    Log,
    Log10,
    Mod,
    Pi,
    Power,
    Radians,
    Rand,
    Round,
    Sqrt,
    Truncate,
    Acos,
    Asin,
    Atan,
    Atan2,
    Cos,
    Cot,
    Sin,
    Tan,
    Lower,
    Upper,
    InUnit,
    /// Any other `name(args)`; the name is a regular identifier as written.
    UserDefined(Ident),
}

/// `<set_function_type>`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggregateFunction {
    Count,
    Avg,
    Min,
    Max,
    Sum,
}

/// `COUNT(*)` (when `arg` is `None`) or `F([ALL|DISTINCT] x)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub func: AggregateFunction,
    pub quantifier: Option<SetQuantifier>,
    pub arg: Option<Box<Expr>>,
}

/// `<cast_target>` (ADQL 2.1 §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CastType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    DoublePrecision,
    Char(Option<u64>),
    Varchar(Option<u64>),
    Timestamp,
    Point,
    Circle,
    Polygon,
}

/// A position argument: two numeric coordinates or one POINT value.
#[derive(Debug, Clone, PartialEq)]
pub enum Position {
    Coordinates(Expr, Expr),
    Point(Expr),
}

/// POLYGON vertices: coordinate pairs or POINT values (at least three).
#[derive(Debug, Clone, PartialEq)]
pub enum Vertices {
    Coordinates(Vec<(Expr, Expr)>),
    Points(Vec<Expr>),
}

/// DISTANCE arguments: two points, or four coordinates (ADQL 2.1).
#[derive(Debug, Clone, PartialEq)]
pub enum DistanceArgs {
    Points(Expr, Expr),
    Coordinates(Expr, Expr, Expr, Expr),
}

/// Geometric functions (ADQL 2.1 §4.2). `coord_sys` is the deprecated
/// leading coordinate-system argument (mandatory in ADQL 2.0).
#[derive(Debug, Clone, PartialEq)]
pub enum GeometryFunction {
    Point {
        coord_sys: Option<Expr>,
        x: Expr,
        y: Expr,
    },
    Circle {
        coord_sys: Option<Expr>,
        center: Position,
        radius: Expr,
    },
    Box {
        coord_sys: Option<Expr>,
        center: Position,
        width: Expr,
        height: Expr,
    },
    Polygon {
        coord_sys: Option<Expr>,
        vertices: Vertices,
    },
    /// `REGION('stc-s string')`
    Region(String),
    Centroid(Expr),
    Area(Expr),
    Coord1(Expr),
    Coord2(Expr),
    CoordSys(Expr),
    Contains(Expr, Expr),
    Intersects(Expr, Expr),
    Distance(DistanceArgs),
}

/// Static description of a standard scalar function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionInfo {
    pub name: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    /// `true` for functions that are new in ADQL 2.1.
    pub since_2_1: bool,
}

const STANDARD_FUNCTIONS: &[(Function, FunctionInfo)] = &{
    const fn f(
        name: &'static str,
        min_args: usize,
        max_args: usize,
        since_2_1: bool,
    ) -> FunctionInfo {
        FunctionInfo {
            name,
            min_args,
            max_args,
            since_2_1,
        }
    }
    [
        (Function::Abs, f("ABS", 1, 1, false)),
        (Function::Ceiling, f("CEILING", 1, 1, false)),
        (Function::Degrees, f("DEGREES", 1, 1, false)),
        (Function::Exp, f("EXP", 1, 1, false)),
        (Function::Floor, f("FLOOR", 1, 1, false)),
        (Function::Log, f("LOG", 1, 1, false)),
        (Function::Log10, f("LOG10", 1, 1, false)),
        (Function::Mod, f("MOD", 2, 2, false)),
        (Function::Pi, f("PI", 0, 0, false)),
        (Function::Power, f("POWER", 2, 2, false)),
        (Function::Radians, f("RADIANS", 1, 1, false)),
        (Function::Rand, f("RAND", 0, 1, false)),
        (Function::Round, f("ROUND", 1, 2, false)),
        (Function::Sqrt, f("SQRT", 1, 1, false)),
        (Function::Truncate, f("TRUNCATE", 1, 2, false)),
        (Function::Acos, f("ACOS", 1, 1, false)),
        (Function::Asin, f("ASIN", 1, 1, false)),
        (Function::Atan, f("ATAN", 1, 1, false)),
        (Function::Atan2, f("ATAN2", 2, 2, false)),
        (Function::Cos, f("COS", 1, 1, false)),
        (Function::Cot, f("COT", 1, 1, false)),
        (Function::Sin, f("SIN", 1, 1, false)),
        (Function::Tan, f("TAN", 1, 1, false)),
        (Function::Lower, f("LOWER", 1, 1, true)),
        (Function::Upper, f("UPPER", 1, 1, true)),
        (Function::InUnit, f("IN_UNIT", 2, 2, true)),
    ]
};

impl Function {
    /// The standard function called `name` (any case), if any.
    pub fn standard(name: &str) -> Option<(Function, FunctionInfo)> {
        STANDARD_FUNCTIONS
            .iter()
            .find(|(_, info)| info.name.eq_ignore_ascii_case(name))
            .cloned()
    }

    /// Name and arity of a standard function; `None` for user-defined ones.
    pub fn info(&self) -> Option<FunctionInfo> {
        STANDARD_FUNCTIONS
            .iter()
            .find(|(f, _)| f == self)
            .map(|(_, i)| *i)
    }

    /// The name as printed: upper case for standard functions, as written
    /// for user-defined ones.
    pub fn name(&self) -> &str {
        match self {
            Function::UserDefined(id) => &id.value,
            other => other.info().map_or("", |i| i.name),
        }
    }

    /// Names of all standard scalar functions (for suggestions).
    pub fn standard_names() -> impl Iterator<Item = &'static str> {
        STANDARD_FUNCTIONS.iter().map(|(_, i)| i.name)
    }
}

impl AggregateFunction {
    pub fn name(self) -> &'static str {
        match self {
            AggregateFunction::Count => "COUNT",
            AggregateFunction::Avg => "AVG",
            AggregateFunction::Min => "MIN",
            AggregateFunction::Max => "MAX",
            AggregateFunction::Sum => "SUM",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Count, Self::Avg, Self::Min, Self::Max, Self::Sum]
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// Names of the geometric functions (ADQL 2.1 §4.2).
pub const GEOMETRY_FUNCTIONS: &[&str] = &[
    "AREA",
    "BOX",
    "CENTROID",
    "CIRCLE",
    "CONTAINS",
    "COORD1",
    "COORD2",
    "COORDSYS",
    "DISTANCE",
    "INTERSECTS",
    "POINT",
    "POLYGON",
    "REGION",
];
