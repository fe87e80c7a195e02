#!/bin/bash
# One rehearsed instance. Run as root by instance.ts under
#   unshare --mount --net --pid --fork --kill-child bash instance.sh WORK
# so that every mount, address and process below belongs to this instance's namespaces and goes
# away with it. WORK holds: config.env (written by instance.ts), share/ (stand-ins, logs, the user
# data; mounted at /run/rehearsal inside the instance), and after the run: upper/ (every file the
# instance wrote, as an overlay's upper layer), share/before.txt and share/after.txt (listings).
set -euo pipefail
WORK=$1
# shellcheck source=/dev/null
. "$WORK/config.env"
SHARE=$WORK/share
ROOT=$WORK/root
status() { printf '%s\n' "$*" > "$SHARE/status.tmp"; mv "$SHARE/status.tmp" "$SHARE/status"; }
trap 'status "setup-failed $LINENO"' ERR

# --- network: loopback, and eth0, a veth link into the VPC namespace (metadata service, AWS
# endpoint and load balancers are there, as they are off the instance on EC2)
ip link set lo up
ip link add eth0 type veth peer name "$VPC_INTERFACE" netns "$VPC_NETNS"
ip addr add "$INSTANCE_ADDRESS/30" dev eth0
ip link set eth0 up
nsenter --net="$VPC_NETNS" ip addr add "$GATEWAY_ADDRESS/30" dev "$VPC_INTERFACE"
nsenter --net="$VPC_NETNS" ip link set "$VPC_INTERFACE" up
ip route add default via "$GATEWAY_ADDRESS"

# --- file system: the machine's root, copy-on-write, with fresh /tmp and /run
mkdir -p "$WORK/upper" "$WORK/overlay-work" "$ROOT"
mount -t overlay overlay -o "lowerdir=/,upperdir=$WORK/upper,workdir=$WORK/overlay-work" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t sysfs sysfs "$ROOT/sys"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$ROOT/run"
mkdir -p "$ROOT/run/rehearsal"
mount --bind "$SHARE" "$ROOT/run/rehearsal"

# --- stand-ins at the paths an AL2023 instance has them, and the user data where cloud-init puts it
install -m 0755 "$SHARE/bin/dnf" "$ROOT/usr/bin/dnf"
install -m 0755 "$SHARE/bin/systemctl" "$ROOT/usr/bin/systemctl"
install -m 0755 "$SHARE/bin/aws" "$ROOT/usr/bin/aws"
cat "$SHARE/hosts" > "$ROOT/etc/hosts"
mkdir -p "$ROOT/var/lib/cloud/instance/scripts"
install -m 0700 "$SHARE/user-data" "$ROOT/var/lib/cloud/instance/scripts/part-001"

# --- listings of everything written, before and after the boot script
snapshot() {
  {
    find "$WORK/upper" -mindepth 1 -printf 'upper\t/%P\t%y\t%m\t%U:%G\t%s\t%l\n'
    find "$ROOT/tmp" "$ROOT/run" -mindepth 1 -path "$ROOT/run/rehearsal" -prune -o -printf 'tmpfs\t%p\t%y\t%m\t%U:%G\t%s\t%l\n' \
      | sed "s#\t$ROOT/#\t/#"
    find "$WORK/upper" "$ROOT/tmp" "$ROOT/run" -path "$ROOT/run/rehearsal" -prune -o -type f -printf '%p\0' \
      | xargs -0 -r sha256sum | sed "s#  $WORK/upper/#\thash\t/#; s#  $ROOT/#\thash\t/#"
  } | LC_ALL=C sort > "$1"
}
snapshot "$SHARE/before.txt"
trap - ERR

# --- the boot, as cloud-init runs user data: as root, with a minimal environment
status running
set +e
chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  /var/lib/cloud/instance/scripts/part-001 > "$SHARE/cloud-init-output.log" 2>&1 < /dev/null
code=$?
set -e
snapshot "$SHARE/after.txt"
status "done $code"

# Keep the namespaces (and the services the boot started) until instance.ts ends the instance.
exec sleep infinity
