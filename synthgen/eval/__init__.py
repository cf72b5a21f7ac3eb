"""Evaluation: audio probes and metrics."""
