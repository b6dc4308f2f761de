"""python -m psweep runs the psweep command."""

import sys

from psweep.cli import main

if __name__ == "__main__":
    sys.exit(main())
