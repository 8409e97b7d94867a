"""Benchmarks of scomm's fingerprint engines (FVC verification, 1:N search)."""
