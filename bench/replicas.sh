#!/usr/bin/env bash
# Replicas behind HAProxy on one PostgreSQL, all on 127.0.0.1: throughput with 1, 2 and 3 instances, then
# a rolling restart of every instance (SIGTERM, drain, start again) while wrk keeps loading the balancer.
# Prints requests sent, answered 200, failed, and the rows in PostgreSQL against the acknowledged uploads.
#
#   bash bench/replicas.sh                 # 10 s per phase
#   BENCH_SECONDS=20 bash bench/replicas.sh
#
# Needs: .NET SDK, PostgreSQL 15 server binaries, haproxy and wrk (apt-get install haproxy wrk postgresql-15).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${BENCH_SECONDS:-10}
drain=${DRAIN_SECONDS:-2}
for tool in wrk haproxy psql; do command -v $tool >/dev/null || { echo "need $tool: apt-get install wrk haproxy postgresql-15"; exit 1; }; done

source bench/common.sh replicas

declare -a ports pids
haproxy_pid=""
cleanup() {
  for pid in "${pids[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
build_release
$bench_tool pngs "$t10k" "$work/pngs" 1000 >/dev/null

start_postgres -c max_connections=300
rows() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -Atc "select count(*) from predictions"; }

start_instance() { # index
  local i=$1
  ConnectionStrings__Predictions="$connection" Shutdown__DrainSeconds="$drain" Logging__LogLevel__Default=Warning \
    dotnet src/PredictionApi/bin/Release/net10.0/PredictionApi.dll --contentRoot "$PWD/src/PredictionApi/bin/Release/net10.0" --urls "http://127.0.0.1:${ports[$i]}" >>"$work/instance-$i.log" 2>&1 &
  pids[$i]=$!
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:${ports[$i]}/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  echo "instance $i did not become ready:"; cat "$work/instance-$i.log"; exit 1
}

balance() { # number of instances behind the balancer
  local servers=""
  for i in $(seq 0 $(($1 - 1))); do servers+="    server replica$i 127.0.0.1:${ports[$i]} check"$'\n'; done
  sed -e "s|@LISTEN@|127.0.0.1:$lb_port|" -e "/@SERVERS@/{r /dev/stdin" -e "d}" deploy/haproxy.cfg <<<"$servers" >"$work/haproxy.cfg"
  [ -n "$haproxy_pid" ] && { kill "$haproxy_pid"; wait "$haproxy_pid" 2>/dev/null || true; }
  haproxy -f "$work/haproxy.cfg" -db >>"$work/haproxy.log" 2>&1 &
  haproxy_pid=$!
  for _ in $(seq 1 40); do curl -fs "http://127.0.0.1:$lb_port/health/ready" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "haproxy did not come up:"; cat "$work/haproxy.log"; exit 1
}

load() { # seconds -> prints "requests ok non2xx socket-errors req/s p99"
  local out
  out=$(wrk -t2 -c32 -d"$1"s --latency -s bench/prediction.lua "http://127.0.0.1:$lb_port" -- "$work/pngs" 1000)
  local requests non2xx sockets
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  sockets=$(grep -o 'Socket errors:.*' <<<"$out" | grep -o '[0-9]\+' | paste -sd+ | bc 2>/dev/null || echo 0)
  echo "$requests $((requests - non2xx)) $non2xx ${sockets:-0} $(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1 == "99%" {print $2}' <<<"$out")"
}

for i in 0 1 2; do ports[$i]=$(free_port); done
lb_port=$(free_port)
echo "== starting 3 instances and HAProxy"
for i in 0 1 2; do start_instance "$i"; done
# Warm up every instance's JIT and pool.
balance 3
wrk -t2 -c16 -d3s -s bench/prediction.lua "http://127.0.0.1:$lb_port" -- "$work/pngs" 1000 >/dev/null

printf '\n%-30s %9s %9s %8s %8s %10s %9s\n' "POST /prediction via HAProxy" "requests" "200" "non-2xx" "sockets" "req/s" "p99"
for n in 1 2 3; do
  balance "$n"
  read -r requests ok non2xx sockets rps p99 < <(load "$seconds")
  printf '%-30s %9s %9s %8s %8s %10s %9s\n' "$n instance(s)" "$requests" "$ok" "$non2xx" "$sockets" "$rps" "$p99"
done

echo
echo "== rolling restart of all 3 instances under load (drain ${drain} s each)"
balance 3
before=$(rows)
# hey sends a fixed number of requests and waits for every answer, so each upload is counted exactly once.
body="$work/upload.bin"
{ printf -- '--bench\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\nContent-Type: image/png\r\n\r\n'
  cat "$work/pngs/00000.png"; printf -- '\r\n--bench--\r\n'; } >"$body"
total=${ROLLING_REQUESTS:-40000}
hey -n "$total" -c 32 -t 30 -m POST -T "multipart/form-data; boundary=bench" -D "$body" "http://127.0.0.1:$lb_port/prediction" >"$work/rolling.txt" &
load_pid=$!
sleep 2
for i in 0 1 2; do
  kill -TERM "${pids[$i]}"
  wait "${pids[$i]}" 2>/dev/null || true
  echo "instance $i stopped after its drain; starting it again"
  start_instance "$i"
  sleep 1
done
echo "all 3 instances restarted while the load ran"
wait "$load_pid"
after=$(rows)
ok=$(awk '/\[200\]/ {print $2}' "$work/rolling.txt"); ok=${ok:-0}
# hey gives each of its 32 workers the same share of the requests.
total=$(( total / 32 * 32 ))
echo "requests sent:            $total"
echo "answered 200:             $ok"
echo "failed:                   $((total - ok))"
echo "instances stopped and started again: 3, each draining ${drain} s"
sed -n '/Status code distribution/,/^$/p;/Error distribution/,/^$/p' "$work/rolling.txt"
# Anything that did not get a 200: the balancer's log line and the instances' own errors.
grep -v '" 200 \| 200 [0-9]' "$work/haproxy.log" | grep -E 'replicas/' | head -5 || true
grep -h -A8 -E '^(fail|crit):' "$work"/instance-*.log | head -40 || true
echo "throughput:               $(awk '/Requests\/sec/ {print $2}' "$work/rolling.txt") req/s over $(awk '/Total:/ {print $2; exit}' "$work/rolling.txt") s"
echo "rows added in PostgreSQL: $((after - before)) (acknowledged: $ok)"
