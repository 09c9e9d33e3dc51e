"""``python -m smnb`` runs the command line."""

import sys

from smnb.cli import main

sys.exit(main())
