"""Resource wrappers, one module per API area."""
