#!/usr/bin/env bash
# Search held against tantivy: the same 10,000-procedure catalogue (gen_catalogue.py) and the same citizens' queries
# (crates/search/tests/queries.tsv) in motcua-search and in tantivy, microseconds per query and recall@3 side by side
# in one run. tantivy is built only here (bench/search is its own workspace).
#
#   bash bench/search.sh                 # writes docs/search-benchmark.md
#   N=10000 ROUNDS=20 DETAIL=1 bash bench/search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
ROUNDS=${ROUNDS:-20}
OUT=${OUT:-docs/search-benchmark.md}
target=$(realpath -m "${CARGO_TARGET_DIR:-target}/bench-search")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/gen_catalogue.py "$N" "$work/catalogue.json" >/dev/null
(cd bench/search && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
table=$("$target/release/motcua-bench-search" "$work/catalogue.json" crates/search/tests/queries.tsv "$ROUNDS")
{
  echo "# Search against tantivy"
  echo
  echo "Measured by \`bash bench/search.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores: one thread, in memory, the"
  echo "catalogue of \`bench/gen_catalogue.py $N\` (the demo's procedures and generated ones), the queries of"
  echo "\`crates/search/tests/queries.tsv\` (with and without diacritics, typos, everyday names, extra words), each run"
  echo "$ROUNDS times. recall@3: the expected procedure among the first three."
  echo
  echo "$table"
} >"$OUT"
cat "$OUT"
