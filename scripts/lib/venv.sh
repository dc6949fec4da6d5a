# shellcheck shell=bash
# The Python virtual environment of the test and demo peers, in .chikaya/venv (git-ignored).
# Source it after deps.sh, then: ensure_venv pkg...   (pip requirement specs, e.g. aiosmtpd==1.4.6)
# Afterwards $CHIKAYA_VENV is the environment and $CHIKAYA_VENV_PYTHON its interpreter.

_chikaya_venv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian's python3 when there is one (python3-venv is packaged for it), else the first on PATH.
chikaya_system_python() {
    if [[ -n "${CHIKAYA_PYTHON:-}" ]]; then
        printf '%s\n' "$CHIKAYA_PYTHON"
    elif [[ -x /usr/bin/python3 ]]; then
        printf '%s\n' /usr/bin/python3
    else
        command -v python3
    fi
}

_chikaya_make_venv() {
    local python=$1 dir=$2
    rm -rf "$dir"
    "$python" -m venv "$dir" >/dev/null 2>&1 && [[ -x "$dir/bin/python" ]] && "$dir/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
    export CHIKAYA_VENV="$_chikaya_venv_root/.chikaya/venv"
    export CHIKAYA_VENV_PYTHON="$CHIKAYA_VENV/bin/python"
    local stamp="$CHIKAYA_VENV/.chikaya-installed"
    mkdir -p "$_chikaya_venv_root/.chikaya"
    (
        # Two scripts starting at once (two test runs, a test run and the demo) take turns.
        flock -w 600 9 || { echo "error: timed out waiting for $CHIKAYA_VENV.lock" >&2; exit 1; }
        if [[ ! -x "$CHIKAYA_VENV_PYTHON" ]] || ! "$CHIKAYA_VENV_PYTHON" -c 'import sys' >/dev/null 2>&1; then
            local python
            python=$(chikaya_system_python) || { echo "error: no python3 found" >&2; exit 1; }
            echo "==> creating Python environment .chikaya/venv"
            if ! _chikaya_make_venv "$python" "$CHIKAYA_VENV"; then
                # Debian ships venv's pip bootstrap apart, in python3-venv.
                ensure_packages python3-venv || exit 1
                _chikaya_make_venv "$python" "$CHIKAYA_VENV" || {
                    echo "error: '$python -m venv $CHIKAYA_VENV' failed" >&2
                    exit 1
                }
            fi
        fi
        local wanted=() spec
        for spec in "$@"; do
            grep -qxF -- "$spec" "$stamp" 2>/dev/null || wanted+=("$spec")
        done
        if ((${#wanted[@]})); then
            echo "==> pip install ${wanted[*]} (into .chikaya/venv)"
            "$CHIKAYA_VENV_PYTHON" -m pip install --quiet --disable-pip-version-check "${wanted[@]}" || exit 1
            printf '%s\n' "${wanted[@]}" >>"$stamp"
        fi
    ) 9>"$_chikaya_venv_root/.chikaya/venv.lock"
}
