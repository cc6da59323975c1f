/*
** store_main.c - the default store: shadow tables in the main database.
**
** No SQL surface of its own. The tables (sql/schema.sql) belong to the
** virtual table main.cachier (vtab_schema.c), created on the first write.
** Writes join the caller's transaction and roll back with it; in
** autocommit each stored miss commits on its own.
**
** A key owns the rowids [iBase, iBase+255]: the entry of a key is the row
** of that range whose k equals the key; a colliding key takes the
** first free rowid of the range. A hit is normally a rowid point lookup of
** the first one.
*/
#include "store.h"
#include "schema_sql.h"
#include <string.h>

typedef struct MainStore MainStore;
struct MainStore {
  CachierStore base;
  sqlite3_stmt *pLookup;      /* statement holding the current lookup row */
  sqlite3_int64 iEmptyBase;   /* last lookup saw this key range empty ... */
  sqlite3_int64 nEmptyChanges;/* ... when total_changes was this */
  int bReady;                 /* tables known to exist on this connection */
};

typedef struct MainScan MainScan;
struct MainScan {
  sqlite3_stmt *pStmt;
};

#define ENTRY_COLUMNS "id, k, subtype, created, compute_ns, bytes, v"
/* A hit reads only what it serves, and SQLite compares the key bytes.
** Nearly every key sits in the first slot of its range, so the first arm
** is a rowid point lookup that a hit stops after; a miss goes on to search
** the rest of the range, in the same statement (one read transaction), and
** the last arm returns a marker row (found = 0) when the whole range is
** empty, so the write that follows can go straight to the first slot. */
#define SQL_LOOKUP \
  "SELECT v, subtype, created, 1 FROM main.cachier_data" \
  "  WHERE id=?1 AND k=?2" \
  " UNION ALL" \
  " SELECT v, subtype, created, 1 FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1+1 AND ?1+255 AND k=?2" \
  " UNION ALL" \
  " SELECT NULL, 0, NULL, 0 WHERE NOT EXISTS (SELECT 1 FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1 AND ?1+255)"
/* The common write: a key whose whole range the lookup saw empty. */
#define SQL_INSERT \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ")" \
  " VALUES(?1,?2,?3,?4,?5,?6,?7)"
/* Store an entry in one statement (one write transaction): into the slot
** already holding the key, else the first slot if free, else the first
** free slot after a taken one. All 256 taken (never in practice): no row
** is inserted. */
#define SQL_WRITE \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ")" \
  " SELECT slot, ?2, ?3, ?4, ?5, ?6, ?7 FROM (SELECT coalesce(" \
  "  (SELECT id FROM main.cachier_data" \
  "    WHERE id BETWEEN ?1 AND ?1+255 AND k=?2)," \
  "  (SELECT ?1 WHERE NOT EXISTS" \
  "    (SELECT 1 FROM main.cachier_data WHERE id=?1))," \
  "  (SELECT min(a.id)+1 FROM main.cachier_data a" \
  "    WHERE a.id BETWEEN ?1 AND ?1+254 AND NOT EXISTS" \
  "      (SELECT 1 FROM main.cachier_data b WHERE b.id=a.id+1))" \
  " ) AS slot) WHERE slot IS NOT NULL"
#define SQL_DELETE_ID "DELETE FROM main.cachier_data WHERE id=?1"

/* A row of "SELECT ENTRY_COLUMNS" as an entry. The key starts with the
** NUL-terminated function name, so it is zFn too. */
static void rowToEntry(sqlite3_stmt *pStmt, CachierEntry *e){
  e->id = sqlite3_column_int64(pStmt, 0);
  e->aKey = (const unsigned char*)sqlite3_column_blob(pStmt, 1);
  e->nKey = sqlite3_column_bytes(pStmt, 1);
  e->zFn = (e->aKey && memchr(e->aKey, 0, (size_t)e->nKey))
         ? (const char*)e->aKey : "";
  e->subtype = sqlite3_column_int(pStmt, 2) & 0xff;
  e->created = sqlite3_column_double(pStmt, 3);
  e->computeNs = sqlite3_column_int64(pStmt, 4);
  e->nBytes = sqlite3_column_int64(pStmt, 5);
  e->pValue = sqlite3_column_value(pStmt, 6);
}

/* Fill pEntry from a row of SQL_LOOKUP: only what a hit serves (each
** column call costs a mutex round trip); the other fields are unset. */
static void lookupRowToEntry(sqlite3_stmt *pStmt, int flags,
                             CachierEntry *pEntry){
  pEntry->pValue = sqlite3_column_value(pStmt, 0);
  pEntry->subtype = sqlite3_column_int(pStmt, 1) & 0xff;
  if( flags & CACHIER_LOOKUP_CREATED ){
    pEntry->created = sqlite3_column_double(pStmt, 2);
  }
}

static int mainLookup(CachierStore *pStore, const CachierKey *pKey,
                      int flags, CachierEntry *pEntry, int *pFound){
  MainStore *s = (MainStore*)pStore;
  sqlite3_stmt *pStmt = cachierStmt(pStore->pCachier, STMT_LOOKUP,
                                    SQL_LOOKUP);
  int rc;
  *pFound = 0;
  s->pLookup = pStmt;
  if( pStmt==0 ) return SQLITE_OK;
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  s->iEmptyBase = 0;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    if( sqlite3_column_int(pStmt, 3)==0 ){
      s->iEmptyBase = pKey->iBase;
      s->nEmptyChanges = sqlite3_total_changes64(pStore->pCachier->db);
      return SQLITE_OK;
    }
    lookupRowToEntry(pStmt, flags, pEntry);
    *pFound = 1;
    return SQLITE_OK;
  }
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static void mainLookupDone(CachierStore *pStore){
  MainStore *s = (MainStore*)pStore;
  cachierStmtDone(pStore->pCachier, STMT_LOOKUP, s->pLookup);
  s->pLookup = 0;
}

/* Write the entry once: with SQL_INSERT into the first slot when the last
** lookup saw the key's range empty and this connection changed nothing
** since (nested memoize calls of the function may have), else SQL_WRITE.
** SQLITE_FULL if every slot of the key was taken. */
static int writeOnce(MainStore *s, const CachierKey *pKey,
                     sqlite3_value *pValue, int subtype, double created,
                     sqlite3_int64 computeNs){
  Cachier *p = s->base.pCachier;
  int bEmpty = s->iEmptyBase==pKey->iBase && pKey->iBase!=0
            && s->nEmptyChanges==sqlite3_total_changes64(p->db);
  int id = bEmpty ? STMT_INSERT : STMT_WRITE;
  sqlite3_stmt *pStmt = cachierStmt(p, id, bEmpty ? SQL_INSERT : SQL_WRITE);
  int rc;
  s->iEmptyBase = 0;
  if( pStmt==0 ) return sqlite3_errcode(p->db) ? sqlite3_errcode(p->db)
                                               : SQLITE_ERROR;
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  sqlite3_bind_int(pStmt, 3, subtype);
  sqlite3_bind_double(pStmt, 4, created);
  sqlite3_bind_int64(pStmt, 5, computeNs);
  sqlite3_bind_int64(pStmt, 6, cachierValueBytes(pValue));
  sqlite3_bind_value(pStmt, 7, pValue);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  if( rc==SQLITE_OK && sqlite3_changes(p->db)==0 ) rc = SQLITE_FULL;
  /* Drop references to the caller's buffers. */
  sqlite3_bind_null(pStmt, 2);
  sqlite3_bind_null(pStmt, 7);
  cachierStmtDone(p, id, pStmt);
  return rc;
}

static int mainWrite(CachierStore *pStore, const CachierKey *pKey,
                     sqlite3_value *pValue, int subtype, double created,
                     sqlite3_int64 computeNs){
  MainStore *s = (MainStore*)pStore;
  Cachier *p = pStore->pCachier;
  int rc = SQLITE_OK;
  if( !s->bReady ) rc = storeMainEnsureSchema(p, 0);
  if( rc ) return rc;
  s->bReady = 1;
  rc = writeOnce(s, pKey, pValue, subtype, created, computeNs);
  if( rc!=SQLITE_OK && rc!=SQLITE_FULL && (rc & 0xff)!=SQLITE_READONLY ){
    /* The tables may have been dropped since (DROP TABLE cachier). */
    s->bReady = 0;
    if( storeMainEnsureSchema(p, 0)==SQLITE_OK ){
      s->bReady = 1;
      rc = writeOnce(s, pKey, pValue, subtype, created, computeNs);
    }
  }
  return rc;
}

/* The entries of function ?3 (its name and NUL as a blob, ?4 bytes long)
** within its id range ?1..?2. */
#define WHERE_FN "WHERE id BETWEEN ?1 AND ?2 AND substr(k, 1, ?4)=?3"

/* Bind the parameters of WHERE_FN for zFn. */
static void bindFnRange(sqlite3_stmt *pStmt, const char *zFn){
  sqlite3_int64 iLo, iHi;
  int n = (int)strlen(zFn) + 1;
  keyFnRange(zFn, &iLo, &iHi);
  sqlite3_bind_int64(pStmt, 1, iLo);
  sqlite3_bind_int64(pStmt, 2, iHi);
  sqlite3_bind_blob(pStmt, 3, zFn, n, SQLITE_TRANSIENT);
  sqlite3_bind_int(pStmt, 4, n);
}

/* Run one statement, bound to zFn's range if zFn; *pn gets the changes. */
static int runCounted(Cachier *p, const char *zSql, const char *zFn,
                      sqlite3_int64 *pn){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  if( rc ) return rc;
  if( zFn ) bindFnRange(pStmt, zFn);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( pn ) *pn = rc==SQLITE_OK ? sqlite3_changes64(p->db) : 0;
  return rc;
}

/* The state of the store in main: STORE_ABSENT (no tables yet),
** STORE_READY, or STORE_NEWER (written by a newer schema version, which
** this build must neither read nor write). Errors (a locked database)
** are returned as such. */
int storeMainState(Cachier *p, int *peState){
  sqlite3_stmt *pStmt = 0;
  int rc;
  *peState = STORE_ABSENT;
  rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.sqlite_schema"
        " WHERE type='table' AND name='cachier_info'", -1, &pStmt, 0);
  if( rc ) return rc;
  rc = sqlite3_step(pStmt);
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( rc!=SQLITE_ROW ) return sqlite3_errcode(p->db);
  *peState = storeMainSchemaVersion(p->db)>CACHIER_SCHEMA_VERSION
           ? STORE_NEWER : STORE_READY;
  return SQLITE_OK;
}

/* The schema_version recorded in main.cachier_info, 0 if none. */
int storeMainSchemaVersion(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int v = 0;
  if( sqlite3_prepare_v2(db, "SELECT value FROM main.cachier_info"
          " WHERE key='schema_version'", -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    v = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  return v;
}

/* storeMainState() for explicit management calls: SQLITE_OK with *pbHas,
** or an error (with the message set on the connection for NEWER). */
static int mainTablesForManagement(Cachier *p, int *pbHas){
  int eState;
  int rc = storeMainState(p, &eState);
  *pbHas = eState==STORE_READY;
  if( rc==SQLITE_OK && eState==STORE_NEWER ) rc = SQLITE_MISMATCH;
  return rc;
}

static int mainClear(CachierStore *pStore, const char *zFn,
                     sqlite3_int64 *pnDeleted){
  Cachier *p = pStore->pCachier;
  int bHas, rc;
  *pnDeleted = 0;
  rc = mainTablesForManagement(p, &bHas);
  if( rc || !bHas ) return rc;
  if( zFn ){
    return runCounted(p, "DELETE FROM main.cachier_data"
                      " " WHERE_FN, zFn, pnDeleted);
  }
  return runCounted(p, "DELETE FROM main.cachier_data", 0, pnDeleted);
}

static int mainDelete(CachierStore *pStore, sqlite3_int64 iId){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = cachierStmt(p, STMT_DELETE_ID, SQL_DELETE_ID);
  int rc;
  if( pStmt==0 ) return sqlite3_errcode(p->db);
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  cachierStmtDone(p, STMT_DELETE_ID, pStmt);
  return rc;
}

static int mainScanOpen(CachierStore *pStore, const char *zFn,
                        CachierScan **ppScan){
  Cachier *p = pStore->pCachier;
  MainScan *pScan;
  int rc, bHas;
  *ppScan = 0;
  rc = mainTablesForManagement(p, &bHas);
  if( rc ) return rc;
  pScan = sqlite3_malloc(sizeof(*pScan));
  if( pScan==0 ) return SQLITE_NOMEM;
  pScan->pStmt = 0;
  if( bHas ){
    rc = sqlite3_prepare_v2(p->db, zFn
        ? "SELECT " ENTRY_COLUMNS " FROM main.cachier_data " WHERE_FN
        : "SELECT " ENTRY_COLUMNS " FROM main.cachier_data", -1,
        &pScan->pStmt, 0);
    if( rc ){
      sqlite3_free(pScan);
      return rc;
    }
    if( zFn ) bindFnRange(pScan->pStmt, zFn);
  }
  *ppScan = (CachierScan*)pScan;
  return SQLITE_OK;
}

static int mainScanNext(CachierScan *pScan, CachierEntry *pEntry, int *pEof){
  MainScan *s = (MainScan*)pScan;
  int rc;
  *pEof = 1;
  if( s->pStmt==0 ) return SQLITE_OK;
  rc = sqlite3_step(s->pStmt);
  if( rc==SQLITE_ROW ){
    rowToEntry(s->pStmt, pEntry);
    *pEof = 0;
    return SQLITE_OK;
  }
  rc = sqlite3_reset(s->pStmt);
  return rc;
}

static void mainScanClose(CachierScan *pScan){
  MainScan *s = (MainScan*)pScan;
  if( s ){
    sqlite3_finalize(s->pStmt);
    sqlite3_free(s);
  }
}

static const CachierStoreMethods mainMethods = {
  "main",
  mainLookup, mainLookupDone, mainWrite, mainClear, mainDelete,
  mainScanOpen, mainScanNext, mainScanClose
};

CachierStore *cachierMainStore(Cachier *p){
  if( p->pMainStore==0 ){
    MainStore *s = sqlite3_malloc(sizeof(*s));
    if( s==0 ) return 0;
    memset(s, 0, sizeof(*s));
    s->base.pMethods = &mainMethods;
    s->base.pCachier = p;
    p->pMainStore = &s->base;
  }
  return p->pMainStore;
}

void cachierMainStoreFree(Cachier *p){
  sqlite3_free(p->pMainStore);
  p->pMainStore = 0;
}

/* Create main.cachier (and so its shadow tables) if it does not exist. */
int storeMainEnsureSchema(Cachier *p, char **pzErr){
  int eState;
  int rc = storeMainState(p, &eState);
  if( rc ) return rc;
  if( eState==STORE_READY ) return SQLITE_OK;
  if( eState==STORE_NEWER ) return SQLITE_MISMATCH;
  rc = sqlite3_exec(p->db,
      "CREATE VIRTUAL TABLE IF NOT EXISTS main.cachier USING cachier",
      0, 0, pzErr);
  return rc;
}

/* Run sql/schema.sql (called from the module's xCreate). */
int storeMainCreateTables(sqlite3 *db, char **pzErr){
  return sqlite3_exec(db, cachierSchemaSql, 0, 0, pzErr);
}

int storeMainDropTables(sqlite3 *db){
  return sqlite3_exec(db,
      "DROP TABLE IF EXISTS main.cachier_data;"
      "DROP TABLE IF EXISTS main.cachier_config;"
      "DROP TABLE IF EXISTS main.cachier_info;", 0, 0, 0);
}

/* Rows (fn, entries, bytes, average compute seconds) per function, for
** cachier_stats. *ppStmt is
** NULL when the store has no tables. */
int storeMainTotals(Cachier *p, sqlite3_stmt **ppStmt){
  int bHas;
  int rc = mainTablesForManagement(p, &bHas);
  *ppStmt = 0;
  if( rc || !bHas ) return rc;
  return sqlite3_prepare_v2(p->db,
      "SELECT CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT) AS fn,"
      " count(*), sum(bytes), avg(compute_ns)*1e-9"
      " FROM main.cachier_data GROUP BY fn",
      -1, ppStmt, 0);
}
