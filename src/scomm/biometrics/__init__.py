"""The fingerprint engine: pure computation on numpy arrays, no I/O beyond decoding bytes."""
