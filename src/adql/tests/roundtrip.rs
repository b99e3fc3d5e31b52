//! Property tests: random syntax trees (bounded depth) are printed and
//! re-parsed, and must come back unchanged; printing is a fixed point.

use proptest::prelude::*;

use crate::adql::*;

const NAMES: &[&str] = &[
    "a",
    "ra",
    "dec",
    "Mag",
    "t1",
    "x_2",
    "flux",
    "obs_id",
    "MixedCase",
];
const UDFS: &[&str] = &["ivo_hasword", "gavo_f", "my_udf"];

fn ident() -> impl Strategy<Value = Ident> {
    prop_oneof![
        4 => prop::sample::select(NAMES).prop_map(Ident::new),
        1 => "[a-zA-Z0-9 _.\"'-]{1,6}".prop_map(Ident::delimited),
    ]
}

fn column() -> impl Strategy<Value = Expr> {
    (prop::collection::vec(ident(), 0..=3), ident())
        .prop_map(|(qualifier, column)| Expr::Column(ColumnRef { qualifier, column }))
}

fn number() -> impl Strategy<Value = Expr> {
    let lit = |text: String, kind| Expr::Literal(Literal::Number { text, kind });
    prop_oneof![
        any::<u32>().prop_map(move |n| lit(n.to_string(), NumberKind::Integer)),
        (any::<u16>(), any::<u16>())
            .prop_map(move |(a, b)| lit(format!("{a}.{b}"), NumberKind::Decimal)),
        any::<u16>().prop_map(move |b| lit(format!(".{b}"), NumberKind::Decimal)),
        (any::<u16>(), -30i8..30)
            .prop_map(move |(a, e)| lit(format!("{a}E{e}"), NumberKind::Float)),
        any::<u32>().prop_map(move |n| lit(format!("0x{n:X}"), NumberKind::Hex)),
    ]
}

fn string() -> impl Strategy<Value = Expr> {
    "[a-z' \n%_-]{0,6}".prop_map(Expr::string)
}

/// A value leaf that is never a string literal or NULL (safe as the first
/// argument of a geometry constructor, where those mean a coordinate system).
fn numeric_leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![column(), number()]
}

fn leaf() -> impl Strategy<Value = Expr> {
    prop_oneof![4 => column(), 3 => number(), 2 => string(), 1 => Just(Expr::Literal(Literal::Null))]
}

fn coord_sys() -> impl Strategy<Value = Option<Expr>> {
    prop::option::of(prop_oneof![
        "[A-Z]{0,4}".prop_map(Expr::string),
        Just(Expr::Literal(Literal::Null))
    ])
}

fn point(v: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    (coord_sys(), numeric_leaf(), v).prop_map(|(coord_sys, x, y)| {
        Expr::Geometry(Box::new(GeometryFunction::Point { coord_sys, x, y }))
    })
}

/// Geometry calls in the forms the grammar can tell apart: the optional
/// coordinate system is a string literal or NULL (ADQL 2.1), and polygon
/// coordinates are plain numbers/columns (a coordinate list made only of
/// point-like values would be read as points; see `parser::functions`).
fn geometry(v: BoxedStrategy<Expr>) -> impl Strategy<Value = Expr> {
    let g = |g: GeometryFunction| Expr::Geometry(Box::new(g));
    let position = prop_oneof![
        (numeric_leaf(), v.clone()).prop_map(|(x, y)| Position::Coordinates(x, y)),
        point(v.clone()).prop_map(Position::Point),
        column().prop_map(Position::Point),
    ];
    prop_oneof![
        point(v.clone()),
        (coord_sys(), position.clone(), v.clone()).prop_map(move |(coord_sys, center, radius)| g(
            GeometryFunction::Circle {
                coord_sys,
                center,
                radius
            }
        )),
        (coord_sys(), position, v.clone(), v.clone()).prop_map(
            move |(coord_sys, center, width, height)| g(GeometryFunction::Box {
                coord_sys,
                center,
                width,
                height
            })
        ),
        (
            coord_sys(),
            prop::collection::vec((numeric_leaf(), numeric_leaf()), 3..5)
        )
            .prop_map(move |(coord_sys, p)| g(GeometryFunction::Polygon {
                coord_sys,
                vertices: Vertices::Coordinates(p)
            })),
        (coord_sys(), prop::collection::vec(point(v.clone()), 3..5)).prop_map(
            move |(coord_sys, p)| g(GeometryFunction::Polygon {
                coord_sys,
                vertices: Vertices::Points(p)
            })
        ),
        "[A-Za-z0-9 ']{0,12}".prop_map(move |s| g(GeometryFunction::Region(s))),
        v.clone()
            .prop_map(move |e| g(GeometryFunction::Centroid(e))),
        v.clone().prop_map(move |e| g(GeometryFunction::Area(e))),
        v.clone().prop_map(move |e| g(GeometryFunction::Coord1(e))),
        v.clone().prop_map(move |e| g(GeometryFunction::Coord2(e))),
        v.clone()
            .prop_map(move |e| g(GeometryFunction::CoordSys(e))),
        (v.clone(), v.clone()).prop_map(move |(a, b)| g(GeometryFunction::Contains(a, b))),
        (v.clone(), v.clone()).prop_map(move |(a, b)| g(GeometryFunction::Intersects(a, b))),
        (v.clone(), v.clone())
            .prop_map(move |(a, b)| g(GeometryFunction::Distance(DistanceArgs::Points(a, b)))),
        (v.clone(), v.clone(), v.clone(), v).prop_map(move |(a, b, c, d)| g(
            GeometryFunction::Distance(DistanceArgs::Coordinates(a, b, c, d))
        )),
    ]
}

fn value() -> BoxedStrategy<Expr> {
    leaf()
        .prop_recursive(4, 48, 4, |inner| {
            let inner = inner.boxed();
            let unary = prop::sample::select(&[UnaryOp::Minus, UnaryOp::Plus, UnaryOp::BitNot][..]);
            let binary = prop::sample::select(
                &[
                    BinaryOp::Add,
                    BinaryOp::Sub,
                    BinaryOp::Mul,
                    BinaryOp::Div,
                    BinaryOp::Concat,
                    BinaryOp::BitAnd,
                    BinaryOp::BitOr,
                    BinaryOp::BitXor,
                ][..],
            );
            let unary_fn = prop::sample::select(
                &[
                    Function::Abs,
                    Function::Ceiling,
                    Function::Degrees,
                    Function::Exp,
                    Function::Floor,
                    Function::Log,
                    Function::Log10,
                    Function::Radians,
                    Function::Sqrt,
                    Function::Round,
                    Function::Truncate,
                    Function::Acos,
                    Function::Asin,
                    Function::Atan,
                    Function::Cos,
                    Function::Cot,
                    Function::Sin,
                    Function::Tan,
                    Function::Lower,
                    Function::Upper,
                ][..],
            );
            let binary_fn =
                prop::sample::select(&[Function::Mod, Function::Power, Function::Atan2][..]);
            let agg = prop::sample::select(
                &[
                    AggregateFunction::Count,
                    AggregateFunction::Avg,
                    AggregateFunction::Min,
                    AggregateFunction::Max,
                    AggregateFunction::Sum,
                ][..],
            );
            let quant = prop::option::of(prop::sample::select(
                &[SetQuantifier::All, SetQuantifier::Distinct][..],
            ));
            let cast = prop::sample::select(
                &[
                    CastType::SmallInt,
                    CastType::Integer,
                    CastType::BigInt,
                    CastType::Real,
                    CastType::DoublePrecision,
                    CastType::Char(None),
                    CastType::Char(Some(8)),
                    CastType::Varchar(None),
                    CastType::Varchar(Some(30)),
                    CastType::Timestamp,
                    CastType::Point,
                    CastType::Circle,
                    CastType::Polygon,
                ][..],
            );
            prop_oneof![
                (unary, inner.clone()).prop_map(|(op, e)| Expr::Unary {
                    op,
                    expr: Box::new(e)
                }),
                (binary, inner.clone(), inner.clone()).prop_map(|(op, l, r)| Expr::Binary {
                    op,
                    left: Box::new(l),
                    right: Box::new(r)
                }),
                (unary_fn, inner.clone()).prop_map(|(func, a)| Expr::Function(FunctionCall {
                    func,
                    args: vec![a]
                })),
                (binary_fn, inner.clone(), inner.clone()).prop_map(|(func, a, b)| Expr::Function(
                    FunctionCall {
                        func,
                        args: vec![a, b]
                    }
                )),
                (inner.clone(), -9i32..9).prop_map(|(a, n)| {
                    let places = if n < 0 {
                        Expr::Unary {
                            op: UnaryOp::Minus,
                            expr: Box::new(Expr::int(n.unsigned_abs() as u64)),
                        }
                    } else {
                        Expr::int(n as u64)
                    };
                    Expr::Function(FunctionCall {
                        func: Function::Round,
                        args: vec![a, places],
                    })
                }),
                Just(Expr::Function(FunctionCall {
                    func: Function::Pi,
                    args: vec![]
                })),
                prop::option::of(0u32..100).prop_map(|n| Expr::Function(FunctionCall {
                    func: Function::Rand,
                    args: n.map(|n| Expr::int(n as u64)).into_iter().collect()
                })),
                (inner.clone(), "[a-z/]{1,5}").prop_map(|(a, u)| Expr::Function(FunctionCall {
                    func: Function::InUnit,
                    args: vec![a, Expr::string(u)]
                })),
                (
                    prop::sample::select(UDFS),
                    prop::collection::vec(inner.clone(), 0..3)
                )
                    .prop_map(|(n, args)| Expr::Function(FunctionCall {
                        func: Function::UserDefined(Ident::new(n)),
                        args
                    })),
                (agg, quant, inner.clone()).prop_map(|(func, quantifier, a)| Expr::Aggregate(
                    Aggregate {
                        func,
                        quantifier,
                        arg: Some(Box::new(a))
                    }
                )),
                Just(Expr::Aggregate(Aggregate {
                    func: AggregateFunction::Count,
                    quantifier: None,
                    arg: None
                })),
                (inner.clone(), cast).prop_map(|(e, target)| Expr::Cast {
                    expr: Box::new(e),
                    target
                }),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Expr::Coalesce),
                geometry(inner),
            ]
        })
        .boxed()
}

fn simple_query() -> BoxedStrategy<Query> {
    (
        column(),
        table_name(),
        prop::option::of((column(), number())),
    )
        .prop_map(|(c, t, w)| Query {
            with: vec![],
            body: SetExpr::Select(Box::new(Select {
                quantifier: None,
                top: None,
                projection: vec![SelectItem::Expr {
                    expr: c,
                    alias: None,
                }],
                from: vec![TableRef::Table {
                    name: t,
                    alias: None,
                }],
                selection: w.map(|(l, r)| Expr::Comparison {
                    op: CompareOp::Lt,
                    left: Box::new(l),
                    right: Box::new(r),
                }),
                group_by: vec![],
                having: None,
            })),
            order_by: vec![],
            offset: None,
        })
        .boxed()
}

fn condition(v: BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    let cmp = prop::sample::select(
        &[
            CompareOp::Eq,
            CompareOp::NotEq,
            CompareOp::Lt,
            CompareOp::Gt,
            CompareOp::LtEq,
            CompareOp::GtEq,
        ][..],
    );
    let b = |e: Expr| Box::new(e);
    let predicate = prop_oneof![
        4 => (cmp, v.clone(), v.clone()).prop_map(move |(op, l, r)| Expr::Comparison { op, left: b(l), right: b(r) }),
        1 => (v.clone(), any::<bool>(), v.clone(), v.clone())
            .prop_map(move |(e, negated, lo, hi)| Expr::Between { expr: b(e), negated, low: b(lo), high: b(hi) }),
        1 => (v.clone(), any::<bool>(), prop::collection::vec(v.clone(), 1..4))
            .prop_map(move |(e, negated, list)| Expr::InList { expr: b(e), negated, list }),
        1 => (v.clone(), any::<bool>(), simple_query())
            .prop_map(move |(e, negated, q)| Expr::InSubquery { expr: b(e), negated, subquery: b_q(q) }),
        1 => (v.clone(), any::<bool>(), any::<bool>(), v.clone())
            .prop_map(move |(e, negated, ci, p)| Expr::Like { expr: b(e), negated, case_insensitive: ci, pattern: b(p) }),
        1 => (column(), any::<bool>()).prop_map(move |(c, negated)| Expr::IsNull { expr: b(c), negated }),
        1 => simple_query().prop_map(|q| Expr::Exists(Box::new(q))),
    ];
    predicate
        .prop_recursive(3, 16, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Expr::And(Box::new(l), Box::new(r))),
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Expr::Or(Box::new(l), Box::new(r))),
                inner.prop_map(|e| Expr::Not(Box::new(e))),
            ]
        })
        .boxed()
}

fn b_q(q: Query) -> Box<Query> {
    Box::new(q)
}

fn table_name() -> impl Strategy<Value = TableName> {
    prop::collection::vec(ident(), 1..=3).prop_map(TableName)
}

fn table_ref() -> BoxedStrategy<TableRef> {
    let table = (table_name(), prop::option::of(ident()))
        .prop_map(|(name, alias)| TableRef::Table { name, alias });
    let derived = (simple_query(), ident()).prop_map(|(q, alias)| TableRef::Derived {
        subquery: Box::new(q),
        alias,
    });
    let primary = prop_oneof![3 => table, 1 => derived].boxed();
    let kind = prop::sample::select(
        &[
            JoinKind::Inner,
            JoinKind::LeftOuter,
            JoinKind::RightOuter,
            JoinKind::FullOuter,
        ][..],
    );
    let constraint = prop_oneof![
        Just(JoinConstraint::Natural),
        prop::collection::vec(ident(), 1..3).prop_map(JoinConstraint::Using),
        (column(), column()).prop_map(|(l, r)| JoinConstraint::On(Expr::Comparison {
            op: CompareOp::Eq,
            left: Box::new(l),
            right: Box::new(r)
        })),
    ];
    primary
        .prop_recursive(2, 6, 2, move |inner| {
            (inner.clone(), inner, kind.clone(), constraint.clone()).prop_map(
                |(left, right, kind, constraint)| {
                    TableRef::Join(Box::new(Join {
                        left,
                        right,
                        kind,
                        constraint,
                    }))
                },
            )
        })
        .boxed()
}

fn select() -> BoxedStrategy<Select> {
    let v = value();
    let c = condition(v.clone());
    let item = prop_oneof![
        4 => (v.clone(), prop::option::of(ident())).prop_map(|(expr, alias)| SelectItem::Expr { expr, alias }),
        1 => table_name().prop_map(SelectItem::QualifiedWildcard),
    ];
    let projection = prop_oneof![
        1 => Just(vec![SelectItem::Wildcard]),
        5 => prop::collection::vec(item, 1..4),
    ];
    (
        prop::option::of(prop::sample::select(
            &[SetQuantifier::All, SetQuantifier::Distinct][..],
        )),
        prop::option::of(0u64..1000),
        projection,
        prop::collection::vec(table_ref(), 1..3),
        prop::option::of(c.clone()),
        prop::collection::vec(v, 0..3),
        prop::option::of(c),
    )
        .prop_map(
            |(quantifier, top, projection, from, selection, group_by, having)| Select {
                quantifier,
                top,
                projection,
                from,
                selection,
                group_by,
                having,
            },
        )
        .boxed()
}

fn query() -> BoxedStrategy<Query> {
    let set_op = prop::sample::select(
        &[
            SetOperator::Union,
            SetOperator::Except,
            SetOperator::Intersect,
        ][..],
    );
    let body = select().prop_map(|s| SetExpr::Select(Box::new(s))).boxed();
    let body = body.prop_recursive(2, 4, 2, move |inner| {
        prop_oneof![
            (set_op.clone(), any::<bool>(), inner.clone(), inner.clone()).prop_map(
                |(op, all, l, r)| SetExpr::SetOperation {
                    op,
                    all,
                    left: Box::new(l),
                    right: Box::new(r)
                }
            ),
            (inner, value(), 0u64..50).prop_map(|(body, e, off)| SetExpr::Query(Box::new(Query {
                with: vec![],
                body,
                order_by: vec![OrderByItem {
                    expr: e,
                    direction: Some(SortDirection::Asc)
                }],
                offset: Some(off),
            }))),
        ]
    });
    let dir = prop::option::of(prop::sample::select(
        &[SortDirection::Asc, SortDirection::Desc][..],
    ));
    (
        prop::collection::vec((ident(), simple_query()), 0..2),
        body,
        prop::collection::vec((value(), dir), 0..3),
        prop::option::of(0u64..100),
    )
        .prop_map(|(with, body, order_by, offset)| Query {
            with: with
                .into_iter()
                .map(|(name, q)| Cte {
                    name,
                    query: Box::new(q),
                })
                .collect(),
            body,
            order_by: order_by
                .into_iter()
                .map(|(expr, direction)| OrderByItem { expr, direction })
                .collect(),
            offset,
        })
        .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn printed_values_parse_back(e in value()) {
        let text = e.to_string();
        let again = parse_expression(&text, Version::V2_1);
        prop_assert!(again.is_ok(), "{text}\n{:?}", again.err());
        prop_assert_eq!(again.ok(), Some(e), "{}", text);
    }

    #[test]
    fn printed_conditions_parse_back(e in condition(value())) {
        let text = e.to_string();
        let again = parse_expression(&text, Version::V2_1);
        prop_assert!(again.is_ok(), "{text}\n{:?}", again.err());
        prop_assert_eq!(again.ok(), Some(e), "{}", text);
    }

    #[test]
    fn printed_queries_parse_back(q in query()) {
        let text = q.to_string();
        let again = parse(&text, Version::V2_1);
        prop_assert!(again.is_ok(), "{text}\n{:?}", again.err());
        let again = again.ok();
        prop_assert_eq!(again.as_ref(), Some(&q), "{}", text);
        prop_assert_eq!(again.map(|a| a.to_string()), Some(text));
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,80}") {
        let _ = parse(&s, Version::V2_1);
        let _ = parse(&s, Version::V2_0);
    }

    #[test]
    fn adql_like_token_soup_never_panics(words in prop::collection::vec(prop::sample::select(&[
        "SELECT", "FROM", "WHERE", "(", ")", ",", "a", "t", "1", "'s'", "AND", "OR", "NOT", "=", "<",
        "JOIN", "ON", "USING", "UNION", "ORDER", "BY", "OFFSET", "TOP", "*", "+", "-", "||", "IN",
        "BETWEEN", "IS", "NULL", "AS", "POINT", "CIRCLE", "CONTAINS", "COUNT", "CAST", "WITH", ".",
        "EXISTS", "GROUP", "HAVING", "DISTINCT", "0x1F", "\"q\"", "--c\n", "LIKE", "~", "&",
    ][..]), 0..40)) {
        let s = words.join(" ");
        let _ = parse(&s, Version::V2_1);
        let _ = parse(&s, Version::V2_0);
    }
}
