# A throwaway PostgreSQL 15 for the benchmark scripts; source it, then:
#
#   pg_start            # sets PG_SERVER (postgres://postgres@127.0.0.1:PORT, no database)
#   pg_database VAR NAME      # a new, empty database on it; sets VAR to its URL
#   pg_stop             # stops the server and removes its directory (call it from a trap)
#
# With LARIS_BENCH_POSTGRES_URL set (postgres://USER@HOST:PORT, a user who may create
# databases) that server is used instead and nothing is started; the databases made on it
# (bench_<pid>_<n>) are dropped by pg_stop. Otherwise pg_start runs Debian's PostgreSQL 15
# (/usr/lib/postgresql/15/bin, `apt-get install -y postgresql`): initdb into a new
# directory under /tmp and pg_ctl start on a free port of 127.0.0.1. The server refuses to
# run as root, so as root both run as the `postgres` user (runuser -u postgres --), the
# directory owned by it.
#
# The server keeps PostgreSQL's durable defaults (fsync on, synchronous_commit on), as a
# production server does: a benchmark of the store measures what an acknowledged write
# costs there. PG_FAST=1 turns fsync and synchronous_commit off (as the tests do).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_SERVER=
PG_ROOT=
PG_DATABASES=()

pg_as_postgres() { # runs a PostgreSQL program, as the postgres user when root
    if [[ $(id -u) == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    if [[ -n ${LARIS_BENCH_POSTGRES_URL:-} ]]; then
        # Without a database name, whether or not one was given.
        local scheme=${LARIS_BENCH_POSTGRES_URL%%://*} rest=${LARIS_BENCH_POSTGRES_URL#*://}
        PG_SERVER=$scheme://${rest%%/*}
        "$PG_BIN/psql" -qAtX "$PG_SERVER/postgres" -c 'SELECT 1' >/dev/null || {
            echo "LARIS_BENCH_POSTGRES_URL=$LARIS_BENCH_POSTGRES_URL: cannot connect; name a server whose user may create databases" >&2
            return 1
        }
        return 0
    fi
    if [[ ! -x $PG_BIN/initdb ]]; then
        echo "$PG_BIN/initdb is missing: install PostgreSQL 15 with \`apt-get install -y postgresql\`, or set LARIS_BENCH_POSTGRES_URL to a server the benchmark may create databases on" >&2
        return 1
    fi
    PG_ROOT=$(mktemp -d /tmp/laris-bench-postgres-XXXXXX)
    chmod 0755 "$PG_ROOT"
    if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$PG_ROOT"; fi
    pg_as_postgres "$PG_BIN/initdb" -D "$PG_ROOT/data" --auth=trust -U postgres -E UTF8 \
        --locale=C --no-sync >"$PG_ROOT/initdb.log" 2>&1 || {
        cat "$PG_ROOT/initdb.log" >&2
        return 1
    }
    local options="-c listen_addresses=127.0.0.1 -c max_connections=200"
    if [[ ${PG_FAST:-0} == 1 ]]; then
        options="$options -F -c synchronous_commit=off -c full_page_writes=off"
    fi
    local port tries
    for tries in 1 2 3; do
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        if pg_as_postgres "$PG_BIN/pg_ctl" start -w -t 60 -D "$PG_ROOT/data" -l "$PG_ROOT/server.log" \
            -o "-p $port -k $PG_ROOT $options" >/dev/null; then
            PG_SERVER=postgres://postgres@127.0.0.1:$port
            return 0
        fi
    done
    echo "pg_ctl start failed $tries times:" >&2
    cat "$PG_ROOT/server.log" >&2
    return 1
}

pg_database() { # pg_database VAR NAME: creates the database bench_<pid>_NAME, sets VAR to its URL
    local name=bench_$$_$2
    "$PG_BIN/psql" -qAtX "$PG_SERVER/postgres" -c "CREATE DATABASE $name" >/dev/null || return 1
    PG_DATABASES+=("$name")
    printf -v "$1" '%s' "$PG_SERVER/$name"
}

pg_stop() {
    if [[ -n $PG_ROOT ]]; then
        pg_as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_ROOT/data" -m immediate >/dev/null 2>&1 || true
        rm -rf "$PG_ROOT"
        PG_ROOT=
    elif [[ -n $PG_SERVER ]]; then
        local name
        for name in "${PG_DATABASES[@]}"; do
            "$PG_BIN/psql" -qAtX "$PG_SERVER/postgres" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
        done
    fi
    PG_DATABASES=()
}
