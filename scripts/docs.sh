#!/usr/bin/env bash
# Builds the API reference from the docstrings into site/ (MkDocs + mkdocstrings), with
# warnings as errors. Installs its two tools first; the package itself need not be installed
# (the sources are read from this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check "mkdocs>=1.6" "mkdocstrings[python]>=0.26"
python3 -m mkdocs build --strict --clean "$@"
echo "API reference built in site/ (open site/index.html)"
