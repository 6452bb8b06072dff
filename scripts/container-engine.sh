#!/usr/bin/env bash
# Makes a Docker-compatible container engine answer for the test suite and builds the local base
# images the container runtime uses (no registry is reachable, so nothing is ever pulled):
#   localhost/dockyard-busybox:1     busybox-static with its applets (sh, httpd, ...), PATH=/bin
#   localhost/dockyard-python:3.11   Debian bookworm minbase + python3, pip, venv (debootstrap)
# The engine is the one at $DOCKER_HOST when that answers, else Podman's API service at
# unix:///run/dockyard-podman.sock, started here (as root) when nothing answers there.
# Idempotent: a running engine and existing images are reused; the debootstrap tree is cached under
# /var/cache/dockyard-rootfs/. Never fails the run: without an engine it prints
# "container-engine: unavailable: <reason>" and exits 0, and the container tests skip with it.
# On success the last line is "container-engine: ready at <url>".
# `container-engine.sh ping URL` only checks that an engine answers at URL (exit status).
# `container-engine.sh mirror [APT_DIR]` prints the Debian mirror debootstrap uses: the one this
# machine's apt sources name (scripts/apt_mirror.py reads APT_DIR, default /etc/apt, with the
# deb822 .sources files), unless DOCKYARD_DEBIAN_MIRROR is set; exit 1 with the reason if none.
set -uo pipefail

OURS=unix:///run/dockyard-podman.sock
LOG=/tmp/dockyard-podman.log
CACHE=/var/cache/dockyard-rootfs
BUSYBOX_IMAGE=${DOCKYARD_BUSYBOX_IMAGE:-localhost/dockyard-busybox:1}
PYTHON_IMAGE=${DOCKYARD_PYTHON_IMAGE:-localhost/dockyard-python:3.11}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOST_CA=/etc/ssl/certs/ca-certificates.crt

# The Docker API bits, in Python's standard library (curl is not on a fresh machine).
read -r -d '' API <<'EOF'
import http.client, json, os, socket, subprocess, sys, urllib.parse

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)

def connect(url, timeout):
    u = urllib.parse.urlsplit(url)
    if u.scheme == "unix":
        return UnixConnection(u.path, timeout)
    if u.scheme in ("tcp", "http"):
        return http.client.HTTPConnection(u.hostname, u.port or 2375, timeout=timeout)
    sys.exit(f"unsupported engine url {url}")

def call(url, method, path, timeout=30, **kw):
    c = connect(url, timeout)
    c.request(method, path, **kw)
    r = c.getresponse()
    return r.status, r.read()

cmd, url = sys.argv[1], sys.argv[2]
try:
    if cmd == "ping":
        status, body = call(url, "GET", "/_ping", timeout=3)
        sys.exit(0 if status == 200 else 1)
    if cmd == "exists":
        name = urllib.parse.quote(sys.argv[3], safe="")
        sys.exit(0 if call(url, "GET", f"/images/{name}/json")[0] == 200 else 1)
    if cmd == "import":  # tar on stdin; Podman's compat import ignores the tag, so tag afterwards
        repo, _, tag = sys.argv[3].rpartition(":")
        query = urllib.parse.urlencode([("fromSrc", "-")] + [("changes", c) for c in sys.argv[4:]])
        chunks = iter(lambda: sys.stdin.buffer.read(1 << 20), b"")
        status, body = call(url, "POST", f"/images/create?{query}", timeout=900, body=chunks,
                            headers={"Content-Type": "application/x-tar"}, encode_chunked=True)
        events = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        ids = [e["status"] for e in events if str(e.get("status", "")).startswith("sha256:")]
        if status != 200 or not ids:
            sys.exit(f"import failed: {status} {body[:300]!r}")
        q = urllib.parse.urlencode({"repo": repo, "tag": tag})
        status, body = call(url, "POST", f"/images/{ids[-1]}/tag?{q}")
        sys.exit(0 if status in (200, 201) else f"tag failed: {status} {body[:300]!r}")
    if cmd == "spawn":  # detached: own session, no inherited descriptors (a pipe held open hangs callers)
        with open(sys.argv[3], "ab") as log:
            subprocess.Popen(sys.argv[4:], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             cwd="/", start_new_session=True, close_fds=True)
        sys.exit(0)
except OSError as e:
    sys.exit(1 if cmd == "ping" else f"{cmd}: {e}")
sys.exit(f"unknown command {cmd}")
EOF

api() { python3 -c "$API" "$@"; }
say() { echo "container-engine: $*"; }
unavailable() { say "unavailable: $*"; exit 0; }
now() { date +%s.%N; }
took() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$1" "$(now)"; }

debian_mirror() {  # [APT_DIR]
  if [ -n "${DOCKYARD_DEBIAN_MIRROR:-}" ]; then
    echo "$DOCKYARD_DEBIAN_MIRROR"
  else
    python3 "$HERE/apt_mirror.py" "${1:-/etc/apt}"
  fi
}

if [ "${1:-}" = ping ]; then
  api ping "$2"
  exit
fi
if [ "${1:-}" = mirror ]; then
  debian_mirror "${2:-}"
  exit
fi
command -v python3 >/dev/null || unavailable "python3 is not installed"

# 1. The engine.
engine=
if [ -n "${DOCKER_HOST:-}" ] && api ping "$DOCKER_HOST"; then
  engine=$DOCKER_HOST
  say "engine answers at DOCKER_HOST=$engine"
elif api ping "$OURS"; then
  engine=$OURS
  [ -n "${DOCKER_HOST:-}" ] && say "DOCKER_HOST=$DOCKER_HOST does not answer; using $OURS"
  say "engine answers at $engine"
else
  where="${DOCKER_HOST:+DOCKER_HOST=$DOCKER_HOST or }$OURS"
  command -v podman >/dev/null ||
    unavailable "no Docker-compatible engine answers at $where and podman is not installed (as root: make system-deps)"
  [ "$(id -u)" = 0 ] ||
    unavailable "no Docker-compatible engine answers at $where; starting podman's service there needs root"
  sock=${OURS#unix://}
  [ -S "$sock" ] && rm -f "$sock"  # stale: nothing answered on it
  say "starting podman system service at $OURS (log: $LOG)"
  api spawn "$OURS" "$LOG" podman system service --time=0 "$OURS" ||
    unavailable "could not start podman system service (see $LOG)"
  for _ in $(seq 150); do
    api ping "$OURS" && { engine=$OURS; break; }
    sleep 0.1
  done
  [ -n "$engine" ] || unavailable "podman system service did not answer at $OURS within 15 s (see $LOG)"
  say "engine answers at $engine"
fi

# Podman's own socket: use its CLI (same storage). Any other engine: its API.
has_image() {
  if [ "$engine" = "$OURS" ] && command -v podman >/dev/null; then podman image exists "$1"; else api exists "$engine" "$1"; fi
}
import_image() {  # NAME CHANGE... ; tar on stdin
  local name=$1 args=()
  shift
  if [ "$engine" = "$OURS" ] && command -v podman >/dev/null; then
    for c in "$@"; do args+=(--change "$c"); done
    podman import -q "${args[@]}" - "$name" >/dev/null
  else
    api import "$engine" "$name" "$@"
  fi
}

# 2. localhost/dockyard-busybox:1 — a static busybox and a symlink per applet.
build_busybox() {
  local bb=/bin/busybox dir
  [ -x "$bb" ] || { say "cannot build $BUSYBOX_IMAGE: $bb is missing (apt-get install busybox-static)"; return 1; }
  if ldd "$bb" >/dev/null 2>&1; then
    say "cannot build $BUSYBOX_IMAGE: $bb is dynamically linked (apt-get install busybox-static)"
    return 1
  fi
  dir=$(mktemp -d /tmp/dockyard-busybox.XXXXXX)
  mkdir -p "$dir"/{bin,www,tmp,etc,root,proc,sys,dev}
  chmod 1777 "$dir/tmp"
  cp "$bb" "$dir/bin/busybox"
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar -C "$dir" -c . | import_image "$BUSYBOX_IMAGE" "ENV PATH=/bin" 'CMD ["sh"]'
  local rc=$?
  rm -rf "$dir"
  return $rc
}

# 3. localhost/dockyard-python:3.11 — bookworm minbase with python3, pip, venv. The host's CA bundle
# goes in (registries may be reached through a TLS-intercepting proxy) and pip is pointed at it.
build_python() {
  local tree=$CACHE/bookworm-python3 partial=$CACHE/bookworm-python3.partial t mirror
  if [ ! -d "$tree" ]; then
    command -v debootstrap >/dev/null ||
      { say "cannot build $PYTHON_IMAGE: debootstrap is not installed (as root: make system-deps)"; return 1; }
    [ "$(id -u)" = 0 ] || { say "cannot build $PYTHON_IMAGE: debootstrap needs root"; return 1; }
    mirror=$(debian_mirror 2>&1) || { say "cannot build $PYTHON_IMAGE: $mirror"; return 1; }
    mkdir -p "$CACHE"
    if [ -e "$partial" ]; then  # an interrupted run: unmount what debootstrap mounted, then remove
      grep -o " $partial/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
      rm -rf --one-file-system "$partial"
    fi
    say "debootstrap bookworm (minbase + python3, pip, venv) from $mirror into $tree (about a minute)"
    t=$(now)
    if ! debootstrap --variant=minbase --include=python3,python3-pip,python3-venv \
      bookworm "$partial" "$mirror" >"$CACHE/debootstrap.log" 2>&1; then
      say "cannot build $PYTHON_IMAGE: debootstrap failed (see $CACHE/debootstrap.log)"
      return 1
    fi
    rm -f "$partial"/var/cache/apt/archives/*.deb
    mv "$partial" "$tree"
    say "debootstrap done in $(took "$t")"
  fi
  if [ -f "$HOST_CA" ]; then
    mkdir -p "$tree/etc/ssl/certs"
    cp "$HOST_CA" "$tree/etc/ssl/certs/ca-certificates.crt"
  fi
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$tree/etc/pip.conf"
  t=$(now)
  tar -C "$tree" -c . | import_image "$PYTHON_IMAGE" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "ENV LANG=C.UTF-8" \
    "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" 'CMD ["python3"]' || return 1
  say "imported $PYTHON_IMAGE in $(took "$t")"
}

for image in "$BUSYBOX_IMAGE" "$PYTHON_IMAGE"; do
  if has_image "$image"; then
    say "image $image present"
    continue
  fi
  say "building image $image"
  case $image in
    "$BUSYBOX_IMAGE") build_busybox ;;
    *) build_python ;;
  esac || say "image $image NOT built; the tests that use it will fail"
done
say "ready at $engine"
