#!/usr/bin/env bash
# Comparison benchmark: GET /models/compare over COMPARE_INPUTS inputs (default 1,000,000), each classified by
# mnist 1 and mnist 2 (one prediction each, 2M predictions, one pair per input), 3% with a true label, over the
# last 30 days, in a private PostgreSQL 15. Prints p50/p99 over 200 sequential requests (hey -c 1) of the
# comparison over everything, the last hour, 3 days not on hour edges, and a page of disagreements half-way
# down the cursor.
#
#   bash bench/compare.sh                         # about 10-20 minutes on 2 cores, most of it seeding
#   COMPARE_INPUTS=100000 bash bench/compare.sh   # a quick run
#
# Needs: .NET SDK, PostgreSQL 15 server binaries, psql, hey, python3. Durability as in production (fsync on).
set -euo pipefail
cd "$(dirname "$0")/.."

total=${COMPARE_INPUTS:-1000000}
chunk=${COMPARE_CHUNK:-250000}
requests=${COMPARE_REQUESTS:-200}
for tool in hey psql python3 bc; do command -v $tool >/dev/null || { echo "need $tool"; exit 1; }; done

source bench/common.sh compare

build_release

echo "== starting PostgreSQL"
start_postgres -c max_connections=100 -c shared_buffers=512MB -c max_wal_size=8GB

echo "== seeding $total inputs with two predictions each, in chunks of $chunk (the triggers pair and count them as they go)"
seed_in_chunks bench/compare-seed.sql "$total" "$chunk"
printf 'seeding: %.0f s, VACUUM ANALYZE: %.0f s; %s predictions, %s pairs (%s disagreeing, %s labelled), %s rows of prediction_pair_counts, database %s\n' \
  "$seed_seconds" "$vacuum_seconds" \
  "$(sql -Atc 'SELECT count(*) FROM predictions')" "$(sql -Atc 'SELECT count(*) FROM prediction_pairs')" \
  "$(sql -Atc 'SELECT count(*) FROM prediction_pairs WHERE a_class <> b_class')" \
  "$(sql -Atc 'SELECT count(*) FROM prediction_pairs WHERE true_label IS NOT NULL')" \
  "$(sql -Atc 'SELECT count(*) FROM prediction_pair_counts')" \
  "$(sql -Atc 'SELECT pg_size_pretty(pg_database_size(current_database()))')"

echo "== starting the service"
start_service

# A cursor half-way down the disagreements, as DisagreementCursor makes it (fingerprint of mnist:1, mnist:2, no range).
deep=$(sql -Atc "SELECT (extract(epoch FROM input_created_at) * 1000000)::bigint, input_id, a_id, b_id FROM prediction_pairs
                 WHERE a_name = 'mnist' AND b_name = 'mnist' AND a_class <> b_class
                 ORDER BY input_created_at DESC, input_id DESC, a_id DESC, b_id DESC OFFSET (SELECT count(*) / 2 FROM prediction_pairs WHERE a_class <> b_class) LIMIT 1")
cursor=$(python3 - "$deep" <<'PY'
import base64, hashlib, struct, sys
micros, input_id, a_id, b_id = map(int, sys.argv[1].split('|'))
scope = struct.unpack('>I', hashlib.sha256('\x1f'.join(['mnist', '1', 'mnist', '2', '\x00', '\x00']).encode()).digest()[:4])[0]
ticks = 621355968000000000 + micros * 10
print(base64.b64encode(struct.pack('>BqqqqI', 1, ticks, input_id, a_id, b_id, scope)).decode().rstrip('=').replace('+', '-').replace('/', '_'))
PY
)
name_width=48

echo "load average before measuring: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q="/models/compare?baseline=mnist:1&candidate=mnist:2"
curl -fs "$base$q&limit=2" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("whole range:", d["inputs"], "inputs,", d["agreed"], "agreed, accuracy", d["accuracy"])'
printf '\n%-48s %9s %9s %9s\n' "GET /models/compare, $requests sequential requests" "p50 ms" "p99 ms" "non-200"
measure "everything (mnist:1 vs mnist:2, 50 disagreements)" "$q"
measure "everything, sides swapped (mnist:2 vs mnist:1)" "/models/compare?baseline=mnist:2&candidate=mnist:1"
measure "last hour" "$q&from=$(iso '-1 hour')"
measure "3 days not on hour edges" "$q&from=$(iso '-5 days -17 minutes')&to=$(iso '-2 days -43 minutes')"
measure "disagreements half-way down the cursor" "$q&cursor=$cursor"
