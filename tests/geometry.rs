//! The ADQL geometry functions of schema/004 (schema `adql`) against hand-computed spherical
//! results, including the RA wrap at 0/360 and the poles.

mod common;

use common::*;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// Runs `SELECT <expression>` and returns the value.
async fn eval<T: for<'a> tokio_postgres::types::FromSql<'a>>(client: &tokio_postgres::Client, expression: &str) -> T {
    client
        .query_one(&format!("SELECT {expression}"), &[])
        .await
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .get(0)
}

#[tokio::test]
async fn distances_across_the_wrap_and_the_pole() {
    let database = catalogue_database("t_geom_distance").await;
    let c = database.connect_admin().await.unwrap();
    assert!(close(eval(&c, "adql.distance('{359.5,0}', '{0.5,0}')").await, 1.0, 1e-9));
    assert!(close(eval(&c, "adql.distance('{0,89.5}', '{180,89.5}')").await, 1.0, 1e-9));
    assert!(close(eval(&c, "adql.distance('{0,0}', '{90,0}')").await, 90.0, 1e-9));
    assert!(close(eval(&c, "adql.distance('{10,-90}', '{200,-90}')").await, 0.0, 1e-9));
    // The query role may use them.
    let q = database.connect_as(dfbs_vo::db::QUERY_ROLE).await.unwrap();
    assert!(close(eval(&q, "adql.distance('{0,0}', '{0,1}')").await, 1.0, 1e-9));
}

#[tokio::test]
async fn areas() {
    let database = catalogue_database("t_geom_area").await;
    let c = database.connect_admin().await.unwrap();
    let deg2_per_sr = (180.0 / std::f64::consts::PI).powi(2);
    // A cap of radius r: 2 pi (1 - cos r) steradian.
    let cap = 2.0 * std::f64::consts::PI * (1.0 - 1f64.to_radians().cos()) * deg2_per_sr;
    assert!(close(eval(&c, "adql.area('{123,45,1}')").await, cap, 1e-9));
    // One octant of the sphere: 4 pi / 8 steradian, whichever way round the vertices go.
    let octant = std::f64::consts::PI / 2.0 * deg2_per_sr;
    assert!(close(eval(&c, "adql.area(adql.polygon(0,0, 90,0, 0,90))").await, octant, 1e-6));
    assert!(close(eval(&c, "adql.area(adql.polygon(0,0, 0,90, 90,0))").await, octant, 1e-6));
    // A polygon around the pole (the smaller region, not its complement): the cap above
    // dec 80 minus the four slivers between its great-circle edges and the parallel.
    let a: f64 = eval(&c, "adql.area(adql.polygon(0,80, 90,80, 180,80, 270,80))").await;
    let cap10 = 2.0 * std::f64::consts::PI * (1.0 - 10f64.to_radians().cos()) * deg2_per_sr;
    assert!(a < cap10 && a > 0.6 * cap10, "polar square {a} vs cap {cap10}");
    assert_eq!(eval::<f64>(&c, "adql.area('{1,2}')").await, 0.0);
    // A 2 x 2 degree BOX at the equator is slightly less than 4 square degrees.
    let b: f64 = eval(&c, "adql.area(adql.box(0, 0, 2, 2))").await;
    assert!(b < 4.0 && b > 3.99, "{b}");
}

#[tokio::test]
async fn points_in_polygons_and_circles() {
    let database = catalogue_database("t_geom_contains").await;
    let c = database.connect_admin().await.unwrap();
    let wrap = "adql.polygon(359,-1, 1,-1, 1,1, 359,1)";
    for (point, inside) in [("{0,0}", 1), ("{359.5,0.5}", 1), ("{0.9,-0.9}", 1), ("{2,0}", 0), ("{180,0}", 0), ("{358,0}", 0)] {
        assert_eq!(eval::<i32>(&c, &format!("adql.contains('{point}', {wrap})")).await, inside, "{point}");
    }
    let polar = "adql.polygon(0,80, 90,80, 180,80, 270,80)";
    for (point, inside) in [("{0,90}", 1), ("{45,85}", 1), ("{300,84}", 1), ("{0,70}", 0), ("{45,-85}", 0)] {
        assert_eq!(eval::<i32>(&c, &format!("adql.contains('{point}', {polar})")).await, inside, "{point}");
    }
    // Circles around the pole and across the wrap.
    assert_eq!(eval::<i32>(&c, "adql.contains('{123,88.5}', '{0,90,2}')").await, 1);
    assert_eq!(eval::<i32>(&c, "adql.contains('{123,87.5}', '{0,90,2}')").await, 0);
    assert_eq!(eval::<i32>(&c, "adql.contains('{359.9,0}', '{0.2,0,0.5}')").await, 1);
    assert_eq!(eval::<i32>(&c, "adql.contains('{359.6,0}', '{0.2,0,0.5}')").await, 0);
    // q3c agrees with our own polygon test on the index path.
    for (ra, dec) in [(0.0, 0.0), (359.5, 0.5), (2.0, 0.0)] {
        let ours: i32 = eval(&c, &format!("adql.contains(ARRAY[{ra},{dec}]::float8[], {wrap})")).await;
        let q3c: bool = eval(&c, &format!("q3c_poly_query({ra}::float8, {dec}::float8, {wrap})")).await;
        assert_eq!(ours == 1, q3c, "({ra}, {dec})");
    }
}

#[tokio::test]
async fn shapes_in_shapes_and_intersections() {
    let database = catalogue_database("t_geom_shapes").await;
    let c = database.connect_admin().await.unwrap();
    let square = "adql.polygon(-2,-2, 2,-2, 2,2, -2,2)";
    // Circles within circles and polygons.
    assert_eq!(eval::<i32>(&c, "adql.contains('{0,0,1}', '{0.5,0,2}')").await, 1);
    assert_eq!(eval::<i32>(&c, "adql.contains('{0,0,1}', '{1.5,0,2}')").await, 0);
    assert_eq!(eval::<i32>(&c, &format!("adql.contains('{{0,0,1}}', {square})")).await, 1);
    assert_eq!(eval::<i32>(&c, &format!("adql.contains('{{1.5,0,1}}', {square})")).await, 0);
    // Polygons within circles and polygons.
    assert_eq!(eval::<i32>(&c, &format!("adql.contains({square}, '{{0,0,3}}')")).await, 1);
    assert_eq!(eval::<i32>(&c, &format!("adql.contains({square}, '{{0,0,2.5}}')")).await, 0);
    assert_eq!(eval::<i32>(&c, &format!("adql.contains(adql.polygon(-1,-1, 1,-1, 0,1), {square})")).await, 1);
    assert_eq!(eval::<i32>(&c, &format!("adql.contains(adql.polygon(-1,-1, 3,-1, 0,1), {square})")).await, 0);
    // Intersections: circles, circle and polygon, polygons (overlapping without a vertex
    // inside the other: a cross).
    assert_eq!(eval::<i32>(&c, "adql.intersects('{0,0,1}', '{1.9,0,1}')").await, 1);
    assert_eq!(eval::<i32>(&c, "adql.intersects('{0,0,1}', '{2.1,0,1}')").await, 0);
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects('{{2.5,0,0.6}}', {square})")).await, 1);
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects('{{2.5,0,0.4}}', {square})")).await, 0);
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects({square}, '{{2.5,0,0.6}}')")).await, 1);
    let tall = "adql.polygon(-0.5,-5, 0.5,-5, 0.5,5, -0.5,5)";
    let wide = "adql.polygon(-5,-0.5, 5,-0.5, 5,0.5, -5,0.5)";
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects({tall}, {wide})")).await, 1);
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects({tall}, adql.polygon(10,10, 12,10, 11,12))")).await, 0);
    assert_eq!(eval::<i32>(&c, &format!("adql.intersects('{{0,0}}', {square})")).await, 1);
    // Across the wrap.
    assert_eq!(eval::<i32>(&c, "adql.intersects('{359.5,0,0.3}', '{0.5,0,0.8}')").await, 1);
}

#[tokio::test]
async fn box_centroid_coordinates_and_errors() {
    let database = catalogue_database("t_geom_box").await;
    let c = database.connect_admin().await.unwrap();
    // BOX corners: the east side is the great circle through the end of a 1-degree east arm,
    // perpendicular to it; at dec 20 the arm's end lies at RA offset atan(tan 1 / cos 20).
    let corners: Vec<f64> = eval(&c, "adql.box(10, 20, 2, 1)").await;
    assert_eq!(corners.len(), 8);
    let expected_ra = 10.0 + (1f64.to_radians().tan() / 20f64.to_radians().cos()).atan().to_degrees();
    let east_ra = corners.iter().step_by(2).cloned().fold(f64::MIN, f64::max);
    assert!(close(east_ra, expected_ra, 0.01), "{east_ra} vs {expected_ra}");
    // Every corner is within the box's circumscribed circle, and the centre is inside.
    assert_eq!(eval::<i32>(&c, "adql.contains('{10,20}', adql.box(10, 20, 2, 1))").await, 1);
    assert_eq!(eval::<i32>(&c, "adql.contains(adql.box(10, 20, 2, 1), '{10,20,1.2}')").await, 1);
    // A box across the wrap.
    assert_eq!(eval::<i32>(&c, "adql.contains('{359.8,0.2}', adql.box(0, 0, 1, 1))").await, 1);

    let centroid: Vec<f64> = eval(&c, "adql.centroid(adql.polygon(359,-1, 1,-1, 1,1, 359,1))").await;
    assert!(close(centroid[0], 0.0, 1e-9) || close(centroid[0], 360.0, 1e-9));
    assert!(close(centroid[1], 0.0, 1e-9));
    let centroid: Vec<f64> = eval(&c, "adql.centroid(adql.polygon(0,80, 90,80, 180,80, 270,80))").await;
    assert!(close(centroid[1], 90.0, 1e-9));
    assert_eq!(eval::<Vec<f64>>(&c, "adql.centroid('{5,6,7}')").await, vec![5.0, 6.0]);
    assert_eq!(eval::<f64>(&c, "adql.coord1(adql.point(5, 6))").await, 5.0);
    assert_eq!(eval::<f64>(&c, "adql.coord2(adql.point(5, 6))").await, 6.0);

    // Bad shapes give errors a person can act on.
    let err = c.query_one("SELECT adql.polygon(1, 2, 3, 4)", &[]).await.unwrap_err();
    assert!(err.as_db_error().unwrap().message().contains("at least 3 vertices"));
    let err = c.query_one("SELECT adql.area('{1,2,3,4}')", &[]).await.unwrap_err();
    assert!(err.as_db_error().unwrap().message().contains("not a geometry"));
    let err = c.query_one("SELECT adql.box(0, 0, -1, 1)", &[]).await.unwrap_err();
    assert!(err.as_db_error().unwrap().message().contains("BOX width and height"));
    // NULL in, NULL out (SQL semantics for missing values).
    assert_eq!(eval::<Option<i32>>(&c, "adql.contains(NULL, '{0,0,1}')").await, None);
}
