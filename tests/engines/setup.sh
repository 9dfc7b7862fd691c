#!/usr/bin/env bash
# Installs Beam's local engines for the engine tests, with the ordinary clients only:
#
#   Prism   go install github.com/apache/beam/sdks/v2/go/cmd/prism@v2.77.0   (Go module proxy)
#   Flink   mvn dependency:copy -Dartifact=org.apache.beam:beam-runners-flink-<F>-job-server:2.77.0
#   Spark   mvn dependency:copy -Dartifact=org.apache.beam:beam-runners-spark-3-job-server:2.77.0
#
# into ${BEAM_ML_CACHE:-$HOME/.cache/beam-ml} (bin/prism, jars/*.jar), and writes
# engines.json there: for each engine either its local path or the exact command that
# failed and its message, which the tests give as their skip reason.
#
#   tests/engines/setup.sh        # from `make test` and CI, before pytest; idempotent
#
# Nothing is downloaded when a pipeline runs: the tests pass these local paths to Beam
# (--prism_location) or start the job servers themselves from them. An engine that
# cannot be had is reported and skipped; this script always exits 0. A failed Maven
# or Go fetch is not retried for 24 hours (BEAM_ML_ENGINES_RETRY=1 retries now).
set -uo pipefail

BEAM_VERSION=2.77.0
CACHE="${BEAM_ML_CACHE:-$HOME/.cache/beam-ml}"
# Beam 2.77's Python SDK lists these Flink versions (FlinkRunnerOptions.PUBLISHED_FLINK_VERSIONS),
# newest first: the first whose job server Maven serves is taken.
FLINK_VERSIONS=(2.2 2.1 2.0 1.20 1.19)
PRISM_PKG=github.com/apache/beam/sdks/v2/go/cmd/prism
RETRY_AFTER_S=$((24 * 3600))

mkdir -p "$CACHE/bin" "$CACHE/jars" "$CACHE/status"
say() { echo "engines: $*" >&2; }

# status/<engine> holds one line: "ok<TAB>PATH" or "missing<TAB>REASON"; engines.json is made from them.
record() { printf '%s\t%s\n' "$2" "$3" >"$CACHE/status/$1"; }
fresh_failure() {  # a failure recorded less than RETRY_AFTER_S ago, and no forced retry
    local file="$CACHE/status/$1"
    [[ "${BEAM_ML_ENGINES_RETRY:-}" != "1" && -f "$file" ]] || return 1
    [[ "$(cut -f1 "$file")" == "missing" ]] || return 1
    (($(date +%s) - $(stat -c %Y "$file") < RETRY_AFTER_S))
}
first_error() {  # the most telling line of a client's output
    local line text
    text=$(sed -e 's/\x1b\[[0-9;]*m//g' <<<"$1")
    line=$(grep -m1 -E '^\[ERROR\] (Failed|Could not)' <<<"$text") ||
        line=$(grep -v 'go: downloading' <<<"$text" | grep -m1 -i 'error\|cannot\|not found') ||
        line=$(tail -n1 <<<"$text")
    # Maven: keep what it could not find, not the plugin's preamble
    sed -e 's/^\[ERROR\] Failed to execute goal .*: Unable to find artifact\. *//' \
        -e 's/ during a previous attempt\..*/ (Maven cached this answer; -U asks again)/' <<<"$line" | cut -c1-300
}

# ---- Prism ---------------------------------------------------------------------------
prism() {
    local bin="$CACHE/bin/prism" stamp="$CACHE/bin/prism.version"
    if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "v$BEAM_VERSION" ]]; then
        record prism ok "$bin"
        return
    fi
    fresh_failure prism && { say "prism: $(cut -f2 "$CACHE/status/prism") (cached failure)"; return; }
    local cmd="GOBIN=$CACHE/bin go install $PRISM_PKG@v$BEAM_VERSION"
    if ! command -v go >/dev/null 2>&1; then
        record prism missing "\`$cmd\` failed: go is not on PATH"
        say "prism: go is not on PATH"
        return
    fi
    say "prism: $cmd (the first build takes several minutes)"
    local out
    if out=$(GOBIN="$CACHE/bin" go install "$PRISM_PKG@v$BEAM_VERSION" 2>&1) && [[ -x "$bin" ]]; then
        echo "v$BEAM_VERSION" >"$stamp"
        record prism ok "$bin"
        say "prism: $bin"
    else
        record prism missing "\`$cmd\` failed: $(first_error "$out")"
        say "prism: FAILED: $cmd"
        echo "$out" | tail -n 5 >&2
    fi
}

# ---- Flink and Spark job servers -----------------------------------------------------
fetch_jar() {  # fetch_jar ENGINE ARTIFACT_ID: 0 when jars/ARTIFACT_ID-2.77.0.jar is there
    local engine=$1 artifact=$2
    local jar="$CACHE/jars/$artifact-$BEAM_VERSION.jar"
    local coords="org.apache.beam:$artifact:$BEAM_VERSION"
    [[ -s "$jar" ]] && { record "$engine" ok "$jar"; return 0; }
    local cmd="mvn -B -q -Dstyle.color=never dependency:copy -Dartifact=$coords -DoutputDirectory=$CACHE/jars"
    if ! command -v mvn >/dev/null 2>&1; then
        record "$engine" missing "\`$cmd\` failed: mvn is not on PATH"
        return 1
    fi
    say "$engine: $cmd"
    local out
    if out=$(mvn -B -q -Dstyle.color=never dependency:copy "-Dartifact=$coords" "-DoutputDirectory=$CACHE/jars" 2>&1) &&
        [[ -s "$jar" ]]; then
        record "$engine" ok "$jar"
        say "$engine: $jar"
        return 0
    fi
    record "$engine" missing "\`$cmd\` failed: $(first_error "$out")"
    say "$engine: FAILED: $(first_error "$out")"
    return 1
}

flink() {
    local v
    for v in "${FLINK_VERSIONS[@]}"; do  # an already fetched one first
        if [[ -s "$CACHE/jars/beam-runners-flink-$v-job-server-$BEAM_VERSION.jar" ]]; then
            record flink ok "$CACHE/jars/beam-runners-flink-$v-job-server-$BEAM_VERSION.jar"
            return
        fi
    done
    fresh_failure flink && { say "flink: $(cut -f2 "$CACHE/status/flink") (cached failure)"; return; }
    local first=""
    for v in "${FLINK_VERSIONS[@]}"; do
        fetch_jar flink "beam-runners-flink-$v-job-server" && return
        [[ -n "$first" ]] || first=$(cut -f2 "$CACHE/status/flink")
    done
    record flink missing "no Flink job server for Beam $BEAM_VERSION (tried Flink ${FLINK_VERSIONS[*]}, newest first): $first; and the same for the older ones"
}

spark() {
    if [[ ! -s "$CACHE/jars/beam-runners-spark-3-job-server-$BEAM_VERSION.jar" ]] && fresh_failure spark; then
        say "spark: $(cut -f2 "$CACHE/status/spark") (cached failure)"
        return
    fi
    fetch_jar spark beam-runners-spark-3-job-server || true
}

java_check() {
    if command -v java >/dev/null 2>&1; then
        record java ok "$(command -v java)"
    else
        record java missing "java is not on PATH (the Flink and Spark job servers need Java 17)"
    fi
}

prism
flink
spark
java_check

# ---- engines.json: what the tests may use, or why not ----------------------------------
python3 - "$CACHE" "$BEAM_VERSION" <<'EOF'
import json, pathlib, sys
cache, version = pathlib.Path(sys.argv[1]), sys.argv[2]
engines = {"beam_version": version}
for file in sorted((cache / "status").iterdir()):
    state, _, detail = file.read_text(encoding="utf-8").rstrip("\n").partition("\t")
    engines[file.name] = {"path": detail} if state == "ok" else {"missing": detail}
(cache / "engines.json").write_text(json.dumps(engines, indent=2) + "\n", encoding="utf-8")
for name, info in engines.items():
    if isinstance(info, dict):
        print(f"engines: {name:6} {info.get('path') or 'MISSING: ' + info['missing']}", file=sys.stderr)
EOF
exit 0
