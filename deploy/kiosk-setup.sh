#!/usr/bin/env bash
# Turn a Debian or Raspberry Pi OS (Lite or Desktop, bookworm) machine into a satupintu
# kiosk or hall TV: at power-on it logs a local user in on tty1, starts X with no screen
# blanking and no mouse pointer, and runs Chromium full screen on the page, restarting
# Chromium if it ever exits. Run once as root; safe to run again (e.g. to change the URL):
#
#   sudo deploy/kiosk-setup.sh http://10.0.0.5:8080/display     # hall TV
#   sudo deploy/kiosk-setup.sh http://10.0.0.5:8080/kiosk       # kiosk (log in once as k1)
#   sudo deploy/kiosk-setup.sh --user tv --rotate left http://10.0.0.5:8080/display?counters=1,2
#
# What it sets up (README "Kiosk and TV start-up"):
#   - packages: Xorg, xinit, openbox, unclutter, Chromium (chromium or chromium-browser)
#   - the user (default "kiosk", no password, no sudo) and autologin on tty1
#   - ~/.xinitrc: screen blanking and power saving off (xset), then Chromium with
#     deploy/chromium-kiosk.flags: kiosk mode, sound without a touch first
#     (--autoplay-policy), no translate bar, no "restore pages?" bubble after a power cut
#     (the profile is marked as cleanly closed before each start)
#   - Chromium opens satupintu-start.html first: it waits for the server's /healthz and
#     shows "Server tidak dapat dihubungi / Server unreachable" instead of a browser error
#     page while the server is down (at boot, or after a power cut of both machines)
#   - console blanking off (consoleblank=0 on the kernel command line)
set -euo pipefail

user="kiosk"
rotate="normal"
reboot_after=1
files_only=""
while (($#)); do
  case "$1" in
    --user) user="$2"; shift 2 ;;
    --files-only) files_only="$2"; shift 2 ;;  # only write the session files under DIR
    --rotate) rotate="$2"; shift 2 ;;   # normal, left, right, inverted (portrait kiosks)
    --no-reboot) reboot_after=0; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) url="$1"; shift ;;
  esac
done
# Only URL characters that are safe inside the session script's double quotes.
if [[ -z "${url:-}" || ! "$url" =~ ^https?://[A-Za-z0-9._:/?=\&,%~+-]+$ ]] ||
   [[ ! "$rotate" =~ ^(normal|left|right|inverted)$ ]]; then
  echo "usage: $0 [--user NAME] [--rotate left|right|inverted] [--no-reboot] http://SERVER:PORT/display" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"

write_session() {  # $1 home folder, $2 Chromium command: the files that make the kiosk
  local home="$1" browser_bin="$2"
  install -m 0644 "$here/kiosk-start.html" "$home/satupintu-start.html"
  local flags
  flags="$(grep -v '^#' "$here/chromium-kiosk.flags" | tr '\n' ' ')"
  cat > "$home/.bash_profile" <<'EOF'
# satupintu kiosk: start X on the first console (kiosk-setup.sh)
if [ -z "${DISPLAY:-}" ] && [ "$(tty)" = /dev/tty1 ]; then
  exec startx -- -nocursor >"$HOME/.xsession.log" 2>&1
fi
EOF
  cat > "$home/.xinitrc" <<EOF
#!/bin/sh
# satupintu kiosk session (kiosk-setup.sh): never blank, hide the pointer, Chromium forever.
xset s off
xset s noblank
xset -dpms
xrandr --output "\$(xrandr | awk '/ connected/ {print \$1; exit}')" --rotate $rotate || true
unclutter -idle 0.5 -root &
openbox &
profile="\$HOME/.config/chromium/Default"
while true; do
  # After a power cut Chromium thinks it crashed and offers to restore pages: say it did not.
  if [ -f "\$profile/Preferences" ]; then
    sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[^"]*"/"exit_type":"Normal"/' \\
      "\$profile/Preferences"
  fi
  $browser_bin $flags --lang=id "file://\$HOME/satupintu-start.html#$url"
  sleep 2
done
EOF
  chmod 0755 "$home/.xinitrc"
}

if [[ -n "$files_only" ]]; then  # for reading them (and for tests/satupintu/test_service.py)
  mkdir -p "$files_only"
  write_session "$files_only" chromium
  echo "wrote the kiosk session files to $files_only"
  exit 0
fi
if [[ $EUID -ne 0 ]]; then
  echo "run as root (sudo $0 ...)" >&2
  exit 1
fi

# -- packages -------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
apt-get update
browser=chromium
if ! apt-cache show chromium >/dev/null 2>&1; then browser=chromium-browser; fi
apt-get install -y --no-install-recommends xserver-xorg xinit x11-xserver-utils \
  x11-xkb-utils openbox unclutter "$browser" fonts-noto-core
browser_bin="$(command -v chromium || command -v chromium-browser)"

# -- the user and autologin on tty1 -----------------------------------------------
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
  passwd --delete "$user" >/dev/null
fi
usermod -aG video,audio,input,render "$user" 2>/dev/null || usermod -aG video,audio,input "$user"
home="$(getent passwd "$user" | cut -d: -f6)"
install -d /etc/systemd/system/getty@tty1.service.d
cat > /etc/systemd/system/getty@tty1.service.d/autologin.conf <<EOF
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin $user --noclear %I \$TERM
EOF
systemctl set-default multi-user.target  # no desktop login screen in front of it

# -- the session: X without blanking, Chromium in a loop -----------------------------
write_session "$home" "$browser_bin"
chown "$user:$user" "$home/satupintu-start.html" "$home/.bash_profile" "$home/.xinitrc"

# -- console blanking off (the kernel's own, before X starts) ---------------------------
for cmdline in /boot/firmware/cmdline.txt /boot/cmdline.txt; do
  if [[ -f "$cmdline" ]] && ! grep -q consoleblank=0 "$cmdline"; then
    sed -i '1 s/$/ consoleblank=0/' "$cmdline"
    break
  fi
done
if [[ -f /etc/default/grub ]] && ! grep -q consoleblank=0 /etc/default/grub; then
  sed -i 's/^GRUB_CMDLINE_LINUX_DEFAULT="/&consoleblank=0 /' /etc/default/grub
  update-grub || true
fi

echo "satupintu kiosk set up for $user: $url"
if ((reboot_after)); then
  echo "rebooting in 5 s (Ctrl-C to stay)"; sleep 5; systemctl reboot
fi
