# Shared by the benchmarks (sourced, from the repository root, with a name for the work folder): the MNIST
# test images, a work folder removed at the end, a free loopback port, commands as the postgres user when
# run as root, the Release build, and a throwaway PostgreSQL 15 with default durability (fsync on).
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}
t10k=../shared/mnist/t10k-images-idx3-ubyte.gz
[ -f "$t10k" ] || { echo "need $t10k (the MNIST test images)"; exit 1; }
bench_tool="dotnet bench/PredictionApi.Bench/bin/Release/net10.0/PredictionApi.Bench.dll"

work=$(mktemp -d "/tmp/predictionapi-$1.XXXXXX")
# PostgreSQL runs as its own user when the benchmark runs as root.
chmod 755 "$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

build_release() {
  echo "== building (Release)"
  for project in src/PredictionApi bench/PredictionApi.Bench; do
    dotnet build -c Release -v quiet -nologo "$project" >/dev/null
  done
}

# start_postgres [server options]: initdb and start on a free port; sets pg_port and connection.
start_postgres() {
  pg_port=$(free_port)
  mkdir "$work/pg"
  [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
  as_postgres "$pgbin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 >/dev/null
  as_postgres "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pg $*" start >/dev/null
  connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres"
}

# psql on the throwaway PostgreSQL, stopping at the first error.
sql() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

# seed_in_chunks FILE TOTAL CHUNK: applies the schema, runs the seed script FILE for rows lo..hi of 1..TOTAL, CHUNK
# at a time (with total and now, one timestamp for every chunk), then VACUUM ANALYZE; sets seed_seconds and
# vacuum_seconds, and now (the seeds' "now", for the queries that follow).
seed_in_chunks() {
  local file=$1 total=$2 chunk=$3 started seeded lo hi
  sql -f db/schema.sql >/dev/null
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  started=$(date +%s.%N)
  for ((lo = 1; lo <= total; lo += chunk)); do
    hi=$((lo + chunk - 1 < total ? lo + chunk - 1 : total))
    sql -v lo=$lo -v hi=$hi -v total=$total -v now="$now" -f "$file"
  done
  seeded=$(date +%s.%N)
  sql -c "VACUUM ANALYZE"
  seed_seconds=$(bc <<<"$seeded - $started")
  vacuum_seconds=$(bc <<<"$(date +%s.%N) - $seeded")
}

# start_service [NAME=value ...]: the Release build on a free port with that environment added, answering /health/ready;
# sets svc_port, base and service_pid (cleanup stops it).
start_service() {
  svc_port=$(free_port)
  base="http://127.0.0.1:$svc_port"
  env ConnectionStrings__Predictions="$connection" Logging__LogLevel__Default=Warning "$@" \
    dotnet src/PredictionApi/bin/Release/net10.0/PredictionApi.dll --contentRoot "$PWD/src/PredictionApi/bin/Release/net10.0" \
    --urls "$base" >"$work/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 120); do
    curl -fs "$base/health/ready" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fs "$base/health/ready" >/dev/null || { echo "service did not become ready:"; cat "$work/service.log"; exit 1; }
}

stop_service() { kill "$service_pid"; wait "$service_pid" 2>/dev/null || true; service_pid=""; }

# p50, p99 (ms), request count and non-200 count of a hey CSV (response time in seconds in column 1, status in 7).
percentiles() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
t = sorted(float(r[0]) * 1000 for r in rows)
q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
print(f"{q(0.5):.2f} {q(0.99):.2f} {len(t)} {sum(1 for r in rows if r[6] != '200')}")
PY
}

# measure NAME PATH: p50 and p99 of $requests sequential GETs of $base/PATH after 30 of warm-up, in a row $name_width wide.
measure() {
  hey -n 30 -c 1 "$base$2" >/dev/null
  hey -n "$requests" -c 1 -o csv "$base$2" >"$work/get.csv"
  local p50 p99 n bad
  read -r p50 p99 n bad < <(percentiles "$work/get.csv")
  printf "%-${name_width:-44}s %9s %9s %9s\n" "$1" "$p50" "$p99" "$bad"
}

# iso OFFSET: the seeds' "now" moved by a date(1) offset ("-10 days"), as ISO 8601 UTC.
iso() { date -u -d "$now $1" +%Y-%m-%dT%H:%M:%SZ; }

stop_postgres() { as_postgres "$pgbin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true; }

# At exit: the service started into service_pid (if any), PostgreSQL and the work folder go. A script that
# starts more (bench/replicas.sh) sets its own trap.
service_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  stop_postgres
  rm -rf "$work"
}
trap cleanup EXIT
