//! ADQL geometry (ADQL 2.1 section 4.2) as PostgreSQL: q3c where a positional index can
//! answer (CONTAINS / INTERSECTS of a point in a circle or polygon, DISTANCE below a radius,
//! crossmatches between tables), and the functions of schema `adql` (schema/004) otherwise.
//! Geometry values are DALI arrays: point {ra, dec}, circle {ra, dec, r}, polygon
//! {ra1, dec1, ...}, all in degrees.

use super::expr::{first_ident, Typed};
use super::types::{ResultColumn, ValueType};
use super::{error, Compiler, Result};
use crate::adql::ast::*;

/// A point as its two coordinates (SQL), and whether they refer to columns.
struct PointParts {
    ra: String,
    dec: String,
    has_columns: bool,
    /// Both coordinates are indexed columns of one source (a q3c index on (ra, dec)).
    indexed: bool,
}

/// The frames ADQL 2.0 queries may name (the argument is deprecated in ADQL 2.1 and our data
/// are ICRS).
fn check_coord_sys(compiler: &mut Compiler, coord_sys: &Option<Expr>) -> Result<()> {
    let Some(expr) = coord_sys else { return Ok(()) };
    match expr {
        Expr::Literal(Literal::Null) => Ok(()),
        Expr::Literal(Literal::String(frame)) => {
            let frame = frame.trim().to_ascii_uppercase();
            let known = ["", "ICRS", "ICRS GEOCENTER", "ICRS TOPOCENTER", "ICRS BARYCENTER", "UNKNOWNFRAME", "J2000", "FK5"];
            if known.iter().any(|k| frame == *k || frame.starts_with(&format!("{k} "))) {
                Ok(())
            } else {
                Err(error(format!("coordinate system '{frame}' is not supported: positions here are ICRS"), None))
            }
        }
        other => {
            compiler.value(other)?;
            Err(error("the coordinate system must be a string literal such as 'ICRS'", first_ident(other)))
        }
    }
}

fn numeric(t: &Typed, what: &str, at: Option<&Ident>) -> Result<()> {
    if t.ty.is_numeric() {
        Ok(())
    } else {
        Err(error(format!("{what} must be a number, not {}", t.ty.describe()), at))
    }
}

impl<'a> Compiler<'a> {
    pub(crate) fn geometry(&mut self, g: &GeometryFunction) -> Result<Typed> {
        match g {
            GeometryFunction::Point { coord_sys, x, y } => {
                check_coord_sys(self, coord_sys)?;
                let px = self.value(x)?;
                let py = self.value(y)?;
                numeric(&px, "the first coordinate of POINT", first_ident(x))?;
                numeric(&py, "the second coordinate of POINT", first_ident(y))?;
                let has = px.has_columns || py.has_columns;
                Ok(Typed::new(format!("adql.point({}, {})", px.sql, py.sql), ValueType::Point).named("point").with_columns(has))
            }
            GeometryFunction::Circle { coord_sys, center, radius } => {
                check_coord_sys(self, coord_sys)?;
                let c = self.position(center)?;
                let r = self.value(radius)?;
                numeric(&r, "the radius of CIRCLE", first_ident(radius))?;
                Ok(Typed::new(format!("adql.circle({}, {}, {})", c.ra, c.dec, r.sql), ValueType::Circle)
                    .named("circle")
                    .with_columns(c.has_columns || r.has_columns))
            }
            GeometryFunction::Box { coord_sys, center, width, height } => {
                check_coord_sys(self, coord_sys)?;
                let c = self.position(center)?;
                let w = self.value(width)?;
                let h = self.value(height)?;
                numeric(&w, "the width of BOX", first_ident(width))?;
                numeric(&h, "the height of BOX", first_ident(height))?;
                Ok(Typed::new(format!("adql.box({}, {}, {}, {})", c.ra, c.dec, w.sql, h.sql), ValueType::Polygon)
                    .named("box")
                    .with_columns(c.has_columns || w.has_columns || h.has_columns))
            }
            GeometryFunction::Polygon { coord_sys, vertices } => {
                check_coord_sys(self, coord_sys)?;
                self.polygon(vertices)
            }
            GeometryFunction::Region(_) => Err(error(
                "REGION is not supported (ADQL 2.1 makes it optional): describe the shape with POINT, CIRCLE, BOX or POLYGON",
                None,
            )),
            GeometryFunction::Centroid(arg) => {
                let t = self.geometry_value(arg, "CENTROID")?;
                Ok(Typed::new(format!("adql.centroid({})", t.sql), ValueType::Point).named("centroid").with_columns(t.has_columns))
            }
            GeometryFunction::Area(arg) => {
                let t = self.geometry_value(arg, "AREA")?;
                let mut meta = ResultColumn::computed("area".into(), ValueType::Double);
                meta.unit = Some("deg**2".into());
                meta.ucd = Some("phys.angArea".into());
                Ok(Typed { meta: Some(meta), ..Typed::new(format!("adql.area({})", t.sql), ValueType::Double).named("area").with_columns(t.has_columns) })
            }
            GeometryFunction::Coord1(arg) | GeometryFunction::Coord2(arg) => {
                let first = matches!(g, GeometryFunction::Coord1(_));
                let name = if first { "coord1" } else { "coord2" };
                let p = self.point_parts(arg)?.ok_or_else(|| error(format!("{} needs a POINT", name.to_uppercase()), first_ident(arg)))?;
                let mut meta = ResultColumn::computed(name.into(), ValueType::Double);
                meta.unit = Some("deg".into());
                meta.ucd = Some(if first { "pos.eq.ra" } else { "pos.eq.dec" }.into());
                let sql = if first { p.ra } else { p.dec };
                Ok(Typed { meta: Some(meta), ..Typed::new(sql, ValueType::Double).named(name).with_columns(p.has_columns) })
            }
            GeometryFunction::CoordSys(arg) => {
                self.geometry_value(arg, "COORDSYS")?;
                Ok(Typed::new("'ICRS'::text".into(), ValueType::String).named("coordsys"))
            }
            GeometryFunction::Contains(a, b) => {
                let sql = match self.q3c_contains(a, b)? {
                    Some(predicate) => format!("({predicate})::integer"),
                    None => self.generic("contains", a, b)?,
                };
                Ok(Typed::new(sql, ValueType::Integer).named("contains").with_columns(true))
            }
            GeometryFunction::Intersects(a, b) => {
                let sql = match self.q3c_intersects(a, b)? {
                    Some(predicate) => format!("({predicate})::integer"),
                    None => self.generic("intersects", a, b)?,
                };
                Ok(Typed::new(sql, ValueType::Integer).named("intersects").with_columns(true))
            }
            GeometryFunction::Distance(args) => {
                let (p, q) = self.distance_points(args)?;
                let mut meta = ResultColumn::computed("distance".into(), ValueType::Double);
                meta.unit = Some("deg".into());
                meta.ucd = Some("pos.angDistance".into());
                let has = p.has_columns || q.has_columns;
                Ok(Typed {
                    meta: Some(meta),
                    ..Typed::new(format!("q3c_dist({}, {}, {}, {})", p.ra, p.dec, q.ra, q.dec), ValueType::Double).named("distance").with_columns(has)
                })
            }
        }
    }

    fn geometry_value(&mut self, expr: &Expr, function: &str) -> Result<Typed> {
        let t = self.value(expr)?;
        if matches!(t.ty, ValueType::Point | ValueType::Circle | ValueType::Polygon | ValueType::Null) {
            Ok(t)
        } else {
            Err(error(format!("{function} needs a geometry (POINT, CIRCLE, BOX or POLYGON), not {}", t.ty.describe()), first_ident(expr)))
        }
    }

    fn generic(&mut self, function: &str, a: &Expr, b: &Expr) -> Result<String> {
        let name = function.to_uppercase();
        let ta = self.geometry_value(a, &name)?;
        let tb = self.geometry_value(b, &name)?;
        Ok(format!("adql.{function}({}, {})", ta.sql, tb.sql))
    }

    fn polygon(&mut self, vertices: &Vertices) -> Result<Typed> {
        let mut coords = Vec::new();
        let mut has_columns = false;
        // Coordinate pairs that are in fact points (POLYGON(p1, p2, p3, ...) written with
        // point-valued columns parses as pairs): reinterpret by type.
        let exprs: Vec<&Expr> = match vertices {
            Vertices::Coordinates(pairs) => pairs.iter().flat_map(|(a, b)| [a, b]).collect(),
            Vertices::Points(points) => points.iter().collect(),
        };
        let typed: Vec<Typed> = exprs.iter().map(|e| self.value(e)).collect::<Result<_>>()?;
        let all_points = typed.iter().all(|t| t.ty == ValueType::Point);
        if all_points {
            if typed.len() < 3 {
                return Err(error("a POLYGON needs at least three vertices", None));
            }
            for (expr, t) in exprs.iter().zip(&typed) {
                has_columns |= t.has_columns;
                match self.point_parts(expr)? {
                    Some(p) => {
                        coords.push(p.ra);
                        coords.push(p.dec);
                    }
                    None => coords.push(format!("({})[1], ({})[2]", t.sql, t.sql)),
                }
            }
        } else {
            if typed.len() < 6 || typed.len() % 2 != 0 {
                return Err(error("a POLYGON needs at least three vertices, each two coordinates or a POINT", None));
            }
            for (expr, t) in exprs.iter().zip(&typed) {
                numeric(t, "a POLYGON coordinate", first_ident(expr))?;
                has_columns |= t.has_columns;
                coords.push(t.sql.clone());
            }
        }
        Ok(Typed::new(format!("adql.polygon({})", coords.join(", ")), ValueType::Polygon).named("polygon").with_columns(has_columns))
    }

    /// A CIRCLE / BOX centre: two coordinates or a point.
    fn position(&mut self, position: &Position) -> Result<PointParts> {
        match position {
            Position::Coordinates(x, y) => {
                let px = self.value(x)?;
                let py = self.value(y)?;
                numeric(&px, "a centre coordinate", first_ident(x))?;
                numeric(&py, "a centre coordinate", first_ident(y))?;
                Ok(PointParts { indexed: false, has_columns: px.has_columns || py.has_columns, ra: px.sql, dec: py.sql })
            }
            Position::Point(expr) => self
                .point_parts(expr)?
                .ok_or_else(|| error("the centre must be a POINT or two coordinates", first_ident(expr))),
        }
    }

    /// The coordinates of a point-valued expression (a POINT(...) or a point column), or
    /// None when the expression is not a point.
    fn point_parts(&mut self, expr: &Expr) -> Result<Option<PointParts>> {
        if let Expr::Geometry(g) = expr {
            if let GeometryFunction::Point { coord_sys, x, y } = g.as_ref() {
                check_coord_sys(self, coord_sys)?;
                let px = self.value(x)?;
                let py = self.value(y)?;
                numeric(&px, "the first coordinate of POINT", first_ident(x))?;
                numeric(&py, "the second coordinate of POINT", first_ident(y))?;
                let indexed = is_indexed_pair(x, y, &px, &py);
                return Ok(Some(PointParts { has_columns: px.has_columns || py.has_columns, ra: px.sql, dec: py.sql, indexed }));
            }
        }
        let t = self.value(expr)?;
        match t.ty {
            ValueType::Point => Ok(Some(PointParts {
                ra: format!("({})[1]", t.sql),
                dec: format!("({})[2]", t.sql),
                has_columns: t.has_columns,
                indexed: false,
            })),
            ValueType::Null => Ok(Some(PointParts { ra: "NULL::double precision".into(), dec: "NULL::double precision".into(), has_columns: false, indexed: false })),
            _ => Ok(None),
        }
    }

    fn distance_points(&mut self, args: &DistanceArgs) -> Result<(PointParts, PointParts)> {
        match args {
            DistanceArgs::Points(a, b) => {
                let p = self.point_parts(a)?.ok_or_else(|| error("DISTANCE needs two POINTs (or four coordinates)", first_ident(a)))?;
                let q = self.point_parts(b)?.ok_or_else(|| error("DISTANCE needs two POINTs (or four coordinates)", first_ident(b)))?;
                Ok((p, q))
            }
            DistanceArgs::Coordinates(a, b, c, d) => {
                let ta = self.value(a)?;
                let tb = self.value(b)?;
                let tc = self.value(c)?;
                let td = self.value(d)?;
                for (t, e) in [(&ta, a), (&tb, b), (&tc, c), (&td, d)] {
                    numeric(t, "a DISTANCE coordinate", first_ident(e))?;
                }
                Ok((
                    PointParts { indexed: is_indexed_pair(a, b, &ta, &tb), has_columns: ta.has_columns || tb.has_columns, ra: ta.sql, dec: tb.sql },
                    PointParts { indexed: is_indexed_pair(c, d, &tc, &td), has_columns: tc.has_columns || td.has_columns, ra: tc.sql, dec: td.sql },
                ))
            }
        }
    }

    /// CONTAINS(point, circle | polygon | box) as a q3c predicate, when it has that shape.
    fn q3c_contains(&mut self, a: &Expr, b: &Expr) -> Result<Option<String>> {
        let Some(point) = self.point_literal_or_column(a)? else { return Ok(None) };
        let Expr::Geometry(shape) = b else { return Ok(None) };
        match shape.as_ref() {
            GeometryFunction::Circle { coord_sys, center, radius } => {
                check_coord_sys(self, coord_sys)?;
                let c = self.position(center)?;
                let r = self.value(radius)?;
                numeric(&r, "the radius of CIRCLE", first_ident(radius))?;
                Ok(Some(within(&point, &c, &r.sql)))
            }
            GeometryFunction::Polygon { .. } | GeometryFunction::Box { .. } => {
                let polygon = self.geometry(shape)?;
                if polygon.has_columns {
                    // q3c_poly_query needs a constant polygon to use the index.
                    return Ok(None);
                }
                Ok(Some(format!("q3c_poly_query({}, {}, {})", point.ra, point.dec, polygon.sql)))
            }
            _ => Ok(None),
        }
    }

    /// INTERSECTS with a point on either side is CONTAINS of the point (ADQL 2.1 4.2.12).
    fn q3c_intersects(&mut self, a: &Expr, b: &Expr) -> Result<Option<String>> {
        if is_point_expression(a) {
            return self.q3c_contains(a, b);
        }
        if is_point_expression(b) {
            return self.q3c_contains(b, a);
        }
        Ok(None)
    }

    /// Only POINT(...) constructors qualify: the point must be given as coordinates for q3c.
    fn point_literal_or_column(&mut self, expr: &Expr) -> Result<Option<PointParts>> {
        if is_point_expression(expr) { self.point_parts(expr) } else { Ok(None) }
    }

    /// Conditions on geometric functions that q3c can answer with its index:
    /// `CONTAINS(...) = 1` (or 0), `INTERSECTS(...) = 1`, `DISTANCE(p, q) < r` (and mirrored).
    pub(crate) fn geometric_predicate(&mut self, op: CompareOp, left: &Expr, right: &Expr) -> Result<Option<String>> {
        // Put the geometric function on the left.
        let (function, other, op) = match (left, right) {
            (Expr::Geometry(_), _) => (left, right, op),
            (_, Expr::Geometry(_)) => (right, left, mirror(op)),
            _ => return Ok(None),
        };
        let Expr::Geometry(g) = function else { return Ok(None) };
        match g.as_ref() {
            GeometryFunction::Contains(a, b) | GeometryFunction::Intersects(a, b) => {
                let truth = match (other, op) {
                    (Expr::Literal(Literal::Number { text, kind: NumberKind::Integer }), CompareOp::Eq) => text.parse::<u64>().ok(),
                    (Expr::Literal(Literal::Number { text, kind: NumberKind::Integer }), CompareOp::NotEq) => {
                        text.parse::<u64>().ok().map(|v| u64::from(v == 0))
                    }
                    _ => None,
                };
                let Some(truth @ (0 | 1)) = truth else { return Ok(None) };
                let predicate = if matches!(g.as_ref(), GeometryFunction::Contains(..)) {
                    self.q3c_contains(a, b)?
                } else {
                    self.q3c_intersects(a, b)?
                };
                let predicate = match predicate {
                    Some(p) => p,
                    None => {
                        let function = if matches!(g.as_ref(), GeometryFunction::Contains(..)) { "contains" } else { "intersects" };
                        format!("{} = 1", self.generic(function, a, b)?)
                    }
                };
                Ok(Some(if truth == 1 { format!("({predicate})") } else { format!("(NOT ({predicate}))") }))
            }
            GeometryFunction::Distance(args) if matches!(op, CompareOp::Lt | CompareOp::LtEq) => {
                let (p, q) = self.distance_points(args)?;
                let r = self.value(other)?;
                numeric(&r, "the distance limit", first_ident(other))?;
                let exact = format!("q3c_dist({}, {}, {}, {}) {} {}", p.ra, p.dec, q.ra, q.dec, super::expr::compare_operator(op), r.sql);
                let radius = PointParts { ra: q.ra.clone(), dec: q.dec.clone(), has_columns: q.has_columns, indexed: q.indexed };
                Ok(Some(format!("({} AND {exact})", within(&p, &radius, &r.sql))))
            }
            _ => Ok(None),
        }
    }
}

/// `p` lies within `radius` degrees of `c`, as the q3c call that lets an index answer: a
/// radial query around a constant centre, or a join whose second pair is the indexed one.
fn within(p: &PointParts, c: &PointParts, radius: &str) -> String {
    match (p.has_columns, c.has_columns) {
        (true, true) => {
            // q3c_join(ra1, dec1, ra2, dec2, r) uses the index on (ra2, dec2).
            let (outer, inner) = if c.indexed && !p.indexed { (p, c) } else { (c, p) };
            format!("q3c_join({}, {}, {}, {}, {radius})", outer.ra, outer.dec, inner.ra, inner.dec)
        }
        (false, true) => format!("q3c_radial_query({}, {}, {}, {}, {radius})", c.ra, c.dec, p.ra, p.dec),
        _ => format!("q3c_radial_query({}, {}, {}, {}, {radius})", p.ra, p.dec, c.ra, c.dec),
    }
}

fn is_point_expression(expr: &Expr) -> bool {
    matches!(expr, Expr::Geometry(g) if matches!(g.as_ref(), GeometryFunction::Point { .. }))
}

/// Are x and y two indexed columns of the same table (a q3c index on (x, y))?
fn is_indexed_pair(x: &Expr, y: &Expr, tx: &Typed, ty: &Typed) -> bool {
    let (Expr::Column(cx), Expr::Column(cy)) = (x, y) else { return false };
    let same_qualifier = cx.qualifier == cy.qualifier;
    let indexed = |t: &Typed| t.meta.as_ref().is_some_and(|m| m.indexed);
    // The sources' SQL qualifiers must agree too (both columns of one FROM item).
    let prefix = |t: &Typed| t.sql.rsplit_once('.').map(|(q, _)| q.to_string());
    same_qualifier && indexed(tx) && indexed(ty) && prefix(tx) == prefix(ty)
}

fn mirror(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::GtEq => CompareOp::LtEq,
        other => other,
    }
}
