# shellcheck shell=bash
# Small process and port checks shared by the scripts' libraries. Source it, then:
#   port_is_listening PORT     true when something accepts TCP connections on 127.0.0.1:PORT
#   pid_runs PID TEXT          true when PID is alive and its command line contains TEXT
#                              (so that a recycled pid of someone else's process is never touched)
#   terminate_pid PID TEXT     SIGTERM, up to 5 s, then SIGKILL, while pid_runs PID TEXT; false if it survives

port_is_listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_runs() {
    local pid=$1 text=$2
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$text"
}

terminate_pid() {
    local pid=$1 text=$2
    pid_runs "$pid" "$text" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        pid_runs "$pid" "$text" || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
    ! pid_runs "$pid" "$text"
}
