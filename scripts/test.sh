#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need, then runs nox.
# Usage: bash scripts/test.sh [nox arguments]   (e.g. -s tests -- -k browser)
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the suite drives for real: Chromium (Playwright uses Debian's build), nginx with
# the brotli static module, Caddy, Apache, and the brotli CLI and wrk for benchmarks.
apt_packages=(chromium nginx libnginx-mod-http-brotli-static caddy apache2 brotli wrk)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    # Debian starts nginx and Apache on port 80 at install; the tests start their own on loopback.
    (service nginx stop || systemctl stop nginx || nginx -s stop) >/dev/null 2>&1 || true
    (service apache2 stop || systemctl stop apache2) >/dev/null 2>&1 || true
  else
    echo "scripts/test.sh: missing ${missing[*]}; install them (as root: apt-get install)" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check "nox>=2024.4.15"
exec python3 -m nox "$@"
