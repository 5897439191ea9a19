#!/usr/bin/env bash
# Finetune Studio's set-up in one command, for Linux and macOS: ./install.sh
# It checks Python, the free disk space and whether this machine has an NVIDIA GPU, installs the studio into .venv
# beside this file (the README's install), adds its own window and a menu shortcut, then says how to start it.
# Options: --no-window (no desktop window library), --no-shortcut, --venv DIR, --skip-pip (check and say what
# would be installed, install nothing: for tests), --help. PYTHON=/path/to/python3 picks the Python to use.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"
WINDOW=yes
SHORTCUT=yes
SKIP_PIP=no
CPU_TORCH="torch==2.13.0"  # the README's CPU line; on a GPU machine pip takes the CUDA build from requirements.txt
DONE=()

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
fail() { printf '\nStopped: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --no-window) WINDOW=no ;;
    --no-shortcut) SHORTCUT=no ;;
    --skip-pip) SKIP_PIP=yes ;;
    --venv) shift; VENV="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")" ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown option $1 (see ./install.sh --help)" ;;
  esac
  shift
done

run() {  # run a command, or with --skip-pip only say it
  if [ "$SKIP_PIP" = yes ]; then say "Would run: $*"; else say "Running: $*"; "$@"; fi
}

step "Python"
command -v "$PYTHON" >/dev/null 2>&1 || fail "Python 3 was not found. Install Python 3.10 or newer (your system's \
package manager, or python.org), then run ./install.sh again."
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || fail "This Python is $PY_VERSION; \
the studio needs Python 3.10 or newer. Install a newer one and run: PYTHON=/path/to/python3 ./install.sh"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || fail "Python $PY_VERSION cannot make a virtual environment. \
On Debian or Ubuntu: sudo apt install python3-venv, then run ./install.sh again."
say "Python $PY_VERSION ($(command -v "$PYTHON")): good."

step "Graphics card"
GPUS=""
if command -v nvidia-smi >/dev/null 2>&1; then
  GPUS="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || true)"
fi
if [ -n "$GPUS" ]; then
  say "NVIDIA GPU found: $(printf '%s' "$GPUS" | paste -sd ',' - | sed 's/,/, /g'). Installing torch with CUDA."
  TORCH=()
  NEEDED_GB=12
else
  say "No NVIDIA GPU found: installing the CPU build of torch (training works, slower)."
  TORCH=("$CPU_TORCH")
  NEEDED_GB=5
fi
NEEDED_GB="${FINETUNE_STUDIO_NEEDED_GB:-$NEEDED_GB}"

step "Disk space"
FREE_GB="$(df -Pk "$HERE" | awk 'NR==2 { print int($4 / 1048576) }')"
[ "$FREE_GB" -ge "$NEEDED_GB" ] || fail "only $FREE_GB GB are free in $HERE; the studio and its libraries need \
about $NEEDED_GB GB (models and runs need more). Free some space and run ./install.sh again."
say "$FREE_GB GB free in $HERE (about $NEEDED_GB GB needed): good."

step "Installing the studio into $VENV"
if [ ! -x "$VENV/bin/python" ]; then
  run "$PYTHON" -m venv "$VENV"
  DONE+=("made the Python environment $VENV")
fi
run "$VENV/bin/pip" install ${TORCH[@]+"${TORCH[@]}"} -r requirements.txt
DONE+=("installed the studio's libraries (torch: ${TORCH[*]:-the CUDA build})")

if [ "$WINDOW" = yes ] && [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  say "No desktop display here: the studio will open in a browser, so its own window is not installed."
  WINDOW=no
fi
if [ "$WINDOW" = yes ]; then
  run "$VENV/bin/pip" install -r requirements-desktop.txt
  DONE+=("installed the studio's own window (pywebview)")
fi

if [ "$SHORTCUT" = yes ]; then
  step "Shortcut"
  "$VENV/bin/python" launch.py install-shortcut || fail "the shortcut could not be made (see above); the studio \
itself is installed: start it with $VENV/bin/python launch.py"
  DONE+=("added Finetune Studio to the application menu")
fi

step "Done"
for line in ${DONE[@]+"${DONE[@]}"}; do say "- $line"; done
[ "$SKIP_PIP" = yes ] && say "(--skip-pip: nothing was installed; the lines above say what would have been.)"
say ""
if [ "$SHORTCUT" = yes ]; then
  say "Start Finetune Studio from your application menu, or type:"
else
  say "Start Finetune Studio by typing:"
fi
say "    cd $HERE && $VENV/bin/python launch.py"
say "To check this machine: cd $HERE && $VENV/bin/python launch.py doctor"
