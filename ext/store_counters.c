/*
** store_counters.c - the lasting counters of a tables store (main, file:,
** memory): each function's hits, misses, computations and compute time,
** added up over every connection and process that used the store.
**
** No SQL surface of its own (cachier_stats shows them). They are rows of
** the store's cachier_info (no schema change), five per function:
**
**     key                       value
**     counters.hits:FN          hits, summed
**     counters.misses:FN        misses, summed
**     counters.computes:FN      computations, summed
**     counters.compute_ns:FN    nanoseconds spent computing, summed
**     counters.at:FN            unix seconds of the last addition
**
** A connection adds its counts (stats.c) with writes that happen anyway:
** after a stored miss (in the same transaction as the value on a grouping
** store), at most once a second per function, and when it closes. A hit
** never writes.
*/
#include "store_tables.h"
#include <string.h>

#define COUNTER_PREFIX "counters."

/* ?1 function, ?2..?5 counts to add, ?6 the time. */
static const char zAddSql[] =
  "INSERT INTO main.cachier_info(key, value) VALUES"
  " ('" COUNTER_PREFIX "hits:'||?1, ?2),"
  " ('" COUNTER_PREFIX "misses:'||?1, ?3),"
  " ('" COUNTER_PREFIX "computes:'||?1, ?4),"
  " ('" COUNTER_PREFIX "compute_ns:'||?1, ?5),"
  " ('" COUNTER_PREFIX "at:'||?1, ?6)"
  " ON CONFLICT(key) DO UPDATE SET value ="
  "  CASE WHEN key GLOB '" COUNTER_PREFIX "at:*' THEN excluded.value"
  "  ELSE coalesce(value, 0) + excluded.value END";

/* OUT: fn, hits, misses, computes, compute_ns, at; ?1: one function only
** (NULL: all). */
static const char zReadSql[] =
  "SELECT substr(key, instr(key, ':')+1) AS fn,"
  " sum(CASE WHEN key GLOB '" COUNTER_PREFIX "hits:*' THEN value END),"
  " sum(CASE WHEN key GLOB '" COUNTER_PREFIX "misses:*' THEN value END),"
  " sum(CASE WHEN key GLOB '" COUNTER_PREFIX "computes:*' THEN value END),"
  " sum(CASE WHEN key GLOB '" COUNTER_PREFIX "compute_ns:*' THEN value END),"
  " max(CASE WHEN key GLOB '" COUNTER_PREFIX "at:*' THEN value END)"
  " FROM main.cachier_info WHERE key GLOB '" COUNTER_PREFIX "*'"
  " GROUP BY fn HAVING ?1 IS NULL OR fn=?1";

/* A connection of cachier's own to the file of the user's main that never
** waits for a lock, for the addition made as the user's connection
** closes: the user's busy handler (Python's waits 5 s) must not hold up
** a close for counts. NULL if main has no file (nobody else could read
** them) or it cannot be opened. */
static sqlite3 *countersNoWaitDb(TablesStore *s){
  const char *zFile = sqlite3_db_filename(s->db, "main");
  sqlite3_vfs *pVfs = 0;
  sqlite3 *db = 0;
  if( zFile==0 || zFile[0]==0
   || sqlite3_file_control(s->db, "main", SQLITE_FCNTL_VFS_POINTER,
                           &pVfs)!=SQLITE_OK || pVfs==0 ){
    return 0;
  }
  if( sqlite3_open_v2(zFile, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_NOMUTEX,
                      pVfs->zName)!=SQLITE_OK ){
    sqlite3_close(db);
    return 0;
  }
  return db;
}

static int countersAdd(CachierStore *pStore, const StoreCounters *pAdd){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  sqlite3 *db = s->db, *pOwn = 0;
  int rc, eState;
  storeLock(s);
  /* Only into tables that exist and are cachier's: never made for this. */
  rc = tablesState(pStore, &eState);
  if( rc==SQLITE_OK && eState!=STORE_READY ) rc = SQLITE_NOTFOUND;
  if( rc==SQLITE_OK ) rc = tablesGuard(s);
  /* A grouping store adds into its open group, else from the latest. */
  if( rc==SQLITE_OK && s->bGroup && !s->inGroup ) beforeWrite(s);
  if( rc==SQLITE_OK && pAdd->bNoWait && !s->bOwnDb ){
    db = pOwn = countersNoWaitDb(s);
    if( db==0 ) rc = SQLITE_CANTOPEN;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(db, zAddSql, -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    int rcStep;
    /* (A failed bind would add NULLs, or under another name.) */
    rc = sqlite3_bind_text(pStmt, 1, pAdd->zFn, -1, SQLITE_STATIC);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, 2, pAdd->nHit);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, 3, pAdd->nMiss);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, 4, pAdd->nCompute);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, 5, pAdd->computeNs);
    if( rc==SQLITE_OK ) rc = sqlite3_bind_double(pStmt, 6, pAdd->at);
    if( rc==SQLITE_OK ) sqlite3_step(pStmt);
    rcStep = sqlite3_finalize(pStmt);
    if( rc==SQLITE_OK ) rc = rcStep;
  }
  sqlite3_close(pOwn);
  storeUnlock(s);
  return rc;
}

/* A count as read from the file, which may say anything: within 0 and
** COUNTER_MAX, so cachier_stats can add a connection's counts to it. */
#define COUNTER_MAX ((sqlite3_int64)1 << 62)
static sqlite3_int64 counterColumn(sqlite3_stmt *pStmt, int iCol){
  sqlite3_int64 v = sqlite3_column_int64(pStmt, iCol);
  return v<0 ? 0 : v>COUNTER_MAX ? COUNTER_MAX : v;
}

static int countersRead(CachierStore *pStore, const char *zFn,
                        StoreCounters **pa, int *pn){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  StoreCounters *a = 0;
  int n = 0, rc, eState;
  *pa = 0;
  *pn = 0;
  storeLock(s);
  rc = tablesState(pStore, &eState);
  if( rc==SQLITE_OK && eState==STORE_READY ){
    rc = sqlite3_prepare_v2(s->db, zReadSql, -1, &pStmt, 0);
  }
  if( pStmt ){
    int rcStep;
    /* (Unbound, ?1 IS NULL would read every function's counters.) */
    if( zFn ) rc = sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
    while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
      StoreCounters *aNew = sqlite3_realloc64(a, sizeof(*a)*(n+1));
      if( aNew==0 ){
        rc = SQLITE_NOMEM;
        break;
      }
      a = aNew;
      memset(&a[n], 0, sizeof(a[n]));
      a[n].zFn = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
      if( a[n].zFn==0 ){
        rc = SQLITE_NOMEM;
        break;
      }
      a[n].nHit = counterColumn(pStmt, 1);
      a[n].nMiss = counterColumn(pStmt, 2);
      a[n].nCompute = counterColumn(pStmt, 3);
      a[n].computeNs = counterColumn(pStmt, 4);
      a[n].at = sqlite3_column_double(pStmt, 5);
      n++;
    }
    rcStep = sqlite3_finalize(pStmt);
    if( rc==SQLITE_OK ) rc = rcStep;
  }
  storeUnlock(s);
  if( rc ){
    while( n>0 ) sqlite3_free(a[--n].zFn);
    sqlite3_free(a);
    return rc;
  }
  *pa = a;
  *pn = n;
  return SQLITE_OK;
}

const CachierStoreCounters tablesCounters = {
  .xCountersAdd = countersAdd,
  .xCountersRead = countersRead,
};
