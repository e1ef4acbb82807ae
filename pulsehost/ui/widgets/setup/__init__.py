"""Setup screen widgets: rig status and the session form."""
