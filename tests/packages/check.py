"""check.py - the Python package, as installed in a venv (packages.test).

Loads cachier with one call, memoizes slow_square twice and prints what
packages.test checks, one "name value" line each.
"""
import importlib.metadata
import os
import sqlite3
import sys

import sqlite_cachier

calls = []


def slow_square(x):
    calls.append(x)
    return x * x


conn = sqlite3.connect("py.db", isolation_level=None)
sqlite_cachier.load(conn)
conn.create_function("slow_square", 1, slow_square)
first = conn.execute("SELECT memoize('slow_square', 12)").fetchone()[0]
second = conn.execute("SELECT memoize('slow_square', 12)").fetchone()[0]
hits, misses = conn.execute(
    "SELECT hits, misses FROM cachier_stats WHERE fn = 'slow_square'").fetchone()
print("values", first, second)
print("calls", len(calls))
print("hits", hits, "misses", misses)
print("version", conn.execute("SELECT cachier_version()").fetchone()[0],
      sqlite_cachier.__version__, importlib.metadata.version("sqlite-cachier"))
# The extension comes from the venv, not from the checkout.
print("path", os.path.dirname(sqlite_cachier.loadable_path())
      == os.path.join(sys.prefix, "lib", "python%d.%d" % sys.version_info[:2],
                      "site-packages", "sqlite_cachier"),
      os.path.isfile(sqlite_cachier.loadable_path()))
# load() switches extension loading off again.
try:
    conn.execute("SELECT load_extension('nothing')")
    print("loading", "on")
except sqlite3.OperationalError as e:
    print("loading", "off" if "not authorized" in str(e) else repr(e))
conn.close()
