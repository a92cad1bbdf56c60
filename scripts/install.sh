#!/usr/bin/env bash
# Installs telemetryd as a systemd service: release binary, unit, example settings and a dash key.
# Safe to run again (it upgrades in place); `scripts/install.sh --uninstall` removes binary and unit
# but keeps /etc/telemetryd and the data in /var/lib/telemetryd.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
UNIT=/etc/systemd/system/telemetryd.service
have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "${1:-}" = "--uninstall" ]; then
  if have_systemd; then systemctl disable --now telemetryd.service 2>/dev/null || true; fi
  rm -f "$PREFIX/bin/telemetryd" "$UNIT" "$PREFIX/share/doc/telemetryd/README.md"
  if have_systemd; then systemctl daemon-reload; fi
  echo "telemetryd removed (kept /etc/telemetryd and /var/lib/telemetryd)"
  exit 0
fi

swift build -c release --product telemetryd
install -D -m 0755 .build/release/telemetryd "$PREFIX/bin/telemetryd"
install -D -m 0644 README.md "$PREFIX/share/doc/telemetryd/README.md"
install -D -m 0644 systemd/telemetryd.service "$UNIT"
sed -i "s#/usr/local/bin/telemetryd#$PREFIX/bin/telemetryd#; s#/usr/local/share/doc#$PREFIX/share/doc#" "$UNIT"
install -d -m 0750 /etc/telemetryd
[ -f /etc/telemetryd/telemetryd.env ] || install -m 0640 systemd/telemetryd.env.example /etc/telemetryd/telemetryd.env
if [ ! -f /etc/telemetryd/dash-keys ]; then
  umask 077
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > /etc/telemetryd/dash-keys
  echo "a dash key was generated in /etc/telemetryd/dash-keys"
fi
if have_systemd; then
  systemctl daemon-reload
  systemctl enable --now telemetryd.service
  systemctl restart telemetryd.service
  echo "telemetryd installed and running: systemctl status telemetryd"
else
  echo "telemetryd installed in $PREFIX/bin (no running systemd here: start it with 'telemetryd serve')"
fi
