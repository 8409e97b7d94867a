"""1:N identification: first-stage codes, the gallery's flat arrays, two-stage search."""
