# shellcheck shell=bash
# Throwaway PostgreSQL clusters for the tests and the demo. Source it, then:
#
#   pg_cluster_start DIR [DATABASE]          initdb in DIR/data, start, create DATABASE (default chikaya)
#   pg_cluster_reuse_or_start DIR [DATABASE] reuse the server running on DIR/data, else start it (data kept)
#   pg_cluster_stop [DIR]                    stop it: pg_ctl stop -m fast, then its postmaster pid if need be
#   pg_cluster_is_running DIR                true when a server runs on DIR/data
#
# Layout of DIR: data/ (PGDATA), server.log, port, superuser.password, pgpass, tls/ (a CA, the
# server's certificate and key, and a second CA that signed nothing, for tests that must be
# refused), and the unix socket (when DIR's path is short enough).
# As root, DIR belongs to the `postgres` OS user and the server runs as it (runuser); otherwise as
# the current user. DIR must be ours: a directory or symlink someone else made is refused, never
# reused. The server listens on 127.0.0.1 only, on a free port; every connection (socket and TCP)
# authenticates with SCRAM-SHA-256 and a password generated at initdb (no trust), and TCP offers
# TLS with a certificate made by openssl at start (valid for 127.0.0.1 and localhost). Settings
# favour speed over durability (fsync off...) unless
# PG_CLUSTER_DURABLE=1 (the benchmarks: fsync and synchronous_commit on, as in service; such a
# cluster also keeps min_wal_size = 1GB and starts by writing and recycling 1 GB of WAL, about 4 s
# and 1 GB of disk under DIR: see pg_cluster_recycle_wal).
# PG_CLUSTER_SETTINGS: more lines for the server's configuration (a benchmark's diagnostics).
# The database superuser is the role `chikaya` (PG_CLUSTER_USER to change it).
#
# After start, exported:
#   DATABASE_URL            postgresql://chikaya:PASSWORD@127.0.0.1:PORT/DATABASE
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSFILE   the same, for psql and libpq's fallbacks
#   CHIKAYA_TEST_PG_CA      the CA that signed the server's certificate (sslrootcert for verify-full)
#   CHIKAYA_TEST_PG_WRONG_CA  a CA that signed nothing here (verify-full with it must fail)
#   CHIKAYA_TEST_PGDATA     DIR/data
#   CHIKAYA_TEST_PG_CTL     path to pg_ctl
#   CHIKAYA_TEST_PG_RUNAS   command prefix that runs pg_ctl as the server's user ("" or "runuser -u postgres --")
#   CHIKAYA_TEST_PG_LOG     the server log; pass it to pg_ctl -l so a restarted server does not write to your pipes
#   CHIKAYA_TEST_PG_RESTART a whole shell command restarting the server and waiting for it:
#                           /bin/sh -c "$CHIKAYA_TEST_PG_RESTART"
#   CHIKAYA_TEST_PG_PORT CHIKAYA_TEST_PG_BINDIR CHIKAYA_TEST_PG_SOCKET_DIR (empty when TCP only)

# shellcheck source=scripts/lib/process.sh
source "$(dirname "${BASH_SOURCE[0]}")/process.sh"

PG_CLUSTER_USER=${PG_CLUSTER_USER:-chikaya}
_PG_CLUSTER_DIR=
_PG_CLUSTER_PID=

# URL with its password replaced by ***, for printing.
pg_url_without_password() {
    printf '%s\n' "$1" | sed 's#^\([a-z]*://[^:/@]*\):[^@]*@#\1:***@#'
}

# The directory with initdb, pg_ctl and postgres: pg_config's, else the newest Debian one, else PATH.
pg_bindir() {
    local dir
    if [[ -n "${CHIKAYA_PG_BINDIR:-}" ]]; then
        printf '%s\n' "$CHIKAYA_PG_BINDIR"
        return 0
    fi
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    while read -r dir; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    if command -v initdb >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
        printf '%s\n' "$dir"
        return 0
    fi
    echo "error: PostgreSQL server programs (initdb, pg_ctl) not found; install the Debian package postgresql" >&2
    return 1
}

# A TCP port on 127.0.0.1 nobody listens on right now.
pg_free_port() {
    local python port
    python=$(command -v python3 || true)
    if [[ -n "$python" ]]; then
        "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return 0
    fi
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 20000))
        if ! port_is_listening "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    echo "error: found no free TCP port" >&2
    return 1
}

_pg_vars() {
    _PG_CLUSTER_DIR=$1
    _PG_BINDIR=$(pg_bindir) || return 1
    _PG_DATA="$_PG_CLUSTER_DIR/data"
    _PG_LOG="$_PG_CLUSTER_DIR/server.log"
    if ((EUID == 0)); then
        if ! id -u postgres >/dev/null 2>&1; then
            echo "error: running as root, but there is no 'postgres' OS user to run the server (install postgresql)" >&2
            return 1
        fi
        _PG_RUNAS=(runuser -u postgres --)
    else
        _PG_RUNAS=()
    fi
    _PG_PSQL="$_PG_BINDIR/psql"
    [[ -x "$_PG_PSQL" ]] || _PG_PSQL=psql
}

# Runs a command as the server's OS user, from DIR (the caller's directory may be closed to it).
_pg_as() {
    (cd "$_PG_CLUSTER_DIR" && "${_PG_RUNAS[@]}" "$@")
}

_pg_postmaster_pid() {
    [[ -r "$_PG_DATA/postmaster.pid" ]] && head -n 1 "$_PG_DATA/postmaster.pid"
}

# True when PID is alive and is the postmaster of our data directory (never touch another's server).
_pg_is_ours() {
    pid_runs "$1" "$_PG_DATA"
}

_pg_export() {
    local port=$1 db=$2 socket_dir=$3 password
    password=$(cat "$_PG_CLUSTER_DIR/superuser.password")
    export DATABASE_URL="postgresql://$PG_CLUSTER_USER:$password@127.0.0.1:$port/$db"
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=$PG_CLUSTER_USER PGDATABASE=$db
    export PGPASSFILE="$_PG_CLUSTER_DIR/pgpass"
    export CHIKAYA_TEST_PG_CA="$_PG_CLUSTER_DIR/tls/ca.crt"
    export CHIKAYA_TEST_PG_WRONG_CA="$_PG_CLUSTER_DIR/tls/wrong-ca.crt"
    export CHIKAYA_TEST_PGDATA="$_PG_DATA"
    export CHIKAYA_TEST_PG_CTL="$_PG_BINDIR/pg_ctl"
    export CHIKAYA_TEST_PG_RUNAS="${_PG_RUNAS[*]}"
    export CHIKAYA_TEST_PG_LOG="$_PG_LOG"
    export CHIKAYA_TEST_PG_PORT=$port
    export CHIKAYA_TEST_PG_BINDIR="$_PG_BINDIR"
    export CHIKAYA_TEST_PG_SOCKET_DIR="$socket_dir"
    local prefix=${CHIKAYA_TEST_PG_RUNAS:+$CHIKAYA_TEST_PG_RUNAS }
    export CHIKAYA_TEST_PG_RESTART="cd '$_PG_CLUSTER_DIR' && ${prefix}'$CHIKAYA_TEST_PG_CTL' restart -D '$_PG_DATA' -l '$_PG_LOG' -m fast -w -t 60 -s"
}

# The directory for the unix socket, or nothing when DIR's path is too long for one (108 bytes).
_pg_socket_dir() {
    if ((${#_PG_CLUSTER_DIR} + 20 < 108)); then printf '%s\n' "$_PG_CLUSTER_DIR"; fi
}

_pg_write_settings() {
    local port=$1 socket_dir=$2 durability
    # Benchmarks ask for the durability a city runs with (PG_CLUSTER_DURABLE=1): a figure won
    # with fsync off is not a figure. Tests and the demo keep the fast settings.
    if [[ "${PG_CLUSTER_DURABLE:-0}" == 1 ]]; then
        # min_wal_size keeps a gigabyte of finished WAL segments for reuse at each checkpoint
        # (pg_cluster_recycle_wal), as a server in service holds them: see there.
        durability=$'# durable, as in service: fsync, synchronous_commit and full_page_writes at their defaults (on)\nmin_wal_size = 1GB'
        durability=$(printf '%b' "$durability")
    else
        durability=$'# fast rather than durable: a throwaway cluster\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off'
        durability=$(printf '%b' "$durability")
    fi
    cat >"$_PG_DATA/chikaya.conf" <<CONF
# Written by scripts/lib/pg-cluster.sh.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket_dir'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
ssl = on
ssl_cert_file = '$_PG_CLUSTER_DIR/tls/server.crt'
ssl_key_file = '$_PG_CLUSTER_DIR/tls/server.key'
$durability
max_connections = 200
shared_buffers = 64MB
${PG_CLUSTER_SETTINGS:-}
CONF
    ((EUID != 0)) || chown postgres: "$_PG_DATA/chikaya.conf"
    grep -qxF "include_if_exists = 'chikaya.conf'" "$_PG_DATA/postgresql.conf" ||
        echo "include_if_exists = 'chikaya.conf'" >>"$_PG_DATA/postgresql.conf"
    printf '%s\n' "$port" >"$_PG_CLUSTER_DIR/port"
}

# A random password of hex digits: safe in a URL and in a pgpass line as it is.
_pg_random_password() {
    od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

# Writes FILE with CONTENT, mode 600, owned by the server's user; umask first, so that no moment
# exists when another user could open it.
_pg_private_file() {
    local file=$1 content=$2
    (umask 077 && printf '%s\n' "$content" >"$file")
    ((EUID != 0)) || chown postgres: "$file"
}

# The CA, the server's certificate for 127.0.0.1 and localhost, and a second CA that signed
# nothing; made once per cluster directory with openssl (EC keys: quick to make).
_pg_make_certificates() {
    local tls="$_PG_CLUSTER_DIR/tls"
    [[ -s "$tls/server.crt" && -s "$tls/server.key" && -s "$tls/ca.crt" && -s "$tls/wrong-ca.crt" ]] && return 0
    if ! command -v openssl >/dev/null 2>&1; then
        echo "error: openssl is needed to make the test cluster's TLS certificates (Debian package openssl)" >&2
        return 1
    fi
    rm -rf "$tls"
    (umask 077 && mkdir "$tls")
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    {
        openssl req -x509 "${ec[@]}" -keyout "$tls/ca.key" -out "$tls/ca.crt" -days 30 -subj "/CN=chikaya test CA" &&
            openssl req -x509 "${ec[@]}" -keyout "$tls/wrong-ca.key" -out "$tls/wrong-ca.crt" -days 30 -subj "/CN=chikaya unrelated CA" &&
            openssl req "${ec[@]}" -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=127.0.0.1" &&
            printf 'subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost\n' >"$tls/server.ext" &&
            openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
                -out "$tls/server.crt" -days 30 -extfile "$tls/server.ext"
    } >"$_PG_CLUSTER_DIR/openssl.log" 2>&1 || {
        echo "error: openssl could not make the test certificates:" >&2
        tail -n 20 "$_PG_CLUSTER_DIR/openssl.log" >&2
        return 1
    }
    rm -f "$tls/ca.key" "$tls/wrong-ca.key" "$tls/server.csr" "$tls/server.ext" "$tls/ca.srl"
    chmod 644 "$tls/ca.crt" "$tls/wrong-ca.crt" "$tls/server.crt"
    chmod 711 "$tls"
    if ((EUID == 0)); then chown -R postgres: "$tls"; fi
}

_pg_initdb() {
    local password
    password=$(_pg_random_password)
    _pg_private_file "$_PG_CLUSTER_DIR/superuser.password" "$password"
    _pg_private_file "$_PG_CLUSTER_DIR/pgpass" "*:*:*:$PG_CLUSTER_USER:$password"
    local options=(-D "$_PG_DATA" -U "$PG_CLUSTER_USER" -A scram-sha-256 --pwfile="$_PG_CLUSTER_DIR/superuser.password"
        -E UTF8 --locale=C.UTF-8 --no-sync)
    "$_PG_BINDIR/initdb" --help 2>/dev/null | grep -q -- --no-instructions && options+=(--no-instructions)
    if ! _pg_as "$_PG_BINDIR/initdb" "${options[@]}" >"$_PG_CLUSTER_DIR/initdb.log" 2>&1; then
        echo "error: initdb failed in $_PG_DATA:" >&2
        tail -n 20 "$_PG_CLUSTER_DIR/initdb.log" >&2
        return 1
    fi
    cat >"$_PG_DATA/pg_hba.conf" <<HBA
# Written by scripts/lib/pg-cluster.sh: a password (SCRAM) everywhere, loopback only; no trust.
local   all  all                 scram-sha-256
host    all  all  127.0.0.1/32   scram-sha-256
host    all  all  ::1/128        scram-sha-256
HBA
    ((EUID != 0)) || chown postgres: "$_PG_DATA/pg_hba.conf"
}

# Starts the server on a free port (another on a bind clash: others start clusters on this machine too).
_pg_start_server() {
    local socket_dir port attempt
    socket_dir=$(_pg_socket_dir)
    for attempt in 1 2 3 4 5; do
        port=${1:-}
        [[ -n "$port" && $attempt == 1 ]] || port=$(pg_free_port) || return 1
        _pg_write_settings "$port" "$socket_dir"
        : >>"$_PG_LOG"
        ((EUID != 0)) || chown postgres: "$_PG_LOG"
        local before
        before=$(wc -l <"$_PG_LOG")
        if _pg_as "$_PG_BINDIR/pg_ctl" -D "$_PG_DATA" -l "$_PG_LOG" -w -t 60 -s start >/dev/null 2>&1; then
            break
        fi
        if tail -n +"$((before + 1))" "$_PG_LOG" | grep -q 'could not bind\|could not create any TCP/IP sockets\|Address already in use'; then
            echo "note: port $port was taken, trying another" >&2
            continue
        fi
        echo "error: the PostgreSQL server in $_PG_DATA did not start; end of $_PG_LOG:" >&2
        tail -n +"$((before + 1))" "$_PG_LOG" | tail -n 20 >&2
        return 1
    done
    local tries=0
    until "$_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; do
        ((++tries < 60)) || { echo "error: server on port $port not ready after 60 s" >&2; return 1; }
        sleep 1
    done
    _PG_CLUSTER_PID=$(_pg_postmaster_pid)
    _PG_PORT=$port
    _PG_SOCKET_DIR=$socket_dir
}

_pg_create_database() {
    local db=$1
    if [[ ! "$db" =~ ^[a-z_][a-z0-9_]*$ ]]; then
        echo "error: database name '$db': use lower-case letters, digits and _" >&2
        return 1
    fi
    if [[ -z "$(_pg_psql_postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]]; then
        _pg_psql_postgres -c "CREATE DATABASE $db" >/dev/null
    fi
}

# psql as the cluster's superuser, on its maintenance database `postgres`.
_pg_psql_postgres() {
    env PGPASSFILE="$_PG_CLUSTER_DIR/pgpass" "$_PG_PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$_PG_PORT" \
        -U "$PG_CLUSTER_USER" -d postgres "$@"
}

# DIR must be ours to use: made now, or already owned by us (or, as root, by postgres) and
# closed to other users' writes. A directory or symlink someone else prepared at a predictable
# path is refused: the server's data, password and keys would be theirs to read or replace.
_pg_check_owned() {
    local dir=$1 owner mode allowed
    if [[ -L "$dir" ]]; then
        echo "error: $dir is a symbolic link; refusing to use it for a database cluster" >&2
        return 1
    fi
    owner=$(stat -c %u "$dir") mode=$(stat -c %a "$dir")
    allowed=$EUID
    ((EUID != 0)) || allowed="0 $(id -u postgres 2>/dev/null || echo 0)"
    if [[ " $allowed " != *" $owner "* ]]; then
        echo "error: $dir belongs to uid $owner, not to us; refusing to reuse it (remove it or choose another directory)" >&2
        return 1
    fi
    if (((8#$mode & 8#022) != 0)); then
        echo "error: $dir can be written by other users (mode $mode); refusing to use it" >&2
        return 1
    fi
}

_pg_prepare_dir() {
    if [[ -e "$1" || -L "$1" ]]; then
        _pg_check_owned "$1" || return 1
    else
        (umask 077 && mkdir -p "$1")
    fi
    local dir
    dir=$(cd "$1" && pwd -P)
    _pg_vars "$dir" || return 1
    if ((EUID == 0)); then
        chown postgres: "$dir"
        chmod 700 "$dir"
        if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
            echo "error: the postgres OS user cannot reach $dir (a parent directory is closed to others)" >&2
            return 1
        fi
    fi
}

pg_cluster_start() {
    local db=${2:-chikaya}
    _pg_prepare_dir "$1" || return 1
    local pid
    pid=$(_pg_postmaster_pid || true)
    if [[ -n "$pid" ]] && _pg_is_ours "$pid"; then
        echo "error: a server already runs on $_PG_DATA (pid $pid)" >&2
        return 1
    fi
    _pg_forget_trust_cluster || return 1
    [[ -f "$_PG_DATA/PG_VERSION" ]] || _pg_initdb || return 1
    _pg_make_certificates || return 1
    _pg_start_server || return 1
    _pg_create_database "$db" || return 1
    [[ "${PG_CLUSTER_DURABLE:-0}" != 1 ]] || pg_cluster_recycle_wal 1024 || return 1
    _pg_export "$_PG_PORT" "$db" "$_PG_SOCKET_DIR"
}

# The started cluster's durability settings, for a benchmark's table: "fsync=on, ...".
pg_cluster_durability() {
    _pg_psql_postgres -tA -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
                             WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'min_wal_size')"
}

# Gives a new durable cluster the WAL segments a server in service has. PostgreSQL renames the
# segments a checkpoint no longer needs into the next ones (up to min_wal_size); a fresh cluster
# has none, so each new segment is created and filled with zeros (16 MB) as the WAL reaches it.
# A benchmark run on a fresh cluster paid that for all of its WAL: 12 % of the server's CPU in
# a city drain (perf: XLogFileInit, the kernel copying zeros), which a city's server does not
# pay, and in proportion to each side's WAL, not its work. pg_cluster_recycle_wal MEGABYTES
# writes that much WAL as logical messages (no table grows), then a checkpoint recycles those
# segments, up to min_wal_size (1 GB in a durable cluster; at start: 1,024 MB).
pg_cluster_recycle_wal() {
    local megabytes=$1
    [[ $megabytes =~ ^[1-9][0-9]*$ ]] || { echo "pg_cluster_recycle_wal: MEGABYTES must be a positive number, not '$megabytes'" >&2; return 1; }
    _pg_psql_postgres -tA -c "SELECT count(pg_logical_emit_message(false, 'chikaya-wal-fill', repeat('x', 1048576)))
                              FROM generate_series(1, $megabytes)" -c "CHECKPOINT" >/dev/null
}

# A cluster made by an earlier version of this file (trust authentication, no password) is
# thrown away and made again: these clusters hold throwaway data only.
_pg_forget_trust_cluster() {
    [[ -f "$_PG_DATA/PG_VERSION" && ! -s "$_PG_CLUSTER_DIR/superuser.password" ]] || return 0
    echo "note: $_PG_DATA was made with trust authentication; making it again with a password" >&2
    pg_cluster_stop "$_PG_CLUSTER_DIR" || return 1
    rm -rf "$_PG_DATA"
}

pg_cluster_reuse_or_start() {
    local db=${2:-chikaya}
    _pg_prepare_dir "$1" || return 1
    _pg_forget_trust_cluster || return 1
    local pid port
    pid=$(_pg_postmaster_pid || true)
    port=$(cat "$_PG_CLUSTER_DIR/port" 2>/dev/null || true)
    if [[ -n "$pid" && -n "$port" ]] && _pg_is_ours "$pid" &&
        "$_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2; then
        echo "==> reusing the PostgreSQL server on 127.0.0.1:$port (pid $pid, data in $_PG_DATA)"
        _PG_CLUSTER_PID=$pid _PG_PORT=$port _PG_SOCKET_DIR=$(_pg_socket_dir)
    else
        [[ -f "$_PG_DATA/PG_VERSION" ]] || _pg_initdb || return 1
        _pg_make_certificates || return 1
        # The same port as last time when it is still free.
        if [[ -n "$port" ]] && port_is_listening "$port"; then port=; fi
        _pg_start_server "$port" || return 1
        echo "==> started PostgreSQL on 127.0.0.1:$_PG_PORT (pid $_PG_CLUSTER_PID, data in $_PG_DATA)"
    fi
    _pg_create_database "$db" || return 1
    _pg_export "$_PG_PORT" "$db" "$_PG_SOCKET_DIR"
}

# True when a server runs on DIR/data.
pg_cluster_is_running() {
    [[ -d "$1/data" ]] || return 1
    local dir pid
    dir=$(cd "$1" && pwd -P)
    _pg_vars "$dir" || return 1
    pid=$(_pg_postmaster_pid || true)
    [[ -n "$pid" ]] && _pg_is_ours "$pid"
}

# Stops the server of DIR (default: the one started last): pg_ctl stop -m fast, then, if it still
# runs, SIGTERM and SIGKILL to its postmaster pid. Quiet; returns 0 when nothing runs any more.
pg_cluster_stop() {
    local dir=${1:-$_PG_CLUSTER_DIR}
    [[ -n "$dir" && -d "$dir" ]] || return 0
    dir=$(cd "$dir" && pwd -P)
    if [[ "$dir" != "$_PG_CLUSTER_DIR" ]]; then
        _PG_CLUSTER_PID=
        _pg_vars "$dir" || return 1
    fi
    local pids=() pid
    pid=$(_pg_postmaster_pid || true)
    [[ -n "$pid" ]] && pids+=("$pid")
    [[ -n "$_PG_CLUSTER_PID" && "$_PG_CLUSTER_PID" != "$pid" ]] && pids+=("$_PG_CLUSTER_PID")
    if [[ -n "$pid" ]]; then
        _pg_as "$_PG_BINDIR/pg_ctl" -D "$_PG_DATA" -m fast -w -t 30 -s stop >/dev/null 2>&1 || true
    fi
    for pid in "${pids[@]}"; do
        if ! terminate_pid "$pid" "$_PG_DATA"; then
            echo "error: could not stop the PostgreSQL server pid $pid" >&2
            return 1
        fi
    done
    return 0
}
