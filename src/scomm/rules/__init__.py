"""Versioned rule-set data files (TOML): levels, priorities, detainer criteria, NCIC codes."""
