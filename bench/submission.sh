#!/usr/bin/env bash
# Online submission benchmark (issue 5): submissions with one 200 KB attachment per second through the store on
# SQLite and on PostgreSQL, next to pgbench running a transaction with the same inserts on the same PostgreSQL,
# measured in the same run (target: PostgreSQL submissions >= 60 % of pgbench, architecture.md §7).
#
#   bash bench/submission.sh                     # appends to docs/benchmarks.md
#   COUNT=2000 CONCURRENCY=16 PG=postgres://postgres@127.0.0.1:5432/postgres bash bench/submission.sh
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-2000}
CONCURRENCY=${CONCURRENCY:-16}
PG=${PG:-postgres://postgres@127.0.0.1:5432/postgres}
OUT=${OUT:-docs/benchmarks.md}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p motcua-bench-submission
bin="$target/release/motcua-bench-submission"

work=$(mktemp -d)
db=motcua_bench_submission
cleanup() { rm -rf "$work"; psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
pg_url="${PG%/*}/$db"

read -r sqlite_rate sqlite_p50 sqlite_p99 < <("$bin" "sqlite://$work/bench.db" "$work/files-sqlite" "$COUNT" "$CONCURRENCY")
read -r pg_rate pg_p50 pg_p99 < <("$bin" "$pg_url" "$work/files-pg" "$COUNT" "$CONCURRENCY")

# the same writes as one submission, in SQL: draft; upload (after summing the draft's files); then the submit
# transaction (lock the draft, take a code, dossier, history event, claim draft and file, queue a mail)
account=$(psql "$pg_url" -Atc "SELECT id FROM accounts WHERE email = 'bench@example.vn'")
cat > "$work/submission.sql" <<SQL
\set n random(1, 9000000000000000000)
BEGIN;
INSERT INTO drafts (id, account_id, procedure_code, procedure_version, case_key, agency_code, answers, created_at, updated_at)
  VALUES (md5(:n::text || 'd')::uuid, '$account', '1.001193', 1, 'mac-dinh', '000.00.06.H56',
          '{"nguoi_nop_ho_ten": ["Nguyễn Văn An"], "noi_dung_de_nghi": ["Đăng ký khai sinh cho con"]}', now(), now());
COMMIT;
BEGIN;
SELECT 1 FROM drafts WHERE id = md5(:n::text || 'd')::uuid FOR UPDATE;
SELECT COALESCE(SUM(size), 0)::BIGINT FROM uploads WHERE draft_id = md5(:n::text || 'd')::uuid;
INSERT INTO uploads (id, account_id, draft_id, component, file_name, object_key, file_type, size, sha256, created_at)
  VALUES (md5(:n::text || 'u')::uuid, '$account', md5(:n::text || 'd')::uuid, 0, 'to-khai.pdf',
          'tep/bench/' || :n, 'application/pdf', 204800, repeat('0', 64), now());
COMMIT;
BEGIN;
SELECT id, dossier_id FROM drafts WHERE id = md5(:n::text || 'd')::uuid FOR UPDATE;
INSERT INTO code_counters (agency_code, day, last_number) VALUES ('000.00.06.H56', current_date, 1)
  ON CONFLICT (agency_code, day) DO UPDATE SET last_number = code_counters.last_number + 1 RETURNING last_number;
INSERT INTO dossiers (id, code, agency_code, procedure_code, procedure_version, case_key, channel, status, applicant_name,
  created_at, updated_at, account_id, applicant_phone, applicant_personal_id, on_behalf, form_data)
  VALUES (md5(:n::text || 'h')::uuid, 'pgbench-' || :n, '000.00.06.H56', '1.001193', 1, 'mac-dinh', 'online', 'submitted',
          'Nguyễn Văn An', now(), now(), '$account', '0912345678', '001099012345', false,
          '{"nguoi_nop_ho_ten": ["Nguyễn Văn An"], "noi_dung_de_nghi": ["Đăng ký khai sinh cho con"]}');
INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, hash)
  VALUES (md5(:n::text || 'e')::uuid, md5(:n::text || 'h')::uuid, 1, now(), '$account', 'draft', 'submitted', repeat('a', 64));
UPDATE drafts SET dossier_id = md5(:n::text || 'h')::uuid, updated_at = now() WHERE id = md5(:n::text || 'd')::uuid;
UPDATE uploads SET dossier_id = md5(:n::text || 'h')::uuid WHERE draft_id = md5(:n::text || 'd')::uuid;
INSERT INTO outbox (id, kind, payload, run_at, created_at)
  VALUES (md5(:n::text || 'o')::uuid, 'email', '{"to": "bench@example.vn", "subject": "x", "body": "y"}', now(), now());
SELECT * FROM dossiers WHERE id = md5(:n::text || 'h')::uuid;
COMMIT;
SQL
pgbench_tps=$(pgbench -n -M prepared -f "$work/submission.sql" -c "$CONCURRENCY" -j 2 -t $((COUNT / CONCURRENCY)) "$pg_url" 2>/dev/null \
  | awk '/^tps = / {print $3; exit}')
ratio=$(awk -v a="$pg_rate" -v b="$pgbench_tps" 'BEGIN { printf "%.0f", 100 * a / b }')

{
  echo
  echo "## Online submission with one 200 KB attachment ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`COUNT=$COUNT CONCURRENCY=$CONCURRENCY bash bench/submission.sh\`: each submission saves the draft, writes the"
  echo "200 KB file to the local file store and records it, then commits the submit transaction (code, dossier,"
  echo "history event, claimed file, outbox mail). pgbench runs the same statements (prepared) on the same PostgreSQL."
  echo
  echo "| Path | Submissions/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|"
  echo "| SQLite (WAL, synchronous=FULL) | $sqlite_rate | $sqlite_p50 | $sqlite_p99 |"
  echo "| PostgreSQL | $pg_rate | $pg_p50 | $pg_p99 |"
  echo "| pgbench, same statements (ceiling) | $pgbench_tps | | |"
  echo
  echo "PostgreSQL submissions reach **$ratio %** of the pgbench ceiling (target ≥ 60 %)."
} | tee -a "$OUT"
