#!/usr/bin/env bash
# TAP speed (issue 4):
#  1. streaming: a 2,000,000-row, 10-column numeric result in BINARY2 through /tap/sync, read
#     by curl to /dev/null: rows/s end to end, and the server's peak RSS (VmHWM);
#  2. the PostgreSQL-side bound: COPY of the same rows in binary format to /dev/null;
#  3. latency: a TOP 10 query, sync, timed as whole curl processes (median of N).
# Uses the release binary and a private cluster in a temporary directory.
#   cargo build --release && bash benches/tap_stream.sh [ROWS] [LATENCY_RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows=${1:-2000000}
runs=${2:-50}
bin=${BIN:-target/release/dfbs-vo}
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 1; }
tmp=$(mktemp -d)
# Traversable: as root the cluster runs as dfbsvo, which must reach it (else it lives in
# /var/lib/dfbs-vo, outside what this script removes).
chmod 755 "$tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export DFBS__DATABASE__DATA_DIR="$tmp/pg" DFBS__SERVICE__BASE_URL="http://127.0.0.1:$port" RUST_LOG=warn
export DFBS__LIMITS__MAXREC_HARD=$((rows + 10))
"$bin" serve --listen "127.0.0.1:$port" 2>"$tmp/serve.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; "$bin" db stop >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/tap/availability" && break; sleep 0.2; done

echo "loading $rows rows..."
"$bin" db psql -qc "INSERT INTO dfbs.plates (plateid) VALUES ('bench');
  INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb, magr, snr, sky, px_x, px_y, pos_ang, lam_min)
  SELECT 'bench-' || i, 'o' || i, 'bench', (i % 360000) / 1000.0, ((i % 180000) / 1000.0) - 90, 15 + (i % 500) / 100.0,
         14 + (i % 400) / 100.0, i % 100, 14000 - i % 1000, i % 9600, i % 9600, i % 360, 3.4e-7
    FROM generate_series(1, $rows) AS i;" >/dev/null
"$bin" db psql -qc "VACUUM ANALYZE dfbs.spectra" >/dev/null

columns="ra, dec, magb, magr, snr, sky, px_x, px_y, pos_ang, lam_min"
query="SELECT $columns FROM dfbs.spectra"

echo "PostgreSQL bound (COPY ... TO STDOUT (FORMAT binary) > /dev/null):"
t0=$(date +%s.%N)
"$bin" db psql -qc "COPY (SELECT $columns FROM dfbs.spectra) TO STDOUT (FORMAT binary)" > /dev/null
t1=$(date +%s.%N)
awk -v r="$rows" -v a="$t0" -v b="$t1" 'BEGIN { printf "  %.2f s, %.0f rows/s\n", b-a, r/(b-a) }'

for format in votable/b2 votable/td csv; do
  echo "dfbs-vo /tap/sync, RESPONSEFORMAT=$format, read by curl:"
  out=$(curl -s -o /dev/null -w "%{time_total} %{size_download} %{http_code}" \
        --data-urlencode "LANG=ADQL" --data-urlencode "QUERY=$query" --data-urlencode "MAXREC=$rows" \
        --data-urlencode "RESPONSEFORMAT=$format" "http://127.0.0.1:$port/tap/sync")
  read -r seconds bytes code <<<"$out"
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
  awk -v r="$rows" -v s="$seconds" -v b="$bytes" -v c="$code" -v m="$rss" \
      'BEGIN { printf "  HTTP %s, %.2f s, %.0f rows/s, %.1f MB, server peak RSS %.1f MB\n", c, s, r/s, b/1e6, m/1024 }'
done

echo "latency: SELECT TOP 10 ..., sync, $runs curl processes:"
for _ in $(seq "$runs"); do
  s=$(date +%s%N)
  curl -s -o /dev/null "http://127.0.0.1:$port/tap/sync?LANG=ADQL&QUERY=SELECT%20TOP%2010%20specid%2C%20ra%2C%20dec%2C%20magb%20FROM%20dfbs.spectra"
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
done | sort -n | awk '{a[NR]=$1} END {printf "  median %.2f ms, min %.2f ms, max %.2f ms\n", a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
