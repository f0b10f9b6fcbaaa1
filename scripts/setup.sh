#!/usr/bin/env bash
# Sets up this checkout: the system Graphviz `dot` program (through apt-get when missing),
# then a virtual environment in .venv/ with tinygrad_ng and its dev extras installed in it
# (editable). Works with the operating system's own python3 (PEP 668: nothing is installed
# into it). A second run reuses .venv/ and reinstalls only when pyproject.toml has changed.
# `--browser` also installs Debian's Chromium (when missing) for the browser tests of the
# step-through page (tests/test_viz_browser.py); the test job passes it, a plain set-up not.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
browser=""
[ "${1:-}" = "--browser" ] && browser=1

apt_updated=""
apt_install() {  # apt_install PACKAGE...: install Debian/Ubuntu packages (root or sudo)
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  if [ -z "$apt_updated" ]; then
    $sudo apt-get update -qq >/dev/null
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

if ! command -v dot >/dev/null 2>&1; then
  apt_install graphviz || echo "Install Graphviz (the 'dot' program) with your package manager" >&2
fi

if [ -n "$browser" ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium || echo "Install Chromium for the browser tests (they are skipped)" >&2
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
    # Debian and Ubuntu ship the venv module (and ensurepip) in a separate package.
    rm -rf .venv
    version="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python${version}-venv" || apt_install python3-venv || {
      echo "'$PYTHON -m venv' failed: install the venv module (python3-venv)" >&2; exit 1; }
    "$PYTHON" -m venv .venv
  fi
fi

stamp=.venv/.installed-pyproject
want="$(cksum < pyproject.toml)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
  echo "$want" > "$stamp"
fi
