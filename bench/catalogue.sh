#!/usr/bin/env bash
# Catalogue benchmark (issue 3): a 10,000-procedure catalogue served by the release binary, next to the
# ceiling server (a trivial axum handler) measured in the same run, with wrk on loopback.
#
#   bash bench/catalogue.sh            # writes docs/benchmarks.md
#   DURATION=5 CONNECTIONS=64 N=10000 bash bench/catalogue.sh
#
# Bounded: each measurement runs DURATION seconds against 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PORT=${PORT:-18080}
CEILING_PORT=${CEILING_PORT:-18099}
OUT=${OUT:-docs/benchmarks.md}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p motcua -p motcua-bench-ceiling
bin="$target/release/motcua"
ceiling_bin="$target/release/motcua-bench-ceiling"

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 bench/gen_catalogue.py "$N" "$work/catalogue.json" >/dev/null
db="sqlite://$work/motcua.db"
"$bin" catalogue import "$work/catalogue.json" --database-url "$db" >/dev/null

wait_ready() {
  for _ in $(seq 1 200); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "server at $1 did not become ready" >&2; return 1
}

# cold start: from exec to the first ready answer, catalogue of N procedures loaded
start=$(date +%s%N)
MOTCUA_SEED_DEMO=false MOTCUA_FILES_DIR="$work/files" MOTCUA_LOG_FILTER=warn \
  "$bin" serve --database-url "$db" --listen "127.0.0.1:$PORT" >"$work/serve.log" 2>&1 &
pids+=($!); server=$!
wait_ready "http://127.0.0.1:$PORT/readyz"
cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))

"$ceiling_bin" "127.0.0.1:$CEILING_PORT" &
pids+=($!)
wait_ready "http://127.0.0.1:$CEILING_PORT/"

# wrk → "rps p50_ms p99_ms"
measure() {
  local out rps p50 p99
  # as a browser: pages count their visitor (the footer's counters), as they do for readers
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36" "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  [ -z "$non2xx" ] || { echo "non-2xx answers for $1: $non2xx" >&2; exit 1; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print v }'; }

base="http://127.0.0.1:$PORT"
read -r c_rps c_p50 c_p99 < <(measure "http://127.0.0.1:$CEILING_PORT/")
rows=()
for spec in "Home page|/" \
            "Procedure page|/thu-tuc/1.001193" \
            "Filtered list|/thu-tuc?linh_vuc=HOTICH&muc_do=4&trang=2" \
            "Search, no diacritics|/thu-tuc?q=cap+giay+phep+kinh+doanh" \
            "Search, one typo|/thu-tuc?q=giay+phep+hoat+dnog" \
            "API: one procedure (JSON)|/api/v1/procedures/1.001193" \
            "API: procedures of a field (JSON)|/api/v1/procedures?field=HOTICH&per_page=20"; do
  name=${spec%%|*}; path=${spec#*|}
  read -r rps p50 p99 < <(measure "$base$path")
  ratio=$(awk -v a="$rps" -v b="$c_rps" 'BEGIN { printf "%.0f %%", 100*a/b }')
  rows+=("| $name | \`$path\` | $rps | $ratio | $p50 | $p99 |")
done
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")

# this section replaces the file's first one; the other benchmarks' sections (appended by their scripts) stay
rest=$(mktemp)
if [ -f "$OUT" ]; then awk 'found || /^## / {found=1; print}' "$OUT" >"$rest"; fi
{
  echo "# Benchmarks"
  echo
  echo "Measured by \`bash bench/catalogue.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)),"
  echo "release build, SQLite, catalogue of $N procedures, wrk with $THREADS threads and $CONNECTIONS connections for ${DURATION} s per"
  echo "row on loopback. wrk and the server share the same $(nproc) cores, so absolute numbers are low; the ratio to the ceiling"
  echo "server (a trivial axum handler measured in the same run) is what to compare between runs."
  echo
  echo "| Work | Path | Requests/s | Of ceiling | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|"
  echo "| Ceiling (trivial axum handler) | \`/\` | $c_rps | 100 % | $c_p50 | $c_p99 |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- Cold start with $N procedures (exec to first ready answer): **${cold_ms} ms** (target ≤ 2,000 ms)."
  echo "- Peak resident memory of the server after the runs: **$((rss_kib / 1024)) MiB** (target ≤ 150 MiB)."
  echo
  echo "Targets (architecture.md §7): catalogue pages ≥ 50 % of the ceiling and p99 ≤ 10 ms at 64 connections;"
  echo "search ≥ 30 % of the ceiling and p99 ≤ 15 ms."
  if [ -s "$rest" ]; then echo; cat "$rest"; fi
} >"$OUT.new"
mv "$OUT.new" "$OUT"
rm -f "$rest"
sed -n '1,/^## /p' "$OUT"
