//! `Display` for every syntax-tree node: normalised ADQL that parses back
//! to the same tree (keywords upper case, identifiers as written, delimited
//! identifiers and strings re-escaped, parentheses where the tree needs
//! them).

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;

fn comma_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{it}")?;
    }
    Ok(())
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.delimited {
            f.write_char('"')?;
            f.write_str(&self.value.replace('"', "\"\""))?;
            f.write_char('"')
        } else {
            f.write_str(&self.value)
        }
    }
}

fn dotted(f: &mut Formatter<'_>, parts: &[Ident]) -> fmt::Result {
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            f.write_char('.')?;
        }
        write!(f, "{p}")?;
    }
    Ok(())
}

impl Display for TableName {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        dotted(f, &self.0)
    }
}

impl Display for ColumnRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for q in &self.qualifier {
            write!(f, "{q}.")?;
        }
        write!(f, "{}", self.column)
    }
}

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if !self.with.is_empty() {
            f.write_str("WITH ")?;
            comma_list(f, &self.with)?;
            f.write_char(' ')?;
        }
        write!(f, "{}", self.body)?;
        if !self.order_by.is_empty() {
            f.write_str(" ORDER BY ")?;
            comma_list(f, &self.order_by)?;
        }
        if let Some(n) = self.offset {
            write!(f, " OFFSET {n}")?;
        }
        Ok(())
    }
}

impl Display for Cte {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} AS ({})", self.name, self.query)
    }
}

impl SetOperator {
    pub fn keyword(self) -> &'static str {
        match self {
            SetOperator::Union => "UNION",
            SetOperator::Except => "EXCEPT",
            SetOperator::Intersect => "INTERSECT",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            SetOperator::Union | SetOperator::Except => 1,
            SetOperator::Intersect => 2,
        }
    }
}

fn set_prec(e: &SetExpr) -> u8 {
    match e {
        SetExpr::SetOperation { op, .. } => op.precedence(),
        _ => 3,
    }
}

impl Display for SetExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SetExpr::Select(s) => write!(f, "{s}"),
            SetExpr::Query(q) => write!(f, "({q})"),
            SetExpr::SetOperation {
                op,
                all,
                left,
                right,
            } => {
                let p = op.precedence();
                if set_prec(left) < p {
                    write!(f, "({left})")?;
                } else {
                    write!(f, "{left}")?;
                }
                write!(f, " {}{} ", op.keyword(), if *all { " ALL" } else { "" })?;
                if set_prec(right) <= p {
                    write!(f, "({right})")
                } else {
                    write!(f, "{right}")
                }
            }
        }
    }
}

impl Display for SetQuantifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetQuantifier::All => "ALL",
            SetQuantifier::Distinct => "DISTINCT",
        })
    }
}

impl Display for Select {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        if let Some(q) = self.quantifier {
            write!(f, "{q} ")?;
        }
        if let Some(n) = self.top {
            write!(f, "TOP {n} ")?;
        }
        comma_list(f, &self.projection)?;
        f.write_str(" FROM ")?;
        comma_list(f, &self.from)?;
        if let Some(w) = &self.selection {
            write!(f, " WHERE {w}")?;
        }
        if !self.group_by.is_empty() {
            f.write_str(" GROUP BY ")?;
            comma_list(f, &self.group_by)?;
        }
        if let Some(h) = &self.having {
            write!(f, " HAVING {h}")?;
        }
        Ok(())
    }
}

impl Display for SelectItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SelectItem::Wildcard => f.write_char('*'),
            SelectItem::QualifiedWildcard(t) => write!(f, "{t}.*"),
            SelectItem::Expr { expr, alias } => {
                write!(f, "{expr}")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                Ok(())
            }
        }
    }
}

impl Display for TableRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TableRef::Table { name, alias } => {
                write!(f, "{name}")?;
                if let Some(a) = alias {
                    write!(f, " AS {a}")?;
                }
                Ok(())
            }
            TableRef::Derived { subquery, alias } => write!(f, "({subquery}) AS {alias}"),
            TableRef::Join(j) => write!(f, "{j}"),
        }
    }
}

impl Display for Join {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.left)?;
        if matches!(self.constraint, JoinConstraint::Natural) {
            f.write_str("NATURAL ")?;
        }
        write!(f, "{} ", self.kind)?;
        if matches!(self.right, TableRef::Join(_)) {
            write!(f, "({})", self.right)?;
        } else {
            write!(f, "{}", self.right)?;
        }
        match &self.constraint {
            JoinConstraint::Natural => Ok(()),
            c => write!(f, " {c}"),
        }
    }
}

impl Display for OrderByItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        match self.direction {
            Some(SortDirection::Asc) => f.write_str(" ASC"),
            Some(SortDirection::Desc) => f.write_str(" DESC"),
            None => Ok(()),
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number { text, .. } => f.write_str(text),
            Literal::String(s) => {
                f.write_char('\'')?;
                f.write_str(&s.replace('\'', "''"))?;
                f.write_char('\'')
            }
            Literal::Null => f.write_str("NULL"),
        }
    }
}

impl UnaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Minus => "-",
            UnaryOp::Plus => "+",
            UnaryOp::BitNot => "~",
        }
    }
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Concat => "||",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
        }
    }

    /// Binding strength (higher binds tighter); see `parser::expr`.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Concat => 5,
            BinaryOp::BitOr => 6,
            BinaryOp::BitXor => 7,
            BinaryOp::BitAnd => 8,
            BinaryOp::Add | BinaryOp::Sub => 9,
            BinaryOp::Mul | BinaryOp::Div => 10,
        }
    }
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::NotEq => "<>",
            CompareOp::Lt => "<",
            CompareOp::Gt => ">",
            CompareOp::LtEq => "<=",
            CompareOp::GtEq => ">=",
        }
    }
}

const PREC_OR: u8 = 1;
const PREC_AND: u8 = 2;
const PREC_NOT: u8 = 3;
const PREC_PREDICATE: u8 = 4;
const PREC_UNARY: u8 = 11;
const PREC_PRIMARY: u8 = 12;

/// Binding strength of an expression's top node.
fn prec(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => PREC_OR,
        Expr::And(..) => PREC_AND,
        Expr::Not(_) => PREC_NOT,
        Expr::Comparison { .. }
        | Expr::Between { .. }
        | Expr::InList { .. }
        | Expr::InSubquery { .. }
        | Expr::Like { .. }
        | Expr::IsNull { .. } => PREC_PREDICATE,
        Expr::Binary { op, .. } => op.precedence(),
        Expr::Unary { .. } => PREC_UNARY,
        _ => PREC_PRIMARY,
    }
}

/// Writes `e`, in parentheses when its binding is weaker than `min`.
fn operand(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if prec(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Operands of predicates must be value expressions (binding > predicate).
fn value(f: &mut Formatter<'_>, e: &Expr) -> fmt::Result {
    operand(f, e, PREC_PREDICATE + 1)
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(c) => write!(f, "{c}"),
            Expr::Literal(l) => write!(f, "{l}"),
            Expr::Unary { op, expr } => {
                f.write_str(op.symbol())?;
                operand(f, expr, PREC_PRIMARY)
            }
            Expr::Binary { op, left, right } => {
                let p = op.precedence();
                operand(f, left, p)?;
                write!(f, " {} ", op.symbol())?;
                operand(f, right, p + 1)
            }
            Expr::Function(call) => write!(f, "{call}"),
            Expr::Aggregate(a) => write!(f, "{a}"),
            Expr::Cast { expr, target } => write!(f, "CAST({expr} AS {target})"),
            Expr::Coalesce(args) => {
                f.write_str("COALESCE(")?;
                comma_list(f, args)?;
                f.write_char(')')
            }
            Expr::Geometry(g) => write!(f, "{g}"),
            Expr::Comparison { op, left, right } => {
                value(f, left)?;
                write!(f, " {} ", op.symbol())?;
                value(f, right)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                value(f, expr)?;
                f.write_str(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                })?;
                value(f, low)?;
                f.write_str(" AND ")?;
                value(f, high)
            }
            Expr::InList {
                expr,
                negated,
                list,
            } => {
                value(f, expr)?;
                f.write_str(if *negated { " NOT IN (" } else { " IN (" })?;
                comma_list(f, list)?;
                f.write_char(')')
            }
            Expr::InSubquery {
                expr,
                negated,
                subquery,
            } => {
                value(f, expr)?;
                write!(
                    f,
                    "{}({subquery})",
                    if *negated { " NOT IN " } else { " IN " }
                )
            }
            Expr::Like {
                expr,
                negated,
                case_insensitive,
                pattern,
            } => {
                value(f, expr)?;
                f.write_str(if *negated { " NOT " } else { " " })?;
                f.write_str(if *case_insensitive { "ILIKE " } else { "LIKE " })?;
                value(f, pattern)
            }
            Expr::IsNull { expr, negated } => {
                value(f, expr)?;
                f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
            }
            Expr::Exists(q) => write!(f, "EXISTS ({q})"),
            Expr::And(l, r) => {
                operand(f, l, PREC_AND)?;
                f.write_str(" AND ")?;
                operand(f, r, PREC_AND + 1)
            }
            Expr::Or(l, r) => {
                operand(f, l, PREC_OR)?;
                f.write_str(" OR ")?;
                operand(f, r, PREC_OR + 1)
            }
            Expr::Not(e) => {
                f.write_str("NOT ")?;
                operand(f, e, PREC_PREDICATE)
            }
        }
    }
}

impl Display for FunctionCall {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name())?;
        comma_list(f, &self.args)?;
        f.write_char(')')
    }
}

impl Display for Aggregate {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.func.name())?;
        if let Some(q) = self.quantifier {
            write!(f, "{q} ")?;
        }
        match &self.arg {
            Some(a) => write!(f, "{a}")?,
            None => f.write_char('*')?,
        }
        f.write_char(')')
    }
}

impl Display for CastType {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            CastType::SmallInt => f.write_str("SMALLINT"),
            CastType::Integer => f.write_str("INTEGER"),
            CastType::BigInt => f.write_str("BIGINT"),
            CastType::Real => f.write_str("REAL"),
            CastType::DoublePrecision => f.write_str("DOUBLE PRECISION"),
            CastType::Char(None) => f.write_str("CHAR"),
            CastType::Char(Some(n)) => write!(f, "CHAR({n})"),
            CastType::Varchar(None) => f.write_str("VARCHAR"),
            CastType::Varchar(Some(n)) => write!(f, "VARCHAR({n})"),
            CastType::Timestamp => f.write_str("TIMESTAMP"),
            CastType::Point => f.write_str("POINT"),
            CastType::Circle => f.write_str("CIRCLE"),
            CastType::Polygon => f.write_str("POLYGON"),
        }
    }
}

impl Display for Position {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Position::Coordinates(x, y) => write!(f, "{x}, {y}"),
            Position::Point(p) => write!(f, "{p}"),
        }
    }
}

/// Writes `NAME(` and the optional coordinate-system argument.
fn shape_head(f: &mut Formatter<'_>, name: &str, cs: &Option<Expr>) -> fmt::Result {
    write!(f, "{name}(")?;
    if let Some(cs) = cs {
        write!(f, "{cs}, ")?;
    }
    Ok(())
}

impl Display for GeometryFunction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            GeometryFunction::Point { coord_sys, x, y } => {
                shape_head(f, "POINT", coord_sys)?;
                write!(f, "{x}, {y})")
            }
            GeometryFunction::Circle {
                coord_sys,
                center,
                radius,
            } => {
                shape_head(f, "CIRCLE", coord_sys)?;
                write!(f, "{center}, {radius})")
            }
            GeometryFunction::Box {
                coord_sys,
                center,
                width,
                height,
            } => {
                shape_head(f, "BOX", coord_sys)?;
                write!(f, "{center}, {width}, {height})")
            }
            GeometryFunction::Polygon {
                coord_sys,
                vertices,
            } => {
                shape_head(f, "POLYGON", coord_sys)?;
                write!(f, "{vertices})")
            }
            GeometryFunction::Region(s) => write!(f, "REGION({})", Literal::String(s.clone())),
            GeometryFunction::Centroid(e) => write!(f, "CENTROID({e})"),
            GeometryFunction::Area(e) => write!(f, "AREA({e})"),
            GeometryFunction::Coord1(e) => write!(f, "COORD1({e})"),
            GeometryFunction::Coord2(e) => write!(f, "COORD2({e})"),
            GeometryFunction::CoordSys(e) => write!(f, "COORDSYS({e})"),
            GeometryFunction::Contains(a, b) => write!(f, "CONTAINS({a}, {b})"),
            GeometryFunction::Intersects(a, b) => write!(f, "INTERSECTS({a}, {b})"),
            GeometryFunction::Distance(DistanceArgs::Points(a, b)) => {
                write!(f, "DISTANCE({a}, {b})")
            }
            GeometryFunction::Distance(DistanceArgs::Coordinates(a, b, c, d)) => {
                write!(f, "DISTANCE({a}, {b}, {c}, {d})")
            }
        }
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for AggregateFunction {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for SetOperator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

impl Display for UnaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for CompareOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Display for SortDirection {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SortDirection::Asc => "ASC",
            SortDirection::Desc => "DESC",
        })
    }
}

impl Display for JoinKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JoinKind::Inner => "INNER JOIN",
            JoinKind::LeftOuter => "LEFT OUTER JOIN",
            JoinKind::RightOuter => "RIGHT OUTER JOIN",
            JoinKind::FullOuter => "FULL OUTER JOIN",
        })
    }
}

/// The join condition as written after the joined table (empty for
/// NATURAL joins, whose keyword precedes the join type).
impl Display for JoinConstraint {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            JoinConstraint::Natural => Ok(()),
            JoinConstraint::On(c) => write!(f, "ON {c}"),
            JoinConstraint::Using(cols) => {
                f.write_str("USING (")?;
                comma_list(f, cols)?;
                f.write_char(')')
            }
        }
    }
}

/// The vertex arguments of POLYGON, comma-separated.
impl Display for Vertices {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Vertices::Coordinates(pairs) => {
                for (i, (x, y)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{x}, {y}")?;
                }
                Ok(())
            }
            Vertices::Points(ps) => comma_list(f, ps),
        }
    }
}

/// The arguments of DISTANCE, comma-separated.
impl Display for DistanceArgs {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DistanceArgs::Points(a, b) => write!(f, "{a}, {b}"),
            DistanceArgs::Coordinates(a, b, c, d) => write!(f, "{a}, {b}, {c}, {d}"),
        }
    }
}

impl Display for super::Version {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            super::Version::V2_0 => "ADQL-2.0",
            super::Version::V2_1 => "ADQL-2.1",
        })
    }
}
