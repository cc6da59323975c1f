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
** first free rowid of the range. A lookup is one short rowid range scan
** that normally reads a single row.
*/
#include "store.h"
#include "schema_sql.h"
#include <string.h>

typedef struct MainStore MainStore;
struct MainStore {
  CachierStore base;
  sqlite3_stmt *pLookup;      /* statement holding the current lookup row */
  int iLookup;                /* its STMT_* id */
  int bReady;                 /* tables known to exist on this connection */
};

typedef struct MainScan MainScan;
struct MainScan {
  sqlite3_stmt *pStmt;
};

#define ENTRY_COLUMNS "id, k, subtype, created, compute_ns, bytes, v"
/* A hit reads only what it serves, and SQLite compares the key bytes.
** Nearly every key sits in the first slot of its range, so the lookup is a
** rowid point lookup there; only when that fails is the rest of the range
** searched (SQL_SLOTS), which a miss pays anyway. */
#define SQL_LOOKUP \
  "SELECT v, subtype, created FROM main.cachier_data WHERE id=?1 AND k=?2"
#define SQL_LOOKUP_ID \
  "SELECT v, subtype, created FROM main.cachier_data WHERE id=?1"
/* Which slots of a key's range are taken, and by whom. */
#define SQL_SLOTS \
  "SELECT id, k=?3 FROM main.cachier_data" \
  " WHERE id BETWEEN ?1 AND ?2"
#define SQL_INSERT \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ")" \
  " VALUES(?1,?2,?3,?4,?5,?6,?7)"
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

/* The SQL_SLOTS statement for pKey's range, or NULL if the store cannot
** be read (no tables yet, locked, corrupt). */
static sqlite3_stmt *slotQuery(Cachier *p, const CachierKey *pKey){
  sqlite3_stmt *pStmt = cachierStmt(p, STMT_SLOTS, SQL_SLOTS);
  if( pStmt ){
    sqlite3_bind_int64(pStmt, 1, pKey->iBase);
    sqlite3_bind_int64(pStmt, 2, pKey->iBase + (1<<CACHIER_SLOT_BITS) - 1);
    sqlite3_bind_blob64(pStmt, 3, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  }
  return pStmt;
}

static int findSlot(Cachier*, const CachierKey*, sqlite3_int64*, int*);

/* Fill pEntry from a row of SQL_LOOKUP or SQL_LOOKUP_ID: only what a hit
** serves (each column call costs a mutex round trip). */
static void lookupRowToEntry(sqlite3_stmt *pStmt, const CachierKey *pKey,
                             sqlite3_int64 iId, int flags,
                             CachierEntry *pEntry){
  memset(pEntry, 0, sizeof(*pEntry));
  pEntry->pValue = sqlite3_column_value(pStmt, 0);
  pEntry->subtype = sqlite3_column_int(pStmt, 1) & 0xff;
  if( flags & CACHIER_LOOKUP_CREATED ){
    pEntry->created = sqlite3_column_double(pStmt, 2);
  }
  pEntry->id = iId;
  pEntry->zFn = pKey->zFn;
  pEntry->aKey = pKey->aKey;
  pEntry->nKey = pKey->nKey;
}

static int mainLookup(CachierStore *pStore, const CachierKey *pKey,
                      int flags, CachierEntry *pEntry, int *pFound){
  MainStore *s = (MainStore*)pStore;
  Cachier *p = pStore->pCachier;
  sqlite3_stmt *pStmt = cachierStmt(p, STMT_LOOKUP, SQL_LOOKUP);
  sqlite3_int64 iId = pKey->iBase;
  int rc, bFound = 0;
  *pFound = 0;
  s->pLookup = pStmt;
  s->iLookup = STMT_LOOKUP;
  if( pStmt==0 ) return SQLITE_OK;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_DONE ){
    /* Not in the first slot: a collision moved it, or it is absent. */
    cachierStmtDone(p, STMT_LOOKUP, pStmt);
    s->pLookup = 0;
    rc = findSlot(p, pKey, &iId, &bFound);
    if( rc!=SQLITE_OK || !bFound ) return rc==SQLITE_FULL ? SQLITE_OK : rc;
    pStmt = cachierStmt(p, STMT_LOOKUP_ID, SQL_LOOKUP_ID);
    if( pStmt==0 ) return SQLITE_OK;
    s->pLookup = pStmt;
    s->iLookup = STMT_LOOKUP_ID;
    sqlite3_bind_int64(pStmt, 1, iId);
    rc = sqlite3_step(pStmt);
  }
  if( rc==SQLITE_ROW ){
    lookupRowToEntry(pStmt, pKey, iId, flags, pEntry);
    *pFound = 1;
    return SQLITE_OK;
  }
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static void mainLookupDone(CachierStore *pStore){
  MainStore *s = (MainStore*)pStore;
  cachierStmtDone(pStore->pCachier, s->iLookup, s->pLookup);
  s->pLookup = 0;
}

/* Find the rowid for pKey: its existing row (*pbFound set), else the first
** free slot. SQLITE_FULL if all 256 slots hold other keys (never in
** practice). */
static int findSlot(Cachier *p, const CachierKey *pKey, sqlite3_int64 *piId,
                    int *pbFound){
  uint64_t aUsed[(1<<CACHIER_SLOT_BITS)/64];
  sqlite3_stmt *pStmt;
  int rc, i;
  memset(aUsed, 0, sizeof(aUsed));
  *pbFound = 0;
  pStmt = slotQuery(p, pKey);
  if( pStmt==0 ) return sqlite3_errcode(p->db) ? sqlite3_errcode(p->db)
                                               : SQLITE_ERROR;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    sqlite3_int64 iSlot = sqlite3_column_int64(pStmt, 0) - pKey->iBase;
    if( sqlite3_column_int(pStmt, 1) ){
      *piId = pKey->iBase + iSlot;
      *pbFound = 1;
      cachierStmtDone(p, STMT_SLOTS, pStmt);
      return SQLITE_OK;
    }
    aUsed[iSlot/64] |= ((uint64_t)1) << (iSlot%64);
  }
  cachierStmtDone(p, STMT_SLOTS, pStmt);
  if( rc!=SQLITE_DONE ) return rc;
  for(i=0; i<(1<<CACHIER_SLOT_BITS); i++){
    if( (aUsed[i/64] & (((uint64_t)1) << (i%64)))==0 ){
      *piId = pKey->iBase + i;
      return SQLITE_OK;
    }
  }
  return SQLITE_FULL;
}

static int mainWrite(CachierStore *pStore, const CachierKey *pKey,
                     sqlite3_value *pValue, int subtype, double created,
                     sqlite3_int64 computeNs){
  MainStore *s = (MainStore*)pStore;
  Cachier *p = pStore->pCachier;
  sqlite3_int64 iId = 0;
  sqlite3_stmt *pStmt;
  int rc = SQLITE_OK, bFound;
  if( !s->bReady ) rc = storeMainEnsureSchema(p, 0);
  if( rc==SQLITE_OK ){
    s->bReady = 1;
    rc = findSlot(p, pKey, &iId, &bFound);
    if( rc!=SQLITE_OK && rc!=SQLITE_FULL ){
      /* The tables may have been dropped since (DROP TABLE cachier). */
      s->bReady = 0;
      if( storeMainEnsureSchema(p, 0)==SQLITE_OK ){
        s->bReady = 1;
        rc = findSlot(p, pKey, &iId, &bFound);
      }
    }
  }
  if( rc ) return rc;
  pStmt = cachierStmt(p, STMT_INSERT, SQL_INSERT);
  if( pStmt==0 ) return sqlite3_errcode(p->db) ? sqlite3_errcode(p->db)
                                               : SQLITE_ERROR;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  sqlite3_bind_int(pStmt, 3, subtype);
  sqlite3_bind_double(pStmt, 4, created);
  sqlite3_bind_int64(pStmt, 5, computeNs);
  sqlite3_bind_int64(pStmt, 6, cachierValueBytes(pValue));
  sqlite3_bind_value(pStmt, 7, pValue);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  /* Drop references to the caller's buffers. */
  sqlite3_bind_null(pStmt, 2);
  sqlite3_bind_null(pStmt, 7);
  cachierStmtDone(p, STMT_INSERT, pStmt);
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
  *peState = STORE_READY;
  rc = sqlite3_prepare_v2(p->db, "SELECT value FROM main.cachier_info"
        " WHERE key='schema_version'", -1, &pStmt, 0);
  if( rc ) return rc;
  if( sqlite3_step(pStmt)==SQLITE_ROW
   && sqlite3_column_int(pStmt, 0)>CACHIER_SCHEMA_VERSION ){
    *peState = STORE_NEWER;
  }
  return sqlite3_finalize(pStmt);
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
