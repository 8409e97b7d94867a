"""Persistence: SQLAlchemy models, unit of work, Alembic migrations."""
