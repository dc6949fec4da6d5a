# shellcheck shell=bash
# Debian packages the scripts need. Source it, then: ensure_packages pkg...
#
# A package counts as present when dpkg-query says "install ok installed". When some are missing:
# as root, `apt-get update` (once per script run) then `apt-get install -y --no-install-recommends`;
# as another user, print the command to run and fail. Without dpkg (not Debian), say what is needed
# and go on: the later steps fail clearly if something is really missing.

_chikaya_apt_updated=0

# Prints, one a line, the packages among "$@" that dpkg does not have installed.
missing_packages() {
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            printf '%s\n' "$pkg"
        fi
    done
}

ensure_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "note: no dpkg here (not Debian?); make sure these are installed: $*" >&2
        return 0
    fi
    local missing=()
    mapfile -t missing < <(missing_packages "$@")
    ((${#missing[@]})) || return 0

    if ((EUID != 0)); then
        echo "error: missing Debian packages: ${missing[*]}" >&2
        echo "       install them as root, then run this again:" >&2
        echo "       sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        return 1
    fi

    echo "==> installing Debian packages: ${missing[*]}"
    local apt_options=(-o DPkg::Lock::Timeout=300 -q)
    if ((_chikaya_apt_updated == 0)); then
        DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" update
        _chikaya_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" install -y --no-install-recommends "${missing[@]}"
}

# The packages every script of the project needs (build, test cluster, Python peers).
# shellcheck disable=SC2034 # used by the scripts that source this file
chikaya_base_packages=(postgresql libpq-dev libssl-dev pkg-config python3 openssl)
