#!/usr/bin/env bash
# A regression (or a soak) on Slurm: one `sbatch --array` task per shard of the list's (test, seed)
# pairs, each running `memento regress --shard I/N` (or `memento soak --shard I/N`), and a merge job
# that starts when every shard has ended, however it ended (`--dependency=afterany`), and writes
# one report with `memento merge`.
#
# The project directory must be shared by every node (the binary, tb/regressions.toml, the
# models' cache under build/ and the reports are read and written there). Build first:
# `cargo build --release --bin memento` (or `make build`).
#
# Settings, by environment (defaults in brackets):
#   SHARDS      array tasks [8]
#   LIST        the list of tb/regressions.toml [default]
#   SEED        first seed of every shard [random, printed]
#   JOBS        CPUs per task, the seeds a task runs at once [2]
#   PARTITION   Slurm partition [the cluster's default]
#   TIME        time limit per task, Slurm syntax [2:00:00]
#   MEM         memory per task, Slurm syntax [4G]
#   COMMANDS    a soak: at least this many commands in all (1e9, 100M, ...) [none: the list as it is]
#   EXTRA       more arguments for every shard's `memento regress` (--ops 2000 --seeds 2, ...) []
#   OUT         the run's directory, on the shared file system [build/slurm/run-<date>-<seed>]
#   WAIT        1: wait for the merge job and print its report's summary [0]
#   MEMENTO     the binary [target/release/memento]
#
# Prints the job ids, the shard reports' folder and the merged report's path.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

SHARDS="${SHARDS:-8}"
LIST="${LIST:-default}"
JOBS="${JOBS:-2}"
TIME="${TIME:-2:00:00}"
MEM="${MEM:-4G}"
WAIT="${WAIT:-0}"
MEMENTO="${MEMENTO:-target/release/memento}"
EXTRA="${EXTRA:-}"
COMMANDS="${COMMANDS:-}"
if [ -z "${SEED:-}" ]; then
  SEED="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"
fi
OUT="${OUT:-build/slurm/run-$(date +%Y%m%d-%H%M%S)-$SEED}"

die() { echo "slurm-regress: $*" >&2; exit 1; }
case "$SHARDS" in ''|*[!0-9]*|0) die "SHARDS=$SHARDS: a count of at least 1 is needed" ;; esac
case "$JOBS" in ''|*[!0-9]*|0) die "JOBS=$JOBS: a count of at least 1 is needed" ;; esac
command -v sbatch >/dev/null || die "sbatch not found: install Slurm (scripts/install-deps.sh --slurm) or run on a cluster's login node"
[ -x "$MEMENTO" ] || die "$MEMENTO is not there: build it first (cargo build --release --bin memento)"
MEMENTO="$(cd "$(dirname "$MEMENTO")" && pwd)/$(basename "$MEMENTO")"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

partition=()
[ -n "${PARTITION:-}" ] && partition=(--partition "$PARTITION")
if [ -n "$COMMANDS" ]; then
  verb=(soak --commands "$COMMANDS")
  what="soak of $COMMANDS commands"
else
  verb=(regress)
  what="regression"
fi

# Each task: shard (task id + 1) of SHARDS, its report in OUT/shard-I-of-N/.
task="$OUT/task.sh"
cat > "$task" <<EOF
#!/usr/bin/env bash
set -uo pipefail
i=\$((SLURM_ARRAY_TASK_ID + 1))
cd "$root"
echo "memento shard \$i/$SHARDS on \$(hostname) (job \$SLURM_ARRAY_JOB_ID task \$SLURM_ARRAY_TASK_ID)"
exec "$MEMENTO" ${verb[*]} --list "$LIST" --seed "$SEED" --shard "\$i/$SHARDS" --jobs "$JOBS" \\
  --report "$OUT/shard-\$i-of-$SHARDS/regress.json" $EXTRA
EOF
merge="$OUT/merge.sh"
cat > "$merge" <<EOF
#!/usr/bin/env bash
set -uo pipefail
cd "$root"
shards=()
for i in \$(seq 1 $SHARDS); do
  d="$OUT/shard-\$i-of-$SHARDS"
  if [ -f "\$d/regress.json" ]; then shards+=("\$d"); else echo "merge: shard \$i wrote no report (\$d): see $OUT/slurm-*_\$((i - 1)).out"; fi
done
[ \${#shards[@]} -eq $SHARDS ] || { echo "merge: \${#shards[@]} of $SHARDS shards reported"; exit 1; }
exec "$MEMENTO" merge "\${shards[@]}" --out "$OUT/merged/regress.json"
EOF
chmod +x "$task" "$merge"

array=$(sbatch --parsable "${partition[@]}" --array="0-$((SHARDS - 1))" \
  --job-name=memento-shard --cpus-per-task="$JOBS" --mem="$MEM" --time="$TIME" \
  --chdir="$root" --output="$OUT/slurm-%A_%a.out" "$task")
array="${array%%;*}"
merge_job=$(sbatch --parsable "${partition[@]}" --dependency="afterany:$array" \
  --job-name=memento-merge --cpus-per-task=1 --mem=1G --time=0:30:00 \
  --chdir="$root" --output="$OUT/merge-%j.out" "$merge")
merge_job="${merge_job%%;*}"

echo "slurm-regress: $what of list $LIST, seed $SEED, $SHARDS shards x $JOBS CPUs"
echo "slurm-regress: array job $array (shards), merge job $merge_job (afterany:$array)"
echo "slurm-regress: shard reports $OUT/shard-*-of-$SHARDS/, merged report $OUT/merged/regress.json"
echo "slurm-regress: watch with: squeue -j $array,$merge_job"

if [ "$WAIT" = 1 ]; then
  while squeue -h -j "$array,$merge_job" 2>/dev/null | grep -q .; do sleep 5; done
  echo "slurm-regress: merge job output ($OUT/merge-$merge_job.out):"
  cat "$OUT/merge-$merge_job.out" || true
  [ -f "$OUT/merged/regress.json" ] || die "no merged report at $OUT/merged/regress.json"
  grep -q '"passed": true' "$OUT/merged/regress.json" || die "the merged report says FAILED ($OUT/merged/index.html)"
  echo "slurm-regress: PASSED ($OUT/merged/index.html)"
fi
