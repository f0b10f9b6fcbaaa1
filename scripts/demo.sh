#!/usr/bin/env bash
# The main job: set up (.venv/), then run the demo (writes out/demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m tinygrad_ng demo "$@"
