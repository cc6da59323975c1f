-- cachier: upgrade a version 1 store to version 2 in place.
-- The extension embeds this file and runs it inside a savepoint the first
-- time it opens a version 1 database it may write. Version 2 adds the
-- next_time refresh queue (refresh, attempts, retry_at, args and a partial
-- index), trained zstd dictionaries (cachier_dict) and eight per-function
-- settings. Compressed values need no column: their codec rides in the
-- high bits of cachier_data.subtype, which version 1 keeps below 256. New columns go last (ALTER TABLE
-- cannot place them elsewhere); every statement names its columns, so the
-- order does not matter.
ALTER TABLE main.cachier_data ADD COLUMN refresh INTEGER NOT NULL DEFAULT 0;
ALTER TABLE main.cachier_data ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE main.cachier_data ADD COLUMN retry_at REAL;
ALTER TABLE main.cachier_data ADD COLUMN args BLOB;
CREATE INDEX IF NOT EXISTS main.cachier_data_refresh
  ON cachier_data(id) WHERE refresh=1;
ALTER TABLE main.cachier_config ADD COLUMN stale_while_refresh;
ALTER TABLE main.cachier_config ADD COLUMN stale_if_error;
ALTER TABLE main.cachier_config ADD COLUMN background_refresh;
ALTER TABLE main.cachier_config ADD COLUMN compress_min;
ALTER TABLE main.cachier_config ADD COLUMN compress_level;
ALTER TABLE main.cachier_config ADD COLUMN max_entries;
ALTER TABLE main.cachier_config ADD COLUMN max_bytes;
ALTER TABLE main.cachier_config ADD COLUMN eviction;
CREATE TABLE IF NOT EXISTS main.cachier_dict(
  id       INTEGER PRIMARY KEY,
  fn       TEXT NOT NULL,
  dict     BLOB NOT NULL,
  samples  INTEGER NOT NULL,
  created  REAL NOT NULL
);
UPDATE main.cachier_info SET value=2 WHERE key='schema_version';
