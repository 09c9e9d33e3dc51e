"""Subcommands of the ``smnb`` command line; each module registers one."""
