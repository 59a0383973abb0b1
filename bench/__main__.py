"""`python -m bench ...` is `rag bench ...` (and runs the serving probe's child process)."""

import sys

from .cli import main

sys.exit(main())
