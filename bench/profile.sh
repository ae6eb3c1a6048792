#!/usr/bin/env bash
# Where the machine's CPU goes while it stores uploads: a whole-machine perf profile while wrk loads POST /prediction
# (1,000 different MNIST PNGs) at 64 connections, printed as microseconds of CPU per upload, by process and, for the
# service, by library, and for PostgreSQL by the work its samples are under. This explains bench/run.sh's ratio:
# what each upload costs all in, and who spends it.
#
#   bash bench/profile.sh
#   BENCH_SECONDS=20 CONCURRENCY=32 bash bench/profile.sh
#
# Needs: .NET SDK, PostgreSQL 15 server binaries, wrk, perf (apt-get install linux-perf). JIT-compiled code is named
# through the runtime's perf map (DOTNET_PerfMapEnabled=1, with W^X off so perf can read the code's addresses).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-8}
concurrency=${CONCURRENCY:-64}
for tool in wrk perf; do command -v $tool >/dev/null || { echo "need $tool: apt-get install wrk linux-perf"; exit 1; }; done

source bench/common.sh profile
trap 'stop_service 2>/dev/null || true; as_postgres "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
build_release
$bench_tool pngs "$t10k" "$work/pngs" 1000 >/dev/null
start_postgres -c max_connections=300 -c shared_buffers=512MB
start_service DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0

# Warm-up: tiered compilation, the pool's connections, the statistics' first rows.
wrk -t2 -c"$concurrency" -d15s -s bench/prediction.lua "$base" -- "$work/pngs" 1000 >/dev/null
wrk -t2 -c"$concurrency" -d$((seconds + 4))s -s bench/prediction.lua "$base" -- "$work/pngs" 1000 >"$work/wrk.txt" &
wrk_pid=$!
sleep 2
perf record -F 499 -a -g -o "$work/perf.data" -- sleep "$seconds" >/dev/null 2>&1
wait $wrk_pid
rate=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
echo "POST /prediction at $concurrency connections: $rate uploads/s while profiled ($seconds s)"

perf script -i "$work/perf.data" -F comm,pid,ip,sym,dso 2>/dev/null | python3 bench/profile.py "$rate" "$(nproc)" "$service_pid"
