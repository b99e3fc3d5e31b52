//! Function calls: math and trigonometric functions (§2.3), aggregates
//! (`<set_function_specification>`), geometric functions (ADQL 2.1 §4.2,
//! ADQL 2.0 §2.4), user-defined functions (§4.3), string functions (§4.4),
//! CAST (§4.7), COALESCE (§4.8) and IN_UNIT (§4.9).

use super::super::Version;
use super::super::ast::*;
use super::super::error::{ParseError, suggest};
use super::super::lexer::{Token, TokenKind};
use super::super::reserved::is_reserved;
use super::{PResult, Parser};

/// An argument with the token it started at.
struct Arg {
    expr: Expr,
    start: Token,
}

fn is_string_or_null(e: &Expr) -> bool {
    matches!(e, Expr::Literal(Literal::String(_) | Literal::Null))
}

/// Whether an argument can denote a POINT value syntactically
/// (`<coord_value>`: a point, centroid, column, function or cast).
fn could_be_point(e: &Expr) -> bool {
    match e {
        Expr::Column(_) => true,
        Expr::Geometry(g) => matches!(
            **g,
            GeometryFunction::Point { .. } | GeometryFunction::Centroid(_)
        ),
        Expr::Function(f) => matches!(f.func, Function::UserDefined(_)),
        Expr::Cast {
            target: CastType::Point,
            ..
        } => true,
        Expr::Coalesce(_) => true,
        _ => false,
    }
}

/// Whether an argument certainly is a geometric value (not a coordinate).
fn is_explicit_point(e: &Expr) -> bool {
    match e {
        Expr::Geometry(g) => matches!(
            **g,
            GeometryFunction::Point { .. } | GeometryFunction::Centroid(_)
        ),
        Expr::Cast {
            target: CastType::Point,
            ..
        } => true,
        _ => false,
    }
}

impl Parser {
    /// Parses `name(args)`; the current token is the name, the next `(`.
    pub(super) fn parse_function_call(&mut self, t: &Token, w: &str) -> PResult<(Expr, usize)> {
        let up = w.to_ascii_uppercase();
        let up = up.as_str();
        if let Some(agg) = AggregateFunction::from_name(w) {
            return self.parse_aggregate(agg);
        }
        match up {
            "CAST" => return self.parse_cast(),
            "COALESCE" => {
                self.require_2_1("COALESCE", t)?;
                let (args, d) = self.parse_args("COALESCE")?;
                if args.is_empty() {
                    return Err(ParseError::new(
                        "COALESCE needs at least one argument",
                        t.span,
                    ));
                }
                return Ok((
                    Expr::Coalesce(args.into_iter().map(|a| a.expr).collect()),
                    d,
                ));
            }
            _ => {}
        }
        if GEOMETRY_FUNCTIONS.contains(&up) {
            return self.parse_geometry(t, up);
        }
        if let Some((func, info)) = Function::standard(w) {
            if info.since_2_1 {
                self.require_2_1(&format!("the function {}", info.name), t)?;
            }
            let (args, d) = self.parse_args(info.name)?;
            self.check_arity(t, info.name, args.len(), info.min_args, info.max_args)?;
            self.check_special_args(&func, &args)?;
            return Ok((
                Expr::Function(FunctionCall {
                    func,
                    args: args.into_iter().map(|a| a.expr).collect(),
                }),
                d,
            ));
        }
        if is_reserved(w, self.version) {
            let mut err = match up {
                "CASE" => ParseError::new("CASE expressions are not part of ADQL", t.span)
                    .with_hint("COALESCE is available in ADQL 2.1"),
                _ => ParseError::new(
                    format!("{up} is a reserved word and not an ADQL function"),
                    t.span,
                ),
            };
            if err.hint.is_none() {
                let names: Vec<&str> = Function::standard_names()
                    .chain(GEOMETRY_FUNCTIONS.iter().copied())
                    .collect();
                if let Some(s) = suggest(w, &names) {
                    err = err.with_hint(format!("did you mean {s}?"));
                }
            }
            return Err(err);
        }
        // <user_defined_function>: a regular identifier followed by arguments.
        self.advance_name();
        let name = Ident {
            value: w.to_string(),
            delimited: false,
            span: t.span,
        };
        let (args, d) = self.parse_args_after_name(w)?;
        Ok((
            Expr::Function(FunctionCall {
                func: Function::UserDefined(name),
                args: args.into_iter().map(|a| a.expr).collect(),
            }),
            d,
        ))
    }

    fn advance_name(&mut self) {
        self.skip();
    }

    fn check_arity(&self, t: &Token, name: &str, n: usize, min: usize, max: usize) -> PResult<()> {
        if n >= min && n <= max {
            return Ok(());
        }
        let want = match (min, max) {
            (0, 0) => "no arguments".to_string(),
            (a, b) if a == b => format!("exactly {a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} or {b} arguments"),
        };
        Err(ParseError::new(
            format!("{name} takes {want}, found {n}"),
            t.span,
        ))
    }

    /// Literal-only arguments: RAND(unsigned_decimal), ROUND/TRUNCATE(x,
    /// signed_integer) per ADQL 2.0 Erratum 2 / 2.1 BNF, IN_UNIT(x, 'unit').
    fn check_special_args(&self, func: &Function, args: &[Arg]) -> PResult<()> {
        let is_int = |e: &Expr| {
            matches!(
                e,
                Expr::Literal(Literal::Number {
                    kind: NumberKind::Integer,
                    ..
                })
            )
        };
        match func {
            Function::Rand => {
                if let Some(a) = args.first()
                    && !is_int(&a.expr)
                {
                    return Err(ParseError::new(
                        "the argument of RAND must be an unsigned integer literal",
                        a.start.span,
                    ));
                }
            }
            Function::Round | Function::Truncate => {
                if let Some(a) = args.get(1) {
                    let ok = match &a.expr {
                        Expr::Unary {
                            op: UnaryOp::Minus | UnaryOp::Plus,
                            expr,
                        } => is_int(expr),
                        e => is_int(e),
                    };
                    if !ok {
                        return Err(ParseError::new(
                            format!(
                                "the second argument of {} must be an integer literal (the number of decimal places)",
                                func.name()
                            ),
                            a.start.span,
                        ));
                    }
                }
            }
            Function::InUnit => {
                if let Some(a) = args.get(1)
                    && !matches!(a.expr, Expr::Literal(Literal::String(_)))
                {
                    return Err(ParseError::new(
                        "the second argument of IN_UNIT must be a string literal naming a VOUnit",
                        a.start.span,
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `( [arg {, arg}] )` after a function name (current token).
    fn parse_args(&mut self, name: &str) -> PResult<(Vec<Arg>, usize)> {
        self.skip();
        self.parse_args_after_name(name)
    }

    fn parse_args_after_name(&mut self, name: &str) -> PResult<(Vec<Arg>, usize)> {
        let open = self.expect(&TokenKind::LParen, &format!("after {name}"))?;
        self.enter()?;
        let mut args = Vec::new();
        let mut d = 0;
        if !matches!(self.peek_kind(), TokenKind::RParen) {
            loop {
                let start = self.peek().clone();
                if matches!(start.kind, TokenKind::RParen) {
                    return Err(ParseError::new(
                        format!("trailing ',' in the arguments of {name}"),
                        start.span,
                    ));
                }
                let (e, ed) = self.parse_value("a function argument")?;
                d = d.max(ed);
                args.push(Arg { expr: e, start });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        self.leave();
        self.expect_close(&open)?;
        Ok((args, self.check_depth(d + 1)?))
    }

    /// `COUNT(*)`, `F([ALL|DISTINCT] x)`.
    fn parse_aggregate(&mut self, func: AggregateFunction) -> PResult<(Expr, usize)> {
        let name = self.advance();
        let open = self.expect(&TokenKind::LParen, &format!("after {}", func.name()))?;
        if matches!(self.peek_kind(), TokenKind::Star) {
            let star = self.advance();
            if func != AggregateFunction::Count {
                return Err(ParseError::new(
                    format!("{}(*) is not allowed; only COUNT(*)", func.name()),
                    star.span,
                ));
            }
            self.expect_close(&open)?;
            return Ok((
                Expr::Aggregate(Aggregate {
                    func,
                    quantifier: None,
                    arg: None,
                }),
                1,
            ));
        }
        let quantifier = if self.eat_kw("DISTINCT") {
            Some(SetQuantifier::Distinct)
        } else if self.eat_kw("ALL") {
            Some(SetQuantifier::All)
        } else {
            None
        };
        if matches!(self.peek_kind(), TokenKind::Star) {
            let t = self.peek().clone();
            return Err(ParseError::new(
                "'*' cannot follow DISTINCT or ALL; use COUNT(*) or COUNT(DISTINCT column)",
                t.span,
            ));
        }
        if matches!(self.peek_kind(), TokenKind::RParen) {
            return Err(ParseError::new(
                format!("{} needs an argument", func.name()),
                name.span,
            ));
        }
        self.enter()?;
        let (arg, d) = self.parse_value(&format!("the argument of {}", func.name()))?;
        self.leave();
        if matches!(self.peek_kind(), TokenKind::Comma) {
            return Err(ParseError::new(
                format!("{} takes exactly 1 argument", func.name()),
                name.span,
            ));
        }
        self.expect_close(&open)?;
        let d = self.check_depth(d + 1)?;
        Ok((
            Expr::Aggregate(Aggregate {
                func,
                quantifier,
                arg: Some(Box::new(arg)),
            }),
            d,
        ))
    }

    /// `CAST(x AS type)` (ADQL 2.1 §4.7).
    fn parse_cast(&mut self) -> PResult<(Expr, usize)> {
        let kw = self.advance();
        self.require_2_1("CAST", &kw)?;
        let open = self.expect(&TokenKind::LParen, "after CAST")?;
        self.enter()?;
        let (e, d) = self.parse_value("the value to CAST")?;
        self.leave();
        self.expect_kw("AS", "in CAST(value AS type)")?;
        let target = self.parse_cast_type()?;
        self.expect_close(&open)?;
        let d = self.check_depth(d + 1)?;
        Ok((
            Expr::Cast {
                expr: Box::new(e),
                target,
            },
            d,
        ))
    }

    fn parse_cast_type(&mut self) -> PResult<CastType> {
        let t = self.peek().clone();
        let TokenKind::Word(w) = &t.kind else {
            return Err(self.expected("a type name after AS"));
        };
        let up = w.to_ascii_uppercase();
        let ty = match up.as_str() {
            "SMALLINT" => CastType::SmallInt,
            "INTEGER" => CastType::Integer,
            "BIGINT" => CastType::BigInt,
            "REAL" => CastType::Real,
            "DOUBLE" => {
                self.skip();
                if !self.is_kw("PRECISION") {
                    return Err(self.expected_with("PRECISION after DOUBLE", &["PRECISION"]));
                }
                CastType::DoublePrecision
            }
            "TIMESTAMP" => CastType::Timestamp,
            "POINT" => CastType::Point,
            "CIRCLE" => CastType::Circle,
            "POLYGON" => CastType::Polygon,
            "CHAR" | "VARCHAR" => {
                self.skip();
                let len = if matches!(self.peek_kind(), TokenKind::LParen) {
                    let open = self.advance();
                    let n = self.parse_unsigned(&format!("{up}("))?;
                    self.expect_close(&open)?;
                    Some(n)
                } else {
                    None
                };
                return Ok(if up == "CHAR" { CastType::Char(len) } else { CastType::Varchar(len) });
            }
            _ => {
                return Err(ParseError::new(format!("'{w}' is not an ADQL CAST target type"), t.span).with_hint(
                    "ADQL 2.1 allows SMALLINT, INTEGER, BIGINT, REAL, DOUBLE PRECISION, CHAR(n), VARCHAR(n), TIMESTAMP, POINT, CIRCLE and POLYGON",
                ))
            }
        };
        self.skip();
        Ok(ty)
    }

    /// Geometric functions. Argument forms (ADQL 2.1 §4.2): an optional
    /// leading coordinate-system string (deprecated; a string literal or
    /// NULL), then coordinates or POINT values. In ADQL 2.0 the
    /// coordinate system is mandatory and positions are coordinates.
    fn parse_geometry(&mut self, t: &Token, up: &str) -> PResult<(Expr, usize)> {
        let (args, d) = self.parse_args(up)?;
        let n = args.len();
        let v20 = self.version == Version::V2_0;
        let mut it = args.into_iter();
        let mut next = || {
            it.next()
                .map(|a| a.expr)
                .unwrap_or(Expr::Literal(Literal::Null))
        };
        let g = match up {
            "REGION" => {
                self.check_arity(t, up, n, 1, 1)?;
                match next() {
                    Expr::Literal(Literal::String(s)) => GeometryFunction::Region(s),
                    _ => {
                        return Err(ParseError::new(
                            "the argument of REGION must be a string literal (an STC-S region)",
                            t.span,
                        ));
                    }
                }
            }
            "CENTROID" | "AREA" | "COORD1" | "COORD2" | "COORDSYS" => {
                self.check_arity(t, up, n, 1, 1)?;
                let a = next();
                match up {
                    "CENTROID" => GeometryFunction::Centroid(a),
                    "AREA" => GeometryFunction::Area(a),
                    "COORD1" => GeometryFunction::Coord1(a),
                    "COORD2" => GeometryFunction::Coord2(a),
                    _ => GeometryFunction::CoordSys(a),
                }
            }
            "CONTAINS" | "INTERSECTS" => {
                self.check_arity(t, up, n, 2, 2)?;
                let (a, b) = (next(), next());
                if up == "CONTAINS" {
                    GeometryFunction::Contains(a, b)
                } else {
                    GeometryFunction::Intersects(a, b)
                }
            }
            "DISTANCE" => match n {
                2 => GeometryFunction::Distance(DistanceArgs::Points(next(), next())),
                4 => {
                    self.require_2_1("DISTANCE with four numeric arguments", t)?;
                    GeometryFunction::Distance(DistanceArgs::Coordinates(
                        next(),
                        next(),
                        next(),
                        next(),
                    ))
                }
                _ => {
                    return Err(ParseError::new(
                        format!("DISTANCE takes 2 points or 4 coordinates, found {n} arguments"),
                        t.span,
                    ));
                }
            },
            _ => {
                let all: Vec<Expr> = (0..n).map(|_| next()).collect();
                return self.finish_shape(t, up, all, d, v20);
            }
        };
        Ok((Expr::Geometry(Box::new(g)), d))
    }

    /// POINT, CIRCLE, BOX and POLYGON.
    fn finish_shape(
        &mut self,
        t: &Token,
        up: &str,
        mut args: Vec<Expr>,
        d: usize,
        v20: bool,
    ) -> PResult<(Expr, usize)> {
        let has_cs = if v20 {
            true
        } else {
            args.first().is_some_and(is_string_or_null)
        };
        let usage = match up {
            "POINT" if v20 => "POINT(coordsys, x, y)",
            "CIRCLE" if v20 => "CIRCLE(coordsys, x, y, radius)",
            "BOX" if v20 => "BOX(coordsys, x, y, width, height)",
            "POLYGON" if v20 => "POLYGON(coordsys, x1, y1, x2, y2, x3, y3, ...)",
            "POINT" => "POINT(x, y)",
            "CIRCLE" => "CIRCLE(x, y, radius) or CIRCLE(point, radius)",
            "BOX" => "BOX(x, y, width, height) or BOX(point, width, height)",
            _ => "POLYGON(x1, y1, x2, y2, x3, y3, ...) or POLYGON(point1, point2, point3, ...)",
        };
        let bad = |n: usize| {
            ParseError::new(
                format!("wrong number of arguments for {up}: found {n}"),
                t.span,
            )
            .with_hint(format!(
                "use {usage}, optionally with a coordinate system string first"
            ))
        };
        let total = args.len();
        if has_cs && args.is_empty() {
            return Err(bad(0));
        }
        let coord_sys = if has_cs { Some(args.remove(0)) } else { None };
        let n = args.len();
        let mut it = args.into_iter();
        let mut next = || it.next().unwrap_or(Expr::Literal(Literal::Null));
        let g = match up {
            "POINT" => {
                if n != 2 {
                    return Err(bad(total));
                }
                GeometryFunction::Point {
                    coord_sys,
                    x: next(),
                    y: next(),
                }
            }
            "CIRCLE" => match n {
                3 => GeometryFunction::Circle {
                    coord_sys,
                    center: Position::Coordinates(next(), next()),
                    radius: next(),
                },
                2 if !v20 => {
                    let center = next();
                    if !could_be_point(&center) {
                        return Err(bad(total));
                    }
                    GeometryFunction::Circle {
                        coord_sys,
                        center: Position::Point(center),
                        radius: next(),
                    }
                }
                _ => return Err(bad(total)),
            },
            "BOX" => match n {
                4 => GeometryFunction::Box {
                    coord_sys,
                    center: Position::Coordinates(next(), next()),
                    width: next(),
                    height: next(),
                },
                3 if !v20 => {
                    let center = next();
                    if !could_be_point(&center) {
                        return Err(bad(total));
                    }
                    GeometryFunction::Box {
                        coord_sys,
                        center: Position::Point(center),
                        width: next(),
                        height: next(),
                    }
                }
                _ => return Err(bad(total)),
            },
            _ => {
                let all: Vec<Expr> = (0..n).map(|_| next()).collect();
                let points_ok = !v20 && n >= 3 && all.iter().all(could_be_point);
                let coords_ok = n >= 6 && n.is_multiple_of(2);
                let use_points = points_ok && (!coords_ok || all.iter().any(is_explicit_point));
                let vertices = if use_points {
                    Vertices::Points(all)
                } else if coords_ok {
                    let mut pairs = Vec::with_capacity(n / 2);
                    let mut it = all.into_iter();
                    while let (Some(x), Some(y)) = (it.next(), it.next()) {
                        pairs.push((x, y));
                    }
                    Vertices::Coordinates(pairs)
                } else {
                    return Err(ParseError::new(
                        format!("POLYGON needs at least three vertices, found {total} arguments"),
                        t.span,
                    )
                    .with_hint(format!("use {usage}")));
                };
                GeometryFunction::Polygon {
                    coord_sys,
                    vertices,
                }
            }
        };
        Ok((Expr::Geometry(Box::new(g)), d))
    }
}
