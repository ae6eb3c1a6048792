#!/usr/bin/env bash
# Scale benchmark: read latencies over a large table, and POST latency while retention deletes 1M rows.
# Seeds SCALE_ROWS predictions (default 10,000,000, with tiny inputs) over the last 30 days into a private
# PostgreSQL 15, starts the service (Release) on it, and prints p50/p99 of list pages (plain, each filter,
# deep in the cursor), one prediction by id and statistics, each over 200 sequential requests (hey -c 1).
# Then POST /prediction p99 undisturbed and while DELETE /predictions?before= removes the oldest 1M rows.
#
#   bash bench/scale.sh                       # about 15-25 minutes on 2 cores, most of it seeding
#   SCALE_ROWS=1000000 bash bench/scale.sh    # a quicker run (retention then deletes 10% of the rows)
#
# Needs: .NET SDK, PostgreSQL 15 server binaries, psql, hey, python3. Durability as in production (fsync on).
set -euo pipefail
cd "$(dirname "$0")/.."

total=${SCALE_ROWS:-10000000}
chunk=${SCALE_CHUNK:-500000}
requests=${SCALE_REQUESTS:-200}
for tool in hey psql python3; do command -v $tool >/dev/null || { echo "need $tool"; exit 1; }; done

source bench/common.sh scale

build_release
$bench_tool pngs "$t10k" "$work/pngs" 1 >/dev/null

echo "== starting PostgreSQL"
start_postgres -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=8GB

echo "== seeding $total predictions in chunks of $chunk (the triggers count them as they go)"
seed_in_chunks bench/scale-seed.sql "$total" "$chunk"
printf 'seeding: %.0f s, VACUUM ANALYZE: %.0f s; %s predictions, %s rows of prediction_counts, database %s\n' \
  "$seed_seconds" "$vacuum_seconds" \
  "$(sql -Atc 'SELECT count(*) FROM predictions')" "$(sql -Atc 'SELECT count(*) FROM prediction_counts')" \
  "$(sql -Atc 'SELECT pg_size_pretty(pg_database_size(current_database()))')"

echo "== starting the service"
start_service

# A cursor half-way down the newest-first order (unfiltered): the fingerprint of no filters, as PredictionCursor makes it.
deep=$(sql -Atc "SELECT (extract(epoch FROM created_at) * 1000000)::bigint, id FROM predictions ORDER BY created_at DESC, id DESC OFFSET $((total / 2)) LIMIT 1")
cursor=$(python3 - "$deep" <<'EOF'
import base64, hashlib, struct, sys
micros, pid = map(int, sys.argv[1].split('|'))
filters = struct.unpack('>I', hashlib.sha256('\x1f'.join(['\x00'] * 7).encode()).digest()[:4])[0]
ticks = 621355968000000000 + micros * 10
print(base64.b64encode(struct.pack('>BqqI', 1, ticks, pid, filters)).decode().rstrip('=').replace('+', '-').replace('/', '_'))
EOF
)
some_id=$(sql -Atc "SELECT id FROM predictions WHERE id > $((total / 3)) ORDER BY id LIMIT 1")
printf '\n%-44s %9s %9s %9s\n' "GET, $requests sequential requests" "p50 ms" "p99 ms" "non-200"
measure "list, 100 newest" "/predictions?limit=100"
measure "list, likely_class=3" "/predictions?limit=100&likely_class=3"
measure "list, label=7" "/predictions?limit=100&label=7"
measure "list, min_confidence=0.5" "/predictions?limit=100&min_confidence=0.5"
measure "list, min_confidence=0.999" "/predictions?limit=100&min_confidence=0.999"
measure "list, max_confidence=0.5" "/predictions?limit=100&max_confidence=0.5"
measure "list, from/to (one hour, 10 days ago)" "/predictions?limit=100&from=$(iso '-10 days')&to=$(iso '-10 days +1 hour')"
measure "list, model=mnist-canary" "/predictions?limit=100&model=mnist-canary"
measure "list, page half-way down the cursor" "/predictions?limit=100&cursor=$cursor"
measure "one prediction by id" "/prediction/$some_id"
measure "stats, everything" "/predictions/stats"
measure "stats, last hour" "/predictions/stats?from=$(iso '-1 hour')"
measure "stats, 3 days not on hour edges" "/predictions/stats?from=$(iso '-5 days -17 minutes')&to=$(iso '-2 days -43 minutes')"

echo
echo "== retention: POST /prediction latency, undisturbed and while DELETE /predictions?before= deletes the oldest rows"
python3 - "$work/pngs/00000.png" "$work/body" <<'EOF'
import sys
png = open(sys.argv[1], 'rb').read()
b = b'predictionapi-scale-boundary'
open(sys.argv[2], 'wb').write(b'--' + b + b'\r\nContent-Disposition: form-data; name="file"; filename="00000.png"\r\n'
    b'Content-Type: image/png\r\n\r\n' + png + b'\r\n--' + b + b'--\r\n')
EOF
post=(-m POST -T "multipart/form-data; boundary=predictionapi-scale-boundary" -D "$work/body")
concurrency=${SCALE_POST_CONCURRENCY:-4}
hey -z 5s -c "$concurrency" "${post[@]}" "$base/prediction" >/dev/null
hey -z 20s -c "$concurrency" -o csv "${post[@]}" "$base/prediction" >"$work/undisturbed.csv"
read -r p50 undisturbed_p99 n bad < <(percentiles "$work/undisturbed.csv")
echo "undisturbed (c=$concurrency, 20 s):      $n requests, p50 $p50 ms, p99 $undisturbed_p99 ms, non-200: $bad"

# The oldest million rows (a tenth of a smaller table): everything before the next oldest.
retain=${SCALE_RETAIN:-$((total < 2000000 ? total / 10 : 1000000))}
before=$(sql -Atc "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM predictions ORDER BY created_at, id OFFSET $retain LIMIT 1")
hey -z 3600s -c "$concurrency" -o csv "${post[@]}" "$base/prediction" >"$work/disturbed.csv" &
hey_pid=$!
sleep 1
delete_start=$(date +%s.%N)
deleted=$(curl -fs -X DELETE "$base/predictions?before=$before")
delete_end=$(date +%s.%N)
kill -INT "$hey_pid"; wait "$hey_pid" || true
read -r p50 disturbed_p99 n bad < <(percentiles "$work/disturbed.csv")
printf 'retention: %s in %.1f s\n' "$deleted" "$(bc <<<"$delete_end - $delete_start")"
echo "during the delete (c=$concurrency):      $n requests, p50 $p50 ms, p99 $disturbed_p99 ms, non-200: $bad"
printf 'p99 during the delete / undisturbed: %.2fx (bar: at most 2x)\n' "$(bc -l <<<"$disturbed_p99 / $undisturbed_p99")"
