#!/usr/bin/env bash
# Instructions per operation, by callgrind, for each contender and workload:
# on the emitting thread alone, and in total over every thread of the
# process (the delivery thread's JSON and HTTP included; the discarding HTTP
# sink runs in a process of its own and is not counted). The total is
# (count for 2N operations - count for N) / N, so start-up and teardown
# cancel out.
#
#   cd benches/compare && ./instructions.sh [CONTENDER...]
#
# tracing-jkool runs once per framing in FRAMINGS (default "object lines
# array"); WORKLOADS and N as below.
set -euo pipefail
cd "$(dirname "$0")"
N=${N:-10000}
WORKLOADS=${WORKLOADS:-"a b c d"}
CONTENDERS=${*:-"registry fmt_json non_blocking loki otel jkool"}
cargo build --release --example instructions >&2
BIN=${CARGO_TARGET_DIR:-target}/release/examples/instructions
OUT=$(mktemp -d)
"$BIN" sink > "$OUT/url" &
SINK=$!
trap 'kill $SINK 2>/dev/null; rm -rf "$OUT"' EXIT
for _ in $(seq 50); do [ -s "$OUT/url" ] && break; sleep 0.1; done
export DISCARD_URL=$(cat "$OUT/url")

total() { # instructions of the whole process for $1 $2 with $3 operations
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg" "$BIN" "$1" "$2" "$3" 2>/dev/null >/dev/null
    awk '/^summary:/ {print $2}' "$OUT/cg"
}
emitting() { # instructions inside run_* for $1 $2 with $3 operations
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg" --collect-atstart=no \
        --toggle-collect='instructions::run_*' "$BIN" "$1" "$2" "$3" 2>/dev/null >/dev/null
    awk '/^summary:/ {print $2}' "$OUT/cg"
}

echo "| contender | framing | workload | emitting thread | all threads |"
echo "|---|---|---|---:|---:|"
for c in $CONTENDERS; do
    # tracing-jkool once per framing (FRAMINGS), the others once.
    case $c in jkool*) framings=${FRAMINGS:-"object lines array"} ;; *) framings="-" ;; esac
    for f in $framings; do
        [ "$f" = "-" ] && unset JKOOL_FRAMING || export JKOOL_FRAMING=$f
        for w in $WORKLOADS; do
            e=$(emitting "$c" "$w" "$N")
            t1=$(total "$c" "$w" "$N")
            t2=$(total "$c" "$w" $((2 * N)))
            echo "| $c | $f | $w | $((e / N)) | $(((t2 - t1) / N)) |"
        done
    done
done
