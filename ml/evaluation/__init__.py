"""Evaluation reports: metrics, calibration, error-reject curves, baselines."""
