#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the exchange's tests (`--store postgres://…`).
#
#   eval "$(.ci/postgres.sh start DIR)"   # prints `export TELERAD_TEST_PG=postgres://…`
#   .ci/postgres.sh stop DIR
#
# DIR is a folder of its own (created; removed by `stop`). initdb refuses to run as root, so as
# root the cluster belongs to `nobody` (the folder is handed over to it). The server listens on
# 127.0.0.1 at a free port and on a socket in DIR; trust authentication, local only: it is a
# test cluster, never a real one. `restart DIR` stops and starts it again on the same port (the
# database-restart test uses it). PG_SERVER_OPTS, if set, is added to the server's options at
# start and restart (the TLS test: `-c ssl=on -c ssl_cert_file=… -c ssl_key_file=…`).
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|restart DIR" >&2
  exit 2
fi
bindir=""
for d in "${PG_BINDIR:-}" /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then bindir="$d"; break; fi
done
if [ -z "$bindir" ]; then
  echo "$0: initdb and pg_ctl not found (Debian: apt-get install postgresql)" >&2
  exit 1
fi
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}
case "$cmd" in
  start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    chmod 700 "$dir"
    # A free port: bind port 0 and read what the system gave.
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_owner "$bindir/initdb" -D "$dir/data" -U telerad -A trust --no-sync -E UTF8 --locale C > "$dir/initdb.log"
    echo "$port" > "$dir/port"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir/port"
    # fsync stays on: the tests check that what was acknowledged is stored.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_SERVER_OPTS:-}" start >&2
    echo "export TELERAD_TEST_PG=postgres://telerad@127.0.0.1:$port/postgres"
    echo "export TELERAD_TEST_PG_DIR=$dir"
    ;;
  restart)
    port="$(cat "$dir/port")"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_SERVER_OPTS:-}" restart >&2
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >&2 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop|restart DIR" >&2
    exit 2
    ;;
esac
