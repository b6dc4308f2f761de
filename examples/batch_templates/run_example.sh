#!/bin/sh
# The whole workflow on this computer: prepare, run the jobs, extend, run
# the new jobs, evaluate. Set PYTHON to the interpreter that has psweep.
set -eu
cd "$(dirname "$0")"
python=${PYTHON:-python3}
rm -rf calc calc_*
"$python" 10input.py
sh calc/run_local.sh
"$python" 15input.py
sh calc/run_local.sh
"$python" 20eval.py
