"""``python -m smnb`` runs the command line."""

import sys

from smnb.cli.main import main

sys.exit(main())
