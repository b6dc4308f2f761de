"""A driver for the live-run test: psets that take a while, run serially into argv[1]."""

from __future__ import annotations

import sys
import time

import psweep as ps


def slow(pset):
    time.sleep(float(sys.argv[3]))
    return {"y_": pset["a"] ** 2}


if __name__ == "__main__":
    ps.run(slow, ps.plist("a", list(range(int(sys.argv[2])))), calc_dir=sys.argv[1])
