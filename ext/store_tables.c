/*
** store_tables.c - the SQL of a store's tables, shared by every store that
** keeps cachier's tables in an SQLite database: main (the user's
** connection), file: and memory (connections of cachier's own). It owns
** the statements, the per-entry methods (lookups, writes, refresh marks,
** deletes), scans, totals, dictionaries and the method table
** tablesMethods. The other parts of these stores: store_file.c (grouped
** commits), store_walversion.c (the hot tier's version), store_schema.c
** (the tables themselves); store_tables.h, what they share.
**
** No SQL surface of its own. The tables (sql/schema.sql) belong to the
** virtual table main.cachier (vtab_schema.c) of the store's database,
** created on the first write.
**
** On the user's connection, writes join the caller's transaction and roll
** back with it; those its read snapshot cannot make go through a
** connection of cachier's own to main's file (store_main.c). On a
** connection of cachier's own, each write commits on
** its own, or, for a grouping store (store_file.c), into a group
** transaction committed later.
**
** A key owns the rowids [iBase, iBase+CACHIER_ID_LAST_SLOT]: the entry of
** a key is the row of that range whose k equals the key; a colliding key
** takes the first free rowid of the range. A hit is normally a rowid
** point lookup of the first one.
*/
#include "store_tables.h"
#include <string.h>

/* ------------------------------------------------------------------ SQL */

#define ENTRY_COLUMNS "id, k, subtype, created, compute_ns, bytes, v"
#define FULL_COLUMNS ENTRY_COLUMNS \
  ", refresh, attempts, retry_at, args, stamp"
/* A hit reads only what it serves, and SQLite compares the key bytes.
** Nearly every key sits in the first slot of its range, so a lookup is
** first a rowid point lookup (SQL_POINT), which is all a hit runs. A miss
** goes on with SQL_REST: the rest of the range, then a marker row
** (subtype -1) when the whole range is empty, so the write that follows
** can go straight to the first slot. SQL_LOOKUP_REFRESH is both in one
** statement (one snapshot), for the read-only connection of
** xLookupLatest. Only timed rules read created: SQL_POINT and the stamp
** statements leave it out (a column less is about 1% of a hit), and a
** timed lookup that needs the stamps takes the REFRESH statements, which
** have everything. */
#define LAST_SLOT         CACHIER_STR(CACHIER_ID_LAST_SLOT)
#define LAST_SLOT_BUT_ONE "(" LAST_SLOT "-1)"
#define UNTIMED_COLUMNS        "v, subtype, bytes"
#define LOOKUP_COLUMNS         UNTIMED_COLUMNS ", created"
#define LOOKUP_REFRESH_COLUMNS LOOKUP_COLUMNS ", id, refresh, stamp"
#define LOOKUP_STAMP_COLUMNS   UNTIMED_COLUMNS ", stamp"
#define SQL_POINT_OF(cols) \
  "SELECT " cols " FROM main.cachier_data WHERE id=?1 AND k=?2"
#define SQL_REST_OF(cols, nulls) \
  "SELECT " cols " FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1+1 AND ?1+" LAST_SLOT " AND k=?2" \
  " UNION ALL" \
  " SELECT " nulls " WHERE NOT EXISTS (SELECT 1 FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1 AND ?1+" LAST_SLOT ")"
#define SQL_POINT          SQL_POINT_OF(UNTIMED_COLUMNS)
#define SQL_POINT_TIMED    SQL_POINT_OF(LOOKUP_COLUMNS)
#define SQL_POINT_REFRESH  SQL_POINT_OF(LOOKUP_REFRESH_COLUMNS)
#define SQL_REST           SQL_REST_OF(LOOKUP_COLUMNS, "NULL, -1, 0, NULL")
/* The same, also with what marking a refresh needs and the stamps
** (next_time and bounded functions, and those with depends_on or a
** version, only: other hits do not pay for four columns). */
#define SQL_REST_REFRESH \
  SQL_REST_OF(LOOKUP_REFRESH_COLUMNS, "NULL, -1, 0, NULL, 0, 0, NULL")
/* The stamps alone (functions with depends_on or a version that need no
** refresh state, and no created: untimed). */
#define SQL_POINT_STAMP    SQL_POINT_OF(LOOKUP_STAMP_COLUMNS)
#define SQL_REST_STAMP \
  SQL_REST_OF(LOOKUP_STAMP_COLUMNS, "NULL, -1, 0, NULL")
#define SQL_LOOKUP_REFRESH \
  SQL_POINT_REFRESH " UNION ALL " SQL_REST_REFRESH
/* The common write: a key whose whole range the lookup saw empty. */
#define SQL_INSERT \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ", args," \
  " stamp) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)"
/* Store an entry in one statement (one write transaction): into the slot
** already holding the key, else the first slot if free, else the first
** free slot after a taken one. All slots taken (never in practice): no
** row is inserted. */
#define SQL_WRITE \
  "INSERT OR REPLACE INTO main.cachier_data(" ENTRY_COLUMNS ", args," \
  " stamp) SELECT slot, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9" \
  " FROM (SELECT coalesce(" \
  "  (SELECT id FROM main.cachier_data" \
  "    WHERE id BETWEEN ?1 AND ?1+" LAST_SLOT " AND k=?2)," \
  "  (SELECT ?1 WHERE NOT EXISTS" \
  "    (SELECT 1 FROM main.cachier_data WHERE id=?1))," \
  "  (SELECT min(a.id)+1 FROM main.cachier_data a" \
  "    WHERE a.id BETWEEN ?1 AND ?1+" LAST_SLOT_BUT_ONE " AND NOT EXISTS" \
  "      (SELECT 1 FROM main.cachier_data b WHERE b.id=a.id+1))" \
  " ) AS slot) WHERE slot IS NOT NULL"

/* The statements a store keeps prepared, by their STMT_* ids (cachier.h,
** shared with the connection's own kept statements: on the user's
** connection the store's are kept by the connection). */
static const char *const azKeptSql[STMT_COUNT] = {
  [STMT_POINT]          = SQL_POINT,
  [STMT_POINT_TIMED]    = SQL_POINT_TIMED,
  [STMT_POINT_REFRESH]  = SQL_POINT_REFRESH,
  [STMT_LOOKUP]         = SQL_REST,
  [STMT_LOOKUP_REFRESH] = SQL_REST_REFRESH,
  [STMT_POINT_STAMP]    = SQL_POINT_STAMP,
  [STMT_LOOKUP_STAMP]   = SQL_REST_STAMP,
  [STMT_INSERT]         = SQL_INSERT,
  [STMT_WRITE]          = SQL_WRITE,
  [STMT_DELETE_ID]      = "DELETE FROM main.cachier_data WHERE id=?1",
  /* The same text as fninfo.c's, which shares the id on the user's
  ** connection. */
  [STMT_DB_VERSION]     = "PRAGMA main.data_version",
  /* What tablesGuard() compares before each write. */
  [STMT_SCHEMA_VERSION] = "PRAGMA main.schema_version",
  /* Mark once: an entry already marked keeps its attempts and retry_at. */
  [STMT_MARK_REFRESH]   =
    "UPDATE main.cachier_data SET refresh=1 WHERE id=?1 AND refresh=0",
  [STMT_GET]            =
    "SELECT " FULL_COLUMNS " FROM main.cachier_data WHERE id=?1",
  [STMT_DICT_ID]        = "SELECT id, substr(dict,5,4)"
    " FROM main.cachier_dict WHERE fn=?1 ORDER BY id DESC LIMIT 1",
  /* Transactions of cachier's own connections (store_file.c). */
  [STMT_BEGIN]           = "BEGIN",
  [STMT_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
  [STMT_COMMIT]          = "COMMIT",
};

/* The entries of function ?3 (its name and NUL as a blob, ?4 bytes long)
** within its id range ?1..?2 (bindFnRange()). */
#define WHERE_FN "WHERE id BETWEEN ?1 AND ?2 AND substr(k, 1, ?4)=?3"
/* A row's function name: the key starts with it, NUL-terminated. */
#define FN_OF_KEY "CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT)"
/* A row's stored size: v's when the value is encoded (the subtype column
** above CACHIER_COL_SUBTYPE_MAX), else the value's own. */
#define STORED_BYTES \
  "CASE WHEN subtype>" CACHIER_STR(CACHIER_COL_SUBTYPE_MAX) \
  " THEN length(v) ELSE bytes END"
/* Per function: fn, entries, bytes, average compute seconds, stored
** bytes. */
#define TOTALS_OF(where) \
  "SELECT " FN_OF_KEY " AS fn," \
  " count(*), sum(bytes), avg(compute_ns)*1e-9, sum(" STORED_BYTES ")" \
  " FROM main.cachier_data " where " GROUP BY fn"
/* Eviction candidates: id, stored size, function (NULL when listing one
** function's), whether stale (created before ?5); up to ?6 of them, the
** stale first, then in the policy's order. */
#define EVICT_OF(fn, where, order) \
  "SELECT id, " STORED_BYTES " AS st, " fn ", created < ?5 AS stale" \
  " FROM main.cachier_data " where " ORDER BY stale DESC, " order " LIMIT ?6"
#define EVICT_ORDER_LRU  "created"
#define EVICT_ORDER_COST "compute_ns*1.0/max(st, 1), created"
#define REFRESH_DUE_OF(where) \
  "SELECT id FROM main.cachier_data " where \
  "refresh=1 AND coalesce(retry_at, 0)<=?5"

/* Statements prepared at each use (management and dictionaries: rare),
** by their ids. Those ending in _FN are bound to one function's range
** (WHERE_FN); their _ALL twin reads every function's entries. */
enum {
  ONCE_CLEAR_FN, ONCE_CLEAR_ALL,
  ONCE_REFRESH_DUE_FN, ONCE_REFRESH_DUE_ALL,
  ONCE_REFRESH_FAILED,
  ONCE_DELETE_OLDER_FN,
  ONCE_EVICT_LRU_FN, ONCE_EVICT_LRU_ALL,
  ONCE_EVICT_COST_FN, ONCE_EVICT_COST_ALL,
  ONCE_SCAN_FN, ONCE_SCAN_ALL,
  ONCE_TOTALS_FN, ONCE_TOTALS_ALL,
  ONCE_DICT_LOAD, ONCE_DICT_ADD, ONCE_DICT_DELETE,
  ONCE_COUNT
};
static const char *const azOnceSql[ONCE_COUNT] = {
  [ONCE_CLEAR_FN]        = "DELETE FROM main.cachier_data " WHERE_FN,
  [ONCE_CLEAR_ALL]       = "DELETE FROM main.cachier_data",
  [ONCE_REFRESH_DUE_FN]  = REFRESH_DUE_OF(WHERE_FN " AND "),
  [ONCE_REFRESH_DUE_ALL] = REFRESH_DUE_OF("WHERE "),
  [ONCE_REFRESH_FAILED]  =
    "UPDATE main.cachier_data SET attempts=?2, retry_at=?3"
    " WHERE id=?1 AND refresh=1",
  [ONCE_DELETE_OLDER_FN] =
    "DELETE FROM main.cachier_data " WHERE_FN " AND created<?5",
  [ONCE_EVICT_LRU_FN]   = EVICT_OF("NULL", WHERE_FN, EVICT_ORDER_LRU),
  [ONCE_EVICT_LRU_ALL]  = EVICT_OF(FN_OF_KEY, "", EVICT_ORDER_LRU),
  [ONCE_EVICT_COST_FN]  = EVICT_OF("NULL", WHERE_FN, EVICT_ORDER_COST),
  [ONCE_EVICT_COST_ALL] = EVICT_OF(FN_OF_KEY, "", EVICT_ORDER_COST),
  [ONCE_SCAN_FN]  = "SELECT " FULL_COLUMNS " FROM main.cachier_data " WHERE_FN,
  [ONCE_SCAN_ALL] = "SELECT " FULL_COLUMNS " FROM main.cachier_data",
  /* One function's totals read only its rowid range. */
  [ONCE_TOTALS_FN]  = TOTALS_OF(WHERE_FN),
  [ONCE_TOTALS_ALL] = TOTALS_OF(""),
  [ONCE_DICT_LOAD]   = "SELECT dict FROM main.cachier_dict WHERE id=?1",
  [ONCE_DICT_ADD]    = "INSERT INTO main.cachier_dict(fn, dict, samples,"
                       " created) VALUES (?1, ?2, ?3, ?4)",
  [ONCE_DICT_DELETE] = "DELETE FROM main.cachier_dict WHERE id=?1",
};

/* ----------------------------------------------------------- statements */

/* Kept statement id (azKeptSql) of the store's database: on the user's
** connection the connection's kept ones (cachierStmt()), on one of
** cachier's own the store's, kept for the life of the store. NULL if it
** cannot be prepared (no tables yet). */
sqlite3_stmt *tStmt(TablesStore *s, int id){
  if( !s->bOwnDb ) return cachierStmt(s->base.pCachier, id, azKeptSql[id]);
  return stmtKept(s->db, &s->aStmt[id], 1, azKeptSql[id]);
}

void tStmtDone(TablesStore *s, int id, sqlite3_stmt *pStmt){
  if( !s->bOwnDb ) cachierStmtDone(s->base.pCachier, id, pStmt);
  else stmtKeptDone(s->aStmt[id], pStmt);
}

/* The error of a kept statement that could not be prepared. */
int tStmtError(TablesStore *s){
  return sqlite3_errcode(s->db) ? sqlite3_errcode(s->db) : SQLITE_ERROR;
}

/* Bind the parameters of WHERE_FN for zFn. SQLITE_NOMEM if the copy of
** the name fails (a NULL there would match nothing). */
static int bindFnRange(sqlite3_stmt *pStmt, const char *zFn){
  sqlite3_int64 iLo, iHi;
  int n = (int)strlen(zFn) + 1;
  keyFnRange(zFn, &iLo, &iHi);
  sqlite3_bind_int64(pStmt, 1, iLo);
  sqlite3_bind_int64(pStmt, 2, iHi);
  sqlite3_bind_int(pStmt, 4, n);
  return sqlite3_bind_blob(pStmt, 3, zFn, n, SQLITE_TRANSIENT);
}

/* Prepare statement eOnce (azOnceSql), bound to zFn's range if zFn is
** not NULL (eOnce is then an _FN statement). Finalize it when done. */
static int tOnce(
  TablesStore *s,
  int eOnce,                  /* ONCE_* id */
  const char *zFn,            /* function whose range to bind, or NULL */
  sqlite3_stmt **ppStmt       /* OUT: the statement (NULL on error) */
){
  int rc = sqlite3_prepare_v2(s->db, azOnceSql[eOnce], -1, ppStmt, 0);
  if( rc==SQLITE_OK && zFn ){
    rc = bindFnRange(*ppStmt, zFn);
    if( rc ){
      sqlite3_finalize(*ppStmt);
      *ppStmt = 0;
    }
  }
  return rc;
}

/* Run statement eOnce, bound to zFn's range if zFn. */
static int runCounted(
  TablesStore *s,
  int eOnce,                  /* ONCE_* id of a write */
  const char *zFn,            /* function whose range to bind, or NULL */
  sqlite3_int64 *pn           /* OUT: rows changed (NULL: not wanted) */
){
  sqlite3_stmt *pStmt = 0;
  int rc = tOnce(s, eOnce, zFn, &pStmt);
  if( rc ) return rc;
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( pn ) *pn = rc==SQLITE_OK ? sqlite3_changes64(s->db) : 0;
  return rc;
}

/* --------------------------------------------------------------- rows */

/* A row of "SELECT ENTRY_COLUMNS" as an entry. The key starts with the
** NUL-terminated function name, so it is zFn too. */
static void rowToEntry(sqlite3_stmt *pStmt, CachierEntry *e){
  e->id = sqlite3_column_int64(pStmt, 0);
  e->aKey = (const unsigned char*)sqlite3_column_blob(pStmt, 1);
  e->nKey = sqlite3_column_bytes(pStmt, 1);
  e->zFn = (e->aKey && memchr(e->aKey, 0, (size_t)e->nKey))
         ? (const char*)e->aKey : "";
  e->subtype = CACHIER_COL_SUBTYPE(sqlite3_column_int(pStmt, 2));
  e->codec = CACHIER_COL_CODEC(sqlite3_column_int(pStmt, 2));
  e->created = sqlite3_column_double(pStmt, 3);
  e->computeNs = sqlite3_column_int64(pStmt, 4);
  e->nBytes = sqlite3_column_int64(pStmt, 5);
  e->pValue = sqlite3_column_value(pStmt, 6);
  e->refresh = 0;
  e->attempts = 0;
  e->retryAt = 0.0;
  e->aArgs = 0;
  e->nArgs = 0;
  e->aStamp = 0;
  e->nStamp = 0;
  if( sqlite3_column_count(pStmt)>7 ){
    e->refresh = sqlite3_column_int(pStmt, 7);
    e->attempts = sqlite3_column_int(pStmt, 8);
    e->retryAt = sqlite3_column_double(pStmt, 9);
    e->aArgs = (const unsigned char*)sqlite3_column_blob(pStmt, 10);
    e->nArgs = sqlite3_column_bytes(pStmt, 10);
    e->aStamp = (const unsigned char*)sqlite3_column_blob(pStmt, 11);
    e->nStamp = sqlite3_column_bytes(pStmt, 11);
  }
}

/* Fill pEntry from a lookup row (v, subtype, bytes, then created, id and
** refresh, as far as the statement has them, and the stamp last if it has
** it: flags may ask only for what it has) whose subtype column is
** `subtype` (already read: -1 marks the empty-range row): only what a hit
** serves (each column call costs a mutex round trip); other fields are
** unset. */
static void lookupRowToEntry(sqlite3_stmt *pStmt, int subtype, int flags,
                             CachierEntry *pEntry){
  pEntry->pValue = sqlite3_column_value(pStmt, 0);
  pEntry->subtype = CACHIER_COL_SUBTYPE(subtype);
  pEntry->codec = CACHIER_COL_CODEC(subtype);
  if( pEntry->codec ) pEntry->nBytes = sqlite3_column_int64(pStmt, 2);
  if( flags & CACHIER_LOOKUP_CREATED ){
    pEntry->created = sqlite3_column_double(pStmt, 3);
  }
  if( flags & CACHIER_LOOKUP_REFRESH ){
    pEntry->id = sqlite3_column_int64(pStmt, 4);
    pEntry->refresh = sqlite3_column_int(pStmt, 5);
  }
  if( flags & CACHIER_LOOKUP_STAMP ){
    int i = sqlite3_column_count(pStmt) - 1;
    pEntry->aStamp = (const unsigned char*)sqlite3_column_blob(pStmt, i);
    pEntry->nStamp = sqlite3_column_bytes(pStmt, i);
  }
}

/* -------------------------------------------------------------- lookups */

int tablesLookup(CachierStore *pStore, const CachierKey *pKey, int flags,
                 CachierEntry *pEntry, int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  int bStamp = (flags & CACHIER_LOOKUP_STAMP)!=0;
  int bRefresh = (flags & CACHIER_LOOKUP_REFRESH)!=0
              || (bStamp && (flags & CACHIER_LOOKUP_CREATED)!=0);
  int iStmt = bRefresh ? STMT_POINT_REFRESH
            : bStamp ? STMT_POINT_STAMP
            : (flags & CACHIER_LOOKUP_CREATED) ? STMT_POINT_TIMED : STMT_POINT;
  sqlite3_stmt *pStmt;
  int rc, bRest;
  if( s->bGroup ){
    /* Held until xLookupDone(): the row stays in use. */
    storeLock(s);
    s->nSpan++;
    readBegin(s);
  }
  pStmt = tStmt(s, iStmt);
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
        s->nEmptyChanges = sqlite3_total_changes64(s->db);
        return SQLITE_OK;
      }
      /* (a negative subtype in the first slot: a damaged row, a miss) */
    }else if( rc!=SQLITE_DONE ){
      return rc;
    }
    if( bRest ) break;
    tStmtDone(s, iStmt, pStmt);
    iStmt = bRefresh ? STMT_LOOKUP_REFRESH
          : bStamp ? STMT_LOOKUP_STAMP : STMT_LOOKUP;
    pStmt = tStmt(s, iStmt);
    s->pLookup = pStmt;
    s->iLookup = iStmt;
    if( pStmt==0 ) return SQLITE_OK;
  }
  return SQLITE_OK;
}

void tablesLookupDone(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  if( s->pLookup ){
    tStmtDone(s, s->iLookup, s->pLookup);
    s->pLookup = 0;
  }
  if( s->pHeld ){
    sqlite3_reset(s->pHeld);
    if( s->pHeld!=s->pLatestLookup ) tStmtDone(s, STMT_GET, s->pHeld);
    s->pHeld = 0;
  }
  /* (nSpan is only ever above 0 in the thread that holds the lock.) */
  while( s->nSpan>0 ){
    s->nSpan--;
    storeUnlock(s);
  }
}

/* The read-only connection xLookupLatest uses on the user's connection,
** opened on first use. NULL for databases without a file (nobody else
** can write them). */
static sqlite3 *latestDb(TablesStore *s){
  const char *zFile;
  if( s->pLatest ) return s->pLatest;
  zFile = cachierMainFile(s->base.pCachier);
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

/* Close main's writer (store_main.c mainWriter()), if open. */
void tablesWriterClose(TablesStore *s){
  if( s->pWriter ){
    tablesClose(&s->pWriter->base);
    sqlite3_free(s->pWriter->base.zSpec);
    sqlite3_free(s->pWriter);
    s->pWriter = 0;
  }
}

/* Close the connection of latestDb(), if open and not holding a row. */
void tablesLatestClose(TablesStore *s){
  if( s->pLatest==0 || (s->pHeld && s->pHeld==s->pLatestLookup) ) return;
  sqlite3_finalize(s->pLatestLookup);
  s->pLatestLookup = 0;
  sqlite3_close(s->pLatest);
  s->pLatest = 0;
}

/* Without a read transaction open, a lookup starts a new snapshot and
** sees everything committed; inside one (on the user's connection: a
** SELECT over a table of main is running), it would see only that
** snapshot, so the lookup goes through a connection of our own. The
** connections of cachier's own hold no snapshot between calls. */
int tablesLookupLatest(CachierStore *pStore, const CachierKey *pKey,
                       CachierEntry *pEntry, int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  if( s->bOwnDb || sqlite3_txn_state(s->db, "main")==SQLITE_TXN_NONE
   || latestDb(s)==0 ){
    if( s->bGroup ){
      /* After a wait: a new snapshot, to see what was stored meanwhile. */
      storeLock(s);
      readEnd(s);
      storeUnlock(s);
    }
    return tablesLookup(pStore, pKey, CACHIER_LOOKUP_CREATED
             |CACHIER_LOOKUP_REFRESH|CACHIER_LOOKUP_STAMP, pEntry, pFound);
  }
  *pFound = 0;
  pStmt = s->pLatestLookup;
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  s->pHeld = pStmt;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW && sqlite3_column_int(pStmt, 1)>=0 ){
    lookupRowToEntry(pStmt, sqlite3_column_int(pStmt, 1), CACHIER_LOOKUP_CREATED
                     |CACHIER_LOOKUP_REFRESH|CACHIER_LOOKUP_STAMP, pEntry);
    *pFound = 1;
  }
  return rc==SQLITE_ROW || rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* --------------------------------------------------------------- writes */

/* Write the entry once: with SQL_INSERT into the first slot when the last
** lookup saw the key's range empty and this connection changed nothing
** since (nested memoize calls of the function may have), else SQL_WRITE.
** SQLITE_FULL if every slot of the key was taken. */
static int writeOnce(TablesStore *s, const CachierKey *pKey,
                     const CachierWrite *w){
  int bEmpty = s->iEmptyBase==pKey->iBase && pKey->iBase!=0
            && s->nEmptyChanges==sqlite3_total_changes64(s->db);
  int id = bEmpty ? STMT_INSERT : STMT_WRITE;
  sqlite3_stmt *pStmt = tStmt(s, id);
  int rc = SQLITE_OK;
  s->iEmptyBase = 0;
  if( pStmt==0 ) return tStmtError(s);
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  /* The codec rides in the subtype column's high bits (value_codec.c). */
  sqlite3_bind_int(pStmt, 3, CACHIER_COL(w->subtype, w->codec));
  sqlite3_bind_double(pStmt, 4, w->created);
  sqlite3_bind_int64(pStmt, 5, w->computeNs);
  sqlite3_bind_int64(pStmt, 6, cachierValueBytes(w->pValue));
  if( w->codec ){
    sqlite3_bind_blob64(pStmt, 7, w->aStored, w->nStored, SQLITE_STATIC);
  }else{
    /* (A copy, which may fail: then no NULL must be stored for it.) */
    rc = sqlite3_bind_value(pStmt, 7, w->pValue);
  }
  if( w->aArgs ){
    sqlite3_bind_blob64(pStmt, 8, w->aArgs, w->nArgs, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pStmt, 8);
  }
  if( w->aStamp ){
    sqlite3_bind_blob(pStmt, 9, w->aStamp, w->nStamp, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pStmt, 9);
  }
  if( rc==SQLITE_OK ){
    sqlite3_step(pStmt);
    rc = sqlite3_reset(pStmt);
    if( rc==SQLITE_OK && sqlite3_changes(s->db)==0 ) rc = SQLITE_FULL;
  }
  /* Drop references to the caller's buffers. */
  sqlite3_bind_null(pStmt, 2);
  sqlite3_bind_null(pStmt, 7);
  sqlite3_bind_null(pStmt, 8);
  sqlite3_bind_null(pStmt, 9);
  tStmtDone(s, id, pStmt);
  return rc;
}

static int tablesWriteLocked(TablesStore*, const CachierKey*,
                             const CachierWrite*);
int tablesWrite(CachierStore *pStore, const CachierKey *pKey,
                const CachierWrite *w){
  TablesStore *s = (TablesStore*)pStore;
  int rc;
  storeLock(s);
  rc = tablesWriteLocked(s, pKey, w);
  storeUnlock(s);
  return rc;
}
static int tablesWriteLocked(TablesStore *s, const CachierKey *pKey,
                             const CachierWrite *w){
  CachierStore *pStore = &s->base;
  /* The user's last_insert_rowid() must not become a cache row's id. */
  sqlite3_int64 iLastRowid = sqlite3_last_insert_rowid(s->db);
  int rc = SQLITE_OK;
  hotForget(pStore, pKey);
  if( !s->bReady ) rc = storeEnsureTables(pStore);
  if( rc==SQLITE_OK ){
    s->bReady = 1;
    rc = groupBegin(s);
    if( rc ) return rc;
    /* (In a group's transaction, which no schema change can enter.) */
    rc = tablesGuard(s);
    if( rc ) return groupWrote(s, rc, w);
    rc = writeOnce(s, pKey, w);
    if( rc!=SQLITE_OK && rc!=SQLITE_FULL && (rc & 0xff)!=SQLITE_READONLY
     && (rc & 0xff)!=SQLITE_BUSY ){
      /* The tables may have been dropped since (DROP TABLE cachier). */
      s->bReady = 0;
      if( storeEnsureTables(pStore)==SQLITE_OK ){
        s->bReady = 1;
        rc = writeOnce(s, pKey, w);
      }
    }
  }
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  if( !s->bOwnDb ){
    if( rc ){
      rc = mainWriteFailed(s, rc, pKey, w);
    }else if( sqlite3_get_autocommit(s->db) ){
      /* Committed: the user's snapshot, if one is open, is the newest. */
      s->rcWriteErr = 0;
      s->bOldSnapshot = 0;
      s->bLatestVer = tablesVersion(pStore, s->aLatestVer, 1);
    }
  }
  return groupWrote(s, rc, w);
}

/* ----------------------------------------------------------- management */

int tablesClear(
  CachierStore *pStore,
  const char *zFn,            /* function whose entries go; NULL: all */
  sqlite3_int64 *pnDeleted    /* OUT: how many entries were deleted */
){
  TablesStore *s = (TablesStore*)pStore;
  int bHas, rc;
  *pnDeleted = 0;
  beforeWrite(s);
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  rc = runCounted(s, zFn ? ONCE_CLEAR_FN : ONCE_CLEAR_ALL, zFn, pnDeleted);
  return groupEndWrite(s, rc);
}

/* A write other than a cached value: kept statement id, whose ?1 is the
** id of the entry it changes. */
static int writeById(TablesStore *s, int id, sqlite3_int64 iId){
  sqlite3_stmt *pStmt;
  int rc;
  beforeWrite(s);
  rc = tablesGuard(s);
  if( rc ) return rc;
  pStmt = tStmt(s, id);
  if( pStmt==0 ) return tStmtError(s);
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  tStmtDone(s, id, pStmt);
  return groupEndWrite(s, rc);
}

int tablesDelete(CachierStore *pStore, sqlite3_int64 iId){
  return writeById((TablesStore*)pStore, STMT_DELETE_ID, iId);
}

int tablesMarkRefresh(CachierStore *pStore, sqlite3_int64 iId){
  return writeById((TablesStore*)pStore, STMT_MARK_REFRESH, iId);
}

int tablesRefreshFailed(CachierStore *pStore, sqlite3_int64 iId,
                        int attempts, double retryAt){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = tablesGuard(s);
  if( rc==SQLITE_OK ) rc = tOnce(s, ONCE_REFRESH_FAILED, 0, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_bind_int(pStmt, 2, attempts);
  sqlite3_bind_double(pStmt, 3, retryAt);
  sqlite3_step(pStmt);
  return groupEndWrite(s, sqlite3_finalize(pStmt));
}

int tablesRefreshDue(
  CachierStore *pStore,
  const char *zFn,            /* function whose entries to list; NULL: all */
  double now,                 /* due at this time */
  sqlite3_int64 **paId,       /* OUT: their ids (sqlite3_free it) */
  int *pnId                   /* OUT: how many */
){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 *aId = 0;
  int nId = 0, nAlloc = 0, rc, bHas;
  *paId = 0;
  *pnId = 0;
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  rc = tOnce(s, zFn ? ONCE_REFRESH_DUE_FN : ONCE_REFRESH_DUE_ALL, zFn, &pStmt);
  if( rc ) return rc;
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

int tablesGet(CachierStore *pStore, sqlite3_int64 iId, CachierEntry *pEntry,
              int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = tStmt(s, STMT_GET);
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

int tablesEvictionCandidates(
  CachierStore *pStore,
  const char *zFn,            /* function whose entries to list; NULL: all */
  int ePolicy,                /* EVICT_LRU or EVICT_COST */
  double staleBefore,         /* entries created before this come first */
  int nMax,                   /* list no more than this many */
  EvictCandidate **paCand,    /* OUT: the candidates (sqlite3_free it) */
  int *pnCand                 /* OUT: how many */
){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  EvictCandidate *aCand;
  int n = 0, rc;
  *paCand = 0;
  *pnCand = 0;
  aCand = sqlite3_malloc64(sizeof(EvictCandidate)*(nMax>0 ? nMax : 1));
  if( aCand==0 ) return SQLITE_NOMEM;
  if( ePolicy==EVICT_COST ){
    rc = tOnce(s, zFn ? ONCE_EVICT_COST_FN : ONCE_EVICT_COST_ALL, zFn, &pStmt);
  }else{
    rc = tOnce(s, zFn ? ONCE_EVICT_LRU_FN : ONCE_EVICT_LRU_ALL, zFn, &pStmt);
  }
  if( rc ){
    sqlite3_free(aCand);
    return rc;
  }
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

int tablesDeleteOlder(CachierStore *pStore, const char *zFn, double before,
                      sqlite3_int64 *pnDeleted){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc, bHas;
  *pnDeleted = 0;
  beforeWrite(s);
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  rc = tOnce(s, ONCE_DELETE_OLDER_FN, zFn, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_double(pStmt, 5, before);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) *pnDeleted = sqlite3_changes64(s->db);
  return groupEndWrite(s, rc);
}

int tablesScanOpen(CachierStore *pStore, const char *zFn,
                   CachierScan **ppScan){
  TablesStore *s = (TablesStore*)pStore;
  TablesScan *pScan;
  int rc, bHas;
  *ppScan = 0;
  rc = tablesForManagement(s, &bHas);
  if( rc ) return rc;
  pScan = sqlite3_malloc(sizeof(*pScan));
  if( pScan==0 ) return SQLITE_NOMEM;
  pScan->pStmt = 0;
  pScan->pStore = s;
  if( bHas ){
    rc = tOnce(s, zFn ? ONCE_SCAN_FN : ONCE_SCAN_ALL, zFn, &pScan->pStmt);
    if( rc ){
      sqlite3_free(pScan);
      return rc;
    }
  }
  *ppScan = (CachierScan*)pScan;
  return SQLITE_OK;
}

int tablesScanNext(CachierScan *pScan, CachierEntry *pEntry, int *pEof){
  TablesScan *s = (TablesScan*)pScan;
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

void tablesScanClose(CachierScan *pScan){
  TablesScan *s = (TablesScan*)pScan;
  if( s ){
    sqlite3_finalize(s->pStmt);
    sqlite3_free(s);
  }
}

int tablesTotals(
  CachierStore *pStore,
  const char *zFn,            /* that function's totals only; NULL: all */
  StoreTotal **paTotal,       /* OUT: one per function (storeFreeTotals()) */
  int *pnTotal                /* OUT: how many */
){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  StoreTotal *a = 0;
  int n = 0, nAlloc = 0, bHas;
  int rc = tablesForManagement(s, &bHas);
  *paTotal = 0;
  *pnTotal = 0;
  if( rc || !bHas ) return rc;
  rc = tOnce(s, zFn ? ONCE_TOTALS_FN : ONCE_TOTALS_ALL, zFn, &pStmt);
  if( rc ) return rc;
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    if( sqlite3_column_type(pStmt, 0)!=SQLITE_TEXT ) continue;
    if( n==nAlloc ){
      StoreTotal *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 8;
      aNew = sqlite3_realloc64(a, nAlloc*sizeof(a[0]));
      if( aNew==0 ){ rc = SQLITE_NOMEM; break; }
      a = aNew;
    }
    a[n].zFn = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
    if( a[n].zFn==0 ){ rc = SQLITE_NOMEM; break; }
    a[n].nEntries = sqlite3_column_int64(pStmt, 1);
    a[n].nBytes = sqlite3_column_int64(pStmt, 2);
    a[n].avgComputeSeconds = sqlite3_column_double(pStmt, 3);
    a[n].nStoredBytes = sqlite3_column_int64(pStmt, 4);
    n++;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  if( rc ){
    storeFreeTotals(a, n);
    return rc;
  }
  *paTotal = a;
  *pnTotal = n;
  return SQLITE_OK;
}

/* --------------------------------------------------------- dictionaries */

int tablesDictLatest(
  CachierStore *pStore,
  const char *zFn,            /* whose dictionary */
  sqlite3_int64 *piId,        /* OUT: the newest's id, 0 if none */
  unsigned *pZstdId           /* OUT: its zstd dictionary id */
){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = tStmt(s, STMT_DICT_ID);
  int rc;
  *piId = 0;
  *pZstdId = 0;
  if( pStmt==0 ) return SQLITE_OK;     /* no tables (yet) */
  rc = sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW
   && sqlite3_column_bytes(pStmt, 1)==4 ){
    /* A zstd dictionary's header: magic, then its id (little-endian). */
    const unsigned char *a = sqlite3_column_blob(pStmt, 1);
    *piId = sqlite3_column_int64(pStmt, 0);
    *pZstdId = (unsigned)a[0] | (unsigned)a[1]<<8
             | (unsigned)a[2]<<16 | (unsigned)a[3]<<24;
  }
  tStmtDone(s, STMT_DICT_ID, pStmt);
  return rc;
}

int tablesDictLoad(
  CachierStore *pStore,
  sqlite3_int64 iId,          /* the dictionary's id */
  void **ppDict,              /* OUT: its bytes (sqlite3_free it) */
  sqlite3_int64 *pnDict       /* OUT: how many */
){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  *ppDict = 0;
  *pnDict = 0;
  rc = tOnce(s, ONCE_DICT_LOAD, 0, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  if( sqlite3_step(pStmt)==SQLITE_ROW && sqlite3_column_bytes(pStmt, 0)>0 ){
    sqlite3_int64 n = sqlite3_column_bytes(pStmt, 0);
    void *a = sqlite3_malloc64(n);
    if( a ){
      memcpy(a, sqlite3_column_blob(pStmt, 0), (size_t)n);
      *ppDict = a;
      *pnDict = n;
    }else{
      rc = SQLITE_NOMEM;
    }
  }
  sqlite3_finalize(pStmt);
  return rc;
}

int tablesDictAdd(CachierStore *pStore, const char *zFn, const void *aDict,
                  sqlite3_int64 nDict, int nSample, double created,
                  sqlite3_int64 *piId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_int64 iLastRowid = sqlite3_last_insert_rowid(s->db);
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = storeEnsureTables(pStore);
  *piId = 0;
  if( rc==SQLITE_OK ){
    rc = tOnce(s, ONCE_DICT_ADD, 0, &pStmt);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
    if( rc==SQLITE_OK ){
      rc = sqlite3_bind_blob64(pStmt, 2, aDict, nDict, SQLITE_STATIC);
    }
    sqlite3_bind_int(pStmt, 3, nSample);
    sqlite3_bind_double(pStmt, 4, created);
    if( rc==SQLITE_OK ){
      sqlite3_step(pStmt);
      rc = sqlite3_finalize(pStmt);
    }else{
      sqlite3_finalize(pStmt);
    }
  }
  if( rc==SQLITE_OK ) *piId = sqlite3_last_insert_rowid(s->db);
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  return groupEndWrite(s, rc);
}

int tablesDictDelete(CachierStore *pStore, sqlite3_int64 iId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = tablesGuard(s);
  if( rc==SQLITE_OK ) rc = tOnce(s, ONCE_DICT_DELETE, 0, &pStmt);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  return groupEndWrite(s, sqlite3_finalize(pStmt));
}

/* ------------------------------------------------------------ lifecycle */

const char *tablesPath(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  const char *z;
  if( !s->bOwnDb ) return cachierMainFile(pStore->pCachier);
  z = sqlite3_db_filename(s->db, "main");
  return z && z[0] && pStore->zLockDb ? z : 0;
}

void tablesClose(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  int i;
  if( s->bGroup ) groupClose(s);
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(s->aStmt[i]);
  sqlite3_finalize(s->pLatestLookup);
  sqlite3_close(s->pLatest);
  tablesWriterClose(s);
  sqlite3_free(s->zWriteErr);
  if( s->bOwnDb ) sqlite3_close(s->db);
  sqlite3_free(s->zRefused);
}

int tablesDataVersion(CachierStore *pStore, sqlite3_int64 *pV){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  storeLock(s);
  pStmt = tStmt(s, STMT_DB_VERSION);
  if( pStmt==0 ){
    storeUnlock(s);
    return SQLITE_ERROR;
  }
  rc = sqlite3_step(pStmt);
  *pV = sqlite3_column_int64(pStmt, 0);
  tStmtDone(s, STMT_DB_VERSION, pStmt);
  storeUnlock(s);
  return rc==SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR;
}

/* A tables store's name says only where its tables are (its canonical
** name): nothing else to apply. */
void tablesReconfigure(CachierStore *pStore, const char *zSpec){
  (void)pStore; (void)zSpec;
}

/* A tables store counts no failures of its own (its errors are the
** callers'). */
void tablesStatus(CachierStore *pStore, CachierStoreStatus *pStatus){
  (void)pStore;
  memset(pStatus, 0, sizeof(*pStatus));
}

const CachierStoreVersions tablesVersions = {
  .xVersion = tablesVersion,
  .xVersionIs = tablesVersionIs,
  .xMayFill = tablesMayFill,
  .xDataVersion = tablesDataVersion,
  .xNoteSnapshot = tablesNoteSnapshot,
  .xNoteStatementEnd = tablesNoteStatementEnd,
};

const CachierStoreMethods tablesMethods = {
  TABLES_METHODS,
};

CachierStore *tablesStoreNew(Cachier *p, sqlite3 *db, int bOwnDb, int bGroup,
                             const char *zSpec){
  TablesStore *s = sqlite3_malloc(sizeof(*s));
  if( s==0 ) return 0;
  memset(s, 0, sizeof(*s));
  s->base.pMethods = bGroup ? &tablesGroupMethods
                   : bOwnDb ? &tablesMethods : &tablesMainMethods;
  s->base.pCachier = p;
  s->base.zSpec = sqlite3_mprintf("%s", zSpec);
  s->db = db;
  s->bOwnDb = bOwnDb;
  s->bGroup = bGroup;
  if( s->base.zSpec==0 ){
    sqlite3_free(s);
    return 0;
  }
  if( bGroup ) groupInit(s);
  return &s->base;
}

void storeFreeTotals(StoreTotal *a, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_free(a[i].zFn);
  sqlite3_free(a);
}
