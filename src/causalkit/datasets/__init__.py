"""Synthetic datasets with known truth and the classic real datasets."""
