#!/usr/bin/env bash
# Makes a real single-node Slurm answer on this machine: munged, slurmctld and slurmd, with one partition holding this
# machine as its only node. The scale-out integration tests submit the job array that `harness plan --emit slurm` writes
# to it (tests/Harness.IntegrationTests/ScaleOut); under CI=true they fail rather than skip without it.
# Idempotent: when `sinfo` already shows a usable node it does nothing; a second run is harmless.
# It runs as root without systemd (a CI container): the daemons are started directly and daemonize themselves.
# The configuration is Debian's default path, /etc/slurm/slurm.conf, so every Slurm command finds it without SLURM_CONF;
# a slurm.conf this script did not write (no marker line) is never overwritten.
# Usage: .ci/slurm.sh   (progress on stderr; nothing on stdout)
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker='# Written by .ci/slurm.sh (Harness CI): a single-node Slurm for the scale-out tests.'
log_dir=/var/log/slurm
state_dir=/var/spool/slurmctld
spool_dir=/var/spool/slurmd
wait_s=${HARNESS_SLURM_WAIT_SECONDS:-90}

say() { echo "slurm.sh: $*" >&2; }

# A node that can take jobs: idle, or busy with jobs already (mixed/allocated). sinfo appends * ~ # etc. to odd states.
node_usable() {
  local states
  states=$(sinfo -h -N -o '%T' 2>/dev/null) || return 1
  grep -qxE '(idle|mixed|allocated|completing)' <<<"$states"
}

ours() { [ -f "$conf" ] && grep -qxF "$marker" "$conf"; }
# A Slurm that answers with a configuration of its own (a real cluster, a developer's setup) is left as it is.
if command -v sinfo >/dev/null && node_usable && ! ours; then
  exit 0
fi

# Packages (a clean Debian CI machine): the controller, the node daemon, the client commands and munge for authentication.
missing=()
for cmd in slurmd slurmctld sbatch munged; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing slurmd slurmctld slurm-client munge (missing: ${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmd slurmctld slurm-client munge >/dev/null
fi

# munge: the key every Slurm daemon and client shares (one machine: one key), then the daemon.
if [ ! -s /etc/munge/munge.key ]; then
  say "creating /etc/munge/munge.key"
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile=/etc/munge/munge.key --force
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 20); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
  munge -n </dev/null | unmunge >/dev/null || { say "munged does not answer (see /var/log/munge/munged.log)"; exit 1; }
fi

# slurm.conf for this machine. Node facts (CPUs, sockets, memory) come from `slurmd -C`, which reads the hardware: a
# configured size larger than the machine's would put the node in an invalid state.
host=$(hostname -s)
node_line=$(slurmd -C | awk '/^NodeName=/ { $1 = ""; sub(/^ /, ""); print; exit }')
[ -n "$node_line" ] || { say "slurmd -C printed no NodeName line"; exit 1; }
new_conf=$(cat <<EOF
$marker
ClusterName=harness-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# A requeued job waits out the credential lifetime before it starts again (default 120 s); 30 s keeps a requeue test short.
AuthInfo=cred_expire=30
CredType=cred/munge
MpiDefault=none
# No cgroups in a CI container: track processes by their parent pids, bind nothing, gather no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
# Jobs share the node by CPUs and memory, as an array's tasks would share a cluster's nodes.
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
# A node that stopped answering (the machine slept, slurmd restarted) comes back by itself.
ReturnToService=2
JobRequeue=1
StateSaveLocation=$state_dir
SlurmdSpoolDir=$spool_dir
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$log_dir/slurmctld.log
SlurmdLogFile=$log_dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# Short timeouts: the tests wait for jobs on this one machine, and a finished job's record is kept long enough to be read.
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
Waittime=0
SchedulerParameters=sched_interval=5,bf_interval=5
NodeName=$host NodeAddr=127.0.0.1 $node_line State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
)

# Ours and unchanged, and the node answers: nothing to do.
if ours && [ "$(cat "$conf")" = "$new_conf" ] && node_usable; then
  exit 0
fi
if [ -f "$conf" ] && ! ours; then
  say "$conf exists and was not written by this script; Slurm does not answer with it (sinfo shows no usable node)."
  say "Fix that configuration, or move it away and rerun .ci/slurm.sh."
  exit 1
fi
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$new_conf" ]; then
  say "writing $conf (node $host: $node_line)"
  mkdir -p "$(dirname "$conf")"
  printf '%s\n' "$new_conf" >"$conf.tmp" && mv "$conf.tmp" "$conf"
  changed=1
fi
mkdir -p "$log_dir" "$state_dir" "$spool_dir"

# A daemon still running with an older configuration (other node facts) is stopped first; its pid file names it.
running() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }
if [ "$changed" = 1 ]; then
  for pid_file in /run/slurmd.pid /run/slurmctld.pid; do
    if running "$pid_file"; then
      say "stopping $(basename "$pid_file" .pid) (configuration changed)"
      kill "$(cat "$pid_file")"
      for _ in $(seq 1 20); do running "$pid_file" || break; sleep 0.5; done
    fi
  done
fi
if ! running /run/slurmctld.pid; then say "starting slurmctld"; slurmctld; fi
if ! running /run/slurmd.pid; then say "starting slurmd"; slurmd; fi

# Wait for the node to register. A node left down or drained by an earlier run is resumed once.
resumed=0
for _ in $(seq 1 "$wait_s"); do
  if node_usable; then
    say "Slurm answers: $(sinfo -h -N -o '%N %T cpus=%c mem=%mMB' | head -1)"
    exit 0
  fi
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
  if [ "$resumed" = 0 ] && [[ "$state" =~ ^(down|drain|drained|draining) ]]; then
    scontrol update NodeName="$host" State=RESUME >&2 || true
    resumed=1
  fi
  sleep 1
done
say "Slurm did not show an idle node within ${wait_s}s (sinfo: $(sinfo -h -N -o '%N %T %E' 2>&1 | head -3 | tr '\n' ' '))"
for f in "$log_dir/slurmctld.log" "$log_dir/slurmd.log"; do
  echo "--- last lines of $f" >&2
  tail -n 30 "$f" >&2 2>/dev/null || echo "(no log)" >&2
done
exit 1
