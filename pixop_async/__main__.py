"""``python -m pixop_async`` runs the ``pixop`` command line."""

from .cli.entry import main

if __name__ == "__main__":
    main()
