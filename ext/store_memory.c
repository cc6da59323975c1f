/*
** store_memory.c - "memory": a process-wide in-memory store.
**
** SQL surface: the store name 'memory' in cachier_functions.store.
**
** Every connection of the process that uses it, to any database, shares
** one in-memory SQLite database (SQLite's memdb VFS, shared under the name
** "/cachier-memory"): a value computed on one connection is a hit on all
** the others. Each connection reaches it through a connection of
** cachier's own; memdb serializes them with its own locks, so the store is
** safe across threads. It lives while any connection of the process has
** it open and is gone when the process ends (or the last of them closes:
** nothing of the extension may outlive its connections). Writes commit at
** once (there is nothing to make durable). In-flight marks are those of
** the main database's file, so connections to the same database share
** their computations.
*/
#include "store.h"

#define MEMORY_URI "file:/cachier-memory?vfs=memdb"

CachierStore *storeMemoryOpen(Cachier *p, char **pzErr){
  sqlite3 *db = 0;
  CachierStore *pStore;
  int rc = sqlite3_open_v2(MEMORY_URI, &db, SQLITE_OPEN_READWRITE
                           | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI
                           | SQLITE_OPEN_NOMUTEX, 0);
  if( rc==SQLITE_OK ) rc = tablesPrepareDb(p, db);
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot open the memory store: %s",
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return 0;
  }
  pStore = tablesStoreNew(p, db, 1, 0, "memory");
  if( pStore==0 ) sqlite3_close(db);
  return pStore;
}
