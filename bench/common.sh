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
