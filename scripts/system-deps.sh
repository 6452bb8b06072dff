#!/usr/bin/env bash
# Installs the Debian packages the test suite uses (PostgreSQL server, OpenSSH server, nginx, Caddy,
# Pebble (a local ACME test CA), Podman with runc, busybox-static, debootstrap; nftables; wrk for the
# benches) when run as root and they are missing, and writes the
# Podman engine settings this kernel needs. Without root the tests that need them skip and say why.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/caddy ] || need+=(caddy)
[ -x /usr/bin/pebble ] || need+=(pebble)
[ -x /usr/bin/wrk ] || need+=(wrk)  # bench/zero_downtime.py's load generator
[ -x /usr/sbin/nft ] || need+=(nftables)  # apps' stable ports as a kernel redirect (runtimes/redirect.py)
[ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || need+=(iproute2)
# Container engine: installed with its recommends (netavark, aardvark-dns, iptables, catatonit),
# which rootful networking and published ports need.
engine=()
[ -x /usr/bin/podman ] || engine+=(podman)
[ -x /usr/sbin/runc ] || [ -x /usr/bin/runc ] || engine+=(runc)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || engine+=(busybox-static)
[ -x /usr/sbin/debootstrap ] || engine+=(debootstrap)

conf=/etc/containers/containers.conf
conf_ok() { [ -f "$conf" ] && grep -q '^cgroup_manager = "cgroupfs"' "$conf"; }

[ ${#need[@]} -eq 0 ] && [ ${#engine[@]} -eq 0 ] && conf_ok && exit 0
if [ "$(id -u)" != 0 ]; then
  missing=("${need[@]}" "${engine[@]}")
  [ ${#missing[@]} -gt 0 ] || missing=("$conf settings")
  echo "system-deps: missing ${missing[*]} and not root; the tests that need them will be skipped." >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#need[@]} -gt 0 ] || [ ${#engine[@]} -gt 0 ]; then
  echo "system-deps: installing ${need[*]} ${engine[*]}"
  apt-get update -qq
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Dockyard runs its own nginx/Caddy instances: a system one the package just started would hold port 80.
for svc in nginx caddy; do
  [[ " ${need[*]} " == *" $svc "* ]] || continue
  if [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  else
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done
if [ ${#engine[@]} -gt 0 ]; then
  apt-get install -y -qq "${engine[@]}" >/dev/null
fi
# crun fails on this kernel and the default ulimits are refused: use runc, cgroupfs, explicit limits.
if ! conf_ok; then
  if [ -f "$conf" ]; then
    cp -p "$conf" "$conf.dockyard-bak"
    echo "system-deps: backed up $conf to $conf.dockyard-bak"
  fi
  mkdir -p /etc/containers
  cat >"$conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
  echo "system-deps: wrote $conf"
fi
