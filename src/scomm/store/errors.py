"""StoreError: the family of errors the database layer raises (see scomm.errors)."""

from scomm.errors import ScommError


class StoreError(ScommError):
    """A database that cannot be found, opened or read as scomm's."""


class DatabaseNotFound(StoreError):
    """A SQLite file that does not exist, named where an existing database is needed."""


class SchemaNotCurrent(StoreError):
    """A database whose schema is not the newest this scomm knows, opened by a command that
    reads (and so does not migrate)."""


class WriteLockError(StoreError):
    """The lock shared by the processes that serve one SQLite file cannot be opened or
    used (`scomm.store.write_lock`)."""


class RecordNotFound(StoreError, LookupError):
    """A repository asked to change a record it does not hold."""
