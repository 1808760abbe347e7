#!/usr/bin/env bash
# Statistics, the 766 index and an article at province scale (issue 16): 1,000,000 dossiers on PostgreSQL over the
# last twelve months and 50 agencies (90 % approved, a fifth of those rated), their months recounted by the
# worker of a running `motcua serve` (ADR 0009), then `/thong-ke`, `/chi-so-766`, an article and the home page
# under wrk next to the ceiling server measured in the same run. Also the direct count of one month (what the
# pages would cost without the kept figures), timed with psql.
#
#   bash bench/statistics.sh                  # appends to docs/benchmarks.md
#   N=1000000 PG=postgres://postgres@127.0.0.1:5432/postgres DURATION=10 bash bench/statistics.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PORT=${PORT:-18081}
CEILING_PORT=${CEILING_PORT:-18098}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-docs/benchmarks.md}
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p motcua -p motcua-bench-ceiling -p motcua-bench-submission
bin="$target/release/motcua"
work=$(mktemp -d)
db=motcua_bench_statistics
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
# schema, one agency, the procedure and a citizen (and a few real submissions)
"$target/release/motcua-bench-submission" "$url" "$work/files" 10 1 >/dev/null

start=$(date +%s)
# bulk load without triggers (as a restore would), then the months marked exactly as migration 0029 marks the data
# a deployment already has: the worker of the server started below recounts them
psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
SET session_replication_role = replica;
INSERT INTO agencies (code, name, level, valid_from, updated_at)
  SELECT format('000.%s.00.H56', lpad(a::text, 2, '0')), 'Cơ quan ' || a, 'commune', DATE '2020-01-01', now()
  FROM generate_series(10, 59) a ON CONFLICT DO NOTHING;
INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, status,
                      applicant_name, created_at, updated_at, due_at, search_text)
  SELECT md5(g::text)::uuid, 'BENCH-' || g, format('000.%s.00.H56', 10 + g % 50), '1.001193', 1, 'mac-dinh',
         (ARRAY['online', 'in_person', 'post'])[1 + g % 3],
         CASE WHEN g % 10 = 0 THEN 'processing' ELSE 'result_delivered' END,
         'Người nộp ' || g,
         now() - (g % 525600) * interval '1 minute',
         now() - (g % 525600) * interval '1 minute',
         now() - (g % 525600) * interval '1 minute' + interval '5 days',
         'bench-' || g
  FROM generate_series(1, $N) g;
-- approved three or seven days after submission (on time or late against the five days)
INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, hash)
  SELECT md5('e' || g::text)::uuid, md5(g::text)::uuid, 2,
         now() - (g % 525600) * interval '1 minute' + CASE WHEN g % 7 = 0 THEN interval '7 days' ELSE interval '3 days' END,
         'bench', 'processing', 'processed', 'bench'
  FROM generate_series(1, $N) g WHERE g % 10 <> 0;
INSERT INTO ratings (dossier_id, agency_code, level, rated_at)
  SELECT md5(g::text)::uuid, format('000.%s.00.H56', 10 + g % 50), 1 + g % 5,
         now() - (g % 525600) * interval '1 minute' + interval '4 days'
  FROM generate_series(1, $N) g WHERE g % 5 = 1;
-- an article, approved, for the article page
INSERT INTO articles (id, slug, status, version, live_version, publish_at, created_by, created_at, updated_at,
                      approved_by, approved_at)
  SELECT md5('bai')::uuid, 'huong-dan-nop-ho-so', 'approved', 1, 1, now() - interval '1 day', id, now(), now(), id, now()
  FROM accounts LIMIT 1;
INSERT INTO article_versions (article_id, version, category, title, summary, body, procedures, saved_by, saved_at)
  SELECT md5('bai')::uuid, 1, 'huong-dan', 'Hướng dẫn nộp hồ sơ trực tuyến', 'Các bước nộp hồ sơ.',
         repeat('<p>Chuẩn bị giấy tờ, điền tờ khai, đính kèm tệp và nộp hồ sơ.</p>', 40), '1.001193', id, now()
  FROM accounts LIMIT 1;
SET session_replication_role = origin;
INSERT INTO stats_dirty (agency_code, month)
SELECT agency_code, stats_month(created_at) FROM dossiers
UNION SELECT d.agency_code, stats_month(e.at) FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
      WHERE e.to_status = 'processed'
UNION SELECT agency_code, stats_month(rated_at) FROM ratings
ON CONFLICT DO NOTHING;
ANALYZE;
SQL
generated=$(( $(date +%s) - start ))
marked=$(psql "$url" -Atc "SELECT count(*) FROM stats_dirty")

month=$(TZ=Asia/Ho_Chi_Minh date +%m/%Y)
first=$(TZ=Asia/Ho_Chi_Minh date +%Y-%m-01)
# the direct count of one month (the submitted-by-channel and approval queries of a direct count), for comparison
direct_ms=$(psql "$url" -At <<SQL | awk '/^Time:/ {s += $2} END {printf "%.0f", s}'
\timing on
SELECT agency_code, channel, COUNT(*) FROM dossiers
 WHERE created_at >= TIMESTAMPTZ '$first 00:00+07' AND created_at < TIMESTAMPTZ '$first 00:00+07' + interval '1 month'
 GROUP BY agency_code, channel;
SELECT d.agency_code, COUNT(*) FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id
 WHERE e.to_status = 'processed' AND e.at >= TIMESTAMPTZ '$first 00:00+07'
   AND e.at < TIMESTAMPTZ '$first 00:00+07' + interval '1 month' GROUP BY d.agency_code;
SQL
)

wait_ready() {
  for _ in $(seq 1 400); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "server at $1 did not become ready" >&2; return 1
}
MOTCUA_SEED_DEMO=false MOTCUA_FILES_DIR="$work/files" MOTCUA_LOG_FILTER=warn \
  "$bin" serve --database-url "$url" --listen "127.0.0.1:$PORT" >"$work/serve.log" 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$PORT/readyz"
# the worker recounts the marked months (200 a round, a round every few seconds)
start=$(date +%s)
until [ "$(psql "$url" -Atc "SELECT count(*) FROM stats_dirty")" = 0 ]; do
  [ $(( $(date +%s) - start )) -lt 600 ] || { echo "months not recounted in 10 minutes" >&2; exit 1; }
  sleep 1
done
recounted=$(( $(date +%s) - start ))

"$target/release/motcua-bench-ceiling" "127.0.0.1:$CEILING_PORT" &
pids+=($!)
wait_ready "http://127.0.0.1:$CEILING_PORT/"

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v/1000; else if (v ~ /ms$/) printf "%.2f", v+0; else if (v ~ /s$/) printf "%.2f", v*1000; else print v }'; }
measure() { # url → "rps p50_ms p99_ms"
  local out rps p50 p99 non2xx
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
    -H "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36" "$1")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$out")
  [ -z "$non2xx" ] || { echo "non-2xx answers for $1: $non2xx" >&2; exit 1; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99")"
}
base="http://127.0.0.1:$PORT"
enc=${month/\//%2F}
read -r c_rps c_p50 c_p99 < <(measure "http://127.0.0.1:$CEILING_PORT/")
rows=()
for spec in "Statistics, this month|/thong-ke?thang=$enc|p99 ≤ 200 ms" \
            "Decision 766 ranking, this month|/chi-so-766?thang=$enc|p99 ≤ 200 ms" \
            "Article page (cached)|/tin-tuc/huong-dan-nop-ho-so|≥ 50 % of ceiling" \
            "Home page with counters and latest articles|/|≥ 50 % of ceiling" \
            "The page frame alone (the readiness probe: every layer, no work)|/healthz|"; do
  IFS='|' read -r name path goal <<<"$spec"
  read -r rps p50 p99 < <(measure "$base$path")
  ratio=$(awk -v a="$rps" -v b="$c_rps" 'BEGIN { printf "%.0f %%", 100*a/b }')
  rows+=("| $name | \`$path\` | $rps | $ratio | $p50 | $p99 | $goal |")
done

{
  echo
  echo "## Statistics, the 766 index and articles with $N dossiers on PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`N=$N DURATION=$DURATION bash bench/statistics.sh\`: $N dossiers over 50 agencies and twelve months (90 % approved,"
  echo "a fifth of those rated) loaded in ${generated} s without triggers, then $marked agency-months marked as migration 0029"
  echo "marks existing data, which the worker of the running server recounted in ${recounted} s (ADR 0009). wrk with $THREADS threads and $CONNECTIONS connections for"
  echo "$DURATION s per row, on the same $(nproc) cores as the server and PostgreSQL."
  echo
  echo "| Page | Path | Requests/s | Of ceiling | p50 ms | p99 ms | Target |"
  echo "|---|---|---|---|---|---|---|"
  echo "| Ceiling (trivial axum handler) | \`/\` | $c_rps | 100 % | $c_p50 | $c_p99 | |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- The same month counted directly (two of the nine queries of a direct count, by psql): **${direct_ms} ms** —"
  echo "  what every view of the page would cost without the kept figures."
} | tee -a "$OUT"
