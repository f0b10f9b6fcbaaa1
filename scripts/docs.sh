#!/usr/bin/env bash
# Builds the API reference from the docstrings into site/ (MkDocs + mkdocstrings), with
# warnings as errors, using the checkout's .venv/ (made by scripts/setup.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m mkdocs build --strict --clean "$@"
echo "API reference built in site/ (open site/index.html)"
