"""The pulse table and the waveform plots, shared by delivery and review."""
