"""`python -m rlvr ...` (and `accelerate launch -m rlvr train ...`) run the `rlvr` command."""

import sys

from rlvr.cli import main

if __name__ == "__main__":
    sys.exit(main())
