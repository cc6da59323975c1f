#!/bin/sh
# run.sh - the fault campaigns of tests/faults, for make test-faults.
#
#   sh tests/faults/run.sh EXTENSION.so full|sample
#
# full: every N of the allocation and I/O sweeps, 100 kills per setup.
# sample: a seeded sample of each (every 61st allocation, every 5th I/O
# call, 20 kills per setup, the whole hostile corpus), a few minutes on 2
# cores. Each campaign prints a summary line; the logs of failed runs stay
# in the output directory ($CACHIER_FAULTS_DIR, default under /dev/shm).
# Exits non-zero if any campaign failed. CACHIER_FAULTS_PART=core or deps
# runs one part of the workload (faults.h): a full allocation sweep in two
# shorter halves.
#
# A full allocation sweep is long (the whole workload, every N, both
# modes: about 157,000 runs under ASan, several hours on 2 cores), so it
# can run in ranges, over several sittings:
#   CACHIER_FAULTS_ONLY="oom ioerr"   only these campaigns (default: all 4)
#   CACHIER_FAULTS_OOM_FIRST=N, CACHIER_FAULTS_OOM_LAST=M
#                                     fail only allocations N..M (the
#                                     driver stops at the workload's count)
# The driver's first line gives the workload's count and the N it fails.
ext=$1
mode=${2:-sample}
dir=tests/faults
if [ -d /dev/shm ]; then base=/dev/shm; else base=${TMPDIR:-/tmp}; fi
out=${CACHIER_FAULTS_DIR:-$base/cachier-faults}
rm -rf "$out"
mkdir -p "$out"
# Seals of settings use a key of the run's own, not the user's.
export CACHIER_KEY_FILE="$out/key"
case $mode in
  full)   oom_step=1;  io_step=1; kills=100 ;;
  sample) oom_step=61; io_step=5; kills=20 ;;
  *) echo "usage: $0 EXTENSION.so full|sample" >&2; exit 2 ;;
esac
only=${CACHIER_FAULTS_ONLY:-oom ioerr crash hostile}
for c in $only; do
  case $c in oom|ioerr|crash|hostile) ;;
    *) echo "$0: no campaign '$c' (oom ioerr crash hostile)" >&2; exit 2 ;;
  esac
done
oom_first=${CACHIER_FAULTS_OOM_FIRST:-1}
oom_last=${CACHIER_FAULTS_OOM_LAST:-0}
status=0
start=$(date +%s)
summary=""
run() {
  name=$1; shift
  case " $only " in *" $name "*) ;; *) return ;; esac
  t0=$(date +%s)
  "$@" > "$out/$name.out"
  rc=$?
  cat "$out/$name.out"
  [ $rc -eq 0 ] || status=1
  summary="$summary$(tail -n 1 "$out/$name.out") [exit $rc, $(( $(date +%s) - t0 )) s]
"
}
run oom     $dir/oom     "$ext" "$out/oom" $oom_step $oom_first $oom_last
run ioerr   $dir/ioerr   "$ext" "$out/ioerr" $io_step
run crash   $dir/crash   "$ext" "$out/crash" $kills 20261204
run hostile $dir/hostile "$ext" "$out/hostile"
echo "---- fault campaigns ($mode: $only; $(( $(date +%s) - start )) s; logs in $out)"
printf '%s' "$summary"
exit $status
