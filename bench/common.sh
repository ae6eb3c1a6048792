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
