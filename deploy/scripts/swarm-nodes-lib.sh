# shellcheck shell=bash
# Settings shared by swarm-nodes-{up,down,check,ctl}.sh (sourced after lib.sh).
#
# The test swarm lives entirely in network namespaces this harness creates, on addresses of
# NODES_SUBNET, so it never touches the machine's own dockerd or its swarm:
#
#   sg-br    a bridge (br0) that stands for the LAN; every other namespace has a veth into it
#   sg-mgr   dockerd, swarm manager, 10.210.0.11   socket /var/run/docker-sg-mgr.sock
#   sg-wrk   dockerd, swarm worker,  10.210.0.12   socket /var/run/docker-sg-wrk.sock
#   sg-mgr2  NODES=4 only: dockerd, second manager, 10.210.0.13
#   sg-mgr3  NODES=4 only: dockerd, third manager,  10.210.0.14
#   sg-cli   no dockerd: the client of traffic tests, 10.210.0.20
#
# NODES=2 (make test-multinode) is one manager and one worker; NODES=4 (make test-chaos) adds
# two managers, so the swarm keeps its Raft quorum when any one node is lost.

NODES_PREFIX=${NODES_PREFIX:-10.210.0}
NODES_SUBNET=$NODES_PREFIX.0/24
MGR=sg-mgr
WRK=sg-wrk
MGR2=sg-mgr2
MGR3=sg-mgr3
CLI=sg-cli
BR=sg-br
MGR_ADDR=$NODES_PREFIX.11
WRK_ADDR=$NODES_PREFIX.12
MGR2_ADDR=$NODES_PREFIX.13
MGR3_ADDR=$NODES_PREFIX.14
CLI_ADDR=$NODES_PREFIX.20
NODES=${NODES:-2}
case $NODES in
  2) SWARM_NODES=("$MGR" "$WRK"); EXTRA_MANAGERS=() ;;
  4) SWARM_NODES=("$MGR" "$WRK" "$MGR2" "$MGR3"); EXTRA_MANAGERS=("$MGR2" "$MGR3") ;;
  *) echo "NODES must be 2 or 4 for the namespaced swarm, not '$NODES'" >&2; exit 2 ;;
esac
# Overlay subnets come from this pool instead of Docker's default 10.0.0.0/8, which contains
# NODES_SUBNET: an overlay that happened to get 10.210.0.0/24 would shadow the node addresses.
NODES_ADDR_POOL=${NODES_ADDR_POOL:-10.212.0.0/16}

NODES_CACHE=$(cd "$here/.." && pwd)/.cache/swarm-nodes
NODES_STATE=${NODES_STATE:-$NODES_CACHE/state}

node_addr() { case $1 in "$MGR") echo "$MGR_ADDR" ;; "$WRK") echo "$WRK_ADDR" ;; "$MGR2") echo "$MGR2_ADDR" ;; "$MGR3") echo "$MGR3_ADDR" ;; "$CLI") echo "$CLI_ADDR" ;; esac; }
node_sock() { echo "/var/run/docker-$1.sock"; }
# Every node's dockerd also listens here, in the node's own mount namespace (a private tmpfs):
# the same path names each node's own engine, like /var/run/docker.sock on real machines, so a
# core bind-mounting it (swarmgate install --docker-socket) talks to whichever manager runs it.
NODE_LOCAL_SOCK=/var/run/sg-node/docker.sock
node_pidfile() { echo "/var/run/docker-$1.pid"; }
node_data_root() { echo "/var/lib/docker-$1"; }
node_exec_root() { echo "/var/run/docker-$1"; }
node_cgroup() { echo "docker-$1"; }
node_docker() {
  local n=$1
  shift
  docker -H "unix://$(node_sock "$n")" "$@"
}
# (timeout runs programs, not shell functions: hence docker -H here)
node_answers() { [[ -S $(node_sock "$1") ]] && timeout 10 docker -H "unix://$(node_sock "$1")" info >/dev/null 2>&1; }
netns_exists() { [[ -e /var/run/netns/$1 ]]; }

# The cgroup v1 hierarchies dockerd (20.10, cgroupfs driver) needs; `ip netns exec` remounts
# /sys, which hides the host's /sys/fs/cgroup mounts, so the node's launcher mounts them again.
CGROUP_CONTROLLERS=(cpu cpuacct cpuset memory devices freezer blkio pids)

# remove_cgroups NODE: the node's cgroup parent in every hierarchy, innermost first. Only empty
# cgroups can be removed, so this runs after the node's processes are gone.
remove_cgroups() {
  local h dir
  for h in "${CGROUP_CONTROLLERS[@]}" systemd unified; do
    dir=/sys/fs/cgroup/$h/$(node_cgroup "$1")
    [[ -d $dir ]] || continue
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || warn "could not remove $dir (processes left in it?)"
  done
}

# containerd and its shims started by the node's dockerd name its exec root on their command line.
runtime_pids() {
  local p root
  root=$(node_exec_root "$1")/
  for p in /proc/[0-9]*; do
    [[ -r $p/cmdline ]] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$root" && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

# Processes of the node's containers: everything in its cgroup parent.
container_pids() {
  local f
  for f in /sys/fs/cgroup/pids/$(node_cgroup "$1")/*/cgroup.procs; do [[ -f $f ]] && cat "$f"; done
  return 0
}

# ---- starting a node's dockerd (swarm-nodes-up.sh, and swarm-nodes-ctl.sh to restart one)
# The launcher runs inside the node's netns (and the private mount namespace `ip netns exec`
# makes): hostname, cgroup hierarchies (see above), then exec dockerd.
launcher_script() {
  local n=$1 data_root=$2
  shift 2
  cat <<EOF
set -e
hostname $n
mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
for c in ${CGROUP_CONTROLLERS[*]}; do mkdir -p /sys/fs/cgroup/\$c; mount -t cgroup -o \$c cgroup /sys/fs/cgroup/\$c; done
mkdir -p /sys/fs/cgroup/systemd /sys/fs/cgroup/unified
mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
mount -t cgroup2 cgroup2 /sys/fs/cgroup/unified
mkdir -p $(dirname "$NODE_LOCAL_SOCK")
mount -t tmpfs -o mode=755 sg_node $(dirname "$NODE_LOCAL_SOCK")
exec dockerd --data-root $data_root --exec-root $(node_exec_root "$n") --pidfile $(node_pidfile "$n") \
  -H unix://$(node_sock "$n") -H unix://$NODE_LOCAL_SOCK --cgroup-parent /$(node_cgroup "$n") --log-level warn $*
EOF
}

# launch NODE DATA_ROOT [DOCKERD ARGS...]: dockerd in NODE's netns, detached; its PID in LAUNCHED.
# setsid: not in make's process group, so a Ctrl-C of a test run does not stop the node.
LAUNCHED=''
launch() {
  local n=$1
  setsid ip netns exec "$n" unshare --uts -- bash -c "$(launcher_script "$@")" >>"$NODES_CACHE/$n.log" 2>&1 </dev/null &
  LAUNCHED=$!
}

# record LINE: append "kind=value" to NODES_STATE unless it is there (swarm-nodes-down reads it).
record() {
  grep -qxF "$1" "$NODES_STATE" 2>/dev/null || printf '%s\n' "$1" >>"$NODES_STATE"
}

# ---- namespaces and links (swarm-nodes-up.sh; swarm-nodes-ctl.sh renews a crashed node's)
ensure_netns() {
  local ns=$1
  if netns_exists "$ns"; then
    log "netns $ns exists"
  else
    ip netns add "$ns"
    log "netns $ns created"
  fi
  record "netns=$ns"
  ip -n "$ns" link set lo up
}

# ensure_link NS: veth "eth0" in NS with its peer "v-NS" on the bridge in sg-br.
ensure_link() {
  local ns=$1 addr
  addr=$(node_addr "$ns")
  if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
    # Both ends are created directly in their namespaces: no interface ever appears on the host.
    ip link add "v-$ns" netns "$BR" type veth peer name eth0 netns "$ns"
    log "veth v-$ns ($BR) <-> eth0 ($ns)"
  fi
  ip -n "$BR" link set "v-$ns" master br0 up
  ip -n "$ns" addr replace "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
}
