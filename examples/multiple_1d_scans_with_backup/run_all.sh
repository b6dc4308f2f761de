#!/usr/bin/env bash
# Run the scans in order, in this folder. Set PYTHON to use another
# interpreter, e.g. PYTHON=../../.venv/bin/python ./run_all.sh
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
"$PYTHON" 10input.py
"$PYTHON" 20input.py
