#!/usr/bin/env bash
# The agencies' API at province scale (issue 17): 1,000,000 dossiers on PostgreSQL over 50 agencies and twelve
# months, then the list a synchronising system reads — an agency's dossiers by change, the first page and the
# changes of the last hour — with an API client's key (every call checked, counted against the client's limit and
# written to the call log), under wrk next to the ceiling server measured in the same run.
#
#   bash bench/office_api.sh                  # appends to docs/benchmarks.md
#   N=1000000 PG=postgres://postgres@127.0.0.1:5432/postgres DURATION=10 bash bench/office_api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18082}
CEILING_PORT=${CEILING_PORT:-18099}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-docs/benchmarks.md}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p motcua -p motcua-bench-ceiling -p motcua-bench-submission
bin="$(realpath "$target")/release/motcua"
work=$(mktemp -d)
db=motcua_bench_office
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
  psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
url="${PG%/*}/$db"
# schema, one agency, the procedure and a citizen
"$target/release/motcua-bench-submission" "$url" "$work/files" 10 1 >/dev/null

start=$(date +%s)
psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
SET session_replication_role = replica;
INSERT INTO agencies (code, name, level, valid_from, updated_at)
  SELECT format('000.%s.00.H56', lpad(a::text, 2, '0')), 'Cơ quan ' || a, 'commune', DATE '2020-01-01', now()
  FROM generate_series(10, 59) a ON CONFLICT DO NOTHING;
INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, status,
                      applicant_name, created_at, updated_at, due_at, search_text)
  SELECT md5(g::text)::uuid,
         format('000.%s.00.H56-%s-%s', 10 + g % 50,
                to_char((now() - (g % 525600) * interval '1 minute') AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD'),
                1000000 + g),
         format('000.%s.00.H56', 10 + g % 50), '1.001193', 1, 'mac-dinh',
         (ARRAY['online', 'in_person', 'post'])[1 + g % 3],
         CASE WHEN g % 10 = 0 THEN 'processing' ELSE 'result_delivered' END,
         'Người nộp ' || g,
         now() - (g % 525600) * interval '1 minute',
         now() - (g % 525600) * interval '1 minute',
         now() - (g % 525600) * interval '1 minute' + interval '5 days',
         'bench-' || g
  FROM generate_series(1, $N) g;
SET session_replication_role = origin;
ANALYZE;
SQL
generated=$(( $(date +%s) - start ))

wait_ready() {
  for _ in $(seq 1 400); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "server at $1 did not become ready" >&2; return 1
}
MOTCUA_SEED_DEMO=false MOTCUA_FILES_DIR="$work/files" MOTCUA_LOG_FILTER=warn \
  "$bin" serve --database-url "$url" --listen "127.0.0.1:$PORT" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$PORT/readyz"
"$target/release/motcua-bench-ceiling" "127.0.0.1:$CEILING_PORT" &
pids+=($!)
wait_ready "http://127.0.0.1:$CEILING_PORT/"

# a client of its own for each row (each has its limit a minute), registered as an operator would
key_for() {
  (cd "$work" && MOTCUA_LOG_FILTER=warn "$bin" api-client add --name "Bench $1" --agency 000.10.00.H56 \
    --scope dossiers:read --per-minute 60000 --database-url "$url" 2>/dev/null)
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print v }'; }
measure() { # url [key] → "rps p50_ms p99_ms"
  local out rps p50 p99 non2xx auth=()
  [ -z "${2:-}" ] || auth=(-H "Authorization: Bearer $2")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${auth[@]}" "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  [ -z "$non2xx" ] || { echo "non-2xx answers for $1: $non2xx" >&2; exit 1; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
base="http://127.0.0.1:$PORT"
hour_ago=$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)
one=$(psql "$url" -Atc "SELECT code FROM dossiers WHERE id = md5('50')::uuid")
read -r c_rps c_p50 c_p99 < <(measure "http://127.0.0.1:$CEILING_PORT/")
rows=()
n=0
for spec in "An agency's dossiers by change, first page of 50|/api/v1/office/dossiers?agency=000.10.00.H56&limit=50" \
            "The same, changed in the last hour|/api/v1/office/dossiers?agency=000.10.00.H56&updated_since=$hour_ago" \
            "One dossier with its history|/api/v1/office/dossiers/$one"; do
  IFS='|' read -r name path <<<"$spec"
  n=$((n + 1))
  key=$(key_for "$n")
  read -r rps p50 p99 < <(measure "$base$path" "$key")
  ratio=$(awk -v a="$rps" -v b="$c_rps" 'BEGIN { printf "%.0f %%", 100*a/b }')
  shown=${path%%&updated_since=*}; shown=${shown/$one/\{code\}}
  rows+=("| $name | \`$shown\` | $rps | $ratio | $p50 | $p99 |")
done
calls=$(psql "$url" -Atc "SELECT count(*) FROM api_calls")

{
  echo
  echo "## The agencies' API with $N dossiers on PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`N=$N DURATION=$DURATION bash bench/office_api.sh\`: $N dossiers over 50 agencies and twelve months (20,000 at the"
  echo "agency asked) loaded in ${generated} s; each row with its own API client's key, so every request is a key lookup, a"
  echo "count against the client's limit and a row of the call log ($calls calls logged in all). wrk with $THREADS threads and"
  echo "$CONNECTIONS connections for $DURATION s per row, on the same $(nproc) cores as the server and PostgreSQL."
  echo
  echo "| Request | Path | Requests/s | Of ceiling | p50 ms | p99 ms |"
  echo "|---|---|---|---|---|---|"
  echo "| Ceiling (trivial axum handler) | \`/\` | $c_rps | 100 % | $c_p50 | $c_p99 |"
  printf '%s\n' "${rows[@]}"
} | tee -a "$OUT"
