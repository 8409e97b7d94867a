"""The synthetic world: population, fingerprints, bookings."""
