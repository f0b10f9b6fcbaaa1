#!/usr/bin/env bash
# The test job: set up (.venv/, and Chromium for the page's browser tests), lint, build the
# API reference, run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
.venv/bin/python -m ruff check .
bash scripts/docs.sh
# One BLAS thread per worker: two workers on two cores, no oversubscription.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
.venv/bin/python -m pytest -q -n 2 "$@"
