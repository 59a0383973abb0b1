"""`python -m training ...` is `rag train-reader ...`."""

import sys

from rag.errors import RagError

from .cli import main

try:
    sys.exit(main())
except RagError as e:
    sys.exit(f"error: {e}")
