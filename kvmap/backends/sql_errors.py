"""The errors a SQL store raises besides KeyError and the unreachable database.

:class:`SQLStatementError` is a statement the database refused or failed (a
deadlock, a lock wait timeout, a full disk); :class:`ValueTooLargeError` is a
value larger than MariaDB or MySQL accept in one statement. Both name the
database, never a password.
"""

from __future__ import annotations

from kvmap.errors import KvmapError

__all__ = ["SQLStatementError", "ValueTooLargeError"]


class SQLStatementError(KvmapError, RuntimeError):
    """The database failed a statement for a reason other than a lost connection.

    The message names the host, port and database and gives the database's
    own reason. The transaction was rolled back: nothing of the call was
    written.
    """


class ValueTooLargeError(KvmapError, ValueError):
    """A value is larger than the database takes in one statement.

    The message names the key, the value's size and the server's limit
    (``max_allowed_packet`` on MariaDB and MySQL). Nothing was sent.
    """
