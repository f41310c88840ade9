#!/usr/bin/env bash
# Runs one fuzz target for a time: fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#
# Works on stable Rust (RUSTC_BOOTSTRAP=1 enables the sanitizer flags cargo-fuzz
# needs). The committed corpus fuzz/corpus/TARGET/ is read as seeds and never
# written; the growing working corpus lives in $WORK (default under the target
# directory, which git ignores), crashes and slow inputs in fuzz/artifacts/TARGET/.
# Copy a fixed crash into fuzz/corpus/TARGET/ so `cargo test` replays it.
set -euo pipefail
cd "$(dirname "$0")"

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [libFuzzer options...]" >&2
    echo "targets: $(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v proxmox-lxcri-fuzz | tr '\n' ' ')" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 2; }
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
work=${WORK:-$target_dir/corpus/$target}
mkdir -p "$work" "corpus/$target" "artifacts/$target"

dict=()
[ -f "dict/$target.dict" ] && dict=("-dict=dict/$target.dict")
seeds=("corpus/$target")
# Targets that read config bytes also start from the hostile-input suite.
case $target in
    parse_lower_emit) seeds+=(../tests/hostile/inputs) ;;
esac

export RUSTC_BOOTSTRAP=1
# -timeout: an input that takes longer than this is a finding (a hang), and
# -report_slow_units saves inputs slower than 2 s as slow-unit-* artifacts;
# -rss_limit_mb bounds memory; -print_final_stats gives the numbers for RESULTS.md.
exec cargo fuzz run --target-dir "$target_dir" "$target" "$work" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -report_slow_units=2 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" "${dict[@]}" "$@"
