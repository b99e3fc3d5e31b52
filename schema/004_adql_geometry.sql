-- ADQL 2.1 geometry (section 4.2) in PostgreSQL without pgSphere. Geometries are arrays in
-- their DALI 1.1 serialisation (section 3.3), so a geometry-valued result column IS its
-- VOTable value (xtype point / circle / polygon):
--   point   = {ra, dec}                      double precision[2]
--   circle  = {ra, dec, radius}              double precision[3]
--   polygon = {ra1, dec1, ..., raN, decN}    double precision[2N], N >= 3
-- All angles in degrees, ICRS. Edges of polygons are great-circle arcs; a polygon is the
-- smaller of the two regions its edges bound. The ADQL translator maps the index-friendly
-- cases to q3c (CONTAINS(POINT, CIRCLE) -> q3c_radial_query / q3c_join,
-- CONTAINS(POINT, POLYGON) -> q3c_poly_query, DISTANCE -> q3c_dist) and everything else to
-- these functions.
CREATE SCHEMA adql;
GRANT USAGE ON SCHEMA adql TO dfbs_query, dfbs_ingest;

-- ---- unit vectors ---------------------------------------------------------------------
CREATE FUNCTION adql.vec(lon double precision, lat double precision) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[cosd(lat) * cosd(lon), cosd(lat) * sind(lon), sind(lat)] $$;

CREATE FUNCTION adql.cross3(a double precision[], b double precision[]) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[a[2]*b[3] - a[3]*b[2], a[3]*b[1] - a[1]*b[3], a[1]*b[2] - a[2]*b[1]] $$;

CREATE FUNCTION adql.dot3(a double precision[], b double precision[]) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT a[1]*b[1] + a[2]*b[2] + a[3]*b[3] $$;

CREATE FUNCTION adql.unit3(a double precision[]) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT CASE WHEN n = 0 THEN a ELSE ARRAY[a[1]/n, a[2]/n, a[3]/n] END
     FROM (SELECT sqrt(a[1]*a[1] + a[2]*a[2] + a[3]*a[3]) AS n) s $$;

-- (lon, lat) of a vector, lon in [0, 360).
CREATE FUNCTION adql.radec(v double precision[]) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[CASE WHEN lon < 0 THEN lon + 360 ELSE lon END,
                atan2d(v[3], sqrt(v[1]*v[1] + v[2]*v[2]))]
     FROM (SELECT CASE WHEN v[1] = 0 AND v[2] = 0 THEN 0 ELSE atan2d(v[2], v[1]) END AS lon) s $$;

-- Angle between two unit vectors in degrees (atan2 form: accurate at 0 and 180 degrees).
CREATE FUNCTION adql.angle3(a double precision[], b double precision[]) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT atan2d(sqrt(c[1]*c[1] + c[2]*c[2] + c[3]*c[3]), adql.dot3(a, b))
     FROM (SELECT adql.cross3(a, b) AS c) s $$;

-- ---- constructors (ADQL 2.1 section 4.2.1-4.2.6) ----------------------------------------
CREATE FUNCTION adql.point(lon double precision, lat double precision) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[lon, lat] $$;

CREATE FUNCTION adql.circle(lon double precision, lat double precision, radius double precision) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[lon, lat, radius] $$;

CREATE FUNCTION adql.circle(center double precision[], radius double precision) RETURNS double precision[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT ARRAY[center[1], center[2], radius] $$;

-- POLYGON from a flat list of coordinates, or from points (ADQL 2.1 allows both).
CREATE FUNCTION adql.polygon(VARIADIC coords double precision[]) RETURNS double precision[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
BEGIN
  IF cardinality(coords) < 6 OR cardinality(coords) % 2 <> 0 THEN
    RAISE EXCEPTION 'a POLYGON needs at least 3 vertices (pairs of coordinates), got % numbers', cardinality(coords)
      USING ERRCODE = '22023';
  END IF;
  RETURN coords;
END
$$;

CREATE FUNCTION adql.polygon_of_points(VARIADIC points double precision[][]) RETURNS double precision[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  result double precision[] := '{}';
  i integer;
BEGIN
  FOR i IN 1 .. array_length(points, 1) LOOP
    result := result || ARRAY[points[i][1], points[i][2]];
  END LOOP;
  RETURN adql.polygon(VARIADIC result);
END
$$;

-- BOX (ADQL 2.0 section 2.4.4, defined as in STC 1.30 section 4.5.1.6): the midpoints of
-- the sides are the ends of a cross centred on (lon, lat) whose arms, along the coordinate
-- axes at the centre, extend half the width and half the height; the sides are great
-- circles meeting the arms at right angles there. Returned as the equivalent POLYGON.
CREATE FUNCTION adql.box(lon double precision, lat double precision, width double precision, height double precision)
  RETURNS double precision[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  c double precision[] := adql.vec(lon, lat);
  e double precision[] := ARRAY[-sind(lon), cosd(lon), 0];                     -- east
  n double precision[] := ARRAY[-sind(lat)*cosd(lon), -sind(lat)*sind(lon), cosd(lat)]; -- north
  result double precision[] := '{}';
  sx integer;
  sy integer;
  ex double precision[];
  ny double precision[];
  corner double precision[];
BEGIN
  IF width <= 0 OR height <= 0 OR width >= 180 OR height >= 180 THEN
    RAISE EXCEPTION 'BOX width and height must be between 0 and 180 degrees, got % and %', width, height
      USING ERRCODE = '22023';
  END IF;
  FOREACH sx IN ARRAY ARRAY[1, -1, -1, 1] LOOP
    sy := CASE WHEN cardinality(result) IN (0, 2) THEN 1 ELSE -1 END;
    ex := ARRAY[cosd(width/2)*c[1] + sx*sind(width/2)*e[1], cosd(width/2)*c[2] + sx*sind(width/2)*e[2], cosd(width/2)*c[3] + sx*sind(width/2)*e[3]];
    ny := ARRAY[cosd(height/2)*c[1] + sy*sind(height/2)*n[1], cosd(height/2)*c[2] + sy*sind(height/2)*n[2], cosd(height/2)*c[3] + sy*sind(height/2)*n[3]];
    -- The side through ex contains n; the side through ny contains e: the corner lies on both.
    corner := adql.unit3(adql.cross3(adql.cross3(ex, n), adql.cross3(ny, e)));
    IF adql.dot3(corner, c) < 0 THEN
      corner := ARRAY[-corner[1], -corner[2], -corner[3]];
    END IF;
    result := result || adql.radec(corner);
  END LOOP;
  RETURN result;
END
$$;

-- ---- accessors (ADQL 2.1 sections 4.2.8-4.2.10) --------------------------------------------
CREATE FUNCTION adql.coord1(p double precision[]) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT p[1] $$;
CREATE FUNCTION adql.coord2(p double precision[]) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT p[2] $$;

-- ---- predicates on the sphere ----------------------------------------------------------
-- Is the point inside the polygon? Gnomonic projection about the polygon's mean direction
-- maps great-circle edges to straight lines, so a planar crossing test is exact there.
-- Points on the far hemisphere of that direction are outside (polygons are smaller than a
-- hemisphere).
CREATE FUNCTION adql.in_polygon(lon double precision, lat double precision, poly double precision[]) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  nv integer := cardinality(poly) / 2;
  m double precision[] := ARRAY[0, 0, 0];
  u double precision[];
  v double precision[];
  p double precision[];
  xs double precision[] := '{}';
  ys double precision[] := '{}';
  px double precision;
  py double precision;
  d double precision;
  i integer;
  j integer;
  inside boolean := false;
BEGIN
  FOR i IN 1 .. nv LOOP
    v := adql.vec(poly[2*i - 1], poly[2*i]);
    m := ARRAY[m[1] + v[1], m[2] + v[2], m[3] + v[3]];
  END LOOP;
  m := adql.unit3(m);
  -- A tangent-plane basis at m.
  IF abs(m[3]) < 0.9 THEN u := adql.unit3(adql.cross3(ARRAY[0, 0, 1], m));
  ELSE u := adql.unit3(adql.cross3(ARRAY[1, 0, 0], m)); END IF;
  v := adql.cross3(m, u);
  FOR i IN 1 .. nv LOOP
    p := adql.vec(poly[2*i - 1], poly[2*i]);
    d := adql.dot3(p, m);
    IF d <= 0 THEN
      RAISE EXCEPTION 'polygon too large: its vertices must lie within a hemisphere' USING ERRCODE = '22023';
    END IF;
    xs := xs || adql.dot3(p, u) / d;
    ys := ys || adql.dot3(p, v) / d;
  END LOOP;
  p := adql.vec(lon, lat);
  d := adql.dot3(p, m);
  IF d <= 0 THEN
    RETURN false;
  END IF;
  px := adql.dot3(p, u) / d;
  py := adql.dot3(p, v) / d;
  j := nv;
  FOR i IN 1 .. nv LOOP
    IF ((ys[i] > py) <> (ys[j] > py))
       AND (px < (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i]) THEN
      inside := NOT inside;
    END IF;
    j := i;
  END LOOP;
  RETURN inside;
END
$$;

-- Smallest angular distance (degrees) from unit vector p to the great-circle arc a-b.
CREATE FUNCTION adql.arc_distance(p double precision[], a double precision[], b double precision[]) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  n double precision[] := adql.unit3(adql.cross3(a, b));
BEGIN
  -- The foot of the perpendicular from p lies within the arc when p is between the planes
  -- through a and b perpendicular to the arc.
  IF adql.dot3(adql.cross3(a, p), n) >= 0 AND adql.dot3(adql.cross3(p, b), n) >= 0 THEN
    RETURN abs(asind(greatest(-1, least(1, adql.dot3(p, n)))));
  END IF;
  RETURN least(adql.angle3(p, a), adql.angle3(p, b));
END
$$;

-- Do the great-circle arcs a-b and c-d cross?
CREATE FUNCTION adql.arcs_cross(a double precision[], b double precision[], c double precision[], d double precision[]) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  n1 double precision[] := adql.cross3(a, b);
  n2 double precision[] := adql.cross3(c, d);
  t double precision[] := adql.unit3(adql.cross3(n1, n2));
  s integer;
  x double precision[];
BEGIN
  IF t[1] = 0 AND t[2] = 0 AND t[3] = 0 THEN
    RETURN false;  -- same great circle: overlaps are caught by the vertex tests
  END IF;
  FOREACH s IN ARRAY ARRAY[1, -1] LOOP
    x := ARRAY[s*t[1], s*t[2], s*t[3]];
    IF adql.dot3(adql.cross3(a, x), n1) >= 0 AND adql.dot3(adql.cross3(x, b), n1) >= 0
       AND adql.dot3(adql.cross3(c, x), n2) >= 0 AND adql.dot3(adql.cross3(x, d), n2) >= 0 THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;

CREATE FUNCTION adql.polygon_edges_cross(p double precision[], q double precision[]) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  np integer := cardinality(p) / 2;
  nq integer := cardinality(q) / 2;
  i integer;
  j integer;
BEGIN
  FOR i IN 1 .. np LOOP
    FOR j IN 1 .. nq LOOP
      IF adql.arcs_cross(adql.vec(p[2*i-1], p[2*i]), adql.vec(p[2*(i % np)+1], p[2*(i % np)+2]),
                         adql.vec(q[2*j-1], q[2*j]), adql.vec(q[2*(j % nq)+1], q[2*(j % nq)+2])) THEN
        RETURN true;
      END IF;
    END LOOP;
  END LOOP;
  RETURN false;
END
$$;

-- Smallest distance (degrees) from (lon, lat) to the boundary of a polygon.
CREATE FUNCTION adql.polygon_boundary_distance(lon double precision, lat double precision, poly double precision[]) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  nv integer := cardinality(poly) / 2;
  p double precision[] := adql.vec(lon, lat);
  best double precision := 180;
  i integer;
BEGIN
  FOR i IN 1 .. nv LOOP
    best := least(best, adql.arc_distance(p, adql.vec(poly[2*i-1], poly[2*i]), adql.vec(poly[2*(i % nv)+1], poly[2*(i % nv)+2])));
  END LOOP;
  RETURN best;
END
$$;

CREATE FUNCTION adql.check_shape(g double precision[]) RETURNS integer
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
BEGIN
  IF cardinality(g) IN (2, 3) OR (cardinality(g) >= 6 AND cardinality(g) % 2 = 0) THEN
    RETURN cardinality(g);
  END IF;
  RAISE EXCEPTION 'not a geometry: % numbers (a point has 2, a circle 3, a polygon 6 or more)', cardinality(g)
    USING ERRCODE = '22023';
END
$$;

-- CONTAINS(a, b) (ADQL 2.1 section 4.2.7): 1 when a lies entirely within b, else 0.
CREATE FUNCTION adql.contains(a double precision[], b double precision[]) RETURNS integer
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  ka integer := adql.check_shape(a);
  kb integer := adql.check_shape(b);
  i integer;
BEGIN
  IF kb = 2 THEN        -- only a point is within a point: the same point
    RETURN (ka = 2 AND q3c_dist(a[1], a[2], b[1], b[2]) = 0)::integer;
  ELSIF kb = 3 THEN     -- within a circle
    IF ka = 2 THEN RETURN (q3c_dist(a[1], a[2], b[1], b[2]) <= b[3])::integer; END IF;
    IF ka = 3 THEN RETURN (q3c_dist(a[1], a[2], b[1], b[2]) + a[3] <= b[3])::integer; END IF;
    -- A spherical cap (radius <= 90 degrees) is convex: a polygon is in it when its vertices are.
    FOR i IN 1 .. ka / 2 LOOP
      IF q3c_dist(a[2*i-1], a[2*i], b[1], b[2]) > b[3] THEN RETURN 0; END IF;
    END LOOP;
    RETURN 1;
  ELSE                  -- within a polygon
    IF ka = 2 THEN RETURN adql.in_polygon(a[1], a[2], b)::integer; END IF;
    IF ka = 3 THEN
      RETURN (adql.in_polygon(a[1], a[2], b) AND adql.polygon_boundary_distance(a[1], a[2], b) >= a[3])::integer;
    END IF;
    FOR i IN 1 .. ka / 2 LOOP
      IF NOT adql.in_polygon(a[2*i-1], a[2*i], b) THEN RETURN 0; END IF;
    END LOOP;
    RETURN (NOT adql.polygon_edges_cross(a, b))::integer;
  END IF;
END
$$;

-- INTERSECTS(a, b) (ADQL 2.1 section 4.2.12): 1 when a and b have a point in common.
CREATE FUNCTION adql.intersects(a double precision[], b double precision[]) RETURNS integer
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  ka integer := adql.check_shape(a);
  kb integer := adql.check_shape(b);
  i integer;
BEGIN
  IF ka > kb THEN       -- symmetric: order the pair so that a is the simpler shape
    RETURN adql.intersects(b, a);
  END IF;
  IF ka = 2 THEN RETURN adql.contains(a, b); END IF;
  IF ka = 3 AND kb = 3 THEN
    RETURN (q3c_dist(a[1], a[2], b[1], b[2]) <= a[3] + b[3])::integer;
  END IF;
  IF ka = 3 THEN        -- circle and polygon
    RETURN (adql.in_polygon(a[1], a[2], b) OR adql.polygon_boundary_distance(a[1], a[2], b) <= a[3])::integer;
  END IF;
  FOR i IN 1 .. ka / 2 LOOP
    IF adql.in_polygon(a[2*i-1], a[2*i], b) THEN RETURN 1; END IF;
  END LOOP;
  FOR i IN 1 .. kb / 2 LOOP
    IF adql.in_polygon(b[2*i-1], b[2*i], a) THEN RETURN 1; END IF;
  END LOOP;
  RETURN adql.polygon_edges_cross(a, b)::integer;
END
$$;

-- DISTANCE (ADQL 2.1 section 4.2.11), degrees.
CREATE FUNCTION adql.distance(a double precision[], b double precision[]) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
$$ SELECT q3c_dist(a[1], a[2], b[1], b[2]) $$;

-- AREA (ADQL 2.1 section 4.2.2), square degrees. Polygons: sum of the signed solid angles of
-- the triangles of a fan (Van Oosterom & Strackee 1983, tan(E/2) = a.(b x c) /
-- (1 + a.b + b.c + c.a)); the smaller of the two regions.
CREATE FUNCTION adql.area(g double precision[]) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  k integer := adql.check_shape(g);
  sr double precision := 0;
  a double precision[];
  b double precision[];
  c double precision[];
  i integer;
BEGIN
  IF k = 2 THEN RETURN 0; END IF;
  IF k = 3 THEN RETURN 2 * pi() * (1 - cosd(g[3])) * (180 / pi())^2; END IF;
  a := adql.vec(g[1], g[2]);
  FOR i IN 2 .. k / 2 - 1 LOOP
    b := adql.vec(g[2*i-1], g[2*i]);
    c := adql.vec(g[2*i+1], g[2*i+2]);
    sr := sr + 2 * atan2(adql.dot3(a, adql.cross3(b, c)), 1 + adql.dot3(a, b) + adql.dot3(b, c) + adql.dot3(c, a));
  END LOOP;
  sr := abs(sr);
  IF sr > 2 * pi() THEN sr := 4 * pi() - sr; END IF;
  RETURN sr * (180 / pi())^2;
END
$$;

-- CENTROID (ADQL 2.1 section 4.2.3): the centre of a circle; for a polygon the direction of
-- the area-weighted sum of its fan triangles' mean vectors.
CREATE FUNCTION adql.centroid(g double precision[]) RETURNS double precision[]
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS
$$
DECLARE
  k integer := adql.check_shape(g);
  s double precision[] := ARRAY[0, 0, 0];
  a double precision[];
  b double precision[];
  c double precision[];
  w double precision;
  i integer;
BEGIN
  IF k IN (2, 3) THEN RETURN ARRAY[g[1], g[2]]; END IF;
  a := adql.vec(g[1], g[2]);
  FOR i IN 2 .. k / 2 - 1 LOOP
    b := adql.vec(g[2*i-1], g[2*i]);
    c := adql.vec(g[2*i+1], g[2*i+2]);
    w := 2 * atan2(adql.dot3(a, adql.cross3(b, c)), 1 + adql.dot3(a, b) + adql.dot3(b, c) + adql.dot3(c, a));
    s := ARRAY[s[1] + w*(a[1]+b[1]+c[1]), s[2] + w*(a[2]+b[2]+c[2]), s[3] + w*(a[3]+b[3]+c[3])];
  END LOOP;
  RETURN adql.radec(adql.unit3(s));
END
$$;
