/*
** fallback.c - where a function whose store is main caches when main
** cannot be written.
**
** No SQL surface of its own. A database opened read-only (mode=ro, a
** read-only file, as Datasette opens its read connections), a connection
** with PRAGMA query_only on, or a database in a directory cachier cannot
** create files in (its first cache write fails) cannot hold cachier's
** tables. A function whose store is main (its setting, the '*' row's, or
** none) then caches in the process's memory store (store_memory.c) for as
** long as main has no cache tables, instead of computing every call: the
** decision is logged once per connection (cachier_log). A main that has
** cache tables already (made by a writer) stays the function's store and
** is looked up first; what it has no servable entry for is looked up in,
** and stored in, the same memory store (fallbackStore(), memoize.c): main
** cannot be written, so the memory store never shadows an entry of main
** that a call may serve. For a cache shared by every reader and writer,
** name a file: store in the '*' row.
*/
#include "store.h"
#include <string.h>

/* Why main cannot be written now, as the connection tells (a read-only
** open, PRAGMA query_only, which may be switched off again), NULL if it
** can as far as it tells. */
static const char *mainReadOnlyNow(Cachier *p){
  sqlite3_stmt *pStmt = 0;
  int bQueryOnly = 0;
  if( sqlite3_db_readonly(p->db, "main")==1 ) return "it is read-only";
  if( sqlite3_prepare_v2(p->db, "PRAGMA query_only", -1, &pStmt, 0)
      ==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    bQueryOnly = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  return bQueryOnly ? "PRAGMA query_only is on" : 0;
}

/* Why main cannot be written, NULL if it can: as the connection tells,
** or a write that failed for a reason it does not tell (a directory
** where the journal cannot be created: p->bMainNoWrite, for the rest of
** the connection). */
static const char *mainNoWriteReason(Cachier *p){
  const char *zWhy = mainReadOnlyNow(p);
  if( zWhy ) return zWhy;
  if( p->bMainNoWrite ) return "a write to it failed as read-only";
  return 0;
}

/* The store of a fallback: the process's memory store (store_memory.c). */
#define FALLBACK_SPEC "memory"

/* The store a function should use whose settings name zSpec (NULL:
** main) when main's tables are in state eMainState: zSpec itself, or
** the fallback when that is main, main has no cache tables and cannot be
** written (logged once per connection). */
const char *fallbackSpec(Cachier *p, const char *zSpec, int eMainState){
  const char *zWhy;
  if( zSpec && strcmp(zSpec, "main")!=0 ) return zSpec;
  if( eMainState!=STORE_ABSENT ) return zSpec;
  zWhy = mainNoWriteReason(p);
  if( zWhy==0 ) return zSpec;
  if( !p->bFallbackLogged ){
    p->bFallbackLogged = 1;
    cachierLogFn(p, CACHIER_LOG_WARNING, 0, "cachier: the main database "
        "cannot hold the cache (%s): functions whose store is main cache "
        "in the process's memory store instead", zWhy);
  }
  return FALLBACK_SPEC;
}

/* Where a function whose store is main, with cache tables (a writer's),
** stores its results while main cannot be written: the fallback, opened,
** its tables made (logged once per connection). NULL when main can be
** written, or the fallback cannot be opened (logged): the results are
** then computed without being stored, as before. */
CachierStore *fallbackStore(Cachier *p){
  const char *zWhy = mainNoWriteReason(p);
  CachierStore *pStore;
  char *zErr = 0;
  if( zWhy==0 ) return 0;
  pStore = storeOpen(p, FALLBACK_SPEC, &zErr);
  if( pStore && storeEnsureTables(pStore)!=SQLITE_OK ) pStore = 0;
  if( pStore==0 ){
    cachierLog(p, "cachier: the main database cannot be written (%s) and "
               "its fallback cannot be opened (%s): results are not stored",
               zWhy, zErr ? zErr : "no tables");
  }else if( !p->bFallbackLogged ){
    p->bFallbackLogged = 1;
    cachierLogFn(p, CACHIER_LOG_WARNING, 0, "cachier: the main database "
        "cannot be written (%s): functions whose store is main serve its "
        "entries and cache new results in the process's memory store", zWhy);
  }
  sqlite3_free(zErr);
  return pStore;
}

/* A write to main failed with rc: if it is one a read-only main gives,
** later statements use the fallback. */
void fallbackWriteFailed(Cachier *p, int rc){
  int e = rc & 0xff;
  if( (e==SQLITE_READONLY || e==SQLITE_CANTOPEN) && !p->bMainNoWrite
   && mainReadOnlyNow(p)==0 ){
    p->bMainNoWrite = 1;
    p->settingsGen++;         /* functions resolve their store again */
  }
}
