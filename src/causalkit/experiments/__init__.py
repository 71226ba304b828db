"""Randomized experiments: A/B and multi-arm analysis, power, SRM, sequential and Bayesian tests."""
