#!/usr/bin/env bash
# Property-based API tests with schemathesis against a RUNNING channeldesk.
#
#   .ci/schemathesis.sh BASE_URL API_KEY
#   e.g.  .ci/schemathesis.sh http://127.0.0.1:8080 "$(channeldesk api-key create --role admin --name st | tail -n1)"
#
# Called by .ci/run once per backend; also meant to be run by hand. Exits non-zero on any
# failure schemathesis reports (or if it cannot load the spec).
#
# Optional environment:
#   ST_MAX_EXAMPLES     test cases per operation and phase (default 30)
#   ST_WORKERS          concurrent workers (default 1)
#   ST_SEED             replay a run: the seed is printed at the end of every run
#   ST_TIMEOUT_SECONDS  hard stop against a hung run (default 1800); not the budget, see below
#
# Why this invocation (schemathesis 4.32.5, pinned with all its dependencies in
# schemathesis-requirements.txt; flags checked against `st run --help` of that version):
#   st --config-file .ci/schemathesis.toml run BASE/api-docs/openapi.json --url BASE
#      --checks all --max-examples N -H 'Authorization: Bearer KEY' --request-timeout 30
# - 4.x takes the spec location as the positional argument; `--url` sets the base URL the
#   requests go to. Our paths in the spec are absolute (/api/v1/...) and utoipa emits no
#   `servers`, so the base is the bare origin; giving it explicitly avoids any guess.
#   (3.x spelled the budget `--hypothesis-max-examples` and had `--base-url`; both are gone.)
# - All four phases run: examples (from the spec), coverage (a fixed, deterministic set of edge
#   cases per operation, independent of N), fuzzing (at most N cases per operation) and stateful
#   (about N scenarios chaining calls through links inferred from Location headers and ids).
# - `--suppress-health-check too_slow`: Hypothesis aborts an operation whose data takes "too long"
#   to generate, measured in wall time, so a loaded 2-core machine failed PATCH /contracts/{id}
#   and three other rich bodies while a quiet one passed. Whether the API is tested must not
#   depend on the machine's speed; the other health checks stay on.
#   `--max-examples/-n` is the budget (measured: fuzzing and stateful grow with N, coverage does
#   not). We never use `--max-time`: in 4.x it makes fuzzing and stateful testing repeat until the
#   time is spent, so the amount of testing would depend on the machine's speed (DESIGN.md §6).
# - `--checks all` runs every check, including negative_data_rejection, unsupported_method (405 +
#   Allow), ignored_auth (401 without / with a wrong key), use_after_free and
#   ensure_resource_availability. No check is switched off. Where a check would fail the
#   documented behaviour for a reason the spec cannot express, it is narrowed, each case named
#   and explained in its file:
#     schemathesis.toml       positive_data_acceptance also accepts 412 (a generated If-Match is
#                             a stale ETag by construction);
#     schemathesis_hooks.py   (0) a generated revoke never hits the key this run uses (it
#                             would turn the rest of the run into 401s; its id is looked up
#                             below); (1) every schema-valid request gets its own Idempotency-Key, so
#                             unrelated cases never share one; (2) a 422 validation_failed on a
#                             schema-valid request is accepted only when every field error is one
#                             of the listed cross-field / stored-state rules (kind vs channel_type,
#                             opaque cursor, partner_id that must exist); (3) use_after_free is
#                             not applied after the three DELETEs that archive or revoke
#                             (partners, key accounts, API keys): their records stay readable.
# - The Authorization header goes with every request; schemathesis knows from the spec's bearer
#   security scheme that it is the credential, removes it or spoils it for ignored_auth, and
#   masks it in its output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ $# -ne 2 || -z "$1" || -z "$2" ]]; then
    echo "usage: $0 BASE_URL API_KEY   (e.g. $0 http://127.0.0.1:8080 cdk_...)" >&2
    exit 2
fi
base_url="${1%/}"
api_key="$2"
max_examples="${ST_MAX_EXAMPLES:-30}"
workers="${ST_WORKERS:-1}"
hard_timeout="${ST_TIMEOUT_SECONDS:-1800}"

# --- schemathesis in a cached virtualenv --------------------------------------------------------
# Reused across runs on the same machine; rebuilt whenever schemathesis-requirements.txt changes
# (the stamp holds the hash of the file it was built from; it is written last, so an interrupted
# install is redone next time).
cache_dir="${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/channeldesk-ci"
venv="$cache_dir/venv"
requirements="$here/schemathesis-requirements.txt"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/st" || "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]]; then
    echo "schemathesis: installing into $venv"
    rm -rf "$venv"
    mkdir -p "$cache_dir"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
        --requirement "$requirements"
    echo "$wanted" >"$stamp"
fi
echo "schemathesis: $("$venv/bin/st" --version) against $base_url (max examples $max_examples, workers $workers)"

# The id of the key we were given, so the hooks can keep schemathesis from revoking it (see
# schemathesis_hooks.py). Keys look like cdk_<prefix>_<secret>; the listing shows each key's prefix.
own_key_id="$(python3 - "$base_url" "$api_key" <<'PY' || true
import json, sys, urllib.parse, urllib.request
base, key = sys.argv[1], sys.argv[2]
parts = key.split("_")
if len(parts) < 3 or parts[0] != "cdk":
    sys.exit(0)
prefix, cursor = parts[1], None
for _ in range(50):
    query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
    req = urllib.request.Request(f"{base}/api/v1/api-keys?{urllib.parse.urlencode(query)}",
                                 headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        page = json.load(resp)
    for item in page.get("items", []):
        if item.get("prefix") == prefix:
            print(item["id"])
            sys.exit(0)
    cursor = page.get("next_cursor")
    if not cursor:
        break
PY
)"
if [[ -z "$own_key_id" ]]; then
    echo "schemathesis: warning: could not find the id of the given key; a generated revoke may lock this run out" >&2
fi

args=(
    --config-file "$here/schemathesis.toml"
    run "$base_url/api-docs/openapi.json"
    --url "$base_url"
    --checks all
    --max-examples "$max_examples"
    --workers "$workers"
    --header "Authorization: Bearer $api_key"
    --request-timeout 30
    --suppress-health-check too_slow
)
if [[ -n "${ST_SEED:-}" ]]; then
    args+=(--seed "$ST_SEED")
fi
if [[ ! -t 1 ]]; then
    args+=(--no-color)
fi

# `timeout` only guards against a hang (a request never answered, a server wedged); a normal run
# ends long before it, bounded by the example count.
set +e
SCHEMATHESIS_HOOKS="$here/schemathesis_hooks.py" ST_OWN_KEY_ID="$own_key_id" \
    timeout --kill-after=30 "$hard_timeout" "$venv/bin/st" "${args[@]}"
rc=$?
set -e
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "schemathesis: killed after ${hard_timeout}s (hung?)" >&2
elif [[ $rc -ne 0 ]]; then
    echo "schemathesis: FAILED (exit $rc) against $base_url" >&2
fi
exit "$rc"
