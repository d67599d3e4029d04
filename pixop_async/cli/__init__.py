"""The ``pixop`` command line."""
