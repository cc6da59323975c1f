"""smoke.py - cachier from Python's standard sqlite3 module.

Run by tests/run.tcl with Debian's /usr/bin/python3, in a fresh temporary
directory, with CACHIER_EXT naming the extension to load:

    CACHIER_EXT=/abs/path/cachier_test.so /usr/bin/python3 tests/python/smoke.py

Checks that a Python function memoized through SQL is called once per
distinct argument list, that its exceptions propagate and are not cached,
that values round-trip with their exact types, that the cache outlives the
connection, that cachier_stats counts hits, that connections close
cleanly, and that the stores (memory, file:, Redis on a redis-server of
the test's own) work from several threads and from cachier's background
refresh thread. Prints one line per failure and ends with "N passed, M failed";
exits 1 if anything failed.
"""

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import traceback

EXT = os.environ.get("CACHIER_EXT", "")
# Seal cachier_functions rows with a key of this run's, not the user's.
os.environ.setdefault("CACHIER_KEY_FILE",
                      os.path.join(os.getcwd(), "cachier.key"))
DB = "smoke.db"

passed = 0
failed = 0


def check(name, got, expected):
    global passed, failed
    if got == expected and type(got) is type(expected):
        passed += 1
    else:
        failed += 1
        print("FAIL %s: expected %r, got %r" % (name, expected, got))


def check_true(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL %s%s" % (name, ": " + detail if detail else ""))


def connect(path=DB):
    """A connection in autocommit mode (isolation_level=None, so Python opens
    no implicit transaction) with cachier loaded."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.enable_load_extension(True)
    # The entry point is named explicitly: SQLite derives it from the file
    # name ("cachier_test.so" -> sqlite3_cachiertest_init), and
    # Connection.load_extension() takes no entry point before Python 3.12.
    if sys.version_info >= (3, 12):
        conn.load_extension(EXT, entrypoint="sqlite3_cachier_init")
    else:
        conn.execute("SELECT load_extension(?, 'sqlite3_cachier_init')", (EXT,))
    conn.enable_load_extension(False)
    return conn


class Counter:
    """A Python function for SQL that counts its calls per argument list."""

    def __init__(self, fn):
        self.fn = fn
        self.calls = []

    def __call__(self, *args):
        self.calls.append(args)
        return self.fn(*args)

    def reset(self):
        self.calls = []


def register(conn, name, counter, narg=1):
    conn.create_function(name, narg, counter)


def stats(conn, fn):
    row = conn.execute(
        "SELECT hits, misses, computes, errors, entries FROM cachier_stats"
        " WHERE fn = ?", (fn,)).fetchone()
    if row is None:
        return None
    return dict(zip(("hits", "misses", "computes", "errors", "entries"), row))


def test_called_once_per_distinct_argument():
    conn = connect()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE nums(x)")
    conn.executemany("INSERT INTO nums VALUES (?)",
                     [(3,), (4,), (3,), (5,), (4,), (3,)])
    square = Counter(lambda x: x * x)
    register(conn, "py_square", square)
    q = "SELECT x, memoize('py_square', x) FROM nums ORDER BY rowid"
    expected = [(3, 9), (4, 16), (3, 9), (5, 25), (4, 16), (3, 9)]
    check("once.first_query", conn.execute(q).fetchall(), expected)
    check("once.first_query_calls", sorted(square.calls), [(3,), (4,), (5,)])
    check("once.second_query", conn.execute(q).fetchall(), expected)
    check("once.second_query_calls", len(square.calls), 3)
    # Name lookup is case-insensitive, the key is the same.
    check("once.case_insensitive_name",
          conn.execute("SELECT memoize('PY_Square', 5)").fetchone(), (25,))
    check("once.case_insensitive_calls", len(square.calls), 3)
    st = stats(conn, "py_square")
    check("once.stats", st, {"hits": 10, "misses": 3, "computes": 3,
                             "errors": 0, "entries": 3})
    conn.close()


def test_exceptions_propagate_and_are_not_cached():
    conn = connect()
    def raise_value_error(x):
        raise ValueError("boom on %r" % (x,))
    boom = Counter(raise_value_error)
    register(conn, "py_boom", boom)

    # What Python's sqlite3 itself reports for a raising function: its
    # message is fixed, the exception's own text is not passed to SQLite
    # (enable_callback_tracebacks() only prints it to stderr).
    try:
        conn.execute("SELECT py_boom(1)").fetchone()
        direct = None
    except sqlite3.OperationalError as e:
        direct = str(e)
    check("error.direct_message", direct,
          "user-defined function raised exception")
    boom.reset()

    for attempt in (1, 2):
        try:
            conn.execute("SELECT memoize('py_boom', 1)").fetchone()
            got = "no exception"
        except sqlite3.OperationalError as e:
            got = str(e)
        except Exception as e:  # wrong class
            got = "%s: %s" % (type(e).__name__, e)
        # memoize() passes the called function's message through unchanged.
        check("error.memoized_message_%d" % attempt, got, direct)
        check("error.called_%d" % attempt, len(boom.calls), attempt)
    check("error.not_stored",
          conn.execute("SELECT count(*) FROM cachier_entries"
                       " WHERE fn = 'py_boom'").fetchone(), (0,))
    st = stats(conn, "py_boom")
    check("error.stats_errors", st and st["errors"], 2)
    check("error.stats_hits", st and st["hits"], 0)

    # A function that fails for some arguments only: the others are cached.
    def picky(x):
        if x < 0:
            raise ArithmeticError("negative")
        return x + 1
    pick = Counter(picky)
    register(conn, "py_picky", pick)
    for x in (1, -1, 1, -1):
        try:
            conn.execute("SELECT memoize('py_picky', ?)", (x,)).fetchone()
        except sqlite3.OperationalError:
            pass
    check("error.partial_calls", pick.calls, [(1,), (-1,), (-1,)])
    conn.close()


def test_values_round_trip():
    conn = connect()
    ident = Counter(lambda x: x)
    register(conn, "py_ident", ident)
    values = [0, 1, -7, 2**63 - 1, -2**63, 1.5, -0.25, 1e300, "", "text",
              "h\u00e9llo \u2603", "a\x00b", b"", b"\x00\x01\xff", b"1"]
    for v in values:
        first = conn.execute("SELECT memoize('py_ident', ?), typeof(?)",
                             (v, v)).fetchone()
        hit = conn.execute("SELECT memoize('py_ident', ?)", (v,)).fetchone()
        check("values.miss %r" % (v,), first[0], v)
        check("values.hit %r" % (v,), hit[0], v)
    check("values.calls", len(ident.calls), len(values))
    # The stored types are the SQL types of the values.
    rows = conn.execute("SELECT value, type FROM cachier_entries"
                        " WHERE fn = 'py_ident'").fetchall()
    types = {"int": "integer", "float": "real", "str": "text",
             "bytes": "blob"}
    check("values.stored_types",
          sorted(t for _, t in rows),
          sorted(types[type(v).__name__] for v in values))

    # 1, 1.0, '1', x'31' and NULL are five different keys (allow_none so
    # that NULL is cached too); a second round is all hits.
    exact = Counter(lambda x: repr(x))
    register(conn, "py_exact", exact)
    keys = (1, 1.0, "1", b"1", None)
    q = "SELECT memoize_with('{\"allow_none\":true}', 'py_exact', ?)"
    for _ in range(2):
        got = [conn.execute(q, (v,)).fetchone()[0] for v in keys]
        check("values.exact_keys_results", got, [repr(v) for v in keys])
    check("values.exact_keys_calls", exact.calls, [(v,) for v in keys])

    # None: not cached by default, cached with allow_none.
    none = Counter(lambda x: None)
    register(conn, "py_none", none)
    for _ in range(2):
        check("values.none_default",
              conn.execute("SELECT memoize('py_none', 1)").fetchone(), (None,))
    check("values.none_default_calls", len(none.calls), 2)
    q = "SELECT memoize_with('{\"allow_none\":true}', 'py_none', 2)"
    for i in range(3):
        check("values.none_allow_%d" % i, conn.execute(q).fetchone(), (None,))
    check("values.none_allow_calls", len(none.calls), 3)
    check("values.none_entry",
          conn.execute("SELECT args, value, type FROM cachier_entries"
                       " WHERE fn = 'py_none'").fetchall(),
          [("[2]", None, "null")])
    conn.close()


def test_persists_across_connections():
    # Fill the cache on one connection, close it, read it from another.
    conn = connect()
    count = Counter(lambda s: len(s))
    register(conn, "py_len", count)
    words = ["alpha", "beta", "gamma", "beta"]
    for w in words:
        conn.execute("SELECT memoize('py_len', ?)", (w,)).fetchone()
    check("persist.first_calls", len(count.calls), 3)
    conn.close()

    conn = connect()
    count2 = Counter(lambda s: len(s))
    register(conn, "py_len", count2)
    got = [conn.execute("SELECT memoize('py_len', ?)", (w,)).fetchone()[0]
           for w in words]
    check("persist.values", got, [5, 4, 5, 4])
    check("persist.second_calls", len(count2.calls), 0)
    # cachier_stats counts this connection's calls: all hits.
    check("persist.stats", stats(conn, "py_len"),
          {"hits": 4, "misses": 0, "computes": 0, "errors": 0, "entries": 3})
    hit_rate = conn.execute("SELECT hit_rate FROM cachier_stats"
                            " WHERE fn = 'py_len'").fetchone()
    check("persist.hit_rate", hit_rate, (1.0,))
    conn.close()

    # A third connection without the function registered still reads the
    # stored entries through cachier_entries.
    conn = connect()
    check("persist.entries",
          conn.execute("SELECT args, value FROM cachier_entries"
                       " WHERE fn = 'py_len' ORDER BY args").fetchall(),
          [('["alpha"]', 5), ('["beta"]', 4), ('["gamma"]', 5)])
    conn.close()


def test_python_transactions():
    # With Python's default isolation level, DML opens a transaction that the
    # cache writes join: rolling back drops the entries too.
    conn = sqlite3.connect(DB)
    conn.enable_load_extension(True)
    conn.execute("SELECT load_extension(?, 'sqlite3_cachier_init')", (EXT,))
    dbl = Counter(lambda x: 2 * x)
    conn.create_function("py_double", 1, dbl)
    conn.execute("CREATE TABLE IF NOT EXISTS log(x)")
    conn.execute("INSERT INTO log VALUES (1)")      # implicit BEGIN
    check("txn.in_transaction", conn.in_transaction, True)
    conn.execute("SELECT memoize('py_double', 21)").fetchone()
    conn.rollback()
    check("txn.rolled_back",
          conn.execute("SELECT count(*) FROM cachier_entries"
                       " WHERE fn = 'py_double'").fetchone(), (0,))
    conn.execute("INSERT INTO log VALUES (2)")
    conn.execute("SELECT memoize('py_double', 21)").fetchone()
    conn.commit()
    check("txn.committed",
          conn.execute("SELECT count(*) FROM cachier_entries"
                       " WHERE fn = 'py_double'").fetchone(), (1,))
    check("txn.calls", len(dbl.calls), 2)
    conn.close()


def test_close_is_clean():
    # After every connection is closed, nothing holds the file open: the
    # WAL is checkpointed and removed, and a new connection can leave WAL
    # mode (which needs it to be the only connection). A connection that
    # closed with statements still prepared would linger as a zombie.
    check("close.no_wal_file", os.path.exists(DB + "-wal"), False)
    conn = sqlite3.connect(DB, isolation_level=None)
    check("close.leave_wal",
          conn.execute("PRAGMA journal_mode=DELETE").fetchone(), ("delete",))
    conn.close()
    # Closing a connection that used every table and function.
    conn = connect()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.create_function("py_neg", 1, lambda x: -x)
    conn.execute("SELECT memoize('py_neg', 1), memoize_with(NULL, 'py_neg', 2),"
                 " cachier_precache('py_neg', -3, 3)").fetchall()
    conn.execute("INSERT INTO cachier_functions(name, stale_after)"
                 " VALUES ('py_neg', '1 hour')")
    conn.execute("SELECT * FROM cachier_functions").fetchall()
    conn.execute("SELECT * FROM cachier_entries").fetchall()
    conn.execute("SELECT * FROM cachier_stats").fetchall()
    conn.execute("SELECT cachier_clear('py_neg')").fetchall()
    try:
        conn.close()
        closed = True
    except Exception as e:
        closed = "%s: %s" % (type(e).__name__, e)
    check("close.close", closed, True)
    check("close.no_wal_file_2", os.path.exists(DB + "-wal"), False)


def check_background_refresh(label, path, store=None):
    """next_time with background_refresh on a serialized connection (Python's
    are): the stale value is served at once, and a thread of cachier's runs
    the refresh, calling the Python function from another thread. Closing
    the connection joins the thread, so the check after close is exact. On
    a store of its own (store), the refreshed value is then read from
    another database file; on main, from the same one."""
    conn = connect(path)
    calls = []
    refreshed = threading.Event()

    def slow(x):
        calls.append(threading.get_ident())
        if len(calls) == 2:
            refreshed.set()
        return "%s@%d" % (x, len(calls))

    def settings(conn, background):
        conn.execute("INSERT OR REPLACE INTO cachier_functions(name,"
                     " stale_after, next_time, background_refresh, store)"
                     " VALUES ('slow', 60, 1, ?, ?)", (background, store))

    conn.create_function("slow", 1, slow)
    conn.execute("SELECT cachier_test_clock(1000000)")
    settings(conn, 1)
    one = lambda: conn.execute("SELECT memoize('slow', 'k')").fetchone()[0]
    check(label + " fresh", one(), "k@1")
    conn.execute("SELECT cachier_test_clock(1000100)")
    check(label + " stale served", one(), "k@1")
    check_true(label + " refresh ran", refreshed.wait(60))
    check_true(label + " refresh on another thread",
               len(calls) == 2 and calls[1] != threading.get_ident())
    conn.close()
    conn = connect(path if store is None else "other-" + path)
    conn.create_function("slow", 1, lambda x: "called")
    conn.execute("SELECT cachier_test_clock(1000100)")
    if store is not None:
        settings(conn, 0)
    check(label + " refreshed value", one(), "k@2")
    check(label + " state", conn.execute(
        "SELECT state FROM cachier_entries WHERE fn='slow'").fetchone()[0],
        "fresh")
    conn.close()


def test_background_refresh():
    check_background_refresh("background", "bg.db")


def test_decompression_is_bounded():
    """A compressed value is decoded only within SQLITE_LIMIT_LENGTH: past
    it the stored value is not served (the call recomputes, and here the
    function's own result is too big as well, so the call fails cleanly)."""
    conn = connect("limit.db")
    conn.create_function("big", 1, lambda n: ('{"k":"' + "abc" * n)[:n])
    v = conn.execute("SELECT memoize('big', 100000)").fetchone()[0]
    check("bounded value", len(v), 100000)
    stored = conn.execute("SELECT stored_bytes FROM cachier_entries"
                          " WHERE fn='big'").fetchone()[0]
    check_true("bounded value is compressed", stored < 10000, str(stored))
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 50000)
    try:
        conn.execute("SELECT memoize('big', 100000)").fetchone()
        check_true("bounded value past the limit fails", False)
    except sqlite3.Error as e:
        check_true("bounded value past the limit fails",
                   "too big" in str(e), str(e))
    check("bounded value counted", conn.execute(
        "SELECT errors FROM cachier_stats WHERE fn='big'").fetchone()[0], 2)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000000000)
    check("bounded value within the limit", conn.execute(
        "SELECT length(memoize('big', 100000))").fetchone()[0], 100000)
    conn.close()


REDIS = {}


def redis_start():
    """A redis-server of this test's own on 127.0.0.1, on a free port, with
    no persistence; its PID goes to ./redis.pids so the runner stops it
    whatever happens. Returns its port."""
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--logfile",
         os.path.abspath("redis-%d.log" % port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    with open("redis.pids", "a") as f:
        f.write("%d\n" % proc.pid)
    REDIS["proc"] = proc
    REDIS["port"] = port
    for _ in range(1000):                    # ready within 10 s
        try:
            with socket.create_connection(("127.0.0.1", port), 0.1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return port
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError("redis-server did not start")


def redis_stop():
    proc = REDIS.pop("proc", None)
    REDIS.pop("port", None)
    if proc:
        proc.kill()
        proc.wait()


def redis_built():
    """Whether the extension has Redis support (a build made with REDIS=0
    has none: cachier_debug() says "redis none")."""
    conn = connect(":memory:")
    (debug,) = conn.execute("SELECT cachier_debug()").fetchone()
    conn.close()
    return "; redis none;" not in debug


def test_redis_background_refresh():
    """The same on a Redis store: cachier's thread runs the refresh on the
    connection's own Redis connection (the connection's mutex keeps it from
    being used by two threads at once)."""
    if not redis_built():
        print("skipped: smoke.py: the Redis store (this build has no Redis"
              " support)")
        return
    port = redis_start()
    check_background_refresh("redis background", "bg-redis.db",
                             "redis://127.0.0.1:%d/0?prefix=bg" % port)


def test_stores_across_threads():
    """The memory, file: and Redis stores from several threads at once:
    each thread has its own connection (to its own database); the memory
    store is one per process, the file: store one per file, and each
    connection has its own Redis connections. Every call returns the right
    value, and the cache ends up with one entry per key."""
    port = REDIS.get("port")
    stores = ["memory", "file:threads-cache.db"]
    if port:
        stores.append("redis://127.0.0.1:%d/0?prefix=threads" % port)
    for store in stores:
        errors = []
        n_threads, n_keys = 4, 200

        def work(i):
            try:
                conn = connect("threads-%d.db" % i)
                conn.execute("INSERT OR REPLACE INTO cachier_functions(name, store)"
                             " VALUES ('tsq', ?)", (store,))
                conn.create_function("tsq", 1, lambda x: x * x)
                for rep in range(3):
                    for k in range(n_keys):
                        (v,) = conn.execute("SELECT memoize('tsq', ?)",
                                            (k,)).fetchone()
                        if v != k * k:
                            errors.append((store, i, k, v))
                conn.execute("SELECT cachier_flush()")
                conn.close()
            except Exception as e:          # reported below
                errors.append((store, i, repr(e)))

        # One connection keeps the memory store alive while the threads run.
        keeper = connect("threads-keeper.db")
        keeper.execute("INSERT OR REPLACE INTO cachier_functions(name, store)"
                       " VALUES ('tsq', ?)", (store,))
        keeper.execute("SELECT count(*) FROM cachier_entries").fetchone()
        threads = [threading.Thread(target=work, args=(i,))
                   for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        check("threads.%s.errors" % store, errors, [])
        check("threads.%s.entries" % store,
              keeper.execute("SELECT count(*) FROM cachier_entries"
                             " WHERE fn = 'tsq' AND store <> 'main'")
              .fetchone(), (n_keys,))
        keeper.execute("SELECT cachier_clear('tsq')")
        keeper.close()


def main():
    if not EXT or not os.path.isabs(EXT):
        print("FAIL setup: CACHIER_EXT must be the absolute path of the"
              " extension, got %r" % EXT)
        print("0 passed, 1 failed")
        return 1
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        print("FAIL setup: this Python's sqlite3 cannot load extensions")
        print("0 passed, 1 failed")
        return 1
    global failed
    for test in (test_called_once_per_distinct_argument,
                 test_exceptions_propagate_and_are_not_cached,
                 test_values_round_trip,
                 test_persists_across_connections,
                 test_python_transactions,
                 test_close_is_clean,
                 test_background_refresh,
                 test_decompression_is_bounded,
                 test_redis_background_refresh,
                 test_stores_across_threads):
        try:
            test()
        except Exception:
            failed += 1
            print("FAIL %s raised:" % test.__name__)
            traceback.print_exc(file=sys.stdout)
    redis_stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
