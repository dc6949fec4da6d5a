#!/usr/bin/env bash
# Real SMTP servers for the mail integration tests and the benchmark, on free loopback ports:
#   - aiosmtpd (PyPI, in .chikaya/venv) requiring STARTTLS and AUTH, with a CA and certificate
#     made at start time, saving what it receives;
#   - Postfix's smtp-sink, unpacked from the Debian package into .chikaya/postfix (not installed),
#     which offers PIPELINING.
# Usage: source this file; start_smtp_peers DIR; ...; stop_smtp_peers
# Exports: CHIKAYA_TEST_SINK_URL CHIKAYA_TEST_SINK_PORT CHIKAYA_TEST_AIOSMTPD_URL
#          CHIKAYA_TEST_AIOSMTPD_CA CHIKAYA_TEST_AIOSMTPD_MAILDIR CHIKAYA_TEST_PYTHON CHIKAYA_TEST_PEERS_DIR

_smtp_peers_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_smtp_peers_apt_updated=""

_smtp_peers_apt_install() {
    # Only root can install; others must have the tools already.
    if [[ $(id -u) -ne 0 ]]; then
        echo "smtp-peers: missing $*; install it (apt-get install $*)" >&2
        return 1
    fi
    if [[ -z $_smtp_peers_apt_updated ]]; then
        apt-get update -qq >&2
        _smtp_peers_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

_smtp_peers_free_port() {
    "$CHIKAYA_TEST_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_smtp_peers_wait() {
    local port=$1 pid=$2 name=$3
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "smtp-peers: $name exited; see $CHIKAYA_TEST_PEERS_DIR/$name.log" >&2
            return 1
        fi
        if "$CHIKAYA_TEST_PYTHON" -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2).close()" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "smtp-peers: $name does not accept connections on port $port" >&2
    return 1
}

_smtp_peers_venv() {
    # One virtual environment for every script, created, pinned and locked by scripts/lib/venv.sh
    # (scripts/test and scripts/demo may run at the same time).
    if ! declare -F ensure_venv >/dev/null; then
        # shellcheck source=venv.sh
        source "$_smtp_peers_root/scripts/lib/venv.sh"
    fi
    # prometheus_client: the reference parser the metrics tests read our exposition with.
    ensure_venv aiosmtpd==1.4.6 prometheus_client==0.26.0 >&2
    export CHIKAYA_TEST_PYTHON="$CHIKAYA_VENV_PYTHON"
}

_smtp_peers_sink_binary() {
    local unpacked="$_smtp_peers_root/.chikaya/postfix"
    if [[ ! -x $unpacked/usr/sbin/smtp-sink ]]; then
        local download
        download="$(mktemp -d)"
        if ! (cd "$download" && apt-get download postfix >/dev/null 2>&1); then
            if [[ $(id -u) -eq 0 && -z $_smtp_peers_apt_updated ]]; then
                apt-get update -qq >&2
                _smtp_peers_apt_updated=1
            fi
            (cd "$download" && apt-get download postfix >&2)
        fi
        mkdir -p "$unpacked"
        dpkg-deb -x "$download"/postfix_*.deb "$unpacked"
        rm -rf "$download"
    fi
    echo "$unpacked"
}

_smtp_peers_certificates() {
    local dir=$1
    command -v openssl >/dev/null || _smtp_peers_apt_install openssl
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Chikaya test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName = DNS:localhost, IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' > "$dir/server.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 2 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
}

start_smtp_peers() {
    local run_dir=${1:?start_smtp_peers needs a directory}
    export CHIKAYA_TEST_PEERS_DIR="$run_dir/smtp-peers"
    mkdir -p "$CHIKAYA_TEST_PEERS_DIR"
    _smtp_peers_venv
    _smtp_peers_certificates "$CHIKAYA_TEST_PEERS_DIR"
    local postfix
    postfix="$(_smtp_peers_sink_binary)"

    local sink_port aiosmtpd_port
    sink_port="$(_smtp_peers_free_port)"
    aiosmtpd_port="$(_smtp_peers_free_port)"
    local -a privileges=()
    # smtp-sink refuses to keep root privileges after opening its socket.
    [[ $(id -u) -eq 0 ]] && privileges=(-u nobody)
    LD_LIBRARY_PATH="$postfix/usr/lib/postfix" "$postfix/usr/sbin/smtp-sink" "${privileges[@]}" \
        "127.0.0.1:$sink_port" 256 >"$CHIKAYA_TEST_PEERS_DIR/smtp-sink.log" 2>&1 &
    _SMTP_PEERS_SINK_PID=$!
    "$CHIKAYA_TEST_PYTHON" "$_smtp_peers_root/scripts/peers/aiosmtpd_peer.py" --port "$aiosmtpd_port" \
        --cert "$CHIKAYA_TEST_PEERS_DIR/server.pem" --key "$CHIKAYA_TEST_PEERS_DIR/server.key" \
        --user chikaya --password 'test-secret' --maildir "$CHIKAYA_TEST_PEERS_DIR/maildir" \
        >"$CHIKAYA_TEST_PEERS_DIR/aiosmtpd.log" 2>&1 &
    _SMTP_PEERS_AIOSMTPD_PID=$!
    _smtp_peers_wait "$sink_port" "$_SMTP_PEERS_SINK_PID" smtp-sink
    _smtp_peers_wait "$aiosmtpd_port" "$_SMTP_PEERS_AIOSMTPD_PID" aiosmtpd

    export CHIKAYA_TEST_SINK_PORT="$sink_port"
    export CHIKAYA_TEST_SINK_URL="smtp://127.0.0.1:$sink_port?tls=none"
    export CHIKAYA_TEST_AIOSMTPD_URL="smtp://chikaya:test-secret@127.0.0.1:$aiosmtpd_port?tls=starttls"
    export CHIKAYA_TEST_AIOSMTPD_CA="$CHIKAYA_TEST_PEERS_DIR/ca.pem"
    export CHIKAYA_TEST_AIOSMTPD_MAILDIR="$CHIKAYA_TEST_PEERS_DIR/maildir"
}

stop_smtp_peers() {
    local pid
    for pid in ${_SMTP_PEERS_SINK_PID:-} ${_SMTP_PEERS_AIOSMTPD_PID:-}; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    _SMTP_PEERS_SINK_PID=""
    _SMTP_PEERS_AIOSMTPD_PID=""
    unset CHIKAYA_TEST_SINK_URL CHIKAYA_TEST_SINK_PORT CHIKAYA_TEST_AIOSMTPD_URL CHIKAYA_TEST_AIOSMTPD_CA CHIKAYA_TEST_AIOSMTPD_MAILDIR
}
