#!/usr/bin/env bash
# Debian packages the platform needs beyond Python (called by `make demo`, `make test` and CI):
# Chromium for the browser tests, and the fonts the galleries and pages draw tweets with
# (Noto for Thai, Devanagari and the other scripts DejaVu lacks, Noto CJK, Symbola for emoji).
# Only where this runs as root with apt-get; elsewhere it says what is missing and goes on.
set -uo pipefail
want=()
command -v chromium >/dev/null || want+=(chromium)
fc-list 2>/dev/null | grep -q "NotoSansThai" || want+=(fonts-noto-core)
fc-list 2>/dev/null | grep -q "NotoSansCJK" || want+=(fonts-noto-cjk)
fc-list 2>/dev/null | grep -qi "symbola" || want+=(fonts-symbola)
fc-list 2>/dev/null | grep -q "NotoColorEmoji" || want+=(fonts-noto-color-emoji)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}") >/dev/null; then
    # matplotlib keeps its font list in a cache that new fonts do not refresh
    rm -f "${MPLCONFIGDIR:-$HOME/.cache/matplotlib}"/fontlist-*.json
    exit 0
  fi
fi
echo "warning: could not install ${want[*]}; browser tests skip and galleries name what they cannot draw" >&2
