"""Numeric building blocks the matcher's stages share (numba, no state)."""
