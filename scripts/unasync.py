"""Derive wrapper/vozo/_sync from wrapper/vozo/_async (``--check``: fail when they differ). See spectools/unasync.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spectools.unasync import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
