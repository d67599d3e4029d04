"""``python -m pixop_async`` runs the ``pixop`` command line."""

from .cli.main import main

if __name__ == "__main__":
    main()
