"""How the user ran reelspace, so that every printed hint names a command that works where they are."""

from __future__ import annotations

import os
import sys


def command() -> str:
    """``reelspace`` when run as the installed console command, else ``python build.py``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "reelspace" if name in ("reelspace", "reelspace.exe") else "python build.py"
