#!/usr/bin/env bash
# Command logs and waveforms of a few tests at one seed, for comparing two builds byte for byte
# (a refactor must not change behaviour): scripts/snapshot.sh BIN OUT [SEED].
# Writes OUT/<test>.log, OUT/<test>.fst (cycles 0..20000), OUT/<test>.out and OUT/SHA256SUMS.
set -euo pipefail
bin=$1 out=$2 seed=${3:-7}
tests=${SNAPSHOT_TESTS:-"top top_small core_corner hoa_pipelined top_bypass_off_dram top_hdc0 mut_core"}
mkdir -p "$out"
for t in $tests; do
  start=$(date +%s.%N)
  "$bin" waves --test "$t" --seed "$seed" --from 0 --to 20000 --log "$out/$t.log" >"$out/$t.out"
  end=$(date +%s.%N)
  cp "build/waves/$t-seed-$seed.fst" "$out/$t.fst"
  printf '%-22s %6.1f s  %s\n' "$t" "$(echo "$end - $start" | bc)" "$(head -1 "$out/$t.out")"
done
(cd "$out" && sha256sum ./*.log ./*.fst > SHA256SUMS)
