/*
** store_file.c - "file:PATH": a cache database file of its own.
**
** SQL surface: store names 'file:PATH' in cachier_functions.store (and
** cachier_cache_path(), store.c).
**
** PATH is absolute, or relative to the main database's directory (the
** current directory for ":memory:"). The file holds the same tables as
** main (sql/schema.sql) and is opened by cachier on a connection of its
** own, in WAL mode with synchronous=NORMAL, so it is shared by every
** process on the machine and committed independently of the user's
** transactions: a rollback of the user's transaction keeps the values it
** computed.
**
** Grouped commits (store_tables.c): stored values go into a transaction
** that commits after GROUP_MAX_WRITES (256) writes or 1 MB, when the
** statement that wrote them ends, when a value is older than 100 ms at
** the next call, before calling a function that takes more than 1 ms on
** average, before any other kind of write, and when the connection
** closes. So a clean close loses nothing, and a crash loses at most the
** values stored by the statement that was running, no more than 256
** values or 1 MB. In-flight marks live beside the file
** (PATH-cachier-locks) and are released when the value they guard is
** committed, so processes that share the file compute each key once.
*/
#include "store.h"
#include <string.h>
#include <unistd.h>

/* The absolute path zSpec ("file:PATH") means on this connection. */
char *storeFilePath(Cachier *p, const char *zSpec){
  const char *zPath = zSpec + 5;
  const char *zMain;
  char *zDir, *zRes;
  int n;
  if( zPath[0]=='/' ) return sqlite3_mprintf("%s", zPath);
  zMain = sqlite3_db_filename(p->db, "main");
  if( zMain && zMain[0]=='/' ){
    n = (int)(strrchr(zMain, '/') - zMain);
    return sqlite3_mprintf("%.*s/%s", n>0 ? n : 1, zMain, zPath);
  }
  zDir = sqlite3_malloc(4096);
  if( zDir==0 ) return 0;
  zRes = getcwd(zDir, 4096) ? sqlite3_mprintf("%s/%s", zDir, zPath) : 0;
  sqlite3_free(zDir);
  return zRes;
}

CachierStore *storeFileOpen(Cachier *p, const char *zSpec, char **pzErr){
  char *zPath = storeFilePath(p, zSpec);
  char *zCanon;
  sqlite3 *db = 0;
  CachierStore *pStore = 0;
  int rc;
  if( zPath==0 ) return 0;
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                       |SQLITE_OPEN_NOMUTEX, 0);
  if( rc==SQLITE_OK ){
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                      0, 0, 0);
  }
  if( rc==SQLITE_OK ) rc = tablesPrepareDb(p, db);
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot open the cache file %s: %s", zPath,
                             db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    sqlite3_free(zPath);
    return 0;
  }
  zCanon = sqlite3_mprintf("file:%s", zPath);
  if( zCanon ) pStore = tablesStoreNew(p, db, 1, 1, zCanon);
  sqlite3_free(zCanon);
  if( pStore==0 ){
    sqlite3_close(db);
    sqlite3_free(zPath);
    return 0;
  }
  pStore->zLockDb = zPath;
  return pStore;
}
