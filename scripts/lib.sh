# Shared by scripts/start and scripts/test: find or install what KIP needs, step by step.
# Each step says what it does; where something cannot be had, it stops and says what to do.
# shellcheck shell=bash

set -euo pipefail

KIP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSTANCE=${KIP_INSTANCE_PATH:-$KIP_ROOT/instance}
VENV=$KIP_ROOT/.venv
PG_PORT=${KIP_PG_PORT:-}  # empty: 54329, or the next free port when that one is taken
_APT_UPDATED=

say() { printf 'kip: %s\n' "$*" >&2; }
die() {
    printf '\nkip: cannot go on: %s\n' "$1" >&2
    [ $# -gt 1 ] && printf '     what to do: %s\n' "$2" >&2
    exit 1
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "installing system packages needs root, and sudo is not available" \
            "run this command as root, or install the packages it names by hand"
    fi
}

# apt_install PACKAGE...: install the packages that are not installed yet.
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 \
        || die "KIP needs ${missing[*]}, and this is not a Debian/Ubuntu system" \
               "install them with your system's package manager, or set KIP_DATABASE_URL"
    say "installing ${missing[*]} from the system's packages"
    if [ -z "$_APT_UPDATED" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            || die "apt-get update failed" "check the network and /etc/apt/sources.list"
        _APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null \
        || die "could not install ${missing[*]}" "install them by hand with apt-get and retry"
}

# -- Python -------------------------------------------------------------------------------

_python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

find_python() {
    local c
    for c in ${KIP_PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$c" >/dev/null 2>&1 && _python_ok "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

ensure_venv() {  # ensure_venv EXTRAS  ("" or "[dev]")
    local extras=$1 py stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        py=$(find_python) || { apt_install python3 python3-venv; py=$(find_python) || true; }
        [ -n "${py:-}" ] || die "KIP needs Python 3.11 or newer" \
            "install python3.11 (or newer) with its venv module, or set KIP_PYTHON to one"
        "$py" -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv
        "$py" -c 'import ensurepip, venv' 2>/dev/null \
            || die "$py has no venv module" "install the python3-venv package for $py"
        say "creating the virtual environment in .venv"
        "$py" -m venv "$VENV"
    fi
    stamp=$VENV/.kip-installed
    want="$(sha256sum "$KIP_ROOT/pyproject.toml" | cut -c1-16) $extras"
    if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
        say "installing KIP and its Python packages into .venv"
        local log=$VENV/pip.log
        if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
               && "$VENV/bin/python" -m pip install --disable-pip-version-check \
                      -e "$KIP_ROOT$extras"; } >"$log" 2>&1; then
            tail -n 25 "$log" >&2
            die "could not install KIP's Python packages (the end of $log is above)" \
                "check access to the Python package index, then run this again"
        fi
        printf '%s\n' "$want" >"$stamp"
    fi
}

# -- Rate limits --------------------------------------------------------------------------
# ensure_ratelimit_storage [URL]: count rate limits in the Redis at URL (default
# redis://127.0.0.1:6379) when one answers there and nobody chose a storage yourself
# (KIP_RATELIMIT_STORAGE_URI, or RATELIMIT_STORAGE_URI in instance/config.py). Without it,
# each gunicorn worker counts on its own and every limit is multiplied by the workers.

ensure_ratelimit_storage() {
    local url=${1:-redis://127.0.0.1:6379}
    if [ -n "${KIP_RATELIMIT_STORAGE_URI:-}" ] || { [ -f "$INSTANCE/config.py" ] \
        && grep -Eq '^[[:space:]]*RATELIMIT_STORAGE_URI[[:space:]]*=' "$INSTANCE/config.py"; }; then
        return 0
    fi
    if _redis_answers "$url"; then
        say "counting rate limits in the Redis at $url"
        export KIP_RATELIMIT_STORAGE_URI=$url
    else
        say "no Redis at $url: each worker counts rate limits on its own" \
            "(set KIP_RATELIMIT_STORAGE_URI to share them)"
    fi
}

_redis_answers() {  # _redis_answers redis://HOST:PORT: a Redis there says PONG
    local hostport=${1#redis://} reply
    hostport=${hostport%%/*}
    hostport=${hostport##*@}
    reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "PING\r\n" >&3 \
        && head -c 5 <&3' _ "${hostport%:*}" "${hostport##*:}" 2>/dev/null) || return 1
    [ "$reply" = "+PONG" ]
}

# -- PostGIS ------------------------------------------------------------------------------
# ensure_postgis sets SERVER_URL (a maintenance database on a PostGIS server where KIP may
# create databases) and DATABASE_URL (KIP's own database on it). In order of preference:
# an existing KIP_DATABASE_URL; Docker Compose's db service; a cluster of KIP's own from the
# system's PostgreSQL + PostGIS packages, under instance/, on port $PG_PORT.

ensure_postgis() {
    if [ -n "${KIP_DATABASE_URL:-${DATABASE_URL:-}}" ]; then
        DATABASE_URL=${KIP_DATABASE_URL:-$DATABASE_URL}
        SERVER_URL=${KIP_TEST_DATABASE_URL:-$DATABASE_URL}
        DATABASE_SOURCE=given
        say "using the database in KIP_DATABASE_URL"
        return 0
    fi
    if _docker_usable; then
        _postgis_from_compose
    else
        _postgis_from_packages
    fi
}

_docker_usable() {
    [ -z "${KIP_NO_DOCKER:-}" ] && command -v docker >/dev/null 2>&1 \
        && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1
}

_postgis_from_compose() {
    say "starting PostGIS with Docker Compose (service db, port ${KIP_DB_PORT:-54329})"
    docker compose -f "$KIP_ROOT/docker-compose.yml" up -d --wait db \
        || die "docker compose could not start the db service" \
               "see 'docker compose logs db', or set KIP_NO_DOCKER=1 to use system packages"
    local auth="kip:${KIP_DB_PASSWORD:-kip}@127.0.0.1:${KIP_DB_PORT:-54329}"
    DATABASE_URL="postgresql://$auth/kip"
    SERVER_URL="postgresql://$auth/postgres"
    DATABASE_SOURCE=compose
}

_pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

_postgis_from_packages() {
    local bin version data user pw log
    bin=$(_pg_bindir) || { apt_install postgresql; bin=$(_pg_bindir) || true; }
    [ -n "${bin:-}" ] || die "PostgreSQL is not installed and could not be installed" \
        "install PostgreSQL and PostGIS, or Docker, or set KIP_DATABASE_URL"
    version=$(basename "$(dirname "$bin")")
    if [ ! -f "/usr/share/postgresql/$version/extension/postgis.control" ]; then
        apt_install "postgresql-$version-postgis-3"
    fi
    [ -f "/usr/share/postgresql/$version/extension/postgis.control" ] \
        || die "PostGIS for PostgreSQL $version is not installed" \
               "install postgresql-$version-postgis-3, or set KIP_DATABASE_URL"

    mkdir -p "$INSTANCE"
    data=$(_cluster_dir)
    user=$(_cluster_user)
    log=$(dirname "$data")/postgres.log  # beside the data: where the postgres user can write
    pw=$(_cluster_password)
    if [ ! -f "$data/PG_VERSION" ]; then
        say "creating KIP's own PostgreSQL $version cluster in $data"
        local pwfile
        pwfile=$(mktemp)
        printf '%s\n' "$pw" >"$pwfile"
        [ "$user" = "$(id -un)" ] || chown "$user" "$pwfile"
        _as "$user" "$bin/initdb" -D "$data" -U kip -E UTF8 --no-locale \
            --auth-local=peer --auth-host=scram-sha-256 --pwfile="$pwfile" >/dev/null \
            || { rm -f "$pwfile"; die "initdb failed for $data" "see the messages above"; }
        rm -f "$pwfile"
        cat >>"$data/postgresql.conf" <<CONF
# KIP's own cluster: local connections over TCP only, with a password.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
CONF
    fi
    if _as "$user" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        PG_PORT=$(sed -n 4p "$data/postmaster.pid")  # running already: its port
    else
        PG_PORT=$(_free_port "${PG_PORT:-54329}" "${KIP_PG_PORT:+fixed}")
        say "starting KIP's PostgreSQL on 127.0.0.1:$PG_PORT"
        touch "$log"
        [ "$user" = "$(id -un)" ] || chown "$user" "$log"
        _as "$user" "$bin/pg_ctl" -D "$data" -l "$log" -o "-p $PG_PORT" -w -t 60 start \
            >/dev/null || die "PostgreSQL did not start" "read $log"
    fi
    local auth="kip:$pw@127.0.0.1:$PG_PORT"
    SERVER_URL="postgresql://$auth/postgres"
    DATABASE_URL="postgresql://$auth/kip"
    DATABASE_SOURCE=cluster
    if ! PGPASSWORD=$pw "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U kip -d postgres -tAqc \
        "SELECT 1 FROM pg_database WHERE datname = 'kip'" | grep -q 1; then
        PGPASSWORD=$pw "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U kip kip \
            || die "could not create the database kip" "read $log"
    fi
}

# The cluster lives in instance/postgres. PostgreSQL never runs as root: as root, the
# cluster belongs to the postgres user, and when that user cannot reach instance/ (a
# private home or temporary folder), the data go to /var/lib/kip/ with a link from
# instance/postgres.
_cluster_user() {
    if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

_cluster_dir() {
    local link=$INSTANCE/postgres user
    user=$(_cluster_user)
    if [ -L "$link" ] || [ -d "$link" ]; then
        readlink -f "$link"
        return 0
    fi
    if [ "$user" = "$(id -un)" ] || _as "$user" test -x "$INSTANCE" 2>/dev/null; then
        mkdir -p "$link"
        [ "$user" = "$(id -un)" ] || chown "$user" "$link"
        chmod 700 "$link"
        echo "$link"
    else
        local elsewhere
        elsewhere=/var/lib/kip/$(printf '%s' "$INSTANCE" | sha256sum | cut -c1-12)/postgres
        mkdir -p "$elsewhere"
        chown "$user" "$elsewhere"
        chmod 700 "$elsewhere"
        ln -s "$elsewhere" "$link"
        say "the postgres user cannot reach $INSTANCE; its data go to $elsewhere"
        echo "$elsewhere"
    fi
}

_cluster_password() {
    local f=$INSTANCE/postgres.password
    if [ ! -s "$f" ]; then
        (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$f")
    fi
    cat "$f"
}

_as() {  # _as USER COMMAND...: run as USER (root only switches to another user)
    local user=$1
    shift
    if [ "$user" = "$(id -un)" ]; then
        "$@"
    else
        (cd / && runuser -u "$user" -- "$@")  # from a folder the other user can enter
    fi
}

# _free_port FIRST [fixed]: FIRST if it is free, else (unless fixed) the next free one.
_free_port() {
    local port=$1
    while _port_taken "$port"; do
        [ -z "${2:-}" ] || die "port $port is taken by another program" \
            "choose another KIP_PG_PORT, or leave it unset to take a free one"
        port=$((port + 1))
        [ "$port" -lt $(($1 + 100)) ] || die "no free port from $1 on" "set KIP_PG_PORT"
    done
    echo "$port"
}

_port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
