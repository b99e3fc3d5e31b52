//! Value expressions and search conditions: type-checked and printed as PostgreSQL.

use super::scope::{closest, Resolved};
use super::types::{ResultColumn, ValueType};
use super::{error, functions, sql, units, Compiler, Result};
use crate::adql::ast::*;

/// A translated expression.
#[derive(Debug, Clone)]
pub(crate) struct Typed {
    pub sql: String,
    pub ty: ValueType,
    /// The published column's metadata when the expression is a plain column reference
    /// (or keeps a column's meaning, like MIN/MAX of it).
    pub meta: Option<ResultColumn>,
    /// The default result column name when the select item has no alias.
    pub name: Option<String>,
    /// Does it refer to any column (as opposed to being constant for the query)?
    pub has_columns: bool,
}

impl Typed {
    pub(crate) fn new(sql: String, ty: ValueType) -> Typed {
        Typed { sql, ty, meta: None, name: None, has_columns: false }
    }

    pub(crate) fn named(mut self, name: &str) -> Typed {
        self.name = Some(name.to_string());
        self
    }

    pub(crate) fn with_columns(mut self, has: bool) -> Typed {
        self.has_columns = has;
        self
    }
}

/// The first identifier in an expression: where to point error messages.
pub(crate) fn first_ident(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Column(c) => c.qualifier.first().or(Some(&c.column)),
        Expr::Unary { expr, .. } | Expr::Cast { expr, .. } | Expr::Not(expr) | Expr::IsNull { expr, .. } => first_ident(expr),
        Expr::Binary { left, right, .. } | Expr::Comparison { left, right, .. } | Expr::And(left, right) | Expr::Or(left, right) => {
            first_ident(left).or_else(|| first_ident(right))
        }
        Expr::Function(f) => match &f.func {
            Function::UserDefined(name) => Some(name),
            _ => f.args.iter().find_map(first_ident),
        },
        Expr::Aggregate(a) => a.arg.as_deref().and_then(first_ident),
        Expr::Coalesce(args) => args.iter().find_map(first_ident),
        Expr::Between { expr, low, high, .. } => first_ident(expr).or_else(|| first_ident(low)).or_else(|| first_ident(high)),
        Expr::InList { expr, list, .. } => first_ident(expr).or_else(|| list.iter().find_map(first_ident)),
        Expr::Like { expr, pattern, .. } => first_ident(expr).or_else(|| first_ident(pattern)),
        Expr::InSubquery { expr, .. } => first_ident(expr),
        _ => None,
    }
}

impl<'a> Compiler<'a> {
    /// A value expression.
    pub(crate) fn value(&mut self, expr: &Expr) -> Result<Typed> {
        if expr.is_condition() {
            // ADQL has no boolean values: a condition stands only where the grammar wants one.
            let sql = self.condition(expr)?;
            return Ok(Typed::new(sql, ValueType::Boolean));
        }
        match expr {
            Expr::Column(reference) => self.column(reference),
            Expr::Literal(literal) => literal_value(literal),
            Expr::Unary { op, expr: operand } => {
                let inner = self.value(operand)?;
                match op {
                    UnaryOp::Minus | UnaryOp::Plus if inner.ty.is_numeric() => {
                        let sign = if *op == UnaryOp::Minus { "-" } else { "+" };
                        Ok(Typed { sql: format!("({sign}{})", inner.sql), meta: None, name: None, ..inner })
                    }
                    UnaryOp::BitNot if inner.ty.is_integer() => Ok(Typed { sql: format!("(~{})", inner.sql), meta: None, name: None, ..inner }),
                    _ => Err(error(
                        format!("{} cannot be applied to {}", if *op == UnaryOp::BitNot { "~" } else { "a sign" }, inner.ty.describe()),
                        first_ident(operand),
                    )),
                }
            }
            Expr::Binary { op, left, right } => self.binary(*op, left, right),
            Expr::Function(call) => self.function(call),
            Expr::Aggregate(aggregate) => self.aggregate(aggregate),
            Expr::Cast { expr: operand, target } => self.cast(operand, *target),
            Expr::Coalesce(args) => {
                let mut parts = Vec::new();
                let mut ty = ValueType::Null;
                let mut has_columns = false;
                for arg in args {
                    let t = self.value(arg)?;
                    ty = compatible(ty, t.ty).ok_or_else(|| {
                        error(format!("COALESCE mixes {} and {}", ty.describe(), t.ty.describe()), first_ident(arg))
                    })?;
                    has_columns |= t.has_columns;
                    parts.push(t.sql);
                }
                Ok(Typed::new(format!("COALESCE({})", parts.join(", ")), ty).named("coalesce").with_columns(has_columns))
            }
            Expr::Geometry(g) => self.geometry(g),
            _ => Err(error("a condition stands where a value is expected", first_ident(expr))),
        }
    }

    /// A search condition, as SQL of boolean type.
    pub(crate) fn condition(&mut self, expr: &Expr) -> Result<String> {
        match expr {
            Expr::And(a, b) => Ok(format!("({} AND {})", self.condition(a)?, self.condition(b)?)),
            Expr::Or(a, b) => Ok(format!("({} OR {})", self.condition(a)?, self.condition(b)?)),
            Expr::Not(a) => Ok(format!("(NOT {})", self.condition(a)?)),
            Expr::Comparison { op, left, right } => {
                if let Some(sql) = self.geometric_predicate(*op, left, right)? {
                    return Ok(sql);
                }
                let l = self.value(left)?;
                let r = self.value(right)?;
                comparable(l.ty, r.ty).then_some(()).ok_or_else(|| {
                    error(format!("cannot compare {} with {}", l.ty.describe(), r.ty.describe()), first_ident(left).or_else(|| first_ident(right)))
                })?;
                Ok(format!("({} {} {})", l.sql, compare_operator(*op), r.sql))
            }
            Expr::Between { expr: e, negated, low, high } => {
                let v = self.value(e)?;
                let lo = self.value(low)?;
                let hi = self.value(high)?;
                if !comparable(v.ty, lo.ty) || !comparable(v.ty, hi.ty) {
                    return Err(error(format!("BETWEEN compares {} with {} and {}", v.ty.describe(), lo.ty.describe(), hi.ty.describe()), first_ident(e)));
                }
                Ok(format!("({} {}BETWEEN {} AND {})", v.sql, if *negated { "NOT " } else { "" }, lo.sql, hi.sql))
            }
            Expr::InList { expr: e, negated, list } => {
                let v = self.value(e)?;
                let mut items = Vec::new();
                for item in list {
                    let t = self.value(item)?;
                    if !comparable(v.ty, t.ty) {
                        return Err(error(format!("IN compares {} with {}", v.ty.describe(), t.ty.describe()), first_ident(item).or_else(|| first_ident(e))));
                    }
                    items.push(t.sql);
                }
                Ok(format!("({} {}IN ({}))", v.sql, if *negated { "NOT " } else { "" }, items.join(", ")))
            }
            Expr::InSubquery { expr: e, negated, subquery } => {
                let v = self.value(e)?;
                let out = self.query(subquery, false, None)?;
                if out.columns.len() != 1 {
                    return Err(error(format!("the subquery of IN must select one column, not {}", out.columns.len()), first_ident(e)));
                }
                if !comparable(v.ty, out.columns[0].meta.value_type) {
                    return Err(error(
                        format!("IN compares {} with a subquery of {}", v.ty.describe(), out.columns[0].meta.value_type.describe()),
                        first_ident(e),
                    ));
                }
                Ok(format!("({} {}IN ({}))", v.sql, if *negated { "NOT " } else { "" }, out.sql))
            }
            Expr::Like { expr: e, negated, case_insensitive, pattern } => {
                let v = self.value(e)?;
                let p = self.value(pattern)?;
                if !v.ty.is_string() || !p.ty.is_string() {
                    return Err(error(
                        format!("LIKE needs strings, not {} and {}", v.ty.describe(), p.ty.describe()),
                        first_ident(e),
                    ));
                }
                let keyword = if *case_insensitive { "ILIKE" } else { "LIKE" };
                Ok(format!("({} {}{keyword} {})", v.sql, if *negated { "NOT " } else { "" }, p.sql))
            }
            Expr::IsNull { expr: e, negated } => {
                let v = self.value(e)?;
                Ok(format!("({} IS {}NULL)", v.sql, if *negated { "NOT " } else { "" }))
            }
            Expr::Exists(subquery) => {
                let out = self.query(subquery, false, None)?;
                Ok(format!("(EXISTS ({}))", out.sql))
            }
            other => {
                // A value where a condition is wanted: ADQL has no boolean columns.
                Err(error("a value stands where a condition is expected (compare it, e.g. x = 1)", first_ident(other)))
            }
        }
    }

    fn column(&mut self, reference: &ColumnRef) -> Result<Typed> {
        // Innermost level first; enclosing levels for correlated subqueries.
        for (depth, level) in self.levels.iter().enumerate().rev() {
            match level.resolve(reference) {
                Resolved::Found(column) => {
                    let _ = depth;
                    return Ok(Typed {
                        sql: column.sql.clone(),
                        ty: column.meta.value_type,
                        meta: Some(column.meta.clone()),
                        name: Some(column.name.value.clone()),
                        has_columns: true,
                    });
                }
                Resolved::Ambiguous(candidates) => {
                    return Err(error(
                        format!("column {} is ambiguous: qualify it as one of {}", reference.column.value, candidates.join(", ")),
                        Some(&reference.column),
                    ));
                }
                Resolved::NotFound => {}
            }
        }
        let written = reference.qualifier.iter().chain(std::iter::once(&reference.column)).map(|i| i.value.as_str()).collect::<Vec<_>>().join(".");
        if !reference.qualifier.is_empty() && !self.levels.iter().any(|l| l.has_source(&reference.qualifier)) {
            let qualifier = reference.qualifier.iter().map(|i| i.value.as_str()).collect::<Vec<_>>().join(".");
            return Err(error(
                format!("{written}: {qualifier} is not a table or alias of the FROM clause"),
                reference.qualifier.first(),
            ));
        }
        let candidates: Vec<&str> = self.levels.iter().flat_map(|l| l.column_names()).collect();
        let mut message = format!("there is no column {written}");
        if let Some(exact) = candidates.iter().find(|c| reference.column.delimited && c.eq_ignore_ascii_case(&reference.column.value)) {
            message.push_str(&format!("; quoted names are case-sensitive: write {exact} or \"{exact}\""));
        } else if let Some(s) = closest(&reference.column.value, candidates.iter().copied()) {
            message.push_str(&format!("; did you mean {s}?"));
        }
        Err(error(message, Some(&reference.column)))
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr) -> Result<Typed> {
        let l = self.value(left)?;
        let r = self.value(right)?;
        let has_columns = l.has_columns || r.has_columns;
        let at = first_ident(left).or_else(|| first_ident(right));
        let (sql, ty) = match op {
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                if !l.ty.is_numeric() || !r.ty.is_numeric() {
                    return Err(error(format!("arithmetic needs numbers, not {} and {}", l.ty.describe(), r.ty.describe()), at));
                }
                let symbol = match op {
                    BinaryOp::Add => "+",
                    BinaryOp::Sub => "-",
                    BinaryOp::Mul => "*",
                    _ => "/",
                };
                (format!("({} {symbol} {})", l.sql, r.sql), ValueType::numeric_union(l.ty, r.ty))
            }
            BinaryOp::Concat => {
                if !l.ty.is_string() || !r.ty.is_string() {
                    return Err(error(format!("|| joins strings, not {} and {}", l.ty.describe(), r.ty.describe()), at));
                }
                (format!("({} || {})", l.sql, r.sql), ValueType::String)
            }
            BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                if !l.ty.is_integer() || !r.ty.is_integer() {
                    return Err(error(format!("bitwise operators need integers, not {} and {}", l.ty.describe(), r.ty.describe()), at));
                }
                // PostgreSQL writes exclusive or as '#'.
                let symbol = match op {
                    BinaryOp::BitAnd => "&",
                    BinaryOp::BitOr => "|",
                    _ => "#",
                };
                (format!("({} {symbol} {})", l.sql, r.sql), ValueType::numeric_union(l.ty, r.ty))
            }
        };
        Ok(Typed::new(sql, ty).with_columns(has_columns))
    }

    fn function(&mut self, call: &FunctionCall) -> Result<Typed> {
        let mut args = Vec::new();
        let mut has_columns = false;
        let mut first_meta = None;
        for (i, arg) in call.args.iter().enumerate() {
            let t = self.value(arg)?;
            has_columns |= t.has_columns;
            if i == 0 {
                first_meta = t.meta.clone();
            }
            args.push((t.sql, t.ty));
        }
        let at = call.args.iter().find_map(first_ident);
        match &call.func {
            Function::InUnit => {
                let value_type = args.first().map(|a| a.1).unwrap_or(ValueType::Null);
                if !value_type.is_numeric() {
                    return Err(error(format!("IN_UNIT converts numbers, not {}", value_type.describe()), at));
                }
                let Some(Expr::Literal(Literal::String(target))) = call.args.get(1) else {
                    return Err(error("IN_UNIT needs the target unit as a string literal, e.g. IN_UNIT(ra, 'arcsec')", at));
                };
                let from = first_meta.as_ref().and_then(|m| m.unit.clone()).ok_or_else(|| {
                    error("IN_UNIT needs a value whose unit is known: a column with a unit", at)
                })?;
                let factor = units::conversion_factor(&from, target).map_err(|m| error(m, at))?;
                let mut meta = first_meta.unwrap_or_else(|| ResultColumn::computed(String::new(), ValueType::Double));
                meta.unit = Some(target.clone());
                meta.value_type = ValueType::Double;
                meta.datatype = crate::catalog::Datatype::Double;
                Ok(Typed {
                    sql: format!("(({})::double precision * {factor:e})", args[0].0),
                    ty: ValueType::Double,
                    meta: Some(meta),
                    name: Some("in_unit".into()),
                    has_columns,
                })
            }
            Function::UserDefined(name) => {
                let Some(udf) = self.context.functions.find(&name.value) else {
                    let known: Vec<&str> = self.context.functions.names().collect();
                    let suggestion = crate::adql::suggest_function(&name.value)
                        .map(|s| s.to_string())
                        .or_else(|| closest(&name.value, known.iter().copied()).map(str::to_string));
                    return Err(error(
                        format!(
                            "there is no function {}{}",
                            name.value,
                            suggestion.map(|s| format!("; did you mean {s}?")).unwrap_or_else(|| format!("; user-defined functions: {}", known.join(", ")))
                        ),
                        Some(name),
                    ));
                };
                if udf.args.len() != args.len() {
                    return Err(error(format!("{} takes {} arguments: {}", udf.name, udf.args.len(), udf.form), Some(name)));
                }
                for (i, (kind, (_, ty))) in udf.args.iter().zip(&args).enumerate() {
                    let ok = match kind {
                        functions::ArgKind::Numeric => ty.is_numeric(),
                        functions::ArgKind::String => ty.is_string(),
                        functions::ArgKind::Any => true,
                    };
                    if !ok {
                        return Err(error(format!("argument {} of {} cannot be {}: {}", i + 1, udf.name, ty.describe(), udf.form), Some(name)));
                    }
                }
                let sql_args: Vec<String> = args.into_iter().map(|a| a.0).collect();
                Ok(Typed::new((udf.translate)(&sql_args), udf.returns).named(udf.name).with_columns(has_columns))
            }
            standard => {
                let (sql, ty) = functions::standard(standard, &args).map_err(|m| error(m, at))?;
                Ok(Typed::new(sql, ty).named(&standard.name().to_ascii_lowercase()).with_columns(has_columns))
            }
        }
    }

    fn aggregate(&mut self, aggregate: &Aggregate) -> Result<Typed> {
        let name = aggregate.func.name().to_ascii_lowercase();
        let quantifier = match aggregate.quantifier {
            Some(SetQuantifier::Distinct) => "DISTINCT ",
            _ => "",
        };
        let Some(arg) = &aggregate.arg else {
            return Ok(Typed::new("count(*)".into(), ValueType::BigInt).named("count").with_columns(true));
        };
        let t = self.value(arg)?;
        let at = first_ident(arg);
        let (sql, ty, meta) = match aggregate.func {
            AggregateFunction::Count => (format!("count({quantifier}{})", t.sql), ValueType::BigInt, None),
            AggregateFunction::Avg | AggregateFunction::Sum => {
                if !t.ty.is_numeric() {
                    return Err(error(format!("{} needs numbers, not {}", aggregate.func.name(), t.ty.describe()), at));
                }
                let ty = match (aggregate.func, t.ty) {
                    (AggregateFunction::Sum, ValueType::SmallInt | ValueType::Integer | ValueType::BigInt) => ValueType::BigInt,
                    (AggregateFunction::Sum, ValueType::Real) => ValueType::Real,
                    _ => ValueType::Double,
                };
                // The mean or sum keeps the column's unit and meaning (not its name).
                let meta = t.meta.map(|mut m| {
                    m.value_type = ty;
                    let computed = ResultColumn::computed(String::new(), ty);
                    m.datatype = computed.datatype;
                    m.arraysize = None;
                    m.ucd = m.ucd.map(|u| if aggregate.func == AggregateFunction::Avg { format!("stat.mean;{u}") } else { u });
                    m
                });
                (format!("CAST({name}({quantifier}{}) AS {})", t.sql, ty.sql_type()), ty, meta)
            }
            AggregateFunction::Min | AggregateFunction::Max => {
                if matches!(t.ty, ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::RealArray | ValueType::DoubleArray) {
                    return Err(error(format!("{} cannot order {}", aggregate.func.name(), t.ty.describe()), at));
                }
                (format!("{name}({quantifier}{})", t.sql), t.ty, t.meta.clone())
            }
        };
        Ok(Typed { sql, ty, meta, name: Some(name), has_columns: true })
    }

    fn cast(&mut self, operand: &Expr, target: CastType) -> Result<Typed> {
        let t = self.value(operand)?;
        let at = first_ident(operand);
        let (sql_type, ty) = match target {
            CastType::SmallInt => ("smallint".to_string(), ValueType::SmallInt),
            CastType::Integer => ("integer".to_string(), ValueType::Integer),
            CastType::BigInt => ("bigint".to_string(), ValueType::BigInt),
            CastType::Real => ("real".to_string(), ValueType::Real),
            CastType::DoublePrecision => ("double precision".to_string(), ValueType::Double),
            CastType::Char(n) => (n.map(|n| format!("char({n})")).unwrap_or_else(|| "char".into()), ValueType::String),
            CastType::Varchar(n) => (n.map(|n| format!("varchar({n})")).unwrap_or_else(|| "varchar".into()), ValueType::String),
            CastType::Timestamp => ("timestamp".to_string(), ValueType::Timestamp),
            CastType::Point | CastType::Circle | CastType::Polygon => {
                let wanted = match target {
                    CastType::Point => ValueType::Point,
                    CastType::Circle => ValueType::Circle,
                    _ => ValueType::Polygon,
                };
                if t.ty == wanted || t.ty == ValueType::Null {
                    return Ok(Typed { ty: wanted, ..t });
                }
                return Err(error(format!("CAST to a geometry works on geometries only; build one with POINT, CIRCLE or POLYGON"), at));
            }
        };
        let allowed = match ty {
            ValueType::String => !t.ty.is_geometry() || t.ty == ValueType::Null,
            ValueType::Timestamp => matches!(t.ty, ValueType::String | ValueType::Timestamp | ValueType::Null),
            _ => t.ty.is_numeric() || t.ty == ValueType::String,
        };
        if !allowed {
            return Err(error(format!("cannot CAST {} to {sql_type}", t.ty.describe()), at));
        }
        Ok(Typed::new(format!("CAST({} AS {sql_type})", t.sql), ty).with_columns(t.has_columns))
    }
}

fn literal_value(literal: &Literal) -> Result<Typed> {
    match literal {
        Literal::Null => Ok(Typed::new("NULL".into(), ValueType::Null)),
        Literal::String(text) => {
            if text.contains('\0') {
                return Err(error("strings cannot contain the NUL character", None));
            }
            Ok(Typed::new(sql::literal(text), ValueType::String))
        }
        Literal::Number { text, kind } => match kind {
            NumberKind::Integer => {
                // Re-printed from the parsed value: the SQL holds digits only.
                let value: i64 = text.parse().map_err(|_| error(format!("the integer {text} is too large (at most 9223372036854775807)"), None))?;
                let ty = if i32::try_from(value).is_ok() { ValueType::Integer } else { ValueType::BigInt };
                Ok(Typed::new(value.to_string(), ty))
            }
            NumberKind::Hex => {
                let digits = text.trim_start_matches("0x").trim_start_matches("0X");
                let value = u64::from_str_radix(digits, 16).map_err(|_| error(format!("the hexadecimal number {text} is too large (64 bits at most)"), None))?;
                // ADQL 2.1 section 2.1.8: a hexadecimal literal is an integer; 64-bit values
                // with the top bit set are the negative bigint of the same bits.
                let value = value as i64;
                let ty = if i32::try_from(value).is_ok() { ValueType::Integer } else { ValueType::BigInt };
                Ok(Typed::new(if value < 0 { format!("({value})") } else { value.to_string() }, ty))
            }
            NumberKind::Decimal | NumberKind::Float => {
                let value: f64 = text.parse().map_err(|_| error(format!("{text} is not a number"), None))?;
                if !value.is_finite() {
                    return Err(error(format!("the number {text} is out of range"), None));
                }
                // Exact decimal text for decimals (no binary rounding), checked digits only.
                let printed = if *kind == NumberKind::Decimal && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
                    let t = if text.starts_with('.') { format!("0{text}") } else { text.clone() };
                    if t.ends_with('.') { format!("{t}0") } else { t }
                } else {
                    format!("{value:e}")
                };
                Ok(Typed::new(format!("{printed}::double precision"), ValueType::Double))
            }
        },
    }
}

/// The type two values of a COALESCE / comparison share.
fn compatible(a: ValueType, b: ValueType) -> Option<ValueType> {
    if a == ValueType::Null {
        return Some(b);
    }
    if b == ValueType::Null || a == b {
        return Some(a);
    }
    if a.is_numeric() && b.is_numeric() {
        return Some(ValueType::numeric_union(a, b));
    }
    None
}

fn comparable(a: ValueType, b: ValueType) -> bool {
    use ValueType::*;
    match (a, b) {
        (Null, _) | (_, Null) => true,
        (Timestamp, String) | (String, Timestamp) => true,
        (Point | Circle | Polygon | RealArray | DoubleArray | Boolean, _) | (_, Point | Circle | Polygon | RealArray | DoubleArray | Boolean) => false,
        _ => compatible(a, b).is_some(),
    }
}

pub(crate) fn compare_operator(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::NotEq => "<>",
        CompareOp::Lt => "<",
        CompareOp::Gt => ">",
        CompareOp::LtEq => "<=",
        CompareOp::GtEq => ">=",
    }
}
