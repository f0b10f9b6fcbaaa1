#!/usr/bin/env bash
# Installs the system Graphviz `dot` binary and tinygrad_ng with its dev extras.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq graphviz >/dev/null
  else
    echo "Install Graphviz (the 'dot' program) with your package manager" >&2
  fi
fi
python3 -m pip install -q --disable-pip-version-check -e ".[dev]"
