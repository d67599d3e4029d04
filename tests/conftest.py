"""Shared test setup: the emulator fixtures come from the SDK's own pytest plugin."""

pytest_plugins = ["pixop_async.testing"]
