#!/usr/bin/env bash
# Whole-process peak RSS of `proxmox-lxcri convert` and `lint` on the large
# configs of translator/tests/support/big_config.rs, beside `jq empty` over
# the same file as the anchor (README, "Memory"). Needs jq and GNU time
# (apt-get install -y jq time). Usage: benches/memory-rss.sh [SIZE_MB...]
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-20 200}")
# shellcheck disable=SC2206
sizes=(${sizes[*]})
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release --bin proxmox-lxcri -q
bench=$(cargo bench -p proxmox-lxcri-translator --bench memory --no-run 2>&1 | sed -n 's/.*(\(.*memory-[0-9a-f]*\)).*/\1/p' | tail -1)
"$bench" --write "$dir" "${sizes[@]}" >/dev/null
bin=target/release/proxmox-lxcri
rss() { { /usr/bin/time -v "$@" 2>&1 >/dev/null || true; } | sed -n 's/.*Maximum resident set size (kbytes): //p'; }
printf '%-10s %-28s %12s %8s\n' input command "max RSS" ratio
for mb in "${sizes[@]}"; do
    f="$dir/config-${mb}mb.json"
    size=$(stat -c %s "$f")
    for cmd in "jq empty" "convert --to pct-conf" "convert --to plan" "convert --to plan-sh" "convert --to crun" "lint"; do
        case $cmd in
            "jq empty") kb=$(rss jq empty "$f") ;;
            convert*) kb=$(rss "$bin" $cmd "$f" --format json -o /dev/null) ;;
            lint) kb=$(rss "$bin" lint "$f" --format json) ;;
        esac
        awk -v mb="$mb" -v c="$cmd" -v kb="$kb" -v s="$size" 'BEGIN { printf "%-10s %-28s %9.1f MB %7.2f×\n", mb " MB", c, kb / 1000, kb * 1024 / s }'
    done
done
