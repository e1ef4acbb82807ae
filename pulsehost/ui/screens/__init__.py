"""The app's screens: setup, plan, deliver, review, session detail, help, export."""
