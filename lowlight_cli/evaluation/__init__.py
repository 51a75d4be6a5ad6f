"""Evaluation: metrics, classical baselines, and `lowlight eval` over paired test data."""
