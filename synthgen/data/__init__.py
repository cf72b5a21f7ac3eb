"""Data: stem sources, windows, and the on-disk token cache."""
