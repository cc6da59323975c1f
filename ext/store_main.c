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
  int iLookup;                /* its STMT_* id */
  sqlite3_int64 iEmptyBase;   /* last lookup saw this key range empty ... */
  sqlite3_int64 nEmptyChanges;/* ... when total_changes was this */
  int bReady;                 /* tables known to exist on this connection */
  sqlite3 *pLatest;           /* read-only connection for xLookupLatest */
  sqlite3_stmt *pLatestLookup;
  sqlite3_stmt *pHeld;        /* statement holding the row xGet returned */
};

typedef struct MainScan MainScan;
struct MainScan {
  sqlite3_stmt *pStmt;
};

#define ENTRY_COLUMNS "id, k, subtype, created, compute_ns, bytes, v"
#define FULL_COLUMNS ENTRY_COLUMNS ", refresh, attempts, retry_at, args"
/* A hit reads only what it serves, and SQLite compares the key bytes.
** Nearly every key sits in the first slot of its range, so a lookup is
** first a rowid point lookup (SQL_POINT), which is all a hit runs. A miss
** goes on with SQL_REST: the rest of the range, then a marker row
** (subtype -1) when the whole range is empty, so the write that follows
** can go straight to the first slot. SQL_LOOKUP_REFRESH is both in one
** statement (one snapshot), for the read-only connection of
** xLookupLatest. */
#define LOOKUP_COLUMNS         "v, subtype, created, bytes"
#define LOOKUP_REFRESH_COLUMNS LOOKUP_COLUMNS ", id, refresh"
#define SQL_POINT_OF(cols) \
  "SELECT " cols " FROM main.cachier_data WHERE id=?1 AND k=?2"
#define SQL_REST_OF(cols, nulls) \
  "SELECT " cols " FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1+1 AND ?1+255 AND k=?2" \
  " UNION ALL" \
  " SELECT " nulls " WHERE NOT EXISTS (SELECT 1 FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1 AND ?1+255)"
#define SQL_POINT          SQL_POINT_OF(LOOKUP_COLUMNS)
#define SQL_POINT_REFRESH  SQL_POINT_OF(LOOKUP_REFRESH_COLUMNS)
#define SQL_REST           SQL_REST_OF(LOOKUP_COLUMNS, "NULL, -1, NULL, 0")
/* The same, also with what marking a refresh needs (next_time and
** bounded functions only, so other hits do not pay for two columns). */
#define SQL_REST_REFRESH \
  SQL_REST_OF(LOOKUP_REFRESH_COLUMNS, "NULL, -1, NULL, 0, 0, 0")
#define SQL_LOOKUP_REFRESH \
  SQL_POINT_REFRESH " UNION ALL " SQL_REST_REFRESH
/* The common write: a key whose whole range the lookup saw empty. */
#define SQL_INSERT \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ", args)" \
  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"
/* Store an entry in one statement (one write transaction): into the slot
** already holding the key, else the first slot if free, else the first
** free slot after a taken one. All 256 taken (never in practice): no row
** is inserted. */
#define SQL_WRITE \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ", args)" \
  " SELECT slot, ?2, ?3, ?4, ?5, ?6, ?7, ?8 FROM (SELECT coalesce(" \
  "  (SELECT id FROM main.cachier_data" \
  "    WHERE id BETWEEN ?1 AND ?1+255 AND k=?2)," \
  "  (SELECT ?1 WHERE NOT EXISTS" \
  "    (SELECT 1 FROM main.cachier_data WHERE id=?1))," \
  "  (SELECT min(a.id)+1 FROM main.cachier_data a" \
  "    WHERE a.id BETWEEN ?1 AND ?1+254 AND NOT EXISTS" \
  "      (SELECT 1 FROM main.cachier_data b WHERE b.id=a.id+1))" \
  " ) AS slot) WHERE slot IS NOT NULL"
#define SQL_DELETE_ID "DELETE FROM main.cachier_data WHERE id=?1"
/* Mark once: an entry already marked keeps its attempts and retry_at. */
#define SQL_MARK_REFRESH \
  "UPDATE main.cachier_data SET refresh=1 WHERE id=?1 AND refresh=0"
#define SQL_REFRESH_FAILED \
  "UPDATE main.cachier_data SET attempts=?2, retry_at=?3" \
  " WHERE id=?1 AND refresh=1"
#define SQL_GET \
  "SELECT " FULL_COLUMNS " FROM main.cachier_data WHERE id=?1"

/* A row of "SELECT ENTRY_COLUMNS" as an entry. The key starts with the
** NUL-terminated function name, so it is zFn too. */
static void rowToEntry(sqlite3_stmt *pStmt, CachierEntry *e){
  e->id = sqlite3_column_int64(pStmt, 0);
  e->aKey = (const unsigned char*)sqlite3_column_blob(pStmt, 1);
  e->nKey = sqlite3_column_bytes(pStmt, 1);
  e->zFn = (e->aKey && memchr(e->aKey, 0, (size_t)e->nKey))
         ? (const char*)e->aKey : "";
  e->subtype = sqlite3_column_int(pStmt, 2) & 0xff;
  e->codec = sqlite3_column_int(pStmt, 2) >> 8;
  e->created = sqlite3_column_double(pStmt, 3);
  e->computeNs = sqlite3_column_int64(pStmt, 4);
  e->nBytes = sqlite3_column_int64(pStmt, 5);
  e->pValue = sqlite3_column_value(pStmt, 6);
  e->refresh = 0;
  e->attempts = 0;
  e->retryAt = 0.0;
  e->aArgs = 0;
  e->nArgs = 0;
  if( sqlite3_column_count(pStmt)>7 ){
    e->refresh = sqlite3_column_int(pStmt, 7);
    e->attempts = sqlite3_column_int(pStmt, 8);
    e->retryAt = sqlite3_column_double(pStmt, 9);
    e->aArgs = (const unsigned char*)sqlite3_column_blob(pStmt, 10);
    e->nArgs = sqlite3_column_bytes(pStmt, 10);
  }
}

/* Fill pEntry from a row of SQL_POINT or SQL_REST whose subtype column is `subtype`
** (already read: -1 marks the empty-range row): only what a hit serves
** (each column call costs a mutex round trip); other fields are unset. */
static void lookupRowToEntry(sqlite3_stmt *pStmt, int subtype, int flags,
                             CachierEntry *pEntry){
  pEntry->pValue = sqlite3_column_value(pStmt, 0);
  pEntry->subtype = subtype & 0xff;
  pEntry->codec = subtype >> 8;
  if( pEntry->codec ) pEntry->nBytes = sqlite3_column_int64(pStmt, 3);
  if( flags & CACHIER_LOOKUP_CREATED ){
    pEntry->created = sqlite3_column_double(pStmt, 2);
  }
  if( flags & CACHIER_LOOKUP_REFRESH ){
    pEntry->id = sqlite3_column_int64(pStmt, 4);
    pEntry->refresh = sqlite3_column_int(pStmt, 5);
  }
}

static int mainLookup(CachierStore *pStore, const CachierKey *pKey,
                      int flags, CachierEntry *pEntry, int *pFound){
  MainStore *s = (MainStore*)pStore;
  Cachier *p = pStore->pCachier;
  int bRefresh = (flags & CACHIER_LOOKUP_REFRESH)!=0;
  int iStmt = bRefresh ? STMT_POINT_REFRESH : STMT_POINT;
  sqlite3_stmt *pStmt = cachierStmt(p, iStmt,
                              bRefresh ? SQL_POINT_REFRESH : SQL_POINT);
  int rc, bRest;
  *pFound = 0;
  s->pLookup = pStmt;
  s->iLookup = iStmt;
  s->iEmptyBase = 0;
  if( pStmt==0 ) return SQLITE_OK;
  /* The first slot, then (on a miss) the rest of the range. */
  for(bRest=0; bRest<2; bRest++){
    sqlite3_bind_int64(pStmt, 1, pKey->iBase);
    sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      int subtype = sqlite3_column_int(pStmt, 1);
      if( subtype>=0 ){
        lookupRowToEntry(pStmt, subtype, flags, pEntry);
        *pFound = 1;
        return SQLITE_OK;
      }
      if( bRest ){            /* the marker: the whole range is empty */
        s->iEmptyBase = pKey->iBase;
        s->nEmptyChanges = sqlite3_total_changes64(p->db);
        return SQLITE_OK;
      }
      /* (a negative subtype in the first slot: a damaged row, a miss) */
    }else if( rc!=SQLITE_DONE ){
      return rc;
    }
    if( bRest ) break;
    cachierStmtDone(p, iStmt, pStmt);
    iStmt = bRefresh ? STMT_LOOKUP_REFRESH : STMT_LOOKUP;
    pStmt = cachierStmt(p, iStmt, bRefresh ? SQL_REST_REFRESH : SQL_REST);
    s->pLookup = pStmt;
    s->iLookup = iStmt;
    if( pStmt==0 ) return SQLITE_OK;
  }
  return SQLITE_OK;
}

static void mainLookupDone(CachierStore *pStore){
  MainStore *s = (MainStore*)pStore;
  if( s->pLookup ){
    cachierStmtDone(pStore->pCachier, s->iLookup, s->pLookup);
    s->pLookup = 0;
  }
  if( s->pHeld ){
    sqlite3_reset(s->pHeld);
    if( s->pHeld!=s->pLatestLookup ){
      cachierStmtDone(pStore->pCachier, STMT_GET, s->pHeld);
    }
    s->pHeld = 0;
  }
}

/* The read-only connection xLookupLatest uses, opened on first use. NULL
** for databases without a file (nobody else can write them). */
static sqlite3 *latestDb(MainStore *s){
  Cachier *p = s->base.pCachier;
  const char *zFile;
  if( s->pLatest ) return s->pLatest;
  zFile = cachierMainFile(p);
  if( zFile==0 ) return 0;
  if( sqlite3_open_v2(zFile, &s->pLatest,
          SQLITE_OPEN_READONLY|SQLITE_OPEN_NOMUTEX, 0)!=SQLITE_OK
   || sqlite3_prepare_v3(s->pLatest, SQL_LOOKUP_REFRESH, -1,
          SQLITE_PREPARE_PERSISTENT, &s->pLatestLookup, 0)!=SQLITE_OK ){
    sqlite3_close(s->pLatest);
    s->pLatest = 0;
    return 0;
  }
  sqlite3_busy_timeout(s->pLatest, 1000);
  return s->pLatest;
}

/* Without a read transaction open on main, a lookup on the connection
** itself starts a new snapshot and sees everything committed; inside one
** (a SELECT over a table of main is running), it would see only that
** snapshot, so the lookup goes through a connection of our own. */
static int mainLookupLatest(CachierStore *pStore, const CachierKey *pKey,
                            CachierEntry *pEntry, int *pFound){
  MainStore *s = (MainStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  if( sqlite3_txn_state(pStore->pCachier->db, "main")==SQLITE_TXN_NONE
   || latestDb(s)==0 ){
    return pStore->pMethods->xLookup(pStore, pKey,
             CACHIER_LOOKUP_CREATED|CACHIER_LOOKUP_REFRESH, pEntry, pFound);
  }
  *pFound = 0;
  pStmt = s->pLatestLookup;
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  s->pHeld = pStmt;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW && sqlite3_column_int(pStmt, 1)>=0 ){
    lookupRowToEntry(pStmt, sqlite3_column_int(pStmt, 1),
                     CACHIER_LOOKUP_CREATED|CACHIER_LOOKUP_REFRESH, pEntry);
    *pFound = 1;
  }
  return rc==SQLITE_ROW || rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* Write the entry once: with SQL_INSERT into the first slot when the last
** lookup saw the key's range empty and this connection changed nothing
** since (nested memoize calls of the function may have), else SQL_WRITE.
** SQLITE_FULL if every slot of the key was taken. */
static int writeOnce(MainStore *s, const CachierKey *pKey,
                     const CachierWrite *w){
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
  /* The codec rides in the subtype column's high bits (compress.c). */
  sqlite3_bind_int(pStmt, 3, (w->subtype & 0xff) | (w->codec<<8));
  sqlite3_bind_double(pStmt, 4, w->created);
  sqlite3_bind_int64(pStmt, 5, w->computeNs);
  sqlite3_bind_int64(pStmt, 6, cachierValueBytes(w->pValue));
  if( w->codec ){
    sqlite3_bind_blob64(pStmt, 7, w->aStored, w->nStored, SQLITE_STATIC);
  }else{
    sqlite3_bind_value(pStmt, 7, w->pValue);
  }
  if( w->aArgs ){
    sqlite3_bind_blob64(pStmt, 8, w->aArgs, w->nArgs, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pStmt, 8);
  }
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  if( rc==SQLITE_OK && sqlite3_changes(p->db)==0 ) rc = SQLITE_FULL;
  /* Drop references to the caller's buffers. */
  sqlite3_bind_null(pStmt, 2);
  sqlite3_bind_null(pStmt, 7);
  sqlite3_bind_null(pStmt, 8);
  cachierStmtDone(p, id, pStmt);
  return rc;
}

static int mainWrite(CachierStore *pStore, const CachierKey *pKey,
                     const CachierWrite *w){
  MainStore *s = (MainStore*)pStore;
  Cachier *p = pStore->pCachier;
  /* The user's last_insert_rowid() must not become a cache row's id. */
  sqlite3_int64 iLastRowid = sqlite3_last_insert_rowid(p->db);
  int rc = SQLITE_OK;
  if( !s->bReady ) rc = storeMainEnsureSchema(p, 0);
  if( rc ) return rc;
  s->bReady = 1;
  rc = writeOnce(s, pKey, w);
  if( rc!=SQLITE_OK && rc!=SQLITE_FULL && (rc & 0xff)!=SQLITE_READONLY ){
    /* The tables may have been dropped since (DROP TABLE cachier). */
    s->bReady = 0;
    if( storeMainEnsureSchema(p, 0)==SQLITE_OK ){
      s->bReady = 1;
      rc = writeOnce(s, pKey, w);
    }
  }
  sqlite3_set_last_insert_rowid(p->db, iLastRowid);
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
static int storeMainMigrate(Cachier*);
int storeMainState(Cachier *p, int *peState){
  sqlite3_stmt *pStmt = 0;
  int rc, v;
  *peState = STORE_ABSENT;
  rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.sqlite_schema"
        " WHERE type='table' AND name='cachier_info'", -1, &pStmt, 0);
  if( rc ) return rc;
  rc = sqlite3_step(pStmt);
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( rc!=SQLITE_ROW ) return sqlite3_errcode(p->db);
  v = storeMainSchemaVersion(p->db);
  if( v>CACHIER_SCHEMA_VERSION ){
    *peState = STORE_NEWER;
  }else if( v<CACHIER_SCHEMA_VERSION ){
    *peState = storeMainMigrate(p)==SQLITE_OK ? STORE_READY : STORE_OLD;
  }else{
    *peState = STORE_READY;
  }
  return SQLITE_OK;
}

/* Upgrade a version 1 store to the current version, all or nothing. A
** store that cannot be written (read-only file) stays as it is and is not
** used: this build reads and writes only its own layout. */
static int storeMainMigrate(Cachier *p){
  char *zErr = 0;
  int rc, v = storeMainSchemaVersion(p->db);
  if( v!=1 ) return SQLITE_MISMATCH;
  rc = sqlite3_exec(p->db, "SAVEPOINT cachier_migrate", 0, 0, 0);
  if( rc ) return rc;
  rc = sqlite3_exec(p->db, cachierMigrate1To2Sql, 0, 0, &zErr);
  if( rc ) sqlite3_exec(p->db, "ROLLBACK TO cachier_migrate", 0, 0, 0);
  sqlite3_exec(p->db, "RELEASE cachier_migrate", 0, 0, 0);
  if( rc ){
    cachierLog(p, "cachier: cannot upgrade the cache from schema version 1 "
               "to %d (%s); computing without it", CACHIER_SCHEMA_VERSION,
               zErr ? zErr : sqlite3_errstr(rc));
  }else{
    cachierLog(p, "cachier: upgraded the cache from schema version 1 to %d",
               CACHIER_SCHEMA_VERSION);
    p->settingsGen++;
  }
  sqlite3_free(zErr);
  return rc;
}

/* SQLITE_MISMATCH from a store method means an unusable layout: say which;
** anything else is the connection's own error. */
const char *storeMainErrmsg(Cachier *p, int rc){
  if( rc!=SQLITE_MISMATCH ) return sqlite3_errmsg(p->db);
  return storeMainSchemaVersion(p->db)>CACHIER_SCHEMA_VERSION
       ? CACHIER_NEWER_SCHEMA_MSG : CACHIER_OLD_SCHEMA_MSG;
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
  if( rc==SQLITE_OK && (eState==STORE_NEWER || eState==STORE_OLD) ){
    rc = SQLITE_MISMATCH;
  }
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

static int mainMarkRefresh(CachierStore *pStore, sqlite3_int64 iId){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = cachierStmt(p, STMT_MARK_REFRESH, SQL_MARK_REFRESH);
  int rc;
  if( pStmt==0 ) return sqlite3_errcode(p->db) ? sqlite3_errcode(p->db)
                                               : SQLITE_ERROR;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  cachierStmtDone(p, STMT_MARK_REFRESH, pStmt);
  return rc;
}

static int mainRefreshFailed(CachierStore *pStore, sqlite3_int64 iId,
                             int attempts, double retryAt){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(p->db, SQL_REFRESH_FAILED, -1, &pStmt, 0);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_bind_int(pStmt, 2, attempts);
  sqlite3_bind_double(pStmt, 3, retryAt);
  sqlite3_step(pStmt);
  return sqlite3_finalize(pStmt);
}

static int mainRefreshDue(CachierStore *pStore, const char *zFn, double now,
                          sqlite3_int64 **paId, int *pnId){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 *aId = 0;
  int nId = 0, nAlloc = 0, rc, bHas;
  *paId = 0;
  *pnId = 0;
  rc = mainTablesForManagement(p, &bHas);
  if( rc || !bHas ) return rc;
  rc = sqlite3_prepare_v2(p->db, zFn
      ? "SELECT id FROM main.cachier_data " WHERE_FN
        " AND refresh=1 AND coalesce(retry_at, 0)<=?5"
      : "SELECT id FROM main.cachier_data"
        " WHERE refresh=1 AND coalesce(retry_at, 0)<=?5", -1, &pStmt, 0);
  if( rc ) return rc;
  if( zFn ) bindFnRange(pStmt, zFn);
  sqlite3_bind_double(pStmt, 5, now);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    if( nId==nAlloc ){
      sqlite3_int64 *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 16;
      aNew = sqlite3_realloc64(aId, nAlloc*sizeof(aId[0]));
      if( aNew==0 ){
        rc = SQLITE_NOMEM;
        break;
      }
      aId = aNew;
    }
    aId[nId++] = sqlite3_column_int64(pStmt, 0);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  if( rc ){
    sqlite3_free(aId);
    return rc;
  }
  *paId = aId;
  *pnId = nId;
  return SQLITE_OK;
}

static int mainGet(CachierStore *pStore, sqlite3_int64 iId,
                   CachierEntry *pEntry, int *pFound){
  MainStore *s = (MainStore*)pStore;
  sqlite3_stmt *pStmt = cachierStmt(pStore->pCachier, STMT_GET, SQL_GET);
  int rc;
  *pFound = 0;
  if( pStmt==0 ) return SQLITE_OK;
  s->pHeld = pStmt;
  sqlite3_bind_int64(pStmt, 1, iId);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    rowToEntry(pStmt, pEntry);
    *pFound = 1;
    return SQLITE_OK;
  }
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static int mainEvictionCandidates(CachierStore *pStore, const char *zFn,
                                  int ePolicy, double staleBefore, int nMax,
                                  EvictCandidate **paCand, int *pnCand){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = 0;
  EvictCandidate *aCand;
  int n = 0, rc;
  char *zSql;
  *paCand = 0;
  *pnCand = 0;
  aCand = sqlite3_malloc64(sizeof(EvictCandidate)*(nMax>0 ? nMax : 1));
  if( aCand==0 ) return SQLITE_NOMEM;
  zSql = sqlite3_mprintf(
      "SELECT id, CASE WHEN subtype>255 THEN length(v) ELSE bytes END AS st,"
      " %s, created < ?5 AS stale FROM main.cachier_data %s"
      " ORDER BY stale DESC, %s LIMIT ?6",
      zFn ? "NULL" : "CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT)",
      zFn ? WHERE_FN : "",
      ePolicy==EVICT_COST ? "compute_ns*1.0/max(st, 1), created" : "created");
  rc = zSql ? sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc ){
    sqlite3_free(aCand);
    return rc;
  }
  if( zFn ) bindFnRange(pStmt, zFn);
  sqlite3_bind_double(pStmt, 5, staleBefore);
  sqlite3_bind_int(pStmt, 6, nMax);
  while( n<nMax && sqlite3_step(pStmt)==SQLITE_ROW ){
    aCand[n].id = sqlite3_column_int64(pStmt, 0);
    aCand[n].nStored = sqlite3_column_int64(pStmt, 1);
    aCand[n].bStale = sqlite3_column_int(pStmt, 3);
    aCand[n].zFn = 0;
    if( zFn==0 && sqlite3_column_type(pStmt, 2)==SQLITE_TEXT ){
      aCand[n].zFn = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 2));
    }
    n++;
  }
  rc = sqlite3_finalize(pStmt);
  *paCand = aCand;
  *pnCand = n;
  return rc;
}

static int mainDeleteOlder(CachierStore *pStore, const char *zFn,
                           double before, sqlite3_int64 *pnDeleted){
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = 0;
  int rc, bHas;
  *pnDeleted = 0;
  rc = mainTablesForManagement(p, &bHas);
  if( rc || !bHas ) return rc;
  rc = sqlite3_prepare_v2(p->db, "DELETE FROM main.cachier_data " WHERE_FN
                          " AND created<?5", -1, &pStmt, 0);
  if( rc ) return rc;
  bindFnRange(pStmt, zFn);
  sqlite3_bind_double(pStmt, 5, before);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) *pnDeleted = sqlite3_changes64(p->db);
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
        ? "SELECT " FULL_COLUMNS " FROM main.cachier_data " WHERE_FN
        : "SELECT " FULL_COLUMNS " FROM main.cachier_data", -1,
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
  mainLookup, mainLookupDone, mainLookupLatest, mainWrite, mainMarkRefresh,
  mainRefreshDue, mainGet, mainRefreshFailed, mainEvictionCandidates,
  mainDeleteOlder,
  mainClear, mainDelete,
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
  MainStore *s = (MainStore*)p->pMainStore;
  if( s ){
    sqlite3_finalize(s->pLatestLookup);
    sqlite3_close(s->pLatest);
    sqlite3_free(s);
  }
  p->pMainStore = 0;
}

/* Create main.cachier (and so its shadow tables) if it does not exist. */
int storeMainEnsureSchema(Cachier *p, char **pzErr){
  sqlite3_int64 iLastRowid;
  int eState;
  int rc = storeMainState(p, &eState);
  if( rc ) return rc;
  if( eState==STORE_READY ) return SQLITE_OK;
  if( eState==STORE_NEWER || eState==STORE_OLD ) return SQLITE_MISMATCH;
  iLastRowid = sqlite3_last_insert_rowid(p->db);
  rc = sqlite3_exec(p->db,
      "CREATE VIRTUAL TABLE IF NOT EXISTS main.cachier USING cachier",
      0, 0, pzErr);
  sqlite3_set_last_insert_rowid(p->db, iLastRowid);
  return rc;
}

/* Run sql/schema.sql (called from the module's xCreate). */
int storeMainCreateTables(sqlite3 *db, char **pzErr){
  return sqlite3_exec(db, cachierSchemaSql, 0, 0, pzErr);
}

int storeMainDropTables(sqlite3 *db){
  return sqlite3_exec(db,
      "DROP TABLE IF EXISTS main.cachier_data;"
      "DROP TABLE IF EXISTS main.cachier_dict;"
      "DROP TABLE IF EXISTS main.cachier_config;"
      "DROP TABLE IF EXISTS main.cachier_info;", 0, 0, 0);
}

/* Rows (fn, entries, bytes, average compute seconds, stored bytes) per
** function (of zFn only, if not NULL), for cachier_stats. *ppStmt is
** NULL when the store has no tables. */
int storeMainTotals(Cachier *p, const char *zFn, sqlite3_stmt **ppStmt){
  int bHas;
  int rc = mainTablesForManagement(p, &bHas);
  *ppStmt = 0;
  if( rc || !bHas ) return rc;
#define TOTALS_OF(where) \
      "SELECT CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT) AS fn," \
      " count(*), sum(bytes), avg(compute_ns)*1e-9," \
      " sum(CASE WHEN subtype>255 THEN length(v) ELSE bytes END)" \
      " FROM main.cachier_data " where " GROUP BY fn"
  /* One function's totals read only its rowid range. */
  rc = sqlite3_prepare_v2(p->db, zFn ? TOTALS_OF(WHERE_FN) : TOTALS_OF(""),
                          -1, ppStmt, 0);
  if( rc==SQLITE_OK && zFn ) bindFnRange(*ppStmt, zFn);
  return rc;
}

/* The names of the functions that have entries (a full scan: for explicit
** management calls only). */
int storeMainFunctionNames(Cachier *p, char ***pazFn, int *pnFn){
  sqlite3_stmt *pStmt = 0;
  char **azFn = 0;
  int nFn = 0, nAlloc = 0, bHas;
  int rc = mainTablesForManagement(p, &bHas);
  *pazFn = 0;
  *pnFn = 0;
  if( rc || !bHas ) return rc;
  rc = sqlite3_prepare_v2(p->db,
      "SELECT DISTINCT CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT)"
      " FROM main.cachier_data", -1, &pStmt, 0);
  if( rc ) return rc;
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( nFn==nAlloc ){
      char **azNew;
      nAlloc = nAlloc ? nAlloc*2 : 8;
      azNew = sqlite3_realloc64(azFn, nAlloc*sizeof(azFn[0]));
      if( azNew==0 ){ rc = SQLITE_NOMEM; break; }
      azFn = azNew;
    }
    azFn[nFn] = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
    if( azFn[nFn]==0 ){ rc = SQLITE_NOMEM; break; }
    nFn++;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  if( rc ){
    storeFreeNames(azFn, nFn);
    return rc;
  }
  *pazFn = azFn;
  *pnFn = nFn;
  return SQLITE_OK;
}

void storeFreeNames(char **azFn, int nFn){
  int i;
  for(i=0; i<nFn; i++) sqlite3_free(azFn[i]);
  sqlite3_free(azFn);
}
