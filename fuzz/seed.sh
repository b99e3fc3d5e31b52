#!/usr/bin/env bash
# Writes the seed corpora for the fuzz targets: every query of the ADQL
# conformance corpus (valid and invalid, both versions) as one file each into
# corpus/adql_parse/ and corpus/adql_compile/, plus (for adql_compile) the
# queries against the real dfbs/tap_schema catalog found in
# tests/adql_execution.rs and a few hand-written ones.
# Run from anywhere: fuzz/seed.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
src="$root/tests/adql/conformance.adql"

for target in adql_parse adql_compile; do
    dir="$here/corpus/$target"
    mkdir -p "$dir"
    # Format (see the top of the corpus): `tag | query` or
    # `tag | reason | query`; a line starting with a space or tab continues
    # the previous query (the newline is kept); '#' lines are comments.
    awk -v dir="$dir" '
        function flush() { if (have) { printf "%s", q > (dir "/seed-" sprintf("%04d", n)); close(dir "/seed-" sprintf("%04d", n)); have = 0 } }
        /^[ \t]/ { if (have) q = q "\n" $0; next }
        /^#/ || /^[ \t]*$/ { next }
        {
            flush()
            i = index($0, " | "); tag = substr($0, 1, i - 1); rest = substr($0, i + 3)
            if (tag == "invalid" || tag == "invalid20") { j = index(rest, " | "); rest = substr(rest, j + 3) }
            n++; q = rest; have = 1
        }
        END { flush() }
    ' "$src"
done

dir="$here/corpus/adql_compile"
# Queries against the real catalog from the execution tests (literal strings
# without escapes or format! placeholders).
grep -oE '"(SELECT|WITH) [^"\\{]*"' "$root/tests/adql_execution.rs" | sed 's/^"//; s/"$//' |
    awk -v dir="$dir" '{ f = dir "/exec-" sprintf("%04d", NR); printf "%s", $0 > f; close(f) }'
n=0
while IFS= read -r q; do
    n=$((n + 1))
    printf '%s' "$q" > "$dir/hand-$(printf %04d "$n")"
done <<'QUERIES'
SELECT TOP 10 specid, ra, dec, magb FROM dfbs.spectra WHERE magb < 15 ORDER BY magb
SELECT * FROM dfbs.plates
SELECT s.specid, p.emulsion FROM dfbs.spectra AS s JOIN dfbs.plates AS p ON s.plate = p.plateid
SELECT specid FROM dfbs.spectra WHERE specid = 'a;b--c/*d*/''e'
SELECT specid AS "x;--/*""y" FROM dfbs.spectra
SELECT specid AS "it's", plate AS "a""b" FROM dfbs.spectra WHERE sp_class <> '"'
SELECT "specid" FROM dfbs."spectra" WHERE class_label LIKE '%;%'
SELECT table_name, description FROM tap_schema.tables WHERE schema_name = 'dfbs'
SELECT column_name, datatype, unit FROM tap_schema.columns WHERE table_name = 'dfbs.spectra'
SELECT COUNT(*) AS n, plate FROM dfbs.spectra GROUP BY plate HAVING COUNT(*) > 1
SELECT specid, DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 10, 20)) AS d FROM dfbs.spectra WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10, 20, 0.5))
SELECT IN_UNIT(ra, 'arcsec'), LOWER(specid), UPPER(plate), ROUND(magb, 2), TRUNCATE(magr, 1) FROM dfbs.spectra
SELECT CAST(magb AS INTEGER), COALESCE(magr, magb, 0), CASE WHEN magb < 15 THEN 'bright' ELSE 'faint' END FROM dfbs.spectra
WITH b AS (SELECT specid, magb FROM dfbs.spectra WHERE magb < 14) SELECT * FROM b ORDER BY magb DESC OFFSET 2
SELECT a.specid FROM dfbs.spectra a WHERE EXISTS (SELECT 1 FROM dfbs.plates p WHERE p.plateid = a.plate) UNION SELECT plateid FROM dfbs.plates
QUERIES
for t in adql_parse adql_compile; do
    echo "$t: $(ls "$here/corpus/$t" | wc -l) files in the corpus"
done
