"""sqlite_cachier - the cachier SQLite extension for Python's sqlite3.

    import sqlite3, sqlite_cachier
    conn = sqlite3.connect("app.db")
    sqlite_cachier.load(conn)
    conn.execute("SELECT memoize('upper', 'hi')")

The package carries the extension built from the same checkout
(cachier.so, Linux only); loadable_path() is its path, for other clients
(apsw, sqlite-utils, Datasette's --load-extension).
"""
import os

__all__ = ["load", "loadable_path", "__version__"]

_HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(_HERE, "VERSION")) as _f:
    __version__ = _f.read().strip()


def loadable_path():
    """The absolute path of the bundled extension (…/sqlite_cachier/cachier.so).
    Its entry point is sqlite3_cachier_init, which SQLite finds from the
    file name."""
    return os.path.join(_HERE, "cachier.so")


def load(conn):
    """Load cachier into the sqlite3 connection conn. Extension loading is
    switched on only for the load and is off again afterwards (so SQL cannot
    call load_extension())."""
    conn.enable_load_extension(True)
    try:
        conn.load_extension(loadable_path())
    finally:
        conn.enable_load_extension(False)
