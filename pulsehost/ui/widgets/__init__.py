"""Widgets of the app, grouped by the screen (or, for pulses, the screens) that use them."""
