"""Local-polynomial regression discontinuity machinery."""
