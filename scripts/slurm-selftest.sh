#!/usr/bin/env bash
# Stands up a one-node Slurm cluster on this machine (munged, slurmctld and slurmd, each in the
# foreground under this script, with their own key, socket, ports, state and logs under
# build/slurm/selftest/), runs a small regression list through scripts/slurm-regress.sh (an array
# of shards and a merge job), checks the merged report against the shard reports, and stops
# everything it started, also when it fails or is interrupted.
#
# Needs root (slurmd runs the jobs as their user), Debian's slurm-wlm and munge
# (scripts/install-deps.sh --slurm) and the built binary. Settings: SHARDS [3], LIST [quick],
# EXTRA [--ops 1500 --seeds 2], SEED [random], PORT [16817; slurmd takes PORT+1].
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
SHARDS="${SHARDS:-3}"
LIST="${LIST:-quick}"
EXTRA="${EXTRA:---ops 1500 --seeds 2}"
PORT="${PORT:-16817}"
if [ -z "${SEED:-}" ]; then SEED="$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')"; fi

say() { echo "slurm-selftest: $*"; }
die() { echo "slurm-selftest: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (slurmd and munged are started here)"
for t in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$t" >/dev/null || die "$t not found: run scripts/install-deps.sh --slurm"
done
[ -x target/release/memento ] || die "target/release/memento is not built (make build)"

dir="$root/build/slurm/selftest"
rm -rf "$dir"
mkdir -p "$dir"/{state,spool,log,munge}
chmod 700 "$dir/munge"
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # Job steps slurmd left behind (slurmstepd) belong to this cluster only.
  pkill -f "slurmstepd.*$dir" 2>/dev/null || true
  if [ $rc -ne 0 ]; then
    say "logs: $dir/log/ (slurmctld.log, slurmd.log, munged.log)"
  fi
  say "stopped munged, slurmctld and slurmd"
  exit $rc
}
trap cleanup EXIT INT TERM

# munge: a key of our own and a socket of our own.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge/munge.key"
sock="$dir/munge/munge.socket"
munged --foreground --force --key-file="$dir/munge/munge.key" --socket="$sock" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/log/munged.log" \
  --seed-file="$dir/munge/munged.seed" > "$dir/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || die "munged did not open $sock"

node="$(hostname -s)"
cpus="$(nproc)"
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
conf="$dir/slurm.conf"
cat > "$conf" <<EOF
ClusterName=memento-selftest
SlurmctldHost=$node
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=selftest Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"

slurmctld -D -i -f "$conf" > "$dir/log/slurmctld.out" 2>&1 &
pids+=($!)
sleep 1
slurmd -D -f "$conf" > "$dir/log/slurmd.out" 2>&1 &
pids+=($!)
say "munged, slurmctld and slurmd started (pids ${pids[*]}), config $conf"
up=0
for _ in $(seq 60); do
  if sinfo -h -N -o "%T" 2>/dev/null | grep -qE "^(idle|mixed|allocated)"; then up=1; break; fi
  sleep 1
done
[ $up = 1 ] || { tail -20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true; die "the node did not come up"; }
sinfo

out="$dir/run"
say "running list $LIST in $SHARDS shards through scripts/slurm-regress.sh"
SHARDS="$SHARDS" LIST="$LIST" SEED="$SEED" JOBS=1 MEM=2G TIME=0:30:00 EXTRA="$EXTRA" \
  OUT="$out" WAIT=1 ./scripts/slurm-regress.sh

# The merged report must be the shards' sum: every seed of the list once, the counts added up.
for i in $(seq 1 "$SHARDS"); do
  f="$out/shard-$i-of-$SHARDS/regress.json"
  [ -f "$f" ] || die "no report of shard $i ($f)"
done
target/release/memento merge "$out"/shard-*-of-"$SHARDS" --out "$dir/check/regress.json" > "$dir/check.out" \
  || die "merging the shard reports again failed (see $dir/check.out)"
python3 - "$out" "$SHARDS" <<'PY' || die "the merged report does not add up"
import json, sys
out, n = sys.argv[1], int(sys.argv[2])
merged = json.load(open(f"{out}/merged/regress.json"))
shards = [json.load(open(f"{out}/shard-{i}-of-{n}/regress.json")) for i in range(1, n + 1)]
assert len(shards) == n, f"{len(shards)} shard reports, expected {n}"
for i, s in enumerate(shards):
    print(f"slurm-selftest: shard {i + 1}/{n}: {sum(t['seeds'] for t in s['tests'])} seeds, "
          f"{sum(t['commands'] for t in s['tests'])} commands, {sum(t['failed'] for t in s['tests'])} failed, "
          f"{s['seconds']:.1f} s, passed={s['passed']}")
for key in ("seeds", "commands", "cycles", "passed", "failed"):
    for t in merged["tests"]:
        want = sum(x[key] for s in shards for x in s["tests"] if x["name"] == t["name"])
        assert t[key] == want, f"{t['name']}: merged {key} {t[key]}, shards sum {want}"
assert merged["passed"], "the merged run FAILED"
seeds = sum(t["seeds"] for t in merged["tests"])
cmds = sum(t["commands"] for t in merged["tests"])
print(f"slurm-selftest: merged report: {len(merged['tests'])} tests, {seeds} seeds, {cmds} commands, "
      f"{sum(t['failed'] for t in merged['tests'])} failed, passed={merged['passed']}; "
      f"each count equals the sum of the {n} shards")
for t in merged["tests"]:
    print(f"  {t['name']:<16} seeds {t['seeds']:>3}  passed {t['passed']:>3}  commands {t['commands']:>8}  cycles {t['cycles']:>10}")
PY
say "PASSED"
