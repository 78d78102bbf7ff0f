"""Sub-commands of the ``netcoh`` command line; each module exposes ``register(subparsers)``."""
