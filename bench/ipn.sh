#!/usr/bin/env bash
# Payment notification benchmark (issue 13): VNPay's signed IPN for COUNT dossiers owing a fee, sent through the
# portal's own router (signature, decision table, settlement with the dossier's return to processing) with
# CONCURRENCY clients on PostgreSQL, next to pgbench running the same reads and writes (target: >= 60 %).
#
#   bash bench/ipn.sh                      # appends to docs/benchmarks.md
#   COUNT=2000 CONCURRENCY=16 PG=postgres://postgres@127.0.0.1:5432/postgres bash bench/ipn.sh
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
db=motcua_bench_ipn
cleanup() { rm -rf "$work"; psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql "$PG" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
psql "$PG" -qc "CREATE DATABASE $db" >/dev/null
pg_url="${PG%/*}/$db"

read -r rate p50 p99 < <("$bin" --ipn "$pg_url" "$work/files" "$COUNT" "$CONCURRENCY")

# the same work in SQL, on the dossiers just settled: the handler's reads (payment by reference, dossier, fees,
# history, the calendar, steps, procedure version, workflow, officers for the step's mail, the applicant's
# details), then one transaction settling the payment, paying the fee, moving the dossier, appending its history
# event, opening its first step and queueing the mail
psql "$pg_url" -qc "CREATE TABLE bench_refs AS SELECT row_number() OVER (ORDER BY created_at) AS n, txn_ref, dossier_id, charge_id FROM payments"
cat > "$work/ipn.sql" <<SQL
\set n random(1, $COUNT)
SELECT txn_ref, dossier_id, charge_id FROM bench_refs WHERE n = :n \gset
SELECT id, charge_id, dossier_id, provider, txn_ref, amount, status, created_at, created_by, settled_at, gateway_ref, bank_code, flag FROM payments WHERE txn_ref = :txn_ref;
SELECT * FROM dossiers WHERE id = :dossier_id::uuid;
SELECT * FROM charges WHERE dossier_id = :dossier_id::uuid ORDER BY set_at, id;
SELECT * FROM dossier_events WHERE dossier_id = :dossier_id::uuid ORDER BY seq;
SELECT day, kind, name, proposed FROM calendar_days ORDER BY day;
SELECT * FROM dossier_steps WHERE dossier_id = :dossier_id::uuid ORDER BY seq;
SELECT document FROM procedure_versions WHERE procedure_code = '1.001193' AND version = 1;
SELECT steps FROM workflows WHERE procedure_code = '1.001193' AND case_key = 'mac-dinh' ORDER BY version DESC LIMIT 1;
SELECT id FROM accounts WHERE kind = 'officer';
SELECT account_id, applicant_phone, applicant_personal_id, on_behalf, form_data FROM dossiers WHERE id = :dossier_id::uuid;
BEGIN;
UPDATE payments SET status = 'paid', settled_at = now(), gateway_ref = '14226112', bank_code = 'NCB' WHERE txn_ref = :txn_ref;
UPDATE charges SET paid_at = now() WHERE id = :charge_id::uuid;
UPDATE dossiers SET status = 'processing', updated_at = now(), due_at = COALESCE(due_at + interval '1 minute', due_at) WHERE id = :dossier_id::uuid;
SELECT hash, seq FROM dossier_events WHERE dossier_id = :dossier_id::uuid ORDER BY seq DESC LIMIT 1;
INSERT INTO dossier_events (id, dossier_id, seq, at, actor, from_status, to_status, reason, hash)
  SELECT gen_random_uuid(), :dossier_id::uuid, COALESCE(MAX(seq), 0) + 1, now(), 'bench', 'awaiting_financial_obligation',
         'processing', 'Đã nộp 50.000 đ qua VNPay', repeat('b', 64)
  FROM dossier_events WHERE dossier_id = :dossier_id::uuid
  ON CONFLICT DO NOTHING;
SELECT dossier_id FROM payments WHERE txn_ref = :txn_ref;
SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS INTEGER) FROM dossier_steps WHERE dossier_id = :dossier_id::uuid;
INSERT INTO dossier_steps (dossier_id, seq, step_index, workflow_version, name, agency_code, role, quota_hours,
  started_at, started_by, due_at)
  SELECT :dossier_id::uuid, COALESCE(MAX(seq), 0) + 1, 0, 0, 'Chuyên viên xử lý', '000.00.06.H56', 'specialist', 28,
         now(), 'bench', now() + interval '4 days'
  FROM dossier_steps WHERE dossier_id = :dossier_id::uuid
  ON CONFLICT DO NOTHING;
SELECT code FROM dossiers WHERE id = :dossier_id::uuid;
INSERT INTO outbox (id, kind, payload, run_at, created_at)
  VALUES (gen_random_uuid(), 'email', '{"to": "bench@example.vn", "subject": "x", "body": "y"}', now(), now());
COMMIT;
SQL
pgbench_tps=$(pgbench -n -M prepared -f "$work/ipn.sql" -c "$CONCURRENCY" -j 2 -t $((COUNT / CONCURRENCY)) "$pg_url" 2>/dev/null \
  | awk '/^tps = / {print $3; exit}')
ratio=$(awk -v a="$rate" -v b="$pgbench_tps" 'BEGIN { printf "%.0f", 100 * a / b }')

{
  echo
  echo "## Payment notifications (IPN) on PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "\`COUNT=$COUNT CONCURRENCY=$CONCURRENCY bash bench/ipn.sh\`: each dossier owes a fee with a pending payment;"
  echo "VNPay's signed notification goes through the portal's router in-process (signature, decision table, one"
  echo "settlement transaction with the dossier's return to processing, its first step and the mail). pgbench runs the"
  echo "handler's reads and the settlement's writes on the same rows."
  echo
  echo "| Path | Notifications/s | p50 ms | p99 ms |"
  echo "|---|---|---|---|"
  echo "| motcua, \`/thanh-toan/thong-bao\` | $rate | $p50 | $p99 |"
  echo "| pgbench, same reads and writes (ceiling) | $pgbench_tps | | |"
  echo
  echo "Notifications reach **$ratio %** of the pgbench ceiling (target ≥ 60 %)."
} | tee -a "$OUT"
