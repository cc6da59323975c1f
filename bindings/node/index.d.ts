/** The absolute path of the bundled cachier.so. */
export function getLoadablePath(): string;
/** Load cachier into db (a better-sqlite3 Database, or anything with a
 *  loadExtension(path) method). */
export function load(db: { loadExtension(path: string): unknown }): void;
