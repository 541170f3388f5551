#!/usr/bin/env bash
# Load benchmark of a RELEASE build of channeldesk over real HTTP on loopback, for SQLite and
# PostgreSQL in one run, beside a bare actix-web + diesel server (bench/bare/) on the same
# database. See bench/README.md for what each phase measures and the targets.
#
#   bench/run.sh                          every phase, both backends
#   bench/run.sh sqlite                   every phase, one backend (sqlite | postgres)
#   bench/run.sh postgres scaling risks   some phases (ratios mixed scaling bulk risks evaluation), one backend
#   bench/run.sh ratios                   one phase, both backends
#
# Knobs (environment), with their defaults:
#   BENCH_DURATION=15 BENCH_WARMUP=3      seconds per measured run and its warm-up
#   BENCH_CONNECTIONS=32 BENCH_THREADS=2  wrk settings of every scenario that names no others
#   BENCH_PARTNERS=100000                 ratios/mixed: partners seeded through the API (multiple of 4)
#   BENCH_SEED_TIMEOUT=900                cap on that seeding, seconds
#   BENCH_MIXED_WRITERS=24 BENCH_MIXED_READERS=8
#   BENCH_PAIRS=default                   scaling: the five default filter pairs, or "all" 21
#   BENCH_SCALE_DURATION=4 BENCH_SCALE_WARMUP=1   scaling: seconds per page timing (one connection)
#   BENCH_SCALE_UPTO=1000000              scaling: size of the large table (smaller only to test the script)
#   BENCH_BULK_PARTNERS=100000 BENCH_BULK_RUNS=3
#   BENCH_RISK_CONTRACTS=10000 BENCH_RISK_PARTNERS=2500
#   BENCH_RISK_CONNECTIONS=32             risks: connections of the target runs (a c1 run is added)
#   BENCH_EVAL_PARTNERS=100000 BENCH_EVAL_MONTHS=12   evaluation: partners x months of performance records
#   BENCH_STRICT=1                        exit 3 when a target is missed
# Any CHANNELDESK_* you export reaches channeldesk (e.g. CHANNELDESK_POOL_SIZE), except those set
# below.
#
# Exit status: 0 when every phase ran clean (targets are reported, not enforced, unless
# BENCH_STRICT=1); 1 when a phase failed or a scenario saw HTTP >= 400 or socket errors (the other
# phases still run and the report is still printed). Traffic goes only to 127.0.0.1. Every loop is
# bounded, and every process and scratch database it starts is removed on exit.
set -euo pipefail
# Each phase runs in a subshell on purpose (its own processes, databases and cleanup), and the trap
# handlers are called indirectly:
# shellcheck disable=SC2030,SC2031,SC2317

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
here="$root/bench"
bin="$root/target/release/channeldesk"
bare_dir="$here/bare"
bare_bin="$bare_dir/target/release/channeldesk-bare"
seedpy=(python3 "$here/seed.py")

duration="${BENCH_DURATION:-15}"
warmup="${BENCH_WARMUP:-3}"
connections="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-2}"
partners="${BENCH_PARTNERS:-100000}"
seed_threads=4
seed_timeout="${BENCH_SEED_TIMEOUT:-900}"
mixed_writers="${BENCH_MIXED_WRITERS:-24}"
mixed_readers="${BENCH_MIXED_READERS:-8}"
pairs_set="${BENCH_PAIRS:-default}"
scale_duration="${BENCH_SCALE_DURATION:-4}"
scale_warmup="${BENCH_SCALE_WARMUP:-1}"
scale_upto="${BENCH_SCALE_UPTO:-1000000}"
bulk_partners="${BENCH_BULK_PARTNERS:-100000}"
bulk_runs="${BENCH_BULK_RUNS:-3}"
risk_contracts="${BENCH_RISK_CONTRACTS:-10000}"
risk_partners="${BENCH_RISK_PARTNERS:-2500}"
risk_connections="${BENCH_RISK_CONNECTIONS:-$connections}"
eval_partners="${BENCH_EVAL_PARTNERS:-100000}"
eval_months="${BENCH_EVAL_MONTHS:-12}"

pg_host=127.0.0.1
pg_port=5432
export PGCONNECT_TIMEOUT=10 PGHOST="$pg_host" PGPORT="$pg_port" PGUSER=postgres

all_phases=(ratios mixed scaling bulk risks evaluation)
backends=()
phases=()
for arg in "$@"; do
    case "$arg" in
        all) backends=(sqlite postgres) ;;
        sqlite | postgres) backends+=("$arg") ;;
        ratios | mixed | scaling | bulk | risks | evaluation) phases+=("$arg") ;;
        *) echo "usage: $0 [all|sqlite|postgres] [ratios|mixed|scaling|bulk|risks ...]" >&2; exit 2 ;;
    esac
done
((${#backends[@]})) || backends=(sqlite postgres)
((${#phases[@]})) || phases=("${all_phases[@]}")
((partners % seed_threads == 0)) || { echo "BENCH_PARTNERS must be a multiple of $seed_threads" >&2; exit 2; }
[[ "$pairs_set" == default || "$pairs_set" == all ]] || { echo "BENCH_PAIRS must be default or all" >&2; exit 2; }

want() { local p; for p in "${phases[@]}"; do [[ "$p" == "$1" ]] && return 0; done; return 1; }
say() { printf '\n==> %s\n' "$*"; }
die() { echo "ERROR: $*" >&2; exit 1; }
psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
psql_db() { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
sqlite_q() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); [print(*r, sep="\t") for r in c.execute(sys.argv[2])]' "$@"; }

# --- cleanup ----------------------------------------------------------------------------------------
# The driver and every phase (a subshell) keep their own lists of processes and databases and
# clean them up on their way out, whatever the way.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/channeldesk-bench.XXXXXX")"
results="$tmp/results"
mkdir -p "$results"
bg_pids=()
pg_dbs=()
current_log=""
cleanup_local() {
    local pid db
    for pid in "${bg_pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    bg_pids=()
    for db in "${pg_dbs[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
            echo "warning: could not drop database $db" >&2
    done
    pg_dbs=()
}
cleanup() {
    local rc=$?
    set +e
    cleanup_local
    rm -rf "$tmp"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
    local keep=() p
    for p in "${bg_pids[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
    bg_pids=("${keep[@]}")
}

# run_phase PHASE BACKEND: the phase in a subshell with its own cleanup; a failure is recorded
# and the next phase runs.
run_phase() {
    local rc=0
    say "######## $2 / $1 ########"
    set +e
    (
        set -euo pipefail
        bg_pids=()
        pg_dbs=()
        current_log=""
        phase_cleanup() {
            local rc=$?
            set +e
            if [[ $rc -ne 0 && -n "$current_log" && -s "$current_log" ]]; then
                echo "---- last 40 lines of the server log ($current_log) ----"
                tail -n 40 "$current_log"
            fi
            cleanup_local
            exit "$rc"
        }
        trap phase_cleanup EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        "phase_$1" "$2"
    )
    rc=$?
    set -e
    ((rc == 130 || rc == 143)) && exit "$rc"
    if ((rc != 0)); then
        echo "$2/$1: the phase failed (exit $rc); its figures are missing or incomplete, see the output above" >>"$results/errors"
        printf '%-8s %-46s %10s      %s\n' "$2" "$1: targets not measured (the phase failed)" - "MISSED" >>"$results/targets"
    fi
    return 0
}

# --- prerequisites ------------------------------------------------------------------------------------
ensure_wrk() {
    command -v wrk >/dev/null && return 0
    [[ $EUID -eq 0 ]] || die "wrk is missing: sudo apt-get install -y wrk"
    say "installing wrk"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }
}

ensure_postgres() {
    pg_isready -q && return 0
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    [[ -n "$version" ]] || die "PostgreSQL is down and no cluster is configured under /etc/postgresql"
    say "starting PostgreSQL cluster $version/main"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 60); do
        pg_isready -q && return 0
        sleep 1
    done
    die "PostgreSQL did not accept connections on $pg_host:$pg_port within 60s"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

wait_ready() { # BASE PID
    local code deadline=$((SECONDS + 60))
    while :; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/readyz" || true)"
        [[ "$code" == 200 ]] && return 0
        kill -0 "$2" 2>/dev/null || die "server exited before it was ready"
        ((SECONDS < deadline)) || die "GET $1/readyz did not return 200 within 60s (last: $code)"
        sleep 0.5
    done
}

stop_server() { # PID
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        echo "warning: server did not stop within 40s of SIGTERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

# --- databases and servers (used inside phases) -------------------------------------------------------
# new_database BACKEND NAME: a fresh database; sets db_url and db_name (file path or database).
new_database() {
    case "$1" in
        sqlite)
            db_name="$tmp/$2.db"
            rm -f "$db_name" "$db_name-wal" "$db_name-shm"
            db_url="sqlite://$db_name"
            ;;
        postgres)
            db_name="channeldesk_bench_$$_$2"
            pg_dbs+=("$db_name")
            psql_admin -c "CREATE DATABASE \"$db_name\""
            db_url="postgres://postgres@$pg_host:$pg_port/$db_name"
            ;;
    esac
}

# sql BACKEND QUERY: runs a query on the phase's database, rows tab-separated.
sql() {
    case "$1" in
        sqlite) sqlite_q "$db_name" "$2" ;;
        postgres) psql_db "$db_name" -At -F $'\t' -c "$2" ;;
    esac
}

# migrate_and_key: `channeldesk migrate` on db_url and an admin key in $key.
migrate_and_key() {
    DATABASE_URL="$db_url" RUST_LOG=warn "$bin" migrate >/dev/null
    key="$(DATABASE_URL="$db_url" RUST_LOG=warn "$bin" api-key create --role admin --name bench | tail -n 1)"
    [[ -n "$key" && "$key" != *[[:space:]]* ]] || die "api-key create did not print the key on its last line"
}

# start_channeldesk LABEL: serves db_url; sets cd_pid and cd_base.
start_channeldesk() {
    local port
    port="$(free_port)"
    cd_base="http://127.0.0.1:$port"
    current_log="$tmp/server-$1.log"
    DATABASE_URL="$db_url" CHANNELDESK_BIND="127.0.0.1:$port" CHANNELDESK_LOG_FORMAT=json RUST_LOG=warn \
        "$bin" serve >"$current_log" 2>&1 &
    cd_pid=$!
    bg_pids+=("$cd_pid")
    wait_ready "$cd_base" "$cd_pid"
    echo "channeldesk ready at $cd_base (pid $cd_pid, log $current_log)"
}

# start_bare LABEL: the bare server on db_url; sets bare_pid and bare_base.
start_bare() {
    local port
    port="$(free_port)"
    bare_base="http://127.0.0.1:$port"
    DATABASE_URL="$db_url" BARE_BIND="127.0.0.1:$port" "$bare_bin" >"$tmp/bare-$1.log" 2>&1 &
    bare_pid=$!
    bg_pids+=("$bare_pid")
    wait_ready "$bare_base" "$bare_pid"
    echo "bare ready at $bare_base (pid $bare_pid)"
}

# analyze BACKEND: fresh planner statistics after a bulk load (Postgres: also vacuum and checkpoint,
# so the load's cleanup does not run during a measurement), as autovacuum or PRAGMA optimize would
# on a database that has been running. With stale statistics Postgres plans the lists as if the
# table held a few dozen rows.
analyze() {
    case "$1" in
        postgres) psql_db "$db_name" -c "VACUUM ANALYZE" -c "CHECKPOINT" ;;
        sqlite) python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("ANALYZE"); c.commit(); c.execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$db_name" ;;
    esac
}

# --- measuring ------------------------------------------------------------------------------------------
declare -A B # fields of the last BENCH line

# parse_bench FILE: load the BENCH line that wrk.lua's done() printed into B.
parse_bench() {
    local line kv
    line="$(grep -m1 '^BENCH ' "$1" || true)"
    [[ -n "$line" ]] || return 1
    B=()
    for kv in ${line#BENCH }; do B["${kv%%=*}"]="${kv#*=}"; done
}

# wrk_run OUT THREADS CONNECTIONS SECONDS URL [VAR=VALUE ...]: one wrk run with that environment
# (BENCH_* for wrk.lua; BENCH_KEY is also sent as the Authorization header in get mode).
wrk_run() {
    local out="$1" t="$2" c="$3" d="$4" url="$5" kv k=""
    shift 5
    for kv in "$@"; do [[ "$kv" == BENCH_KEY=* ]] && k="${kv#BENCH_KEY=}"; done
    local -a hdr=()
    [[ -n "$k" ]] && hdr=(-H "Authorization: Bearer $k")
    env "$@" wrk -t "$t" -c "$c" -d "${d}s" --timeout "${wrk_timeout:-10}s" --latency -s "$here/wrk.lua" \
        "${hdr[@]}" "$url" >"$out" 2>&1 || { cat "$out"; die "wrk exited with an error"; }
    parse_bench "$out" || { cat "$out"; die "no BENCH line in the wrk output ($out)"; }
}

# settle URL: after a run, wait until the server has finished the requests wrk abandoned when it
# stopped (actix finishes database work whose client went away): channeldesk's /metrics shows no
# request waiting and every pooled connection idle. The bare server has no /metrics: a short pause.
settle() {
    local base metrics waiting idle size deadline=$((SECONDS + 120))
    base="$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$1")"
    while ((SECONDS < deadline)); do
        metrics="$(curl -sf --max-time 5 "$base/metrics" 2>/dev/null)" || { sleep 0.5; return 0; }
        waiting="$(awk '$1 == "channeldesk_db_waiting_requests" { print $2 }' <<<"$metrics")"
        idle="$(awk '$1 == "channeldesk_db_pool_idle_connections" { print $2 }' <<<"$metrics")"
        size="$(awk '$1 == "channeldesk_db_pool_connections" { print $2 }' <<<"$metrics")"
        [[ "$waiting" == 0 && -n "$idle" && "$idle" == "$size" ]] && return 0
        sleep 0.2
    done
    echo "warning: $base still busy 120 s after the run" >&2
}

# scenario_error LABEL: a run whose numbers are not valid; recorded, and the phase goes on.
scenario_error() {
    echo "ERROR: $1 saw ${B[http_errors]} HTTP errors (status >= 400), ${B[failed]} non-2xx answers counted and ${B[socket_errors]} socket errors: its numbers are not valid" >&2
    echo "$1: ${B[http_errors]} HTTP errors (>= 400), ${B[socket_errors]} socket errors" >>"$results/errors"
}

# measure LABEL THREADS CONNECTIONS URL [VAR=VALUE ...]: warm-up, then the measured run (durations
# from $warmup and $duration, which callers may shadow); B holds the measured run's figures.
measure() {
    local label="$1" t="$2" c="$3" url="$4" safe
    shift 4
    safe="${label//[^A-Za-z0-9_-]/-}"
    say "$label: ${warmup}s warm-up, then ${duration}s at $c connections, $t threads"
    wrk_run "$tmp/wrk-warm.txt" "$t" "$c" "$warmup" "$url" "$@" BENCH_SCENARIO=warmup BENCH_PREFIX="w-$safe"
    settle "$url"
    wrk_run "$tmp/wrk-$safe.txt" "$t" "$c" "$duration" "$url" "$@" BENCH_SCENARIO="$label" BENCH_PREFIX="m-$safe"
    grep -E '^(BENCH |Requests/sec|  Non-2xx)' "$tmp/wrk-$safe.txt" || true
    settle "$url"
    if [[ "${B[http_errors]}" != 0 || "${B[socket_errors]}" != 0 || "${B[failed]}" != 0 ]]; then
        scenario_error "$label"
        return 1
    fi
    return 0
}

# check PHASE LABEL VALUE OP TARGET UNIT: one target line for the report.
check() {
    local verdict
    if [[ -z "$3" || "$3" == "-" ]]; then
        verdict="MISSED (no valid figure)"
    elif awk -v v="$3" -v t="$5" -v op="$4" 'BEGIN { exit !((op == ">=") ? (v >= t) : (v <= t)) }'; then
        verdict=ok
    else
        verdict=MISSED
    fi
    printf '%-8s %-46s %10s %-3s  target %s %s %-3s  %s\n' "$1" "$2" "${3:--}" "$6" "$4" "$5" "$6" "$verdict" >>"$results/targets"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b <= 0) print "-"; else printf "%.2f", a / b }'; }

# --- phase: ratios (and mixed) on 100k partners seeded through the API ------------------------------------
# seed_api BASE: BENCH_PARTNERS partners through POST /api/v1/partners, 4 wrk threads each stopping
# at its quota. wrk's main thread would sleep out the whole -d even after every thread has stopped,
# so we watch the per-thread marker files and end wrk with SIGINT (it then still prints its summary
# and runs done()).
seed_api() {
    local base="$1" out="$tmp/wrk-seed.txt" done_dir="$tmp/seed-done-$RANDOM" wrk_pid rc
    local quota=$((partners / seed_threads)) deadline=$((SECONDS + seed_timeout + 10))
    mkdir -p "$done_dir"
    say "seeding $partners partners through the API ($seed_threads threads x $quota)"
    BENCH_MODE=create BENCH_KEY="$key" BENCH_PREFIX=bench BENCH_QUOTA="$quota" \
        BENCH_DONE_DIR="$done_dir" BENCH_SCENARIO=seed \
        wrk -t "$seed_threads" -c "$connections" --timeout 10s -d "${seed_timeout}s" \
        -s "$here/wrk.lua" "$base/api/v1/partners" >"$out" 2>&1 &
    wrk_pid=$!
    bg_pids+=("$wrk_pid")
    local -a marks
    local started=$SECONDS next_note=$((SECONDS + 30))
    while kill -0 "$wrk_pid" 2>/dev/null && ((SECONDS < deadline)); do
        marks=("$done_dir"/*)
        [[ -e "${marks[0]}" && ${#marks[@]} -ge $seed_threads ]] && break
        if ((SECONDS >= next_note)); then
            echo "  ... still seeding after $((SECONDS - started))s"
            next_note=$((SECONDS + 30))
        fi
        sleep 0.2
    done
    kill -INT "$wrk_pid" 2>/dev/null || true
    rc=0
    wait "$wrk_pid" || rc=$?
    forget_pid "$wrk_pid"
    cat "$out"
    parse_bench "$out" || die "seeding: no BENCH line in the wrk output (wrk exit $rc)"
    local created="${B[created]}" failed="${B[failed]}" socket_errors="${B[socket_errors]}"
    if ((created < partners || failed != 0 || socket_errors != 0)); then
        die "seeding created $created of $partners partners ($failed non-201 answers, $socket_errors socket errors)"
    fi
    echo "seeded ${B[created]} partners at ${B[rps]} creates/s"
}

# pair_row BACKEND SCENARIO: runs the scenario on channeldesk then bare (cd_url, bare_url, cd_env,
# bare_env set by the caller) and appends the row to the ratio table.
declare -a cd_env bare_env
pair_row() {
    local backend="$1" scenario="$2" cr="-" c50="-" c99="-" br="-" b50="-" b99="-"
    if measure "$backend channeldesk $scenario" "$threads" "$connections" "$cd_url" "${cd_env[@]}"; then
        cr="${B[rps]}" c50="${B[p50_ms]}" c99="${B[p99_ms]}"
    fi
    if [[ -n "$bare_url" ]]; then
        if measure "$backend bare $scenario" "$threads" "$connections" "$bare_url" "${bare_env[@]}"; then
            br="${B[rps]}" b50="${B[p50_ms]}" b99="${B[p99_ms]}"
        fi
        last_bare=("$br" "$b50" "$b99")
    else
        read -r br b50 b99 <<<"${last_bare[*]}"
    fi
    printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$backend" "$scenario" "$cr" "$c50" "$c99" "$br" "$b50" "$b99" \
        "$(ratio "$cr" "$br")" >>"$results/ratios"
    R_RATIO["$scenario"]="$(ratio "$cr" "$br")"
    R_P99["$scenario"]="$c99"
}
declare -A R_RATIO R_P99
last_bare=("-" "-" "-")

# rows_written BACKEND PREFIX: partners whose name starts with PREFIX, and how many of them have
# their audit record, their partner.created event and an idempotency key of that name.
rows_written() {
    local like="$2-%" ids
    ids="SELECT id FROM partners WHERE name LIKE '$like'"
    sql "$1" "SELECT
        (SELECT count(*) FROM partners WHERE name LIKE '$like'),
        (SELECT count(*) FROM audit_events
            WHERE resource_type = 'partner' AND action = 'create' AND resource_id IN ($ids)),
        (SELECT count(*) FROM events WHERE event_type = 'partner.created' AND resource_id IN ($ids)),
        (SELECT count(*) FROM idempotency_keys WHERE idempotency_key LIKE '$like' AND status_code = 201)"
}

phase_ratios() { phase_partners "$1"; }
phase_mixed() { phase_partners "$1"; }

# phase_partners BACKEND: the ratios and/or mixed phases share one database seeded through the API.
phase_partners() {
    local backend="$1" id region list_qs
    new_database "$backend" partners
    migrate_and_key
    start_channeldesk "$backend-partners"
    seed_api "$cd_base"
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $key" "$cd_base/api/v1/partners?limit=1")"
    [[ "$code" == 200 ]] || die "GET /api/v1/partners?limit=1 answered $code after seeding"
    say "$backend: ANALYZE (Postgres: VACUUM ANALYZE, CHECKPOINT) after seeding"
    analyze "$backend"

    # One known partner for GET-by-id.
    id="$(curl -sf --max-time 10 -X POST "$cd_base/api/v1/partners" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        --data '{"name":"bench-probe","channel_type":"indirect","kind":"agent","tier":"key","region":"华东","territories":["上海"],"owner":"owner-probe"}' |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')" || die "could not create the probe partner"
    echo "probe partner: $id"
    region="$(urlenc 华东)"
    # Two filters, a page of 50: about 5 % of the seeded partners match (every region/tier pair is
    # equally common in the seed).
    list_qs="region=$region&tier=key&limit=50"

    if want ratios; then
        start_bare "$backend"
        # The bare server must answer exactly what channeldesk answers, or the comparison is void.
        python3 - "$cd_base" "$bare_base" "$key" "$id" "$list_qs" <<'EOF' || die "the bare server's answers differ from channeldesk's"
import json, sys, urllib.request
cd, bare, key, pid, qs = sys.argv[1:]
def get(url, auth):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + key} if auth else {})
    return json.load(urllib.request.urlopen(req, timeout=30))
a, b = get(f"{cd}/api/v1/partners/{pid}", True), get(f"{bare}/partners/{pid}", False)
assert a == b, f"GET by id differs:\n{a}\n{b}"
a, b = get(f"{cd}/api/v1/partners?{qs}", True), get(f"{bare}/partners?{qs}", False)
assert [p["id"] for p in a["items"]] == [p["id"] for p in b["items"]] and len(a["items"]) == 50, "lists differ"
assert a["items"] == b["items"], "list items differ"
print("bare answers match channeldesk's: GET by id, and the 50 items of the filtered list")
EOF
        cd_url="$cd_base/healthz" cd_env=(BENCH_MODE=get)
        bare_url="$bare_base/healthz" bare_env=(BENCH_MODE=get)
        pair_row "$backend" healthz
        cd_url="$cd_base/api/v1/partners/$id" cd_env=(BENCH_MODE=get BENCH_KEY="$key")
        bare_url="$bare_base/partners/$id" bare_env=(BENCH_MODE=get)
        pair_row "$backend" get_by_id
        cd_url="$cd_base/api/v1/partners?$list_qs" cd_env=(BENCH_MODE=get BENCH_KEY="$key")
        bare_url="$bare_base/partners?$list_qs" bare_env=(BENCH_MODE=get)
        pair_row "$backend" filtered_list
        # Creates last: they grow the table the reads ran on.
        cd_url="$cd_base/api/v1/partners" cd_env=(BENCH_MODE=create BENCH_KEY="$key")
        bare_url="$bare_base/partners" bare_env=(BENCH_MODE=create BENCH_CREATE_PATH=/partners)
        pair_row "$backend" create
        # The same create with an Idempotency-Key on every request, against the same bare figure.
        cd_url="$cd_base/api/v1/partners" cd_env=(BENCH_MODE=create BENCH_KEY="$key" BENCH_IDEMPOTENCY=1)
        bare_url=""
        pair_row "$backend" create_idem
        stop_server "$bare_pid"

        check "$backend" "GET by id / bare" "${R_RATIO[get_by_id]}" ">=" 0.8 ""
        check "$backend" "filtered list / bare" "${R_RATIO[filtered_list]}" ">=" 0.6 ""
        local create_target=0.5
        [[ "$backend" == sqlite ]] && create_target=0.4
        check "$backend" "POST create / bare" "${R_RATIO[create]}" ">=" "$create_target" ""
        check "$backend" "POST create + Idempotency-Key / bare" "${R_RATIO[create_idem]}" ">=" "$create_target" ""
        check "$backend" "POST create p99" "${R_P99[create]}" "<=" 25 ms
        check "$backend" "POST create + Idempotency-Key p99" "${R_P99[create_idem]}" "<=" 25 ms
        # Faster creates must still write their audit record and outbox event (and, when sent, the
        # idempotency key) with the partner.
        local n audit events idem missing
        read -r n audit events idem < <(rows_written "$backend" "m-$backend-channeldesk-create")
        missing=$((n - audit + n - events))
        echo "create: $n partners, $audit audit records, $events partner.created events"
        check "$backend" "create: partners lacking audit/event rows" "$missing" "<=" 0 ""
        read -r n audit events idem < <(rows_written "$backend" "m-$backend-channeldesk-create_idem")
        missing=$((n - audit + n - events + n - idem))
        echo "create_idem: $n partners, $audit audit records, $events events, $idem idempotency keys"
        check "$backend" "create_idem: lacking audit/event/key rows" "$missing" "<=" 0 ""
    fi

    if want mixed; then
        mixed "$backend" "$id" "$list_qs"
    fi

    # Peak resident set size of the server over the whole phase (seeding included).
    local rss
    rss="$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$cd_pid/status")"
    echo "$backend server peak RSS (VmHWM): $rss MiB"
    check "$backend" "channeldesk peak RSS" "$rss" "<=" 128 MiB
    stop_server "$cd_pid"
    current_log=""
    if want ratios && [[ "$backend" == postgres ]]; then
        pgbench_ceiling
    fi
}

# mixed BACKEND ID LIST_QS: writers creating and readers reading at once, two wrk processes.
mixed() {
    local backend="$1" id="$2" list_qs="$3" wout="$tmp/wrk-mixed-writers.txt" rout="$tmp/wrk-mixed-readers.txt"
    local wpid rc pass
    local -a paths_env=(BENCH_MODE=paths BENCH_KEY="$key" BENCH_COUNT=1
        "BENCH_PATHS=/api/v1/partners/$id /api/v1/partners?$list_qs")
    for pass in warm measure; do
        local d="$duration"
        [[ "$pass" == warm ]] && d="$warmup"
        say "$backend mixed ($pass): $mixed_writers connections creating, $mixed_readers reading (get by id, filtered list), ${d}s"
        env BENCH_MODE=create BENCH_KEY="$key" BENCH_COUNT=1 BENCH_PREFIX="mixed-$pass" BENCH_SCENARIO=mixed_writers \
            wrk -t 1 -c "$mixed_writers" -d "${d}s" --timeout 10s --latency -s "$here/wrk.lua" \
            "$cd_base/api/v1/partners" >"$wout" 2>&1 &
        wpid=$!
        bg_pids+=("$wpid")
        env "${paths_env[@]}" BENCH_SCENARIO=mixed_readers \
            wrk -t 1 -c "$mixed_readers" -d "${d}s" --timeout 10s --latency -s "$here/wrk.lua" \
            "$cd_base/api/v1/partners" >"$rout" 2>&1 || { cat "$rout"; die "wrk (readers) exited with an error"; }
        rc=0
        wait "$wpid" || rc=$?
        forget_pid "$wpid"
        ((rc == 0)) || { cat "$wout"; die "wrk (writers) exited with $rc"; }
    done
    local -A W
    parse_bench "$wout" || { cat "$wout"; die "no BENCH line from the writers"; }
    for k in "${!B[@]}"; do W["$k"]="${B[$k]}"; done
    if [[ "${B[http_errors]}" != 0 || "${B[socket_errors]}" != 0 || "${B[failed]}" != 0 ]]; then
        scenario_error "$backend mixed writers"
    fi
    parse_bench "$rout" || { cat "$rout"; die "no BENCH line from the readers"; }
    if [[ "${B[http_errors]}" != 0 || "${B[socket_errors]}" != 0 || "${B[failed]}" != 0 ]]; then
        scenario_error "$backend mixed readers"
    fi
    printf '%s|writers (%s conns, POST)|%s|%s|%s|%s\n' "$backend" "$mixed_writers" "${W[rps]}" "${W[p50_ms]}" "${W[p99_ms]}" \
        "$((W[failed] + W[socket_errors]))" >>"$results/mixed"
    printf '%s|readers (%s conns, GETs)|%s|%s|%s|%s\n' "$backend" "$mixed_readers" "${B[rps]}" "${B[p50_ms]}" "${B[p99_ms]}" \
        "$((B[failed] + B[socket_errors]))" >>"$results/mixed"
    if [[ "$backend" == sqlite ]]; then
        check "$backend" "mixed: readers p99" "${B[p99_ms]}" "<=" 10 ms
    fi
    check "$backend" "mixed: non-2xx answers and socket errors" \
        "$((W[failed] + W[socket_errors] + B[failed] + B[socket_errors]))" "<=" 0 ""
}

# pgbench_ceiling: the database's own select-only throughput on a scratch database.
pgbench_ceiling() {
    local out="$tmp/pgbench.txt" tps lat
    new_database postgres pgbench
    say "postgres / pgbench -S: initialising scale 10"
    pgbench -i -s 10 -q "$db_name" >"$tmp/pgbench-init.txt" 2>&1 ||
        { cat "$tmp/pgbench-init.txt"; die "pgbench -i failed"; }
    say "postgres / pgbench -S: ${warmup}s warm-up, then ${duration}s at $connections clients, 2 threads"
    pgbench -S -c "$connections" -j 2 -T "$warmup" "$db_name" >/dev/null 2>&1 || die "pgbench warm-up failed"
    pgbench -S -c "$connections" -j 2 -T "$duration" "$db_name" 2>&1 | tee "$out"
    tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time).*/\1/p' "$out")"
    lat="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$out")"
    [[ -n "$tps" ]] || die "could not read tps from pgbench"
    echo "postgres|pgbench -S (no HTTP)|$(printf '%.1f' "$tps")|${lat:-?} (mean)" >>"$results/pgbench"
}

# --- phase: scaling -----------------------------------------------------------------------------------
# Two sizes of one database, seeded by seed.py: 10,000 partners, then 990,000 more. At each size,
# for each filter pair, the first page and the last (20th) page, one connection back to back.
phase_scaling() {
    local backend="$1" size pair a b qs all_flag=() lines
    [[ "$pairs_set" == all ]] && all_flag=(--all)
    mapfile -t lines < <("${seedpy[@]}" pairs "${all_flag[@]}")
    new_database "$backend" scaling
    migrate_and_key
    local -A T50 T99 CURSOR20
    for size in 10k 1M; do
        say "$backend scaling: seeding the $size table directly (seed.py)"
        if [[ "$size" == 10k ]]; then
            "${seedpy[@]}" partners --backend "$backend" --db "$db_name" --set base
        else
            "${seedpy[@]}" partners --backend "$backend" --db "$db_name" --set rest --upto "$scale_upto"
        fi
        analyze "$backend"
        # Every pair must match exactly the 1,000 target rows: 20 pages of 50.
        local counts n total sa sb
        counts="$("${seedpy[@]}" pair-counts --backend "$backend" --db "$db_name" "${all_flag[@]}")"
        while read -r pair n total sa sb; do
            echo "  $pair: $n of $total rows match ($(awk -v n="$n" -v t="$total" 'BEGIN { printf "%.2f", 100 * n / t }') %); each filter alone: $sa and $sb"
            ((n == 1000)) || die "$pair matches $n rows, not 1000: the seed is not what this phase measures"
        done <<<"$counts"

        start_channeldesk "$backend-scaling-$size"
        local duration="$scale_duration" warmup="$scale_warmup" walked pages rows more last
        for pair_line in "${lines[@]}"; do
            read -r a b qs <<<"$pair_line"
            pair="$a+$b"
            walked="$("${seedpy[@]}" walk "$cd_base" "$key" "$qs")"
            read -r pages rows more last <<<"$walked"
            echo "  $pair: walked $pages $rows ${last%%&cursor*}..."
            [[ "$pages" == pages=20 && "$rows" == rows=1000 && "$more" == more=0 ]] ||
                die "$pair: walking the cursor gave $walked, not 20 pages and 1000 rows"
            last="${last#last=}"
            CURSOR20["$pair"]="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.parse_qs(sys.argv[1])["cursor"][0])' "$last")"
            if measure "$backend $size $pair first page" 1 1 "$cd_base/api/v1/partners?$qs" BENCH_MODE=get BENCH_KEY="$key"; then
                T50["$pair/first/$size"]="${B[p50_ms]}" T99["$pair/first/$size"]="${B[p99_ms]}"
            fi
            if measure "$backend $size $pair page 20" 1 1 "$cd_base/api/v1/partners?$last" BENCH_MODE=get BENCH_KEY="$key"; then
                T50["$pair/page20/$size"]="${B[p50_ms]}" T99["$pair/page20/$size"]="${B[p99_ms]}"
            fi
        done
        stop_server "$cd_pid"
        current_log=""
    done

    say "$backend scaling: query plans at the large size of channeldesk's list query (first page, page 20)"
    for pair_line in "${lines[@]}"; do
        read -r a b qs <<<"$pair_line"
        echo "-- $a+$b, first page"
        explain "$backend" "$a" "$b" || echo "(EXPLAIN failed)"
        echo "-- $a+$b, page 20"
        explain "$backend" "$a" "$b" "${CURSOR20[$a+$b]:-}" || echo "(EXPLAIN failed)"
    done

    local page r
    for pair_line in "${lines[@]}"; do
        read -r a b qs <<<"$pair_line"
        pair="$a+$b"
        for page in first page20; do
            r="$(ratio "${T50[$pair/$page/1M]:-}" "${T50[$pair/$page/10k]:-}")"
            printf '%s|%s|%s|%s|%s|%s|%s|%s\n' "$backend" "$pair" "$page" "${T50[$pair/$page/10k]:--}" \
                "${T99[$pair/$page/10k]:--}" "${T50[$pair/$page/1M]:--}" "${T99[$pair/$page/1M]:--}" "$r" >>"$results/scaling"
            check "$backend" "list $pair $page: 1M / 10k p50" "$r" "<=" 2 ""
        done
    done
}

# explain BACKEND A B [CURSOR]: the plan of channeldesk's list query for the pair (the SQL diesel
# builds, written out by seed.py). SQLite: EXPLAIN QUERY PLAN with unbound parameters, as a
# prepared statement is planned (QPSG: plans never look at bound values), by the bundled SQLite of
# the bare server, not the system's. Postgres: EXPLAIN ANALYZE with the values inlined (a custom
# plan), then the generic plan a long-cached prepared statement may switch to.
explain() {
    local -a after=()
    [[ -n "${4:-}" ]] && after=(--after "$4")
    case "$1" in
        sqlite)
            [[ -x "$bare_bin" ]] || { echo "(no plan: build bench/bare, e.g. with the ratios phase)"; return 0; }
            "$bare_bin" explain-sqlite "$db_name" "$("${seedpy[@]}" explain-sql "$2" "$3" "${after[@]}" --placeholder '?')"
            ;;
        postgres)
            local q g
            q="$("${seedpy[@]}" explain-sql "$2" "$3" "${after[@]}")"
            g="$("${seedpy[@]}" explain-sql "$2" "$3" "${after[@]}" --placeholder '$1')"
            psql_db "$db_name" -At -c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) $q"
            echo "   generic plan:"
            # One text parameter stands for every value: a generic plan does not look at them.
            psql_db "$db_name" -At -c "SET plan_cache_mode = force_generic_plan" \
                -c "PREPARE q(text) AS ${g//LIMIT \$1/LIMIT 51}" \
                -c "EXPLAIN (COSTS OFF) EXECUTE q('')" | sed 's/^/   /'
            ;;
    esac
}

# --- phase: bulk publish ------------------------------------------------------------------------------
phase_bulk() {
    local backend="$1" run bid out t code count times=()
    new_database "$backend" bulk
    migrate_and_key
    say "$backend bulk: $bulk_partners active partners, seeded directly (seed.py)"
    "${seedpy[@]}" partners --backend "$backend" --db "$db_name" --set "first:$bulk_partners" --status active
    analyze "$backend"
    start_channeldesk "$backend-bulk"
    for run in $(seq 1 "$bulk_runs"); do
        bid="$(curl -sf --max-time 30 -X POST "$cd_base/api/v1/bulletins" -H "Authorization: Bearer $key" \
            -H 'Content-Type: application/json' \
            --data "{\"title\":\"bench bulletin $run\",\"body\":\"**要点**：全体渠道成员通知 $run\",\"category\":\"policy\",\"importance\":\"important\",\"audience\":{\"all\":true}}" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')" || die "could not create a bulletin"
        out="$tmp/publish-$run.json"
        read -r code t < <(curl -s -o "$out" -w '%{http_code} %{time_total}\n' --max-time 600 -X POST \
            "$cd_base/api/v1/bulletins/$bid/publish" -H "Authorization: Bearer $key")
        if [[ "$code" != 200 ]]; then
            echo "$backend/bulk: publish answered $code: $(head -c 300 "$out")" >>"$results/errors"
            die "POST /api/v1/bulletins/$bid/publish answered $code after ${t}s: $(head -c 300 "$out")"
        fi
        count="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["recipient_count"])' "$out")"
        [[ "$count" == "$bulk_partners" ]] || die "publish reached $count recipients, not $bulk_partners"
        echo "publish $run: ${t}s for $count recipients"
        times+=("$t")
    done
    local rows
    rows="$(sql "$backend" "SELECT count(*) FROM bulletin_recipients")"
    [[ "$rows" == "$((bulk_runs * bulk_partners))" ]] || die "bulletin_recipients holds $rows rows, not $((bulk_runs * bulk_partners))"
    stop_server "$cd_pid"
    current_log=""
    local median worst
    median="$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
    worst="$(printf '%s\n' "${times[@]}" | sort -g | tail -n 1)"
    echo "$backend|$bulk_partners|$bulk_runs|${times[*]}|$median|$worst" >>"$results/bulk"
    check "$backend" "publish to $bulk_partners (median of $bulk_runs)" "$median" "<=" 3 s
}

# --- phase: risk reads --------------------------------------------------------------------------------
phase_risks() {
    local backend="$1" meta contract expected keys
    new_database "$backend" risks
    migrate_and_key
    say "$backend risks: $risk_partners active partners and $risk_contracts active contracts, seeded directly (seed.py)"
    "${seedpy[@]}" partners --backend "$backend" --db "$db_name" --set "first:$risk_partners" --status active
    meta="$("${seedpy[@]}" contracts --backend "$backend" --db "$db_name" --contracts "$risk_contracts" --partners "$risk_partners")"
    analyze "$backend"
    contract="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["contract_id"])' "$meta")"
    expected="$(python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])["expected"]))' "$meta")"
    # Announcements the start-up risk scan makes: one per risk, two-sided risks once.
    keys="$(python3 -c 'import json, sys; e = json.loads(sys.argv[1]); print(sum(v // 2 if k in ("exclusivity_overlap", "territory_conflict") else v for k, v in e.items()))' "$expected")"
    start_channeldesk "$backend-risks"
    # serve runs the risk scan once at start-up, in one transaction: let it finish first.
    local open=0 deadline=$((SECONDS + 300))
    while ((SECONDS < deadline)); do
        open="$(sql "$backend" "SELECT count(*) FROM contract_open_risks")"
        ((open >= keys)) && break
        sleep 1
    done
    echo "start-up risk scan: $open of $keys risks recorded as announced"
    ((open >= keys)) || echo "warning: the start-up risk scan had not finished; measuring anyway" >&2
    local found
    found="$("${seedpy[@]}" risk-summary "$cd_base" "$key")"
    echo "risks computed by the service: $found (seeded for: $expected)"
    [[ "$found" == "$expected" ]] || die "the service computes other risks than the seed was built for"

    # The target runs, at the usual wrk settings; wrk waits up to 30 s for an answer here (the
    # service itself answers 503 after 10 s without a turn at the database).
    local rows_c="-|-|-" rows_l="-|-|-" wrk_timeout=30
    if measure "$backend contract risks c$risk_connections" "$threads" "$risk_connections" \
        "$cd_base/api/v1/contracts/$contract/risks" BENCH_MODE=get BENCH_KEY="$key"; then
        rows_c="${B[rps]}|${B[p50_ms]}|${B[p99_ms]}"
    fi
    if measure "$backend risks list c$risk_connections" "$threads" "$risk_connections" \
        "$cd_base/api/v1/risks?limit=50" BENCH_MODE=get BENCH_KEY="$key"; then
        rows_l="${B[rps]}|${B[p50_ms]}|${B[p99_ms]}"
    fi
    echo "$backend|GET /contracts/{id}/risks|$risk_connections|$rows_c" >>"$results/risks"
    echo "$backend|GET /risks?limit=50|$risk_connections|$rows_l" >>"$results/risks"
    check "$backend" "GET /contracts/{id}/risks p99" "$(cut -d'|' -f3 <<<"$rows_c")" "<=" 20 ms
    check "$backend" "GET /risks?limit=50 p99" "$(cut -d'|' -f3 <<<"$rows_l")" "<=" 20 ms
    # Diagnostic, not a target: one connection, no queueing, so the figure is the service time.
    local duration=$((duration < 10 ? duration : 10))
    if measure "$backend contract risks c1" 1 1 "$cd_base/api/v1/contracts/$contract/risks" BENCH_MODE=get BENCH_KEY="$key"; then
        echo "$backend|GET /contracts/{id}/risks|1|${B[rps]}|${B[p50_ms]}|${B[p99_ms]}" >>"$results/risks"
    fi
    if measure "$backend risks list c1" 1 1 "$cd_base/api/v1/risks?limit=50" BENCH_MODE=get BENCH_KEY="$key"; then
        echo "$backend|GET /risks?limit=50|1|${B[rps]}|${B[p50_ms]}|${B[p99_ms]}" >>"$results/risks"
    fi
    stop_server "$cd_pid"
    current_log=""
}

# --- phase: evaluation (performance records at scale, scorecards) --------------------------------------
# eval_partners partners seeded directly, then eval_months months of performance records for each
# loaded through the import path (`channeldesk import performance`, the CLI's chunked import that
# shares import::run with the HTTP import), then the scorecard reads over those months.
phase_evaluation() {
    local backend="$1" csv rows t0 secs rate last from partner
    new_database "$backend" evaluation
    migrate_and_key
    say "$backend evaluation: $eval_partners active partners, seeded directly (seed.py)"
    "${seedpy[@]}" partners --backend "$backend" --db "$db_name" --set "first:$eval_partners" --status active
    last="$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)"
    from="$(date -u -d "$last-01 -$((eval_months - 1)) month" +%Y-%m)"
    csv="$tmp/performance-$backend.csv"
    "${seedpy[@]}" performance-csv --backend "$backend" --db "$db_name" --months "$eval_months" --last "$last" --out "$csv"
    say "$backend evaluation: channeldesk import performance ($((eval_partners * eval_months)) rows, $from..$last)"
    t0="$(date +%s.%N)"
    DATABASE_URL="$db_url" RUST_LOG=warn "$bin" import performance "$csv" 2>"$tmp/import-$backend.log" ||
        { tail -n 20 "$tmp/import-$backend.log"; die "the import failed"; }
    secs="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
    tail -n 3 "$tmp/import-$backend.log" | tr '\r' '\n' | tail -n 2
    rows="$(sql "$backend" "SELECT count(*) FROM performance_records")"
    [[ "$rows" == "$((eval_partners * eval_months))" ]] || die "performance_records holds $rows rows, not $((eval_partners * eval_months))"
    rate="$(awk -v r="$rows" -v s="$secs" 'BEGIN { printf "%d", r / s }')"
    echo "imported $rows rows in ${secs}s: $rate rows/s"
    echo "$backend|import performance ($rows rows)|1|$rate rows/s|${secs} s|-" >>"$results/evaluation"
    check "$backend" "import rows/s" "$rate" ">=" "$([[ "$backend" == sqlite ]] && echo 50000 || echo 25000)" ""
    analyze "$backend"
    partner="$(sql "$backend" "SELECT id FROM partners ORDER BY id LIMIT 1 OFFSET $((eval_partners / 2))")"
    start_channeldesk "$backend-evaluation"
    local window="from=$from&to=$last" dur
    if measure "$backend partner scorecard" "$threads" "$connections" \
        "$cd_base/api/v1/partners/$partner/scorecard?$window" BENCH_MODE=get BENCH_KEY="$key"; then
        echo "$backend|GET /partners/{id}/scorecard ($eval_months months)|$connections|${B[rps]} req/s|${B[p50_ms]}|${B[p99_ms]}" >>"$results/evaluation"
        check "$backend" "partner scorecard p99" "${B[p99_ms]}" "<=" 20 ms
    else
        check "$backend" "partner scorecard p99" "" "<=" 20 ms
    fi
    # The rankings: one connection back to back, the figure is the service time of one request.
    dur=$((duration < 10 ? duration : 10))
    local duration="$dur"
    if measure "$backend ranking by partner" 1 1 \
        "$cd_base/api/v1/scorecards?$window&group_by=partner&sort=score&limit=50" BENCH_MODE=get BENCH_KEY="$key"; then
        echo "$backend|GET /scorecards group_by=partner sort=score|1|${B[rps]} req/s|${B[p50_ms]}|${B[p99_ms]}" >>"$results/evaluation"
        check "$backend" "ranking by partner p50" "${B[p50_ms]}" "<=" 1000 ms
    else
        check "$backend" "ranking by partner p50" "" "<=" 1000 ms
    fi
    if measure "$backend ranking by region" 1 1 \
        "$cd_base/api/v1/scorecards?$window&group_by=region" BENCH_MODE=get BENCH_KEY="$key"; then
        echo "$backend|GET /scorecards group_by=region|1|${B[rps]} req/s|${B[p50_ms]}|${B[p99_ms]}" >>"$results/evaluation"
        check "$backend" "ranking by region p50" "${B[p50_ms]}" "<=" 200 ms
    else
        check "$backend" "ranking by region p50" "" "<=" 200 ms
    fi
    stop_server "$cd_pid"
    current_log=""
}

# --- run ------------------------------------------------------------------------------------------------
ensure_wrk
for b in "${backends[@]}"; do
    if [[ "$b" == postgres ]]; then ensure_postgres; fi
done

say "machine and tools"
echo "cores: $(nproc); cpu: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
echo "backends: ${backends[*]}; phases: ${phases[*]}"
wrk --version 2>&1 | head -n 1 || true
cargo --version

say "cargo build --release"
cargo build --release
if want ratios || want scaling; then
    # The bare server (scaling uses its SQLite build for query plans). Built from inside the
    # repository, so .cargo/config.toml applies here too (LIBSQLITE3_FLAGS: the same SQLite build
    # as channeldesk's). --locked: the versions of bench/bare/Cargo.lock.
    say "cargo build --release --locked (bench/bare)"
    (cd "$bare_dir" && CARGO_TARGET_DIR="$bare_dir/target" cargo build --release --locked)
fi

started=$SECONDS
for b in "${backends[@]}"; do
    if want ratios || want mixed; then
        if want ratios; then run_phase ratios "$b"; else run_phase mixed "$b"; fi
    fi
    for p in scaling bulk risks evaluation; do
        if want "$p"; then run_phase "$p" "$b"; fi
    done
done

# --- report ---------------------------------------------------------------------------------------------
say "results (commit $(git rev-parse --short HEAD 2>/dev/null || echo none), $(nproc) cores, phases took $((SECONDS - started))s)"
if [[ -s "$results/ratios" ]]; then
    echo
    echo "channeldesk beside bare, ${duration}s per run after ${warmup}s warm-up, wrk -t$threads -c$connections, $partners partners seeded through the API:"
    printf '%-9s %-14s | %10s %8s %8s | %10s %8s %8s | %6s\n' backend scenario "cd req/s" "p50 ms" "p99 ms" "bare req/s" "p50 ms" "p99 ms" ratio
    while IFS='|' read -r rb rs c1 c2 c3 b1 b2 b3 rr; do
        printf '%-9s %-14s | %10s %8s %8s | %10s %8s %8s | %6s\n' "$rb" "$rs" "$c1" "$c2" "$c3" "$b1" "$b2" "$b3" "$rr"
    done <"$results/ratios"
    echo "(create_idem: channeldesk with an Idempotency-Key on every POST, against the same bare create)"
fi
if [[ -s "$results/pgbench" ]]; then
    while IFS='|' read -r rb rs r1 r2; do
        printf '%-9s %-26s %10s tps, latency %s ms\n' "$rb" "$rs" "$r1" "$r2"
    done <"$results/pgbench"
fi
if [[ -s "$results/mixed" ]]; then
    echo
    echo "mixed, channeldesk, ${duration}s, two wrk processes at once:"
    printf '%-9s %-26s %10s %8s %8s %8s\n' backend role "req/s" "p50 ms" "p99 ms" "non-2xx"
    while IFS='|' read -r rb rs r1 r2 r3 r4; do
        printf '%-9s %-26s %10s %8s %8s %8s\n' "$rb" "$rs" "$r1" "$r2" "$r3" "$r4"
    done <"$results/mixed"
fi
if [[ -s "$results/scaling" ]]; then
    echo
    echo "list scaling, channeldesk, one connection back to back, ${scale_duration}s per page after ${scale_warmup}s;"
    echo "every pair matches the same 1,000 partners (20 pages of 50) at both sizes:"
    printf '%-9s %-22s %-7s | %9s %9s | %9s %9s | %7s\n' backend pair page "10k p50" "10k p99" "1M p50" "1M p99" "1M/10k"
    while IFS='|' read -r rb rp rg a1 a2 b1 b2 rr; do
        printf '%-9s %-22s %-7s | %9s %9s | %9s %9s | %7s\n' "$rb" "$rp" "$rg" "$a1" "$a2" "$b1" "$b2" "$rr"
    done <"$results/scaling"
fi
if [[ -s "$results/bulk" ]]; then
    echo
    echo "bulk publish, audience {\"all\": true}:"
    printf '%-9s %10s %5s  %-30s %8s %8s\n' backend recipients runs "seconds" median worst
    while IFS='|' read -r rb r1 r2 r3 r4 r5; do
        printf '%-9s %10s %5s  %-30s %8s %8s\n' "$rb" "$r1" "$r2" "$r3" "$r4" "$r5"
    done <"$results/bulk"
fi
if [[ -s "$results/evaluation" ]]; then
    echo
    echo "evaluation, $eval_partners partners x $eval_months months of performance records:"
    printf '%-9s %-46s %5s %14s %10s %9s\n' backend step conns throughput "p50 ms" "p99 ms"
    while IFS='|' read -r rb rq rc r1 r2 r3; do
        printf '%-9s %-46s %5s %14s %10s %9s\n' "$rb" "$rq" "$rc" "$r1" "$r2" "$r3"
    done <"$results/evaluation"
fi
if [[ -s "$results/risks" ]]; then
    echo
    echo "risk reads, $risk_contracts active contracts, ${duration}s per run (c1 rows: the unloaded service time, not a target):"
    printf '%-9s %-26s %5s %10s %9s %9s\n' backend request conns "req/s" "p50 ms" "p99 ms"
    while IFS='|' read -r rb rq rc r1 r2 r3; do
        printf '%-9s %-26s %5s %10s %9s %9s\n' "$rb" "$rq" "$rc" "$r1" "$r2" "$r3"
    done <"$results/risks"
fi

say "targets"
missed=0
if [[ -s "$results/targets" ]]; then
    cat "$results/targets"
    missed="$(grep -c 'MISSED' "$results/targets" || true)"
fi
echo "$missed target(s) missed"

if [[ -s "$results/errors" ]]; then
    say "errors"
    cat "$results/errors"
    echo "bench: the figures above are incomplete or invalid where an error is listed" >&2
    exit 1
fi
if ((missed > 0)) && [[ "${BENCH_STRICT:-0}" == 1 ]]; then
    echo "bench: $missed target(s) missed" >&2
    exit 3
fi
