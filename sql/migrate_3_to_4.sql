-- cachier: upgrade a version 3 store to version 4 in place.
-- The extension embeds this file and runs it inside a savepoint (after the
-- earlier migrations for an older store) the first time it opens an older
-- database it may write. Version 4 adds the seal of each cachier_config
-- row (ext/seal.c). Existing rows are NOT sealed: the file may come from
-- anyone, so their hash_func and store are ignored until the user writes
-- them again through cachier_functions (UPDATE cachier_functions SET
-- store = store, hash_func = hash_func).
ALTER TABLE main.cachier_config ADD COLUMN seal;
UPDATE main.cachier_info SET value = 4 WHERE key = 'schema_version';
