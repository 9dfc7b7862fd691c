#!/usr/bin/env bash
# Installs what the orchestrator hand-off tests need, with pip only, cached:
#
#   Airflow  a virtualenv of its own, ${BEAM_ML_CACHE:-$HOME/.cache/beam-ml}/venvs/airflow, with
#            apache-airflow and apache-airflow-providers-apache-beam (no constraints file:
#            Airflow pins versions that conflict with the project's Beam, so it lives apart)
#   kfp      into the project's own virtualenv (kfp resolves beside apache-beam 2.77.0)
#
#   tests/exporting/setup_orchestrators.sh     # from `make test`, before pytest; idempotent
#
# Each writes venvs/<name>.status: "ok<TAB>WHAT" or "missing<TAB>the command that failed and
# its last line", which tests/exporting/test_orchestrators.py gives as its skip reason. A
# failed install is not retried for 24 hours (BEAM_ML_ORCHESTRATORS_RETRY=1 retries now).
# This script always exits 0.
set -uo pipefail

AIRFLOW_VERSION=2.10.5
AIRFLOW_BEAM_PROVIDER=6.1.7
KFP_VERSION=2.17.3
CACHE="${BEAM_ML_CACHE:-$HOME/.cache/beam-ml}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROJECT_PY="${BEAM_ML_PYTHON:-$ROOT/.venv/bin/python}"
BASE_PY="${BEAM_ML_BASE_PYTHON:-python3}"
VENVS="$CACHE/venvs"
RETRY_AFTER_S=$((24 * 3600))
mkdir -p "$VENVS"
say() { echo "orchestrators: $*" >&2; }
record() { printf '%s\t%s\n' "$2" "$3" >"$VENVS/$1.status"; }
fresh_failure() {
    local file="$VENVS/$1.status"
    [[ "${BEAM_ML_ORCHESTRATORS_RETRY:-}" != "1" && -f "$file" ]] || return 1
    [[ "$(cut -f1 "$file")" == "missing" ]] || return 1
    (($(date +%s) - $(stat -c %Y "$file") < RETRY_AFTER_S))
}
last_error() { grep -m1 -E '^ERROR' <<<"$1" | cut -c1-300 || true; }

airflow() {
    local venv="$VENVS/airflow" want="apache-airflow==$AIRFLOW_VERSION apache-airflow-providers-apache-beam==$AIRFLOW_BEAM_PROVIDER"
    if [[ -x "$venv/bin/python" && "$(cat "$venv/.installed" 2>/dev/null)" == "$want" ]]; then
        record airflow ok "$venv ($want)"
        return
    fi
    fresh_failure airflow && { say "airflow: $(cut -f2 "$VENVS/airflow.status") (cached failure)"; return; }
    local cmd="$BASE_PY -m venv $venv && $venv/bin/pip install $want"
    say "airflow: $cmd (a few minutes the first time)"
    local out started=$SECONDS
    rm -rf "$venv"
    if out=$("$BASE_PY" -m venv "$venv" 2>&1 && "$venv/bin/pip" install --quiet $want 2>&1) &&
        "$venv/bin/python" -c "import airflow.providers.apache.beam.operators.beam" >/dev/null 2>&1; then
        echo "$want" >"$venv/.installed"
        record airflow ok "$venv ($want)"
        say "airflow: installed in $((SECONDS - started)) s"
    else
        local why
        why=$(last_error "$out")
        [[ -n "$why" ]] || why=$(tail -n1 <<<"$out" | cut -c1-300)
        record airflow missing "\`$cmd\` failed: $why"
        say "airflow: FAILED: $why"
    fi
}

kfp() {
    if "$PROJECT_PY" -c "import kfp, sys; sys.exit(kfp.__version__ != '$KFP_VERSION')" >/dev/null 2>&1; then
        record kfp ok "kfp $KFP_VERSION in $PROJECT_PY"
        return
    fi
    fresh_failure kfp && { say "kfp: $(cut -f2 "$VENVS/kfp.status") (cached failure)"; return; }
    local cmd="$PROJECT_PY -m pip install kfp==$KFP_VERSION"
    say "kfp: $cmd"
    local out
    if out=$("$PROJECT_PY" -m pip install --quiet "kfp==$KFP_VERSION" 2>&1); then
        record kfp ok "kfp $KFP_VERSION in $PROJECT_PY"
    else
        record kfp missing "\`$cmd\` failed: $(last_error "$out")"
        say "kfp: FAILED: $(last_error "$out")"
    fi
}

airflow
kfp
exit 0
