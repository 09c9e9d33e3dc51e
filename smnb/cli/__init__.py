"""The ``smnb`` command line: :mod:`~smnb.cli.main` (parser, exit codes, error
printing) and one module per subcommand (``transcribe``, ``serve``, ``sweep``), each
with ``register(subparsers)`` and ``run(args) -> int``.

May import: the public entry points (:mod:`smnb.session`, ``smnb.sweep``),
:mod:`smnb.server` (``serve``), :mod:`smnb.recorder`, :mod:`smnb.exceptions`. pandas and
the server load only when a command runs, so ``smnb --help`` stays quick.
"""

# The console script is ``smnb = "smnb.cli:main"``. Re-exporting the function makes the
# attribute ``smnb.cli.main`` the function, not the module: import the module's other
# names with ``from smnb.cli.main import …`` (which reads sys.modules), as every module does.
from smnb.cli.main import main

__all__ = ["main"]
