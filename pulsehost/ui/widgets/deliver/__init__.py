"""Delivery screen widgets: state, confirmation, progress, drug clock, ECG, findings."""
