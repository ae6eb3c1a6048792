#!/usr/bin/env bash
# Overload: does the service stay fast for the requests it admits when offered four times the load it
# sustains, and refuse the rest at once? (The bar of issue 11: p99 of admitted requests at 4x within 2x
# of its value at the sustainable concurrency; every refused request answered within 50 ms.)
#
#   bash bench/overload.sh              # 10 s per run
#   BENCH_SECONDS=20 bash bench/overload.sh
#   SUSTAINABLE=64 QUEUE=32 bash bench/overload.sh  # skip step 1; admit 64 with 32 waiting
#   LOADGEN=hey bash bench/overload.sh             # hey instead of h2load (hey takes several times the CPU per request)
#   SVC_ENV='DOTNET_gcServer=0' bash bench/overload.sh   # environment for the service (runtime settings to compare)
#
# 1. The sustainable concurrency S: POST /prediction (one MNIST PNG; h2load, or hey with LOADGEN=hey) at 1, 2, 4, ... 64 connections
#    (BENCH_LEVELS) with admission wide open; S is the lowest concurrency reaching 90 % of the best
#    throughput (beyond it, more connections only add waiting).
# 2. The service restarted with Admission:MaxConcurrentUploads=S (ADMIT) and Admission:MaxQueuedUploads
#    (QUEUE, default 0: a queue adds its own wait to every admitted request at 4S, by design), then loaded at S and at 4S: p99 of the 200s, and the slowest 503.
# 3. For contrast, 4S against the default admission limits (64 at once, 64 waiting).
# Needs: .NET SDK, PostgreSQL 15 server binaries, h2load (nghttp2-client) or hey.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-10}
levels=${BENCH_LEVELS:-"1 2 4 8 16 32 64"}
loadgen=${LOADGEN:-h2load}
case $loadgen in
  hey) command -v hey >/dev/null || { echo "need hey: apt-get install hey"; exit 1; } ;;
  h2load) command -v h2load >/dev/null || { echo "need h2load: apt-get install nghttp2-client"; exit 1; } ;;
  *) echo "LOADGEN is h2load or hey"; exit 1 ;;
esac

source bench/common.sh overload

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
build_release
$bench_tool pngs "$t10k" "$work/pngs" 1 >/dev/null
# One multipart body, sent by every request.
boundary=predictionapi-bench-boundary
python3 - "$work/pngs/00000.png" "$work/body" "$boundary" <<'PY'
import sys
png, out, boundary = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(png, "rb").read()
with open(out, "wb") as f:
    f.write(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"digit.png\"\r\nContent-Type: image/png\r\n\r\n".encode())
    f.write(data)
    f.write(f"\r\n--{boundary}--\r\n".encode())
PY

echo "== starting PostgreSQL"
start_postgres -c max_connections=300 -c shared_buffers=512MB

# start_warm_service [Section__Key=value ...]: the service with that configuration (and SVC_ENV), warmed up.
start_warm_service() {
  start_service ${SVC_ENV:-} "$@"
  # Warm up the JIT (tiered compilation takes several seconds of load to settle), the pool and PostgreSQL's caches.
  load 32 ${WARMUP_SECONDS:-20} >/dev/null
}

# load CONNECTIONS SECONDS: per-request times from the load generator (LOADGEN: h2load, the default, or hey),
# summarised as "rps ok p50_ok p99_ok refused p99_refused/max_refused other client_cpu" (ms; the client's share of all cores).
load() {
  if [ "$loadgen" = hey ]; then
    /usr/bin/time -o "$work/time" -f "%e %U %S" hey -z "${2}s" -c "$1" -t 30 -m POST -T "multipart/form-data; boundary=$boundary" -D "$work/body" -o csv \
      "$base/prediction" >"$work/run.csv"
  else
    # h2load writes "start (µs since epoch) TAB status TAB µs to the end of the response" per request.
    rm -f "$work/run.tsv"  # h2load appends to its log
    /usr/bin/time -o "$work/time" -f "%e %U %S" h2load --h1 -c "$1" -D "$2" -d "$work/body" -H "content-type: multipart/form-data; boundary=$boundary" \
      --log-file="$work/run.tsv" "$base/prediction" >"$work/h2load.out"
    python3 - "$work/run.tsv" "$work/run.csv" <<'PY'
import csv, sys
with open(sys.argv[2], "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["response-time", "status-code"])
    for line in open(sys.argv[1]):
        start, status, micros = line.split("\t")[:3]
        w.writerow([int(micros) / 1e6, status])
PY
  fi
  python3 - "$work/run.csv" "$2" "$work/time" <<'PY'
import csv, os, sys
# The load generator's share of the machine's CPU: it runs on the same cores as the service.
elapsed, user, system = map(float, open(sys.argv[3]).read().split()[-3:])
client = 100 * (user + system) / elapsed / os.cpu_count()
rows = list(csv.DictReader(open(sys.argv[1])))
ok = sorted(float(r["response-time"]) * 1000 for r in rows if r["status-code"] == "200")
refused = sorted(float(r["response-time"]) * 1000 for r in rows if r["status-code"] == "503")
other = len(rows) - len(ok) - len(refused)
q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")
print(f"{len(ok) / float(sys.argv[2]):.0f} {len(ok)} {q(ok, 0.5):.2f} {q(ok, 0.99):.2f} {len(refused)} {q(refused, 0.99):.2f}/{max(refused) if refused else float('nan'):.2f} {other} {client:.0f}%")
PY
}

# gc_counters: the service's GC pause time so far (ms), its gen0/gen1/gen2 collections, the bytes it allocated, its working set (MB)
# and its thread pool's threads, from /metrics.
gc_counters() {
  curl -fs "$base/metrics" | python3 -c '
import re, sys
text = sys.stdin.read()
pause = float(re.search(r"^dotnet_gc_pause_time_seconds_total\{[^}]*\} (\S+)", text, re.M).group(1)) * 1000
gens = [re.search(r"^dotnet_gc_collections_total\{[^}]*gc_heap_generation=\"%s\"[^}]*\} (\S+)" % g, text, re.M).group(1) for g in ("gen0", "gen1", "gen2")]
allocated = float(re.search(r"^dotnet_gc_heap_total_allocated_bytes_total\{[^}]*\} (\S+)", text, re.M).group(1))
working_set = float(re.search(r"^dotnet_process_memory_working_set_bytes\{[^}]*\} (\S+)", text, re.M).group(1))
threads = re.search(r"^dotnet_thread_pool_thread_count(?:_total)?\{[^}]*\} (\S+)", text, re.M).group(1)
print(f"{pause:.0f}", *gens, f"{allocated:.0f}", f"{working_set / 2**20:.0f}", threads)'
}

# gc_during BEFORE AFTER REQUESTS: what the GC did between two gc_counters, and what each request allocated.
gc_during() {
  read -r p0 a0 b0 c0 m0 w0 t0 <<<"$1"; read -r p1 a1 b1 c1 m1 w1 t1 <<<"$2"
  echo "   GC during the run: $((a1 - a0)) gen0, $((b1 - b0)) gen1, $((c1 - c0)) gen2 collections, $((p1 - p0)) ms paused;" \
    "$(( (m1 - m0) / ($3 > 0 ? $3 : 1) / 1024 )) KB allocated per request; working set $w1 MB and $t1 thread pool threads at the end"
}

row() { printf '%-44s %8s %8s %9s %9s %8s %16s %6s %7s\n' "$@"; }

if [ -n "${SUSTAINABLE:-}" ]; then
  sustainable=$SUSTAINABLE
  echo "== 1. sustainable concurrency S = $sustainable (given in SUSTAINABLE, not measured)"
else
  echo "== 1. sustainable concurrency (admission wide open: Admission:MaxConcurrentUploads=1000)"
  start_warm_service Admission__MaxConcurrentUploads=1000 Admission__MaxQueuedUploads=0
  row "POST /prediction ($loadgen, one PNG)" "ok/s" "ok" "p50 ms" "p99 ms" "503s" "503 p99/max ms" "other" "client"
  best=0; declare -A rate
  for c in $levels; do
    read -r rps ok p50 p99 refused maxr other client <<<"$(load $c "$seconds")"
    rate[$c]=$rps
    row "concurrency $c" "$rps" "$ok" "$p50" "$p99" "$refused" "$maxr" "$other" "$client"
    (( rps > best )) && best=$rps
  done
  stop_service
  sustainable=
  for c in $levels; do
    [ -z "$sustainable" ] && (( ${rate[$c]} * 10 >= best * 9 )) && sustainable=$c
  done
  echo "sustainable concurrency S = $sustainable (lowest reaching 90 % of the best, $best ok/s)"
fi
admit=${ADMIT:-$sustainable}
queue=${QUEUE:-0}

echo
echo "== 2. admission at S: Admission:MaxConcurrentUploads=$admit, Admission:MaxQueuedUploads=$queue"
start_warm_service Admission__MaxConcurrentUploads=$admit Admission__MaxQueuedUploads=$queue
row "POST /prediction ($loadgen, one PNG)" "ok/s" "ok" "p50 ms" "p99 ms" "503s" "503 p99/max ms" "other" "client"
gc0=$(gc_counters)
read -r rps ok p50 p99_s refused maxr other client <<<"$(load "$sustainable" "$seconds")"
gc1=$(gc_counters)
row "S = $sustainable connections" "$rps" "$ok" "$p50" "$p99_s" "$refused" "$maxr" "$other" "$client"
gc_during "$gc0" "$gc1" $(( ok + refused ))
read -r rps ok p50 p99_4s refused maxr_4s other client <<<"$(load $(( 4 * sustainable )) "$seconds")"
gc2=$(gc_counters)
row "4S = $(( 4 * sustainable )) connections" "$rps" "$ok" "$p50" "$p99_4s" "$refused" "$maxr_4s" "$other" "$client"
gc_during "$gc1" "$gc2" $(( ok + refused ))
stop_service
awk -v a="$p99_4s" -v b="$p99_s" -v m="${maxr_4s#*/}" 'BEGIN { printf "p99 of admitted requests at 4S / at S = %.2f (bar: <= 2); slowest refusal %s ms (bar: <= 50)\n", a / b, m }'

echo
echo "== 3. for contrast, 4S with the default admission limits (64 at once, 64 waiting)"
start_warm_service
row "POST /prediction ($loadgen, one PNG)" "ok/s" "ok" "p50 ms" "p99 ms" "503s" "503 p99/max ms" "other" "client"
read -r rps ok p50 p99 refused maxr other client <<<"$(load $(( 4 * sustainable )) "$seconds")"
row "4S = $(( 4 * sustainable )) connections, defaults" "$rps" "$ok" "$p50" "$p99" "$refused" "$maxr" "$other" "$client"
stop_service
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
