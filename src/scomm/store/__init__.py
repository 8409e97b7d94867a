"""Persistence: SQLAlchemy models, the actors' repositories (`scomm.store.repositories`),
Alembic migrations; the unit of work that holds them is the bus's (`scomm.bus.unit_of_work`)."""
