"""Shared instrumental-variable machinery."""
