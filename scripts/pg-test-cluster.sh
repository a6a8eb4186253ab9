#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster for the tests (no systemd needed) and prints its URL.
# Idempotent: reuses a running cluster in $PGDATA. Needs root (runs the server as the postgres user)
# or a user that owns $PGDATA. Installs PostgreSQL from Debian when it is missing and we are root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  else
    echo "postgresql is not installed (apt-get install postgresql)" >&2
    exit 3
  fi
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDATA=${PGDATA:-/tmp/cairn-test-pgdata}
PGPORT=${PGPORT:-55432}
run_as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"
  if [ "$(id -u)" = 0 ]; then install -d -o postgres -g postgres "$PGDATA"; else mkdir -p "$PGDATA"; fi
  run_as_pg "$PGBIN/initdb -D $PGDATA -U postgres -A trust -E UTF8 --no-locale" >/dev/null
fi
run_as_pg "$PGBIN/pg_ctl -D $PGDATA status" >/dev/null 2>&1 || \
  run_as_pg "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -t 60 -o \"-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300\" start" >/dev/null
psql -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "select 1 from pg_database where datname='cairn_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$PGPORT" -U postgres -c "create database cairn_test" >/dev/null
echo "postgres://postgres@127.0.0.1:$PGPORT/cairn_test"
