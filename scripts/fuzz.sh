#!/usr/bin/env bash
# Fuzzes proxid's parsers and decoders on stable Rust (issue 16.1): libFuzzer through
# the libfuzzer-sys crate, with the coverage instrumentation cargo-fuzz would ask
# rustc for, minus the sanitizer (AddressSanitizer needs nightly; proxid's code is
# safe Rust, so panics, overflows and hangs are what there is to find).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    default: 30 s each, every target
#
# Seeds: fuzz/corpus/<target>/ (committed, small). Findings are written to
# fuzz/artifacts/<target>/; each crash becomes a regression test in src/fuzzing.rs.
# The build goes to target/fuzz (the first one compiles every dependency with
# instrumentation: a few minutes; later runs reuse it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config_file auth_to_local host_list core_site_xml names assertion_json ldap_entries
             wire_protocol)
fi

# What `cargo fuzz build -s none` passes to rustc.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cforce-frame-pointers"
export CARGO_TARGET_DIR="$PWD/target/fuzz"
# An explicit --target keeps RUSTFLAGS away from build scripts and proc macros.
triple=$(rustc -vV | sed -n 's/^host: //p')
(cd fuzz && cargo build --release --bins --quiet --target "$triple")
bin="$CARGO_TARGET_DIR/$triple/release"

status=0
for t in "${targets[@]}"; do
    corpus="target/fuzz/corpus/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    # Work on a copy: the committed seeds stay small.
    cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    log="target/fuzz/$t.log"
    if "$bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
        "$corpus" fuzz/corpus/"$t" >"$log" 2>&1; then
        execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
        echo "fuzz $t: ${seconds}s, $execs executions, no crash"
    else
        echo "fuzz $t: FAILED (log: $log)"
        tail -n 40 "$log"
        status=1
    fi
done
exit $status
