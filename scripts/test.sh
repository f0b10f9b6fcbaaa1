#!/usr/bin/env bash
# The test job: set up, lint, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check .
bash scripts/docs.sh
python3 -m pytest -q -n 2
