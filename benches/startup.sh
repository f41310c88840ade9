#!/usr/bin/env bash
# Whole-process time of `proxmox-lxcri convert` of a typical config against `cat` of the same
# file, run alternately in the same loop (README, "Binary size and start-up"): the median of
# N runs each (default 20), after 3 warm-up runs. Times come from bash's EPOCHREALTIME around
# each command, so both include the same fork and exec.
# Usage: benches/startup.sh [BINARY] [CONFIG] [N]
#   BINARY defaults to target/release/proxmox-lxcri (built if missing), CONFIG to
#   golden/app-nginx/config.json.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/proxmox-lxcri}
config=${2:-golden/app-nginx/config.json}
n=${3:-20}
if [ ! -x "$bin" ]; then
    cargo build --release --locked --bin proxmox-lxcri -q
fi
# The target must not come from this machine's /etc or environment.
unset PROXMOX_LXCRI_TARGET
export PROXMOX_LXCRI_HOST_ROOT=/nonexistent

us() { # microseconds between two EPOCHREALTIME values
    local a=${1/./} b=${2/./}
    echo $((10#$b - 10#$a))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat_times=() convert_times=() version_times=()
for i in $(seq $((n + 3))); do
    t0=$EPOCHREALTIME
    cat "$config" >/dev/null
    t1=$EPOCHREALTIME
    "$bin" convert "$config" >/dev/null 2>&1
    t2=$EPOCHREALTIME
    "$bin" --version >/dev/null
    t3=$EPOCHREALTIME
    if [ "$i" -gt 3 ]; then
        cat_times+=("$(us "$t0" "$t1")")
        convert_times+=("$(us "$t1" "$t2")")
        version_times+=("$(us "$t2" "$t3")")
    fi
done
c=$(printf '%s\n' "${cat_times[@]}" | median)
v=$(printf '%s\n' "${convert_times[@]}" | median)
s=$(printf '%s\n' "${version_times[@]}" | median)
size=$(stat -c %s "$bin")
awk -v c="$c" -v v="$v" -v s="$s" -v size="$size" -v n="$n" -v f="$config" 'BEGIN {
    printf "binary: %.1f MB\n", size / 1e6
    printf "median of %d, %s:\n", n, f
    printf "  cat                    %7.0f µs\n", c
    printf "  proxmox-lxcri --version %6.0f µs  (%.2f× cat)\n", s, s / c
    printf "  proxmox-lxcri convert  %7.0f µs  (%.2f× cat)\n", v, v / c
}'
