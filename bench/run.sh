#!/usr/bin/env bash
# Load benchmark of POST /prediction on this machine, printed next to the two limits that bound it:
# PostgreSQL alone (pgbench inserting the same input + prediction row pair per transaction) and
# ONNX Runtime alone (inferences/s on the served model).
#
#   bash bench/run.sh                 # 10 s per concurrency level
#   BENCH_SECONDS=30 bash bench/run.sh
#
# Needs: .NET SDK, PostgreSQL 15 server binaries, wrk and pgbench (apt-get install wrk postgresql-15).
# Everything runs on 127.0.0.1 and is torn down at the end; the database uses default durability
# (fsync and synchronous_commit on), so a 200 in this benchmark is as durable as in production.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-10}
levels=${BENCH_CONCURRENCY:-"1 8 32 64"}
declare -A service_rps
model_dir=models/mnist
for tool in wrk pgbench; do command -v $tool >/dev/null || { echo "need $tool: apt-get install wrk postgresql-15"; exit 1; }; done

source bench/common.sh bench

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
build_release
$bench_tool pngs "$t10k" "$work/pngs" 1000 >/dev/null

echo "== starting PostgreSQL and the service"
start_postgres -c max_connections=300 -c shared_buffers=512MB

start_service

# Warm up the JIT, the connection pool and PostgreSQL's caches.
wrk -t2 -c16 -d3s -s bench/prediction.lua "$base" -- "$work/pngs" 1000 >/dev/null

printf '\n%-34s %10s %10s %10s %8s\n' "POST /prediction (wrk)" "req/s" "p50" "p99" "errors"
for c in $levels; do
  threads=$(( c < 2 ? 1 : 2 ))
  out=$(wrk -t$threads -c$c -d${seconds}s --latency -s bench/prediction.lua "$base" -- "$work/pngs" 1000)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); errors=${errors:-0}
  socket=$(grep -o 'Socket errors.*' <<<"$out" || true)
  printf '%-34s %10s %10s %10s %8s %s\n' "concurrency $c" "$rps" "$p50" "$p99" "$errors" "$socket"
  service_rps[$c]=$rps
done
rows=$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -Atc "select count(*) from predictions")
echo "rows committed in predictions: $rows"

out=$(wrk -t2 -c64 -d${seconds}s --latency "$base/health/live")
printf '%-34s %10s %10s %10s   (the HTTP floor: Kestrel and routing, no body, no database)\n' "GET /health/live, concurrency 64" \
  "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"

stop_service

echo
echo "== where an upload's time goes (one thread, the service's own code, microseconds per upload)"
$bench_tool stages "$model_dir" "$work/pngs" "$connection"

echo
echo "== limit 1: PostgreSQL alone, pgbench inserting one input + prediction row pair per transaction"
base64_png=$(base64 -w0 "$work/pngs/00000.png")
for c in 8 32 64; do
  out=$(pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -M prepared -c "$c" -j 2 -T "$seconds" \
    -D png="$base64_png" -f bench/insert-pair.sql postgres 2>&1)
  tps=$(awk '/^tps/ {print $3; exit}' <<<"$out")
  lat=$(awk '/^latency average/ {print $4, $5}' <<<"$out")
  printf '%-34s %10s tx/s   latency average %s\n' "pgbench clients $c" "$tps" "$lat"
  best_tps=$(awk -v a="${best_tps:-0}" -v b="$tps" 'BEGIN { print (b > a ? b : a) }')
done
top=${levels##* }
awk -v s="${service_rps[$top]:-0}" -v p="$best_tps" -v c="$top" \
  'BEGIN { printf "ratio: the service at concurrency %s stores %.2fx what pgbench commits at its best (%s pairs/s)\n", c, (p > 0 ? s / p : 0), p }'
echo "disk: $(as_postgres "$pgbin/pg_test_fsync" -s 1 -f "$work/pg/fsync.probe" 2>/dev/null | awk '$1 == "fdatasync" && $2 + 0 > 0 {print $2, "fdatasync/s"; exit}')"

echo
echo "== limit 2: ONNX Runtime alone on $model_dir"
$bench_tool onnx "$model_dir" "$t10k" "$((seconds < 5 ? seconds : 5))"
