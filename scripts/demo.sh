#!/usr/bin/env bash
# The main job: set up, then run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m tinygrad_ng demo "$@"
