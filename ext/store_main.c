/*
** store_main.c - the default store, "main": shadow tables in the
** connection's main database.
**
** No SQL surface of its own. The tables (sql/schema.sql) belong to the
** virtual table main.cachier (vtab_schema.c), created on the first write.
** Writes join the caller's transaction and roll back with it; in
** autocommit each stored miss commits on its own. A statement that reads
** main in WAL mode holds a read snapshot, which cannot write once another
** connection has committed: its writes then go through a connection of
** cachier's own to the same file, and its misses look past the snapshot
** (mainWriter(), mainSnapshotStale() in store_tables.c). The SQL is that of
** every table store (store_tables.c); what is particular to main is that
** the connection is the user's: its statements are kept by the
** connection (cachierStmt()) and it is never closed by cachier.
*/
#include "store.h"

/* The main store of p, made on first use (it opens nothing). */
CachierStore *storeMainOpen(Cachier *p){
  return tablesStoreNew(p, p->db, 0, 0, "main");
}
