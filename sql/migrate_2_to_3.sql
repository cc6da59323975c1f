-- cachier: upgrade a version 2 store to version 3 in place.
-- The extension embeds this file and runs it inside a savepoint (after
-- sql/migrate_1_to_2.sql for a version 1 store) the first time it opens an
-- older database it may write. Version 3 adds two settings: the store a
-- function's entries live in, and the size of the hot tier.
ALTER TABLE main.cachier_config ADD COLUMN store;
ALTER TABLE main.cachier_config ADD COLUMN hot_bytes;
UPDATE main.cachier_info SET value = 3 WHERE key = 'schema_version';
