#!/usr/bin/env bash
# Schema fuzzing: serve the tracker (gunicorn, DEBUG off) on a fresh SQLite file with the sourced fixtures,
# then let schemathesis generate requests from its own OpenAPI document, anonymously and as an editor.
# Usage: scripts/fuzz.sh [MAX_EXAMPLES_PER_OPERATION]   (run by `make fuzz` and by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLES=${1:-${FUZZ_EXAMPLES:-60}}
PORT=${FUZZ_PORT:-8799}
BIN=.venv/bin
WORK=$(mktemp -d /tmp/tracker-fuzz.XXXXXX)
export DATABASE_URL="sqlite:///$WORK/fuzz.sqlite3"
export CACHE_URL="disk://$WORK/cache"
export SECRET_KEY="fuzz-only-secret-key"
export DEBUG=0
export RELEASES_DIR="$WORK/releases"
# Throttling is tested on its own (tests/test_throttling.py); here it would only answer 429s.
export ANON_THROTTLE_RATE=off USER_THROTTLE_RATE=off

server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

$BIN/python manage.py migrate --noinput >/dev/null
$BIN/python manage.py collectstatic --noinput >/dev/null
$BIN/python manage.py build_gazetteer >/dev/null
$BIN/python manage.py load_sourced_fixtures >/dev/null
$BIN/python manage.py make_release >/dev/null  # so that releases/ lists one
TOKEN=$($BIN/python manage.py create_api_user fuzz-editor --role editor --password 'fuzz-editor-password' | tail -n 1)

# 4xx answers are the point of the exercise: log only server errors.
LOG_LEVEL=ERROR $BIN/gunicorn tracker.wsgi --bind "127.0.0.1:$PORT" --workers 2 --log-level error \
    --error-logfile "$WORK/server.log" &
server_pid=$!
$BIN/python - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the server did not start")
PY

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
SCHEMA="http://127.0.0.1:$PORT/api/v1/schema/?format=json"
status=0
fuzz() {  # NAME, then extra schemathesis options; prints the summary, or everything on failure
    local name=$1 out="$WORK/$1.out"
    shift
    echo "--- schemathesis, $name ---"
    if $BIN/schemathesis run "$SCHEMA" --checks "$CHECKS" --max-examples "$EXAMPLES" --seed 20221030 \
        --workers 2 --no-color "$@" >"$out" 2>&1; then
        sed -n '/= SUMMARY =/,$p' "$out"
    else
        cat "$out"
        status=1
    fi
}
fuzz anonymous
fuzz editor --header "Authorization: Token $TOKEN"
if [ -s "$WORK/server.log" ]; then
    echo "--- server errors ---"
    cat "$WORK/server.log"
fi
exit $status
