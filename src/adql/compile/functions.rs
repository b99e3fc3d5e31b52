//! Scalar functions: the standard ADQL math, trigonometric and string functions (ADQL 2.1
//! sections 2.3 and 4.4) as PostgreSQL, and the registry of user-defined functions
//! (section 4.3), declared once here and listed in the TAP capabilities from here.

use super::types::ValueType;
use crate::adql::ast::Function;

/// How a standard function is written in PostgreSQL and what it returns, given the SQL and
/// types of its (already checked) arguments. `Err` carries a message for the user.
pub fn standard(function: &Function, args: &[(String, ValueType)]) -> Result<(String, ValueType), String> {
    let name = function.name();
    let arg = |i: usize| args.get(i).map(|(s, _)| s.as_str()).unwrap_or("NULL");
    let ty = |i: usize| args.get(i).map(|(_, t)| *t).unwrap_or(ValueType::Null);
    let numeric = |i: usize| -> Result<(), String> {
        if ty(i).is_numeric() {
            Ok(())
        } else {
            Err(format!("{name} needs a number as argument {}, not {}", i + 1, ty(i).describe()))
        }
    };
    for i in 0..args.len() {
        if !matches!(function, Function::Lower | Function::Upper | Function::InUnit) {
            numeric(i)?;
        }
    }
    let double = ValueType::Double;
    Ok(match function {
        Function::Abs => (format!("abs({})", arg(0)), ValueType::numeric_union(ty(0), ValueType::SmallInt)),
        Function::Ceiling => (format!("ceil(({})::double precision)", arg(0)), double),
        Function::Floor => (format!("floor(({})::double precision)", arg(0)), double),
        Function::Degrees => (format!("degrees({})", arg(0)), double),
        Function::Radians => (format!("radians({})", arg(0)), double),
        Function::Exp => (format!("exp(({})::double precision)", arg(0)), double),
        // ADQL LOG is the natural logarithm, PostgreSQL's log is base 10.
        Function::Log => (format!("ln(({})::double precision)", arg(0)), double),
        Function::Log10 => (format!("log(({})::double precision)", arg(0)), double),
        Function::Sqrt => (format!("sqrt(({})::double precision)", arg(0)), double),
        Function::Power => (format!("power(({})::double precision, ({})::double precision)", arg(0), arg(1)), double),
        Function::Pi => ("pi()".to_string(), double),
        Function::Mod => {
            if ty(0).is_integer() && ty(1).is_integer() {
                (format!("mod({}, {})", arg(0), arg(1)), ValueType::numeric_union(ty(0), ty(1)))
            } else {
                (format!("mod(({})::numeric, ({})::numeric)::double precision", arg(0), arg(1)), double)
            }
        }
        // The argument of RAND, once meant as a seed, "has undefined semantics" (ADQL 2.1
        // section 2.3, as STILTS documents it): it is accepted and not used.
        Function::Rand => ("random()".to_string(), double),
        Function::Round if args.len() == 2 => {
            (format!("round(({})::numeric, ({})::integer)::double precision", arg(0), arg(1)), double)
        }
        Function::Round => (format!("round(({})::double precision)", arg(0)), double),
        Function::Truncate if args.len() == 2 => {
            (format!("trunc(({})::numeric, ({})::integer)::double precision", arg(0), arg(1)), double)
        }
        Function::Truncate => (format!("trunc(({})::double precision)", arg(0)), double),
        Function::Acos => (format!("acos({})", arg(0)), double),
        Function::Asin => (format!("asin({})", arg(0)), double),
        Function::Atan => (format!("atan({})", arg(0)), double),
        Function::Atan2 => (format!("atan2({}, {})", arg(0), arg(1)), double),
        Function::Cos => (format!("cos({})", arg(0)), double),
        Function::Cot => (format!("cot({})", arg(0)), double),
        Function::Sin => (format!("sin({})", arg(0)), double),
        Function::Tan => (format!("tan({})", arg(0)), double),
        Function::Lower | Function::Upper => {
            if !ty(0).is_string() {
                return Err(format!("{name} needs a string, not {}", ty(0).describe()));
            }
            (format!("{}({})", name.to_ascii_lowercase(), arg(0)), ValueType::String)
        }
        Function::InUnit | Function::UserDefined(_) => {
            return Err(format!("internal: {name} is translated elsewhere"));
        }
    })
}

/// What a user-defined function accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    Numeric,
    String,
    Any,
}

/// A user-defined function (ADQL 2.1 section 4.3), described for TAPRegExt as well.
#[derive(Debug, Clone)]
pub struct UserFunction {
    /// The name as users write it (lower case; matched case-insensitively).
    pub name: &'static str,
    /// The TAPRegExt `form`, e.g. `ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER`.
    pub form: &'static str,
    pub description: &'static str,
    pub args: &'static [ArgKind],
    pub returns: ValueType,
    /// PostgreSQL for the call, given the SQL of its arguments.
    pub translate: fn(&[String]) -> String,
}

/// The user-defined functions this service offers.
#[derive(Debug, Clone)]
pub struct FunctionRegistry {
    functions: Vec<UserFunction>,
}

impl Default for FunctionRegistry {
    fn default() -> Self {
        FunctionRegistry::standard()
    }
}

impl FunctionRegistry {
    /// The functions of the IVOA Registry Relational Schema 1.1 (section 6) that make sense
    /// for any service.
    pub fn standard() -> FunctionRegistry {
        FunctionRegistry {
            functions: vec![
                UserFunction {
                    name: "ivo_hasword",
                    form: "ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER",
                    description: "1 if needle is a word of haystack (case-insensitive word match, as in RegTAP 1.1), else 0",
                    args: &[ArgKind::String, ArgKind::String],
                    returns: ValueType::Integer,
                    translate: |a| format!("(to_tsvector('simple', {}) @@ plainto_tsquery('simple', {}))::integer", a[0], a[1]),
                },
                UserFunction {
                    name: "ivo_nocasematch",
                    form: "ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER",
                    description: "1 if value matches the LIKE pattern ignoring case, else 0",
                    args: &[ArgKind::String, ArgKind::String],
                    returns: ValueType::Integer,
                    translate: |a| format!("({} ILIKE {})::integer", a[0], a[1]),
                },
                UserFunction {
                    name: "ivo_string_agg",
                    form: "ivo_string_agg(expression TEXT, delimiter TEXT) -> TEXT",
                    description: "Aggregate: the values of expression joined by delimiter",
                    args: &[ArgKind::Any, ArgKind::String],
                    returns: ValueType::String,
                    translate: |a| format!("string_agg(({})::text, {})", a[0], a[1]),
                },
            ],
        }
    }

    pub fn find(&self, name: &str) -> Option<&UserFunction> {
        self.functions.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = &UserFunction> {
        self.functions.iter()
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.functions.iter().map(|f| f.name)
    }
}
