#!/usr/bin/env bash
# Officer inbox benchmark (issue 6): 1,000,000 dossiers on PostgreSQL (90 % delivered, the rest spread over the
# working statuses, 50 agencies), then the exact queries of the back office — an agency's inbox page (six
# statuses, soonest due first, 100 rows), its text search (first page), its open workflow steps and its reception
# queue — run by pgbench with 8 clients; p50 and p99 from pgbench's per-transaction log (target in
# architecture.md §7: p99 <= 50 ms).
#
#   bash bench/inbox.sh                  # appends to docs/benchmarks.md
#   N=1000000 PG=postgres://postgres@127.0.0.1:5432/postgres DURATION=10 bash bench/inbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
DURATION=${DURATION:-10}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-docs/benchmarks.md}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p motcua-bench-submission
work=$(mktemp -d)
db=motcua_bench_inbox
cleanup() { rm -rf "$work"; psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
url="${PG%/*}/$db"
# schema, one agency, the procedure and a citizen (and a few real submissions)
"$target/release/motcua-bench-submission" "$url" "$work/files" 10 1 >/dev/null

start=$(date +%s)
psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO agencies (code, name, level, valid_from, updated_at)
  SELECT format('000.%s.00.H56', lpad(a::text, 2, '0')), 'Cơ quan ' || a, 'commune', DATE '2020-01-01', now()
  FROM generate_series(10, 59) a ON CONFLICT DO NOTHING;
INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, status,
                      applicant_name, created_at, updated_at, due_at, search_text)
  SELECT md5(g::text)::uuid,
         'BENCH-' || g,
         format('000.%s.00.H56', 10 + g % 50),
         '1.001193', 1, 'mac-dinh',
         (ARRAY['online', 'in_person', 'post'])[1 + g % 3],
         CASE WHEN (g / 50) % 10 = 0
              THEN (ARRAY['submitted', 'received', 'processing', 'supplement_requested', 'processed',
                          'awaiting_financial_obligation', 'withdrawal_requested'])[1 + (g / 500) % 7]
              ELSE 'result_delivered' END,
         'Người nộp ' || g,
         now() - (g % 525600) * interval '1 minute',
         now() - (g % 525600) * interval '1 minute',
         CASE WHEN (g / 50) % 10 = 0 AND (g / 500) % 7 = 0 THEN NULL
              ELSE now() - (g % 525600) * interval '1 minute' + interval '5 days' END,
         'bench-' || g || ' nguoi nop ' || g
  FROM generate_series(1, $N) g;
-- the open workflow step of every dossier in processing, at its own agency (the inbox shows it)
INSERT INTO dossier_steps (dossier_id, seq, step_index, workflow_version, name, agency_code, role, quota_hours,
                           started_at, started_by, due_at)
  SELECT id, 1, 0, 0, 'Thẩm định, xử lý hồ sơ', agency_code, 'specialist', 28, updated_at, 'bench',
         COALESCE(due_at, created_at)
  FROM dossiers WHERE status = 'processing';
ANALYZE dossiers;
ANALYZE dossier_steps;
SQL
generated=$(( $(date +%s) - start ))

cat > "$work/inbox.sql" <<'SQL'
\set a random(10, 59)
SELECT id, code, agency_code, procedure_code, procedure_version, case_key, channel, status, applicant_name,
       created_at, updated_at, due_at
  FROM dossiers
 WHERE status IN ('received', 'processing', 'supplement_requested', 'awaiting_financial_obligation',
                  'withdrawal_requested', 'processed')
   AND agency_code IN ('000.' || :a || '.00.H56')
 ORDER BY COALESCE(due_at, created_at), created_at, id LIMIT 101 OFFSET 0;
SQL
cat > "$work/search.sql" <<'SQL'
\set a random(10, 59)
\set n random(1, 9999)
SELECT id, code, agency_code, procedure_code, procedure_version, case_key, channel, status, applicant_name,
       created_at, updated_at, due_at
  FROM dossiers
 WHERE status IN ('received', 'processing', 'supplement_requested', 'awaiting_financial_obligation',
                  'withdrawal_requested', 'processed')
   AND agency_code IN ('000.' || :a || '.00.H56')
   AND (search_text LIKE '%nop ' || :n || '%' ESCAPE '\' OR procedure_code IN ('9.999999'))
 ORDER BY COALESCE(due_at, created_at), created_at, id LIMIT 101 OFFSET 0;
SQL
cat > "$work/queue.sql" <<'SQL'
\set a random(10, 59)
SELECT id, code, agency_code, procedure_code, procedure_version, case_key, channel, status, applicant_name,
       created_at, updated_at, due_at
  FROM dossiers
 WHERE agency_code IN ('000.' || :a || '.00.H56') AND status IN ('submitted')
 ORDER BY COALESCE(due_at, created_at), created_at LIMIT 500;
SQL

cat > "$work/steps.sql" <<'SQL'
\set a random(10, 59)
SELECT dossier_id, seq, step_index, workflow_version, name, agency_code, role, quota_hours, assignee, assignee_name,
       started_at, started_by, due_at, ended_at, ended_by, outcome, note
  FROM dossier_steps
 WHERE ended_at IS NULL AND agency_code IN ('000.' || :a || '.00.H56')
 ORDER BY due_at LIMIT 2000;
SQL

measure() { # script → "tps p50_ms p99_ms rows"
  local name=$1
  (cd "$work" && pgbench -n -M prepared -f "$name.sql" -c 8 -j 2 -T "$DURATION" -l --log-prefix="$name" "$url" >"$name.out" 2>&1)
  local tps
  tps=$(awk '/^tps = / {printf "%.0f", $3; exit}' "$work/$name.out")
  cat "$work/$name".* 2>/dev/null | awk '{print $3}' | sort -n > "$work/$name.lat"
  local count
  count=$(wc -l < "$work/$name.lat")
  local p50 p99
  p50=$(awk -v n="$count" 'NR == int(n * 0.50) + 1 {printf "%.1f", $1 / 1000; exit}' "$work/$name.lat")
  p99=$(awk -v n="$count" 'NR == int(n * 0.99) + 1 {printf "%.1f", $1 / 1000; exit}' "$work/$name.lat")
  echo "$tps $p50 $p99"
}
read -r inbox_tps inbox_p50 inbox_p99 < <(measure inbox)
read -r search_tps search_p50 search_p99 < <(measure search)
read -r queue_tps queue_p50 queue_p99 < <(measure queue)
read -r steps_tps steps_p50 steps_p99 < <(measure steps)
rows=$(psql "$url" -Atc "SELECT count(*) FROM dossiers WHERE agency_code = '000.10.00.H56' AND status IN ('received','processing','supplement_requested','awaiting_financial_obligation','withdrawal_requested','processed')")

{
  echo
  echo "## Officer inbox with $N dossiers on PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`N=$N DURATION=$DURATION bash bench/inbox.sh\`: $N dossiers over 50 agencies (90 % delivered) generated in"
  echo "${generated} s; pgbench runs the back office's own queries with 8 clients for $DURATION s each. An agency's inbox"
  echo "holds about $rows dossiers in working statuses; the inbox shows 100 per page, a text search filters in the query."
  echo
  echo "| Query | Queries/s | p50 ms | p99 ms | Target |"
  echo "|---|---|---|---|---|"
  echo "| Inbox page: six working statuses, soonest due first, 100 rows (+1 to know there is a next page) | $inbox_tps | $inbox_p50 | $inbox_p99 | p99 ≤ 50 ms |"
  echo "| Inbox text search: applicant or code folded without diacritics (\`search_text LIKE\`), first page | $search_tps | $search_p50 | $search_p99 | p99 ≤ 50 ms |"
  echo "| Reception queue: submitted online, oldest first, 500 rows | $queue_tps | $queue_p50 | $queue_p99 | p99 ≤ 50 ms |"
  echo "| Open workflow steps of an agency (shown in the inbox), 2,000 rows | $steps_tps | $steps_p50 | $steps_p99 | p99 ≤ 50 ms |"
} | tee -a "$OUT"
