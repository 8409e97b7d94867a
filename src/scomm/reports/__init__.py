"""Statistics and reports computed only from the audit record."""
