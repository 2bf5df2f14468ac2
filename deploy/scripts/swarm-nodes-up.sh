#!/usr/bin/env bash
# make swarm-up NODES=2: a separate two-node Swarm (manager + worker) in network namespaces, for
# the multi-node tests (make test-multinode). NODES=4: the same plus two more managers (sg-mgr2,
# sg-mgr3), three managers in all, for the failure drills (make test-chaos). The machine's own dockerd and swarm are never
# used or changed; images are copied from it read-only (docker save).
#
#   1. namespaces sg-br (bridge), sg-mgr, sg-wrk (sg-mgr2, sg-mgr3), sg-cli joined by veth pairs on 10.210.0.0/24;
#   2. one dockerd per node namespace, under `unshare --uts` with its own hostname, its own
#      data root, exec root, pidfile, socket (/var/run/docker-NODE.sock) and cgroup parent;
#   3. swarm init on sg-mgr (advertising 10.210.0.11), sg-wrk joins as a worker (sg-mgr2 and
#      sg-mgr3 as managers);
#   4. the swarmgate images loaded into every node (docker save | docker -H … load).
#
# Idempotent: what exists and works is kept. Everything created is recorded in NODES_STATE as it
# is created, so `make swarm-down NODES=2` can remove it even after a crash half-way.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=swarm-nodes-up
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=swarm-nodes-lib.sh
. "$here/swarm-nodes-lib.sh"

DOCKERD_WAIT=${DOCKERD_WAIT:-60}
IMAGE_PREFIX=${IMAGE_PREFIX:-swarmgate}
IMAGES=${NODES_IMAGES:-"$IMAGE_PREFIX/swarmgate:latest $IMAGE_PREFIX/proxy:latest $IMAGE_PREFIX/debian:bookworm"}
# Where the images come from: the machine's dockerd, only ever asked `image ls` and `save`.
SOURCE_DOCKER_HOST=${SOURCE_DOCKER_HOST:-unix:///var/run/docker.sock}
# When that dockerd is not running: its data root, copied (never used in place) into a
# temporary image-only dockerd that does the `docker save` instead.
SOURCE_DATA_ROOT=${SOURCE_DATA_ROOT:-/var/lib/docker}

[[ $EUID -eq 0 ]] || die "needs root (network namespaces, dockerd)"
for tool in ip unshare dockerd docker setsid; do command -v "$tool" >/dev/null || die "$tool is not installed"; done
mkdir -p "$NODES_CACHE"

# ---- state: one "key=value" line per created thing, appended as soon as it exists (record)
[[ -f $NODES_STATE ]] || printf '# Written by deploy/scripts/swarm-nodes-up.sh; read by swarm-nodes-down.sh.\n' >"$NODES_STATE"

# ---- 1. namespaces and links
setup_network() {
  local ns
  for ns in "$BR" "${SWARM_NODES[@]}" "$CLI"; do ensure_netns "$ns"; done
  ip -n "$BR" link show br0 >/dev/null 2>&1 || ip -n "$BR" link add br0 type bridge
  ip -n "$BR" link set br0 up
  for ns in "${SWARM_NODES[@]}" "$CLI"; do ensure_link "$ns"; done
}

# ---- 2. one dockerd per node (launcher: swarm-nodes-lib.sh)
start_node() {
  local n=$1 pid='' deadline
  if node_answers "$n"; then
    log "dockerd of $n answers ($(node_sock "$n"))"
    record "dockerd=$n:$(<"$(node_pidfile "$n")")"
    return 0
  fi
  [[ -e $(node_sock "$n") ]] && rm -f "$(node_sock "$n")"
  record "dataroot=$n"
  record "cgroup=$n"
  log "starting dockerd for $n (log: $NODES_CACHE/$n.log)"
  launch "$n" "$(node_data_root "$n")"
  local launcher=$LAUNCHED
  deadline=$(( SECONDS + DOCKERD_WAIT ))
  until node_answers "$n"; do
    kill -0 "$launcher" 2>/dev/null || { tail -n 20 "$NODES_CACHE/$n.log" >&2; die "dockerd of $n exited during start-up"; }
    (( SECONDS < deadline )) || die "dockerd of $n did not answer within ${DOCKERD_WAIT}s (log: $NODES_CACHE/$n.log)"
    sleep 0.2
  done
  pid=$(<"$(node_pidfile "$n")")
  is_dockerd_pid "$pid" || die "pidfile of $n names $pid, which is not a dockerd"
  record "dockerd=$n:$pid"
  log "dockerd of $n answers (pid $pid, hostname $(node_docker "$n" info --format '{{.Name}}'))"
}

start_nodes() {
  local n
  for n in "${SWARM_NODES[@]}"; do start_node "$n"; done
}

# ---- 3. the swarm
init_swarm() {
  local state token
  state=$(node_docker "$MGR" info --format '{{.Swarm.LocalNodeState}}')
  if [[ $state == active ]]; then
    log "$MGR is already a swarm manager"
  else
    node_docker "$MGR" swarm init --advertise-addr "$MGR_ADDR" --listen-addr "$MGR_ADDR:2377" \
      --default-addr-pool "$NODES_ADDR_POOL" --default-addr-pool-mask-length 24 >/dev/null
    log "swarm initialised on $MGR ($MGR_ADDR)"
  fi
  state=$(node_docker "$WRK" info --format '{{.Swarm.LocalNodeState}}')
  if [[ $state == active ]]; then
    log "$WRK is already in a swarm"
  else
    token=$(node_docker "$MGR" swarm join-token -q worker)
    node_docker "$WRK" swarm join --token "$token" --advertise-addr "$WRK_ADDR" --listen-addr "$WRK_ADDR:2377" "$MGR_ADDR:2377" >/dev/null
    log "$WRK joined as a worker"
  fi
  local n
  for n in "${EXTRA_MANAGERS[@]}"; do
    state=$(node_docker "$n" info --format '{{.Swarm.LocalNodeState}}')
    if [[ $state == active ]]; then
      log "$n is already in a swarm"
    else
      token=$(node_docker "$MGR" swarm join-token -q manager)
      # A manager joins once the Raft log has reached it; on a busy machine that can take longer
      # than the CLI's 20 s, which then says the join "will continue in the background".
      node_docker "$n" swarm join --token "$token" --advertise-addr "$(node_addr "$n")" --listen-addr "$(node_addr "$n"):2377" "$MGR_ADDR:2377" >/dev/null \
        || log "$n: the join goes on in the background; waiting for it"
      local join_deadline=$(( SECONDS + 90 ))
      until [[ $(node_docker "$n" info --format '{{.Swarm.LocalNodeState}}') == active ]]; do
        (( SECONDS < join_deadline )) || die "$n did not join the swarm within 90 s: $(node_docker "$n" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.Error}}')"
        sleep 1
      done
      log "$n joined as a manager"
    fi
  done
  local deadline=$(( SECONDS + 30 ))
  until [[ $(node_docker "$MGR" node ls --format '{{.Status}}' | grep -c '^Ready$') == "${#SWARM_NODES[@]}" ]]; do
    (( SECONDS < deadline )) || die "the swarm does not have ${#SWARM_NODES[@]} ready nodes: $(node_docker "$MGR" node ls)"
    sleep 0.5
  done
  node_docker "$MGR" node ls >&2
  # The client namespace reaches both nodes (the swarm ports answer; no ping on minimal systems).
  local a
  for n in "${SWARM_NODES[@]}"; do
    a=$(node_addr "$n")
    ip netns exec "$CLI" timeout 3 bash -c "</dev/tcp/$a/7946" || die "$CLI cannot reach $a:7946"
  done
  log "$CLI reaches every node"
}

# ---- 4. images
# The ID of an image of the machine's dockerd, from `image ls`, or from its data root's tag
# index when it is not running (read-only).
source_answers() { timeout 10 docker -H "$SOURCE_DOCKER_HOST" image ls -q >/dev/null 2>&1; }
source_image_id() {
  if source_answers; then
    docker -H "$SOURCE_DOCKER_HOST" image ls --no-trunc --format '{{.ID}}' "$1" | head -n 1
  else
    local repos=$SOURCE_DATA_ROOT/image/overlay2/repositories.json
    [[ -r $repos ]] || return 0
    node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).Repositories||{};
      const ref=process.argv[2]; const repo=ref.slice(0,ref.lastIndexOf(":"));
      process.stdout.write(((r[repo]||{})[ref]||"")+"\n")' "$repos" "$1"
  fi
}

# A temporary image-only dockerd on a copy of SOURCE_DATA_ROOT's image store, in its own netns,
# for machines whose main dockerd is stopped. Sets SEED_HOST; removed at exit.
SEED=sg-seed
SEED_HOST=''
start_seed() {
  local root=$NODES_CACHE/seed sock=/var/run/docker-$SEED.sock deadline
  log "the dockerd at $SOURCE_DOCKER_HOST does not answer: copying the image store of $SOURCE_DATA_ROOT into a temporary dockerd"
  rm -rf "$root"
  mkdir -p "$root/image"
  cp -a "$SOURCE_DATA_ROOT/image/overlay2" "$root/image/overlay2"
  cp -a "$SOURCE_DATA_ROOT/overlay2" "$root/overlay2"
  netns_exists "$SEED" || ip netns add "$SEED"
  record "netns=$SEED"
  at_exit stop_seed
  launch "$SEED" "$root" --bridge none --iptables=false
  deadline=$(( SECONDS + DOCKERD_WAIT ))
  until timeout 5 docker -H "unix://$sock" info >/dev/null 2>&1; do
    (( SECONDS < deadline )) || die "temporary dockerd did not answer (log: $NODES_CACHE/$SEED.log)"
    sleep 0.2
  done
  record "dockerd=$SEED:$(<"/var/run/docker-$SEED.pid")"
  SEED_HOST=unix://$sock
}
stop_seed() {
  local pid
  pid=$(cat "/var/run/docker-$SEED.pid" 2>/dev/null || true)
  # It runs no containers: a short grace, then its dockerd and containerd are killed by PID.
  if is_dockerd_pid "$pid"; then
    kill -TERM "$pid"
    local deadline=$(( SECONDS + 5 ))
    while is_dockerd_pid "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
  fi
  local -a left
  mapfile -t left < <(runtime_pids "$SEED"; is_dockerd_pid "$pid" && echo "$pid")
  (( ${#left[@]} == 0 )) || kill -KILL "${left[@]}" 2>/dev/null || true
  while is_dockerd_pid "$pid"; do sleep 0.1; done
  ip netns del "$SEED" 2>/dev/null || true
  rm -rf "$NODES_CACHE/seed" "/var/run/docker-$SEED" "/var/run/docker-$SEED.sock" "/var/run/docker-$SEED.pid"
  remove_cgroups "$SEED"
}

# One `docker save` of every image some node lacks (layers shared by the images are written
# once), then the nodes load it at the same time.
load_images() {
  local img want have n from='' tar=$NODES_CACHE/images.tar t0
  local -a save=() targets=()
  for img in $IMAGES; do
    want=$(source_image_id "$img")
    [[ -n $want ]] || die "image $img not found on $SOURCE_DOCKER_HOST (nor in $SOURCE_DATA_ROOT): run make images first"
    for n in "${SWARM_NODES[@]}"; do
      have=$(node_docker "$n" image ls --no-trunc --format '{{.ID}}' "$img" | head -n 1)
      if [[ $have == "$want" ]]; then
        log "$n has $img (${want:7:12})"
      else
        [[ " ${save[*]} " == *" $img "* ]] || save+=("$img")
        [[ " ${targets[*]} " == *" $n "* ]] || targets+=("$n")
      fi
    done
  done
  (( ${#save[@]} > 0 )) || return 0
  if source_answers; then from=$SOURCE_DOCKER_HOST; else start_seed; from=$SEED_HOST; fi
  t0=$(now_ms)
  at_exit rm -f "$tar"
  docker -H "$from" save "${save[@]}" -o "$tar"
  log "saved ${save[*]} from $from ($(du -m "$tar" | cut -f1) MB, $(elapsed "$t0")s)"
  t0=$(now_ms)
  local -a jobs=()
  for n in "${targets[@]}"; do
    node_docker "$n" load -q -i "$tar" >/dev/null &
    jobs+=($!)
  done
  for n in "${jobs[@]}"; do wait "$n" || die "docker load failed"; done
  log "loaded into ${targets[*]} ($(elapsed "$t0")s)"
}

step "network namespaces $BR ${SWARM_NODES[*]} $CLI on $NODES_SUBNET" setup_network
step "dockerd in ${SWARM_NODES[*]}" start_nodes
step "swarm: $MGR ${EXTRA_MANAGERS[*]} managers, $WRK worker" init_swarm
step "images on every node" load_images
log "ready: DOCKER_HOST=unix://$(node_sock "$MGR") docker node ls; clients: ip netns exec $CLI curl http://$MGR_ADDR:PORT/"
log "state in $NODES_STATE; remove everything with: make swarm-down NODES=$NODES"
summary
