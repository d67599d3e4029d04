"""Route modules of the emulator; each exposes ``setup(app)``."""
