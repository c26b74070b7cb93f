"""``python -m ml``: the command line of the digit models."""

import sys

from ml.cli import main

sys.exit(main())
