-- cachier: upgrade a version 4 store to version 5 in place.
-- The extension embeds this file and runs it inside a savepoint (after the
-- earlier migrations for an older store) the first time it opens an older
-- database it may write. Version 5 adds invalidation (ext/depends.c): the
-- depends_on and version settings, and each entry's stamp. Existing
-- entries have none: they stay fresh until a depends_on or a version is
-- set for their function (then they are stale, or outdated).
ALTER TABLE main.cachier_config ADD COLUMN depends_on;
ALTER TABLE main.cachier_config ADD COLUMN version;
ALTER TABLE main.cachier_data ADD COLUMN stamp BLOB;
UPDATE main.cachier_info SET value = 5 WHERE key = 'schema_version';
