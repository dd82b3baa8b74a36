"""`python -m dua`: the same as the `dua` command (used to start child processes)."""

import sys

from dua.cli import main

sys.exit(main())
