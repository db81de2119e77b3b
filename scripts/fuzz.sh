#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan and UBSan, the "fuzz" preset into
# ./build-fuzz) and runs each for SECONDS (default 30) from its checked-in seed corpus
# (fuzz/corpus/<target>/). A crash or a broken invariant fails the run and leaves the input
# that caused it in build-fuzz/artifacts/. Inputs the fuzzer finds go to a scratch corpus in
# build-fuzz/corpus/, never into the checked-in seeds.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
all=(stream_parser xml_round_trip jid scram_server sasl_plain config codecs)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

cmake --preset fuzz > /dev/null
ninja -C build-fuzz -j "$(nproc 2>/dev/null || echo 2)" "${targets[@]/#/fuzz_}"
mkdir -p build-fuzz/artifacts
failed=()
for t in "${targets[@]}"; do
  scratch=build-fuzz/corpus/$t
  mkdir -p "$scratch"
  echo "fuzz: $t for ${seconds} s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a leak or a blow-up.
  if ! build-fuzz/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix=build-fuzz/artifacts/$t- -print_final_stats=1 \
        "$scratch" "fuzz/corpus/$t" > "build-fuzz/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; its log: build-fuzz/$t.log" >&2
    tail -n 40 "build-fuzz/$t.log" >&2
    failed+=("$t")
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$t.log" | sed "s/^/  /"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
