-- cachier: schema of the default store (shadow tables of the "cachier"
-- virtual table in the main database). The extension embeds this file and
-- runs it from the module's xCreate, that is on the first cache write, as
--   CREATE VIRTUAL TABLE IF NOT EXISTS main.cachier USING cachier;
-- Versioned: cachier_info.schema_version says which layout a file has, so
-- later releases can migrate it (sql/migrate_1_to_2.sql upgrades version 1
-- files in place, the first time this build opens them). Never edit these tables by hand; use
-- cachier_entries, cachier_functions and the cachier_* functions.

-- Key/value facts about the store; 'schema_version' is the layout version.
CREATE TABLE IF NOT EXISTS main.cachier_info(
  key   TEXT PRIMARY KEY,
  value
) WITHOUT ROWID;
INSERT OR IGNORE INTO main.cachier_info(key, value) VALUES ('schema_version', 5);
INSERT OR IGNORE INTO main.cachier_info(key, value) VALUES ('created', unixepoch());

-- One row per configured function; '*' holds the global defaults.
-- NULL in a column means: inherit ('*' row, then the built-in default).
CREATE TABLE IF NOT EXISTS main.cachier_config(
  name                  TEXT NOT NULL UNIQUE,
  stale_after,            -- seconds (REAL) or 'never'
  next_time,              -- 0/1
  allow_none,             -- 0/1
  wait_for_calc_timeout,  -- seconds, 0 = no limit
  cleanup_stale,          -- 0/1
  cleanup_interval,       -- seconds
  entry_size_limit,       -- bytes or 'none'
  hash_func,              -- name of a scalar SQL function, or NULL
  -- version 2:
  stale_while_refresh,    -- seconds past stale_after a stale value may be
                          -- served while its refresh is pending, 'never'
  stale_if_error,         -- seconds past stale_after a stale value is served
                          -- when recomputing fails, or 'never'
  background_refresh,     -- 0/1: refresh on a cachier thread (see README)
  compress_min,           -- bytes: zstd-compress values this big, or 'none'
  compress_level,         -- zstd level
  max_entries,            -- bound on the function's entries, or 'none'
                          -- (in the '*' row: on the whole store)
  max_bytes,              -- bound on their stored bytes, or 'none' (idem)
  eviction,               -- 'lru' or 'cost'
  -- version 3:
  store,                  -- 'main', 'memory' or 'file:PATH'
  hot_bytes,              -- '*' row only: bytes of hits a connection keeps
                          -- in memory per store (the hot tier), 0 = off
  -- version 4:
  seal,                   -- not a setting: HMAC-SHA-256 (ext/seal.c) of the
                          -- row's sealed settings (hash_func, store,
                          -- depends_on) under the writer's key; without a
                          -- valid one they are ignored
  -- version 5 (after seal, where ALTER TABLE puts them):
  depends_on,             -- tables whose changes make entries stale:
                          -- 'orders, aux.rates'; '' none (ext/depends.c)
  version                 -- any value: entries computed under another one
                          -- are never served
);

-- The entries. id = fn_hash:16 | key_hash:40 | slot:8. A key owns 256
-- consecutive rowids: a hit is a rowid point lookup of the first, and only
-- a miss searches the rest; the entries of a function are one rowid range,
-- so listing or clearing a function needs no index (and a stored miss
-- updates none: the one index, of pending refreshes, is partial and skips
-- it). k holds the exact key (function name, NUL, type-exact encoding of
-- the arguments) and is compared on every hit: a hash collision is never a
-- false hit.
-- Small columns come first so a hit reads v last.
CREATE TABLE IF NOT EXISTS main.cachier_data(
  id          INTEGER PRIMARY KEY,
  k           BLOB NOT NULL,     -- function name (lower case), NUL, and the
                                 -- type-exact encoding of the arguments
  subtype     INTEGER NOT NULL,  -- subtype of the value (74: JSON), 0 if
                                 -- none, | codec << 8 (value_codec.c): how v
                                 -- is stored (0: as it is, else zstd)
  created     REAL NOT NULL,     -- unix seconds
  compute_ns  INTEGER NOT NULL,  -- time the function took
  bytes       INTEGER NOT NULL,  -- logical size of the value
  refresh     INTEGER NOT NULL DEFAULT 0, -- 1: a next_time refresh is pending
  attempts    INTEGER NOT NULL DEFAULT 0, -- failed refreshes in a row
  retry_at    REAL,              -- no refresh attempt before this time
  args        BLOB,              -- hash_func functions: the encoded arguments
                                 -- (k holds the hash_func's key), for refresh
  v,                             -- the value (stored with its own type)
  -- version 5 (after v where ALTER TABLE puts it; read only for
  -- functions with depends_on or a version): the stamp (ext/cachier.h)
  -- or NULL (no comma in these lines: ALTER TABLE DROP COLUMN looks back
  -- for one).
  stamp       BLOB
);
-- Trained zstd dictionaries (cachier_train()); an entry compressed with
-- one names its id (in the high bits of cachier_data.subtype).
CREATE TABLE IF NOT EXISTS main.cachier_dict(
  id       INTEGER PRIMARY KEY,
  fn       TEXT NOT NULL,     -- the function it was trained for
  dict     BLOB NOT NULL,
  samples  INTEGER NOT NULL,  -- how many values it was trained on
  created  REAL NOT NULL
);

-- The pending refreshes, and nothing else: a stored miss (refresh = 0)
-- does not touch this index.
CREATE INDEX IF NOT EXISTS main.cachier_data_refresh
  ON cachier_data(id) WHERE refresh=1;
