//! Unit tests: tree shapes, precedence, positions, versions, errors and
//! resource limits.

use crate::adql::*;

fn ok(q: &str) -> Query {
    match parse(q, Version::V2_1) {
        Ok(q) => q,
        Err(e) => panic!("{q}\n{e}"),
    }
}

fn err(q: &str) -> ParseError {
    match parse(q, Version::V2_1) {
        Ok(a) => panic!("expected an error for {q}, got {a}"),
        Err(e) => e,
    }
}

fn expr(s: &str) -> Expr {
    match parse_expression(s, Version::V2_1) {
        Ok(e) => e,
        Err(e) => panic!("{s}\n{e}"),
    }
}

fn select(q: &Query) -> &Select {
    match &q.body {
        SetExpr::Select(s) => s,
        other => panic!("not a select: {other:?}"),
    }
}

fn col(name: &str) -> Expr {
    Expr::column(&[name])
}

fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}

#[test]
fn smoke() {
    let q = ok("SELECT TOP 10 ra, dec FROM t WHERE mag < 12");
    assert_eq!(q.to_string(), "SELECT TOP 10 ra, dec FROM t WHERE mag < 12");
}

#[test]
fn arithmetic_precedence() {
    assert_eq!(
        expr("a + b * c"),
        bin(
            BinaryOp::Add,
            col("a"),
            bin(BinaryOp::Mul, col("b"), col("c"))
        )
    );
    assert_eq!(
        expr("a - b - c"),
        bin(
            BinaryOp::Sub,
            bin(BinaryOp::Sub, col("a"), col("b")),
            col("c")
        )
    );
    assert_eq!(
        expr("a || b + c"),
        bin(
            BinaryOp::Concat,
            col("a"),
            bin(BinaryOp::Add, col("b"), col("c"))
        )
    );
    assert_eq!(
        expr("a | b & c"),
        bin(
            BinaryOp::BitOr,
            col("a"),
            bin(BinaryOp::BitAnd, col("b"), col("c"))
        )
    );
    assert_eq!(
        expr("a ^ b | c"),
        bin(
            BinaryOp::BitOr,
            bin(BinaryOp::BitXor, col("a"), col("b")),
            col("c")
        )
    );
    assert_eq!(
        expr("a & b + c"),
        bin(
            BinaryOp::BitAnd,
            col("a"),
            bin(BinaryOp::Add, col("b"), col("c"))
        )
    );
    let neg_a = Expr::Unary {
        op: UnaryOp::Minus,
        expr: Box::new(col("a")),
    };
    assert_eq!(expr("-a * b"), bin(BinaryOp::Mul, neg_a, col("b")));
    assert_eq!(expr("(a + b) * c").to_string(), "(a + b) * c");
    assert_eq!(expr("a - (b - c)").to_string(), "a - (b - c)");
    assert_eq!(expr("-(-a)").to_string(), "-(-a)");
}

#[test]
fn condition_precedence() {
    let e = expr("a = 1 OR b = 2 AND NOT c = 3");
    let Expr::Or(_, r) = &e else { panic!("{e:?}") };
    let Expr::And(_, r2) = &**r else {
        panic!("{r:?}")
    };
    assert!(matches!(**r2, Expr::Not(_)));
    assert_eq!(
        expr("(a = 1 OR b = 2) AND c = 3").to_string(),
        "(a = 1 OR b = 2) AND c = 3"
    );
    assert_eq!(
        expr("NOT (a = 1 AND b = 2)").to_string(),
        "NOT (a = 1 AND b = 2)"
    );
    assert_eq!(
        expr("a BETWEEN 1 AND 2 AND b = 3").to_string(),
        "a BETWEEN 1 AND 2 AND b = 3"
    );
}

#[test]
fn set_operation_precedence() {
    let q = ok("SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM v");
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        right,
        ..
    } = &q.body
    else {
        panic!()
    };
    assert!(matches!(
        **right,
        SetExpr::SetOperation {
            op: SetOperator::Intersect,
            ..
        }
    ));
    let q = ok("SELECT a FROM t INTERSECT SELECT a FROM u UNION ALL SELECT a FROM v");
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        all: true,
        left,
        ..
    } = &q.body
    else {
        panic!()
    };
    assert!(matches!(
        **left,
        SetExpr::SetOperation {
            op: SetOperator::Intersect,
            ..
        }
    ));
    let q = ok("SELECT a FROM t EXCEPT SELECT a FROM u UNION SELECT a FROM v ORDER BY 1 OFFSET 3");
    let SetExpr::SetOperation {
        op: SetOperator::Union,
        left,
        ..
    } = &q.body
    else {
        panic!()
    };
    assert!(matches!(
        **left,
        SetExpr::SetOperation {
            op: SetOperator::Except,
            ..
        }
    ));
    assert_eq!(q.order_by.len(), 1);
    assert_eq!(q.offset, Some(3));
    let q = ok("SELECT a FROM t UNION (SELECT a FROM u UNION SELECT a FROM v)");
    assert_eq!(
        q.to_string(),
        "SELECT a FROM t UNION (SELECT a FROM u UNION SELECT a FROM v)"
    );
    let q = ok("(SELECT a FROM t ORDER BY a) UNION SELECT b FROM u");
    let SetExpr::SetOperation { left, .. } = &q.body else {
        panic!()
    };
    assert!(matches!(**left, SetExpr::Query(_)));
}

#[test]
fn select_clauses() {
    let q = ok(
        "SELECT DISTINCT TOP 5 s.ra AS r, t.* FROM cat.sch.stars AS s, t \
                WHERE s.mag < 3 GROUP BY s.ra HAVING COUNT(*) > 1 ORDER BY r DESC, 2 OFFSET 10",
    );
    let s = select(&q);
    assert_eq!(s.quantifier, Some(SetQuantifier::Distinct));
    assert_eq!(s.top, Some(5));
    assert_eq!(s.projection.len(), 2);
    assert!(matches!(&s.projection[1], SelectItem::QualifiedWildcard(t) if t.0.len() == 1));
    let TableRef::Table { name, alias } = &s.from[0] else {
        panic!()
    };
    assert_eq!(name.0.len(), 3);
    assert_eq!(alias.as_ref().map(|a| a.value.as_str()), Some("s"));
    assert!(s.selection.is_some() && s.having.is_some());
    assert_eq!(s.group_by.len(), 1);
    assert_eq!(q.order_by[0].direction, Some(SortDirection::Desc));
    assert_eq!(q.order_by[1].expr, Expr::int(2));
    assert_eq!(q.offset, Some(10));
}

#[test]
fn joins() {
    let q = ok(
        "SELECT * FROM a NATURAL LEFT JOIN b JOIN c USING (x, y) RIGHT OUTER JOIN d ON d.x = c.x",
    );
    let TableRef::Join(j) = &select(&q).from[0] else {
        panic!()
    };
    assert_eq!(j.kind, JoinKind::RightOuter);
    assert!(matches!(j.constraint, JoinConstraint::On(_)));
    let TableRef::Join(j2) = &j.left else {
        panic!()
    };
    assert!(matches!(&j2.constraint, JoinConstraint::Using(c) if c.len() == 2));
    let TableRef::Join(j3) = &j2.left else {
        panic!()
    };
    assert_eq!(j3.kind, JoinKind::LeftOuter);
    assert_eq!(j3.constraint, JoinConstraint::Natural);
    let q = ok("SELECT * FROM a JOIN (b JOIN c ON b.x = c.x) ON a.x = b.x");
    assert_eq!(
        q.to_string(),
        "SELECT * FROM a INNER JOIN (b INNER JOIN c ON b.x = c.x) ON a.x = b.x"
    );
    let q = ok("SELECT * FROM (SELECT x FROM t) q");
    assert!(matches!(&select(&q).from[0], TableRef::Derived { alias, .. } if alias.value == "q"));
}

#[test]
fn identifiers_case_and_delimiters() {
    let q = ok("SELECT \"Mixed \"\"Case\"\"\", MixedCase FROM t");
    let s = select(&q);
    let SelectItem::Expr {
        expr: Expr::Column(c),
        ..
    } = &s.projection[0]
    else {
        panic!()
    };
    assert_eq!(c.column.value, "Mixed \"Case\"");
    assert!(c.column.delimited);
    let SelectItem::Expr {
        expr: Expr::Column(c2),
        ..
    } = &s.projection[1]
    else {
        panic!()
    };
    assert_eq!(c2.column.value, "MixedCase");
    assert!(!c2.column.delimited);
    assert!(Ident::new("alpha").matches(&Ident::new("ALPHA")));
    assert!(!Ident::delimited("alpha").matches(&Ident::delimited("Alpha")));
    assert_eq!(
        q.to_string(),
        "SELECT \"Mixed \"\"Case\"\"\", MixedCase FROM t"
    );
}

#[test]
fn spans_are_recorded_but_not_compared() {
    let q = ok("SELECT a,\n  bb FROM t");
    let SelectItem::Expr {
        expr: Expr::Column(c),
        ..
    } = &select(&q).projection[1]
    else {
        panic!()
    };
    assert_eq!(
        (
            c.column.span.line,
            c.column.span.column,
            c.column.span.start
        ),
        (2, 3, 12)
    );
    assert_eq!(c.column.span.end, 14);
    let other = ok("SELECT a, bb FROM t");
    assert_eq!(q, other);
}

#[test]
fn literals() {
    let q = ok("SELECT 'it''s', 'abc'\n  -- comment\n  'def', 1, 1.5, .5, 2E-3, 0x1F, NULL FROM t");
    let items: Vec<&Expr> = select(&q)
        .projection
        .iter()
        .map(|i| match i {
            SelectItem::Expr { expr, .. } => expr,
            _ => panic!(),
        })
        .collect();
    assert_eq!(items[0], &Expr::string("it's"));
    assert_eq!(items[1], &Expr::string("abcdef"));
    let kinds: Vec<NumberKind> = items[2..7]
        .iter()
        .map(|e| match e {
            Expr::Literal(Literal::Number { kind, .. }) => *kind,
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            NumberKind::Integer,
            NumberKind::Decimal,
            NumberKind::Decimal,
            NumberKind::Float,
            NumberKind::Hex
        ]
    );
    assert_eq!(items[7], &Expr::Literal(Literal::Null));
    assert_eq!(
        q.to_string(),
        "SELECT 'it''s', 'abcdef', 1, 1.5, .5, 2E-3, 0x1F, NULL FROM t"
    );
}

#[test]
fn tokens_carry_positions() {
    let toks = tokenize("SELECT\n  a <> 'x'").unwrap();
    assert_eq!(toks[1].kind, TokenKind::Word("a".into()));
    assert_eq!(
        (toks[1].span.line, toks[1].span.column, toks[1].span.start),
        (2, 3, 9)
    );
    assert_eq!(toks[2].kind, TokenKind::NotEq);
    assert_eq!(toks[3].kind, TokenKind::String("x".into()));
    assert_eq!(toks[4].kind, TokenKind::Eof);
}

#[test]
fn geometry_forms() {
    let g = |s: &str| match expr(s) {
        Expr::Geometry(g) => *g,
        other => panic!("{other:?}"),
    };
    assert!(matches!(
        g("CIRCLE(POINT(1, 2), 3)"),
        GeometryFunction::Circle {
            coord_sys: None,
            center: Position::Point(_),
            ..
        }
    ));
    assert!(matches!(
        g("CIRCLE(1, 2, 3)"),
        GeometryFunction::Circle {
            coord_sys: None,
            center: Position::Coordinates(..),
            ..
        }
    ));
    assert!(matches!(
        g("CIRCLE('ICRS', 1, 2, 3)"),
        GeometryFunction::Circle {
            coord_sys: Some(_),
            center: Position::Coordinates(..),
            ..
        }
    ));
    assert!(matches!(
        g("CIRCLE('ICRS', p, 3)"),
        GeometryFunction::Circle {
            coord_sys: Some(_),
            center: Position::Point(_),
            ..
        }
    ));
    assert!(matches!(
        g("BOX(p, 1, 2)"),
        GeometryFunction::Box {
            center: Position::Point(_),
            ..
        }
    ));
    assert!(
        matches!(g("POLYGON(a, b, c)"), GeometryFunction::Polygon { vertices: Vertices::Points(v), .. } if v.len() == 3)
    );
    assert!(
        matches!(g("POLYGON(1, 2, 3, 4, 5, 6)"), GeometryFunction::Polygon { vertices: Vertices::Coordinates(v), .. } if v.len() == 3)
    );
    assert!(
        matches!(g("POLYGON(NULL, 1, 2, 3, 4, 5, 6, 7, 8)"), GeometryFunction::Polygon { coord_sys: Some(_), vertices: Vertices::Coordinates(v) } if v.len() == 4)
    );
    assert!(matches!(
        g("DISTANCE(1, 2, 3, 4)"),
        GeometryFunction::Distance(DistanceArgs::Coordinates(..))
    ));
    assert!(matches!(
        g("DISTANCE(p, q)"),
        GeometryFunction::Distance(DistanceArgs::Points(..))
    ));
    assert_eq!(
        g("REGION('Circle ICRS 1 2 3')"),
        GeometryFunction::Region("Circle ICRS 1 2 3".into())
    );
    let q = parse("SELECT POINT('ICRS', ra, dec) FROM t", Version::V2_0).unwrap();
    assert_eq!(q.to_string(), "SELECT POINT('ICRS', ra, dec) FROM t");
}

#[test]
fn functions_are_classified() {
    let Expr::Function(f) = expr("log10(x)") else {
        panic!()
    };
    assert_eq!(f.func, Function::Log10);
    let Expr::Function(f) = expr("ivo_healpix_index(6, ra, dec)") else {
        panic!()
    };
    assert!(matches!(&f.func, Function::UserDefined(id) if id.value == "ivo_healpix_index"));
    assert_eq!(f.args.len(), 3);
    let Expr::Aggregate(a) = expr("COUNT(DISTINCT x)") else {
        panic!()
    };
    assert_eq!(
        (a.func, a.quantifier),
        (AggregateFunction::Count, Some(SetQuantifier::Distinct))
    );
    let Expr::Cast { target, .. } = expr("CAST(x AS double precision)") else {
        panic!()
    };
    assert_eq!(target, CastType::DoublePrecision);
    assert_eq!(
        expr("cast(x as varchar(10))").to_string(),
        "CAST(x AS VARCHAR(10))"
    );
    assert_eq!(suggest_function("SQTR"), Some("SQRT"));
    assert_eq!(suggest_function("ivo_hasword"), None);
}

#[test]
fn version_differences() {
    for q in [
        "SELECT a FROM t OFFSET 1",
        "SELECT a FROM t WHERE a ILIKE 'x'",
        "SELECT 0x1 FROM t",
        "SELECT a & 1 FROM t",
        "WITH x AS (SELECT a FROM t) SELECT a FROM x",
        "SELECT CAST(a AS REAL) FROM t",
        "SELECT COALESCE(a, 1) FROM t",
        "SELECT a FROM t UNION SELECT a FROM u",
    ] {
        assert!(parse(q, Version::V2_1).is_ok(), "{q}");
        let e = parse(q, Version::V2_0).unwrap_err();
        assert!(e.message.contains("ADQL 2.1"), "{q}: {e}");
    }
    assert!(parse("SELECT offset FROM t", Version::V2_0).is_ok());
    assert!(parse("SELECT offset FROM t", Version::V2_1).is_err());
    assert_eq!(Version::default(), Version::V2_1);
    assert_eq!(Version::from_lang("ADQL-2.0"), Some(Version::V2_0));
    assert_eq!(Version::from_lang("adql"), Some(Version::V2_1));
}

#[test]
fn error_messages_point_at_the_problem() {
    let e = err("SELECT * FORM t");
    assert_eq!((e.line, e.column, e.offset), (1, 10, 9));
    assert_eq!(
        e.to_string(),
        "expected FROM after the select list, found 'FORM' at line 1, column 10; did you mean FROM?"
    );
    let e = err("SELECT a\nFROM t\nWHERE b = = 1");
    assert_eq!((e.line, e.column), (3, 11));
    let e = err("SELECT distance FROM t");
    assert!(e.to_string().contains("reserved word"), "{e}");
    assert!(
        e.hint
            .as_deref()
            .is_some_and(|h| h.contains("\"distance\"")),
        "{e}"
    );
    let e = err("SELECT a FROM t WHERE (a = 1");
    assert!(
        e.message.contains("to close the '(' at line 1, column 23"),
        "{e}"
    );
    let e = err("SELECT a FROM t ORDER BY a WHERE a = 1");
    assert!(e.message.contains("unexpected WHERE"), "{e}");
}

fn nested_parens(n: usize) -> String {
    format!("SELECT {}1{} FROM t", "(".repeat(n), ")".repeat(n))
}

/// Runs `f` on a thread with a 2 MiB stack (like test and server worker
/// threads) to show that the depth limit keeps recursion safe.
fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn nesting_is_limited_without_overflow() {
    on_small_stack(|| {
        let near = parser::MAX_DEPTH - 10;
        let q = parse(&nested_parens(near), Version::V2_1).unwrap();
        let _ = q.to_string();
        let e = parse(&nested_parens(100_000), Version::V2_1).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        let funcs = format!("SELECT {}x{} FROM t", "ABS(".repeat(near), ")".repeat(near));
        let q = parse(&funcs, Version::V2_1).unwrap();
        assert_eq!(parse(&q.to_string(), Version::V2_1).unwrap(), q);
        let funcs = format!("SELECT {}x{} FROM t", "ABS(".repeat(5000), ")".repeat(5000));
        assert!(parse(&funcs, Version::V2_1).is_err());
        let mut sub = String::from("SELECT a FROM t");
        for _ in 0..(near / 4) {
            sub = format!("SELECT a FROM t WHERE a IN ({sub})");
        }
        let q = parse(&sub, Version::V2_1).unwrap();
        let _ = format!("{q:?}{q}");
        let mut sub = String::from("SELECT a FROM t");
        for _ in 0..3000 {
            sub = format!("SELECT * FROM ({sub}) AS q");
        }
        assert!(parse(&sub, Version::V2_1).is_err());
        let signs = format!("SELECT {}1 FROM t", "-(".repeat(3000));
        assert!(parse(&signs, Version::V2_1).is_err());
    });
}

#[test]
fn long_operator_chains_are_limited() {
    on_small_stack(|| {
        let chain =
            |n: usize, op: &str| format!("SELECT a FROM t WHERE {}", vec!["a = 1"; n].join(op));
        let q = parse(&chain(parser::MAX_DEPTH - 10, " AND "), Version::V2_1).unwrap();
        let q2 = q.clone();
        assert_eq!(q, q2);
        let _ = format!("{q:?}{q}");
        let e = parse(&chain(50_000, " OR "), Version::V2_1).unwrap_err();
        assert!(e.message.contains("nested too deeply"), "{e}");
        let sum = format!("SELECT {} FROM t", vec!["1"; 50_000].join("+"));
        assert!(parse(&sum, Version::V2_1).is_err());
        let unions = vec!["SELECT a FROM t"; 50_000].join(" UNION ");
        assert!(parse(&unions, Version::V2_1).is_err());
        let joins = format!("SELECT * FROM t0{}", " JOIN t USING (a)".repeat(50_000));
        assert!(parse(&joins, Version::V2_1).is_err());
    });
}

#[test]
fn wide_queries_are_fine_and_linear() {
    let cols: Vec<String> = (0..20_000).map(|i| format!("c{i}")).collect();
    let q = format!(
        "SELECT {} FROM t WHERE a IN ({})",
        cols.join(", "),
        cols.join(", ")
    );
    let start = std::time::Instant::now();
    let ast = parse(&q, Version::V2_1).unwrap();
    assert_eq!(select(&ast).projection.len(), 20_000);
    assert!(start.elapsed().as_secs() < 5);
}

#[test]
fn never_panics_on_prefixes_of_valid_queries() {
    let q = "WITH w AS (SELECT a FROM t) SELECT DISTINCT TOP 5 s.ra AS r, COUNT(*), \
             CAST(x AS VARCHAR(3)) FROM w AS s JOIN (SELECT b FROM u) q ON s.a = q.b \
             WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE(1, 2, .5)) AND c IN (1, 2) \
             AND d LIKE 'x''y' AND e IS NOT NULL GROUP BY s.ra HAVING SUM(x) > 0x1F \
             UNION SELECT a FROM v ORDER BY 1 DESC OFFSET 2";
    assert!(parse(q, Version::V2_1).is_ok());
    for (i, _) in q.char_indices() {
        let _ = parse(&q[..i], Version::V2_1);
        let _ = parse(&q[i..], Version::V2_1);
    }
}

/// Parse time of a typical cone search with a join (printed; run with
/// `--nocapture` to see it).
#[test]
fn cone_search_parse_time() {
    let q = "SELECT TOP 100 s.id, s.ra, s.dec, p.plate_id, p.epoch, \
             DISTANCE(POINT('ICRS', s.ra, s.dec), POINT('ICRS', 10.684, 41.269)) AS dist \
             FROM dfbs.sources AS s JOIN dfbs.plates AS p ON s.plate_id = p.plate_id \
             WHERE 1 = CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', 10.684, 41.269, 0.5)) \
             AND p.quality >= 2 AND s.mag BETWEEN 10 AND 17.5 \
             ORDER BY dist ASC";
    let n = 2000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let q = parse(q, Version::V2_1).unwrap();
        std::hint::black_box(q);
    }
    let per = start.elapsed() / n;
    println!(
        "cone search with join: {per:?} per parse ({} bytes)",
        q.len()
    );
}
