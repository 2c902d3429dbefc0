#!/usr/bin/env python3
"""reelspace: turn a ratings log into embeddings you can see and share.

    python build.py --help
"""

import sys

from embedder.cli import main

if __name__ == "__main__":
    sys.exit(main())
