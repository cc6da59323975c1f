/*
** store_tables.c - the SQL of a store's tables, shared by every store that
** keeps cachier's tables in an SQLite database: main (the user's
** connection), file: and memory (connections of cachier's own).
**
** No SQL surface of its own. The tables (sql/schema.sql) belong to the
** virtual table main.cachier (vtab_schema.c) of the store's database,
** created on the first write.
**
** On the user's connection, writes join the caller's transaction and roll
** back with it. On a connection of cachier's own, each write commits on
** its own, or, for a grouping store (store_file.c), into a transaction
** that stays open over up to GROUP_MAX_WRITES writes or GROUP_MAX_AGE_NS
** (a flusher thread commits it then; the store's lock keeps it and the
** user's thread apart). The in-flight marks of its keys are held until
** then, so another process that waits for a key finds it stored.
**
** A key owns the rowids [iBase, iBase+CACHIER_ID_LAST_SLOT]: the entry of a key is the row
** of that range whose k equals the key; a colliding key takes the
** first free rowid of the range. A hit is normally a rowid point lookup of
** the first one.
*/
#include "store.h"
#include "schema_sql.h"
#include <pthread.h>
#include <string.h>
#include <time.h>

#define GROUP_MAX_WRITES 256
#define GROUP_MAX_BYTES  (1<<20)
#define GROUP_MAX_AGE_NS 10000000   /* 10 ms */


struct TablesStore {
  CachierStore base;
  sqlite3 *db;                /* the database holding the tables */
  int bOwnDb;                 /* db is cachier's own (closed with the store) */
  int bGroup;                 /* group writes into transactions */
  sqlite3_stmt *aStmt[STMT_COUNT]; /* kept statements (own db only) */
  int inGroup;                /* a group transaction is open */
  int nGroup;                 /* writes in it */
  sqlite3_int64 nGroupBytes;
  sqlite3_int64 groupStartNs;
  sqlite3_file *pJournalSeen; /* main's journal/WAL file when last checked */
  const volatile unsigned char *pShm; /* its WAL index, NULL: not WAL */
  /* Grouping stores only: a thread of cachier's commits a group that grew
  ** old, so an idle process never keeps its group (and the file's write
  ** lock) open. Everything that touches db or the group holds mutex
  ** (recursive: store methods nest). */
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  pthread_t flusher;
  int bFlusher;               /* the thread runs */
  int bStop;                  /* it must stop */
  int nSpan;                  /* locks held from xLookup/xGet to xLookupDone */
  int bHotStale;              /* a group rolled back: empty the hot tier */
  int inRead;                 /* a read transaction spans this statement */
  sqlite3_int64 readStartNs;
  unsigned char aSnapVer[STORE_VERSION_BYTES]; /* version when the read */
  int bSnapVer;               /* snapshot in use began (hot tier fills) */
  unsigned char aReadVer[STORE_VERSION_BYTES]; /* version when the shared */
  int bReadVer;               /* read snapshot began, if known */
  InflightLock *aDeferred;    /* marks released when the group commits */
  int nDeferred, nDeferredAlloc;
  sqlite3_stmt *pLookup;      /* statement holding the current lookup row */
  int iLookup;                /* its STMT_* id */
  sqlite3_int64 iEmptyBase;   /* last lookup saw this key range empty ... */
  sqlite3_int64 nEmptyChanges;/* ... when total_changes was this */
  int bReady;                 /* tables known to exist on this connection */
  sqlite3 *pLatest;           /* read-only connection for xLookupLatest */
  sqlite3_stmt *pLatestLookup;
  sqlite3_stmt *pHeld;        /* statement holding the row xGet returned */
};

typedef struct TablesScan TablesScan;
struct TablesScan {
  sqlite3_stmt *pStmt;
  TablesStore *pStore;
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
#define LAST_SLOT         CACHIER_STR(CACHIER_ID_LAST_SLOT)
#define LAST_SLOT_BUT_ONE "(" LAST_SLOT "-1)"
#define LOOKUP_COLUMNS         "v, subtype, created, bytes"
#define LOOKUP_REFRESH_COLUMNS LOOKUP_COLUMNS ", id, refresh"
#define SQL_POINT_OF(cols) \
  "SELECT " cols " FROM main.cachier_data WHERE id=?1 AND k=?2"
#define SQL_REST_OF(cols, nulls) \
  "SELECT " cols " FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1+1 AND ?1+" LAST_SLOT " AND k=?2" \
  " UNION ALL" \
  " SELECT " nulls " WHERE NOT EXISTS (SELECT 1 FROM main.cachier_data" \
  "  WHERE id BETWEEN ?1 AND ?1+" LAST_SLOT ")"
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
  "    WHERE id BETWEEN ?1 AND ?1+" LAST_SLOT " AND k=?2)," \
  "  (SELECT ?1 WHERE NOT EXISTS" \
  "    (SELECT 1 FROM main.cachier_data WHERE id=?1))," \
  "  (SELECT min(a.id)+1 FROM main.cachier_data a" \
  "    WHERE a.id BETWEEN ?1 AND ?1+" LAST_SLOT_BUT_ONE " AND NOT EXISTS" \
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
  pEntry->subtype = CACHIER_COL_SUBTYPE(subtype);
  pEntry->codec = CACHIER_COL_CODEC(subtype);
  if( pEntry->codec ) pEntry->nBytes = sqlite3_column_int64(pStmt, 3);
  if( flags & CACHIER_LOOKUP_CREATED ){
    pEntry->created = sqlite3_column_double(pStmt, 2);
  }
  if( flags & CACHIER_LOOKUP_REFRESH ){
    pEntry->id = sqlite3_column_int64(pStmt, 4);
    pEntry->refresh = sqlite3_column_int(pStmt, 5);
  }
}


/* ------------------------------------------------------------ statements */

/* A prepared statement of the store's database: on the user's connection
** the connection's kept ones (cachierStmt()), on one of cachier's own the
** store's, kept for the life of the store. */
static sqlite3_stmt *tStmt(TablesStore *s, int id, const char *zSql){
  if( !s->bOwnDb ) return cachierStmt(s->base.pCachier, id, zSql);
  return stmtKept(s->db, &s->aStmt[id], 1, zSql);
}

static void tStmtDone(TablesStore *s, int id, sqlite3_stmt *pStmt){
  if( !s->bOwnDb ) cachierStmtDone(s->base.pCachier, id, pStmt);
  else stmtKeptDone(s->aStmt[id], pStmt);
}

/* --------------------------------------------------------------- groups */

/* How old a group may grow (test builds may change it, so that tests of
** grouping do not depend on timing). */
static sqlite3_int64 groupMaxAgeNs(TablesStore *s){
#ifdef CACHIER_TEST
  sqlite3_int64 n = __atomic_load_n(&s->base.pCachier->testGroupAgeNs,
                                    __ATOMIC_RELAXED);
  if( n>0 ) return n;
#else
  (void)s;
#endif
  return GROUP_MAX_AGE_NS;
}

/* Run one of the transaction statements kept for a connection of
** cachier's own. */
static int runKept(TablesStore *s, int id, const char *zSql){
  sqlite3_stmt *pStmt = tStmt(s, id, zSql);
  int rc;
  if( pStmt==0 ) return sqlite3_errcode(s->db) ? sqlite3_errcode(s->db)
                                               : SQLITE_ERROR;
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  tStmtDone(s, id, pStmt);
  return rc;
}

static void storeLock(TablesStore *s){
  if( s->bGroup ) pthread_mutex_lock(&s->mutex);
}
static void storeUnlock(TablesStore *s){
  if( s->bGroup ) pthread_mutex_unlock(&s->mutex);
}

/* End the read transaction a statement's lookups share (grouping stores:
** one snapshot, and one set of WAL read locks, per statement instead of
** per lookup). */
static void readEnd(TablesStore *s){
  s->bSnapVer = 0;
  if( s->inRead ){
    s->inRead = 0;
    if( !s->inGroup && sqlite3_get_autocommit(s->db)==0
     && runKept(s, STMT_COMMIT, "COMMIT")!=SQLITE_OK ){
      /* (Never left inside a transaction: later writes begin their own.) */
      sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
    }
  }
}

/* Commit the open group (if any) and release the marks it held. A failed
** commit rolls the group back: those values are simply not cached (and
** the hot tier, which may hold some, is emptied). bThread: called by the
** flusher, which logs straight to sqlite3_log(). */
static int groupCommit(TablesStore *s, int bThread){
  int rc = SQLITE_OK, i;
  if( s->inGroup ){
    s->inGroup = 0;
    rc = runKept(s, STMT_COMMIT, "COMMIT");
    if( rc ){
      if( bThread ){
        sqlite3_log(rc, "cachier: cannot commit %d cached values to %s (%s)",
                    s->nGroup, s->base.zSpec, sqlite3_errmsg(s->db));
      }else{
        cachierLog(s->base.pCachier, "cachier: cannot commit %d cached "
                   "values to %s (%s)", s->nGroup, s->base.zSpec,
                   sqlite3_errmsg(s->db));
      }
      sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
      __atomic_store_n(&s->bHotStale, 1, __ATOMIC_RELEASE);
    }
    s->nGroup = 0;
    s->nGroupBytes = 0;
    s->inRead = 0;
  }
  for(i=0; i<s->nDeferred; i++) inflightUnlockLater(&s->aDeferred[i]);
  s->nDeferred = 0;
  return rc;
}

static int tablesFlush(CachierStore *pStore, int *pnCommitted){
  TablesStore *s = (TablesStore*)pStore;
  int rc, n;
  storeLock(s);
  n = s->nGroup;
  rc = groupCommit(s, 0);
  storeUnlock(s);
  if( pnCommitted ) *pnCommitted = rc ? 0 : n;
  return rc;
}

/* The statement that used the store ended: so does its read snapshot. */
static void tablesStatementEnd(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  storeLock(s);
  readEnd(s);
  storeUnlock(s);
}

/* A group or a shared read snapshot older than GROUP_MAX_AGE_NS ends at
** the next call (the flusher ends idle groups). */
static void tablesTick(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_int64 now = cachierMonotonicNs();
  storeLock(s);
  if( s->inGroup && now - s->groupStartNs >= groupMaxAgeNs(s) ){
    groupCommit(s, 0);
  }
  if( s->inRead && now - s->readStartNs >= groupMaxAgeNs(s) ) readEnd(s);
  storeUnlock(s);
}

/* The flusher: commits a group once it is GROUP_MAX_AGE_NS old. */
static void *flusherMain(void *pArg){
  TablesStore *s = (TablesStore*)pArg;
  pthread_mutex_lock(&s->mutex);
  while( !s->bStop ){
    if( s->inGroup ){
      sqlite3_int64 due = s->groupStartNs + groupMaxAgeNs(s);
      sqlite3_int64 now = cachierMonotonicNs();
      if( now>=due ){
        groupCommit(s, 1);
      }else{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += (time_t)((due-now)/1000000000);
        ts.tv_nsec += (long)((due-now)%1000000000);
        if( ts.tv_nsec>=1000000000 ){ ts.tv_sec++; ts.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&s->cond, &s->mutex, &ts);
      }
    }else{
      pthread_cond_wait(&s->cond, &s->mutex);
    }
  }
  pthread_mutex_unlock(&s->mutex);
  return 0;
}

/* Before a write of a grouping store: open a group if none is (ending
** the statement's read snapshot: a write starts from the latest). */
static int groupBegin(TablesStore *s){
  int rc;
  if( !s->bGroup || s->inGroup ) return SQLITE_OK;
  readEnd(s);
  rc = runKept(s, STMT_BEGIN_IMMEDIATE, "BEGIN IMMEDIATE");
  if( rc ) return rc;
  s->inGroup = 1;
  s->groupStartNs = cachierMonotonicNs();
  if( !s->bFlusher ){
    s->bFlusher = pthread_create(&s->flusher, 0, flusherMain, s)==0;
  }
  pthread_cond_signal(&s->cond);
  return SQLITE_OK;
}

/* Before a write other than a cached value (clear, delete, a refresh
** mark): start from the latest state. */
static void beforeWrite(TablesStore *s){
  readEnd(s);
}

/* After it: it must not wait for the group. */
static int groupEndWrite(TablesStore *s, int rc){
  int rc2;
  hotClear(&s->base);
  rc2 = groupCommit(s, 0);
  return rc ? rc : rc2;
}

static void tablesMarkDone(CachierStore *pStore, InflightLock *pLock,
                           int bWrote){
  TablesStore *s = (TablesStore*)pStore;
  if( pLock->off<0 ) return;
  storeLock(s);
  if( bWrote && s->inGroup ){
    if( s->nDeferred==s->nDeferredAlloc ){
      int nNew = s->nDeferredAlloc ? s->nDeferredAlloc*2 : 16;
      InflightLock *aNew = sqlite3_realloc64(s->aDeferred,
                                             nNew*sizeof(aNew[0]));
      if( aNew==0 ){
        storeUnlock(s);
        inflightRelease(pLock);
        return;
      }
      s->aDeferred = aNew;
      s->nDeferredAlloc = nNew;
    }
    /* The bookkeeping now (this thread's), the unlock at the commit. */
    inflightForget(pLock);
    s->aDeferred[s->nDeferred++] = *pLock;
    pLock->off = -1;
    storeUnlock(s);
    return;
  }
  storeUnlock(s);
  inflightRelease(pLock);
}

static int tablesVersion(CachierStore*, unsigned char*, int);

/* -------------------------------------------------------------- lookups */

static int tablesLookup(CachierStore *pStore, const CachierKey *pKey,
                        int flags, CachierEntry *pEntry, int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  int bRefresh = (flags & CACHIER_LOOKUP_REFRESH)!=0;
  int iStmt = bRefresh ? STMT_POINT_REFRESH : STMT_POINT;
  sqlite3_stmt *pStmt;
  int rc, bRest;
  if( s->bGroup ){
    /* Held until xLookupDone(): the row stays in use. */
    storeLock(s);
    s->nSpan++;
    if( !s->inGroup && !s->inRead && sqlite3_get_autocommit(s->db) ){
      /* The statement's lookups share one read transaction. */
      /* (The version first: the snapshot will be at least as new.) */
      s->bReadVer = tablesVersion(&s->base, s->aReadVer, 0);
      if( runKept(s, STMT_BEGIN, "BEGIN")==SQLITE_OK ){
        s->inRead = 1;
        s->readStartNs = cachierMonotonicNs();
      }
    }
  }
  pStmt = tStmt(s, iStmt, bRefresh ? SQL_POINT_REFRESH : SQL_POINT);
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
    iStmt = bRefresh ? STMT_LOOKUP_REFRESH : STMT_LOOKUP;
    pStmt = tStmt(s, iStmt, bRefresh ? SQL_REST_REFRESH : SQL_REST);
    s->pLookup = pStmt;
    s->iLookup = iStmt;
    if( pStmt==0 ) return SQLITE_OK;
  }
  return SQLITE_OK;
}

static void tablesLookupDone(CachierStore *pStore){
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

/* Without a read transaction open, a lookup starts a new snapshot and
** sees everything committed; inside one (on the user's connection: a
** SELECT over a table of main is running), it would see only that
** snapshot, so the lookup goes through a connection of our own. The
** connections of cachier's own hold no snapshot between calls. */
static int tablesLookupLatest(CachierStore *pStore, const CachierKey *pKey,
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
    return tablesLookup(pStore, pKey,
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
  sqlite3_stmt *pStmt = tStmt(s, id, bEmpty ? SQL_INSERT : SQL_WRITE);
  int rc;
  s->iEmptyBase = 0;
  if( pStmt==0 ) return sqlite3_errcode(s->db) ? sqlite3_errcode(s->db)
                                               : SQLITE_ERROR;
  sqlite3_bind_int64(pStmt, 1, pKey->iBase);
  sqlite3_bind_blob64(pStmt, 2, pKey->aKey, pKey->nKey, SQLITE_STATIC);
  /* The codec rides in the subtype column's high bits (compress.c). */
  sqlite3_bind_int(pStmt, 3, CACHIER_COL(w->subtype, w->codec));
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
  if( rc==SQLITE_OK && sqlite3_changes(s->db)==0 ) rc = SQLITE_FULL;
  /* Drop references to the caller's buffers. */
  sqlite3_bind_null(pStmt, 2);
  sqlite3_bind_null(pStmt, 7);
  sqlite3_bind_null(pStmt, 8);
  tStmtDone(s, id, pStmt);
  return rc;
}

static int tablesWriteLocked(TablesStore*, const CachierKey*,
                             const CachierWrite*);
static int tablesWrite(CachierStore *pStore, const CachierKey *pKey,
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
  if( !s->bReady ) rc = storeEnsureTables(pStore);
  if( rc ) return rc;
  s->bReady = 1;
  rc = groupBegin(s);
  if( rc ) return rc;
  hotForget(pStore, pKey);
  rc = writeOnce(s, pKey, w);
  if( rc!=SQLITE_OK && rc!=SQLITE_FULL && (rc & 0xff)!=SQLITE_READONLY ){
    /* The tables may have been dropped since (DROP TABLE cachier). */
    s->bReady = 0;
    if( storeEnsureTables(pStore)==SQLITE_OK ){
      s->bReady = 1;
      rc = writeOnce(s, pKey, w);
    }
  }
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  if( s->inGroup ){
    if( rc==SQLITE_OK ){
      s->nGroup++;
      s->nGroupBytes += w->codec ? w->nStored : cachierValueBytes(w->pValue);
    }
    if( s->nGroup>=GROUP_MAX_WRITES || s->nGroupBytes>=GROUP_MAX_BYTES ){
      int rc2 = groupCommit(s, 0);
      if( rc==SQLITE_OK ) rc = rc2;
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
static int runCounted(TablesStore *s, const char *zSql, const char *zFn,
                      sqlite3_int64 *pn){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(s->db, zSql, -1, &pStmt, 0);
  if( rc ) return rc;
  if( zFn ) bindFnRange(pStmt, zFn);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( pn ) *pn = rc==SQLITE_OK ? sqlite3_changes64(s->db) : 0;
  return rc;
}

/* ---------------------------------------------------- schema and state */

/* The schema_version recorded in main.cachier_info, 0 if none. */
int storeSchemaVersion(sqlite3 *db){
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

/* Upgrade an older store to the current version, all or nothing, one
** version at a time. A store that cannot be written (read-only file) stays
** as it is and is not used: this build reads and writes only its own
** layout. */
static int tablesMigrate(TablesStore *s){
  static const char *const azStep[] = {
    0, cachierMigrate1To2Sql, cachierMigrate2To3Sql
  };
  Cachier *p = s->base.pCachier;
  char *zErr = 0;
  int rc, v0 = storeSchemaVersion(s->db), v;
  if( v0<1 || v0>=CACHIER_SCHEMA_VERSION ) return SQLITE_MISMATCH;
  rc = sqlite3_exec(s->db, "SAVEPOINT cachier_migrate", 0, 0, 0);
  if( rc ) return rc;
  for(v=v0; rc==SQLITE_OK && v<CACHIER_SCHEMA_VERSION; v++){
    rc = sqlite3_exec(s->db, azStep[v], 0, 0, &zErr);
  }
  if( rc ) sqlite3_exec(s->db, "ROLLBACK TO cachier_migrate", 0, 0, 0);
  sqlite3_exec(s->db, "RELEASE cachier_migrate", 0, 0, 0);
  if( rc ){
    cachierLog(p, "cachier: cannot upgrade the cache in %s from schema "
               "version %d to %d (%s); computing without it", s->base.zSpec,
               v0, CACHIER_SCHEMA_VERSION, zErr ? zErr : sqlite3_errstr(rc));
  }else{
    cachierLog(p, "cachier: upgraded the cache in %s from schema version %d "
               "to %d", s->base.zSpec, v0, CACHIER_SCHEMA_VERSION);
    p->settingsGen++;
  }
  sqlite3_free(zErr);
  return rc;
}

/* The state of the store's tables: STORE_ABSENT (none yet), STORE_READY,
** STORE_NEWER (written by a newer schema version, which this build must
** neither read nor write) or STORE_OLD. Errors (a locked database) are
** returned as such. */
static int tablesState(CachierStore *pStore, int *peState){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc, v;
  *peState = STORE_ABSENT;
  rc = sqlite3_prepare_v2(s->db, "SELECT 1 FROM main.sqlite_schema"
        " WHERE type='table' AND name='cachier_info'", -1, &pStmt, 0);
  if( rc ) return rc;
  rc = sqlite3_step(pStmt);
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  if( rc!=SQLITE_ROW ) return sqlite3_errcode(s->db);
  v = storeSchemaVersion(s->db);
  if( v>CACHIER_SCHEMA_VERSION ){
    *peState = STORE_NEWER;
  }else if( v<CACHIER_SCHEMA_VERSION ){
    *peState = tablesMigrate(s)==SQLITE_OK ? STORE_READY : STORE_OLD;
  }else{
    *peState = STORE_READY;
  }
  return SQLITE_OK;
}

/* SQLITE_MISMATCH from a store method means an unusable layout: say which;
** anything else is the store connection's own error. */
static const char *tablesErrmsg(CachierStore *pStore, int rc){
  TablesStore *s = (TablesStore*)pStore;
  if( rc!=SQLITE_MISMATCH ) return sqlite3_errmsg(s->db);
  return storeSchemaVersion(s->db)>CACHIER_SCHEMA_VERSION
       ? CACHIER_NEWER_SCHEMA_MSG : CACHIER_OLD_SCHEMA_MSG;
}

/* tablesState() for explicit management calls: SQLITE_OK with *pbHas,
** or an error (SQLITE_MISMATCH for a layout this build cannot use). */
static int tablesForManagement(TablesStore *s, int *pbHas){
  int eState;
  int rc = tablesState(&s->base, &eState);
  *pbHas = eState==STORE_READY;
  if( rc==SQLITE_OK && (eState==STORE_NEWER || eState==STORE_OLD) ){
    rc = SQLITE_MISMATCH;
  }
  return rc;
}

/* Create main.cachier (and so its tables) if it does not exist. */
int storeEnsureTables(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_int64 iLastRowid;
  int eState;
  int rc = tablesState(pStore, &eState);
  if( rc ) return rc;
  if( eState==STORE_READY ) return SQLITE_OK;
  if( eState==STORE_NEWER || eState==STORE_OLD ) return SQLITE_MISMATCH;
  iLastRowid = sqlite3_last_insert_rowid(s->db);
  rc = sqlite3_exec(s->db,
      "CREATE VIRTUAL TABLE IF NOT EXISTS main.cachier USING cachier",
      0, 0, 0);
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  return rc;
}

/* Run sql/schema.sql (called from the module's xCreate). */
int storeCreateTables(sqlite3 *db, char **pzErr){
  return sqlite3_exec(db, cachierSchemaSql, 0, 0, pzErr);
}

int storeDropTables(sqlite3 *db){
  return sqlite3_exec(db,
      "DROP TABLE IF EXISTS main.cachier_data;"
      "DROP TABLE IF EXISTS main.cachier_dict;"
      "DROP TABLE IF EXISTS main.cachier_config;"
      "DROP TABLE IF EXISTS main.cachier_info;", 0, 0, 0);
}

/* ----------------------------------------------------------- management */

static int tablesClear(CachierStore *pStore, const char *zFn,
                       sqlite3_int64 *pnDeleted){
  TablesStore *s = (TablesStore*)pStore;
  int bHas, rc;
  *pnDeleted = 0;
  beforeWrite(s);
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  if( zFn ){
    rc = runCounted(s, "DELETE FROM main.cachier_data " WHERE_FN, zFn,
                    pnDeleted);
  }else{
    rc = runCounted(s, "DELETE FROM main.cachier_data", 0, pnDeleted);
  }
  return groupEndWrite(s, rc);
}

static int tablesDelete(CachierStore *pStore, sqlite3_int64 iId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  beforeWrite(s);
  pStmt = tStmt(s, STMT_DELETE_ID, SQL_DELETE_ID);
  if( pStmt==0 ) return sqlite3_errcode(s->db);
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  tStmtDone(s, STMT_DELETE_ID, pStmt);
  return groupEndWrite(s, rc);
}

static int tablesMarkRefresh(CachierStore *pStore, sqlite3_int64 iId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  beforeWrite(s);
  pStmt = tStmt(s, STMT_MARK_REFRESH, SQL_MARK_REFRESH);
  if( pStmt==0 ) return sqlite3_errcode(s->db) ? sqlite3_errcode(s->db)
                                               : SQLITE_ERROR;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  tStmtDone(s, STMT_MARK_REFRESH, pStmt);
  return groupEndWrite(s, rc);
}

static int tablesRefreshFailed(CachierStore *pStore, sqlite3_int64 iId,
                               int attempts, double retryAt){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = sqlite3_prepare_v2(s->db, SQL_REFRESH_FAILED, -1, &pStmt, 0);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_bind_int(pStmt, 2, attempts);
  sqlite3_bind_double(pStmt, 3, retryAt);
  sqlite3_step(pStmt);
  return groupEndWrite(s, sqlite3_finalize(pStmt));
}

static int tablesRefreshDue(CachierStore *pStore, const char *zFn,
                            double now, sqlite3_int64 **paId, int *pnId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  sqlite3_int64 *aId = 0;
  int nId = 0, nAlloc = 0, rc, bHas;
  *paId = 0;
  *pnId = 0;
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  rc = sqlite3_prepare_v2(s->db, zFn
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

static int tablesGet(CachierStore *pStore, sqlite3_int64 iId,
                     CachierEntry *pEntry, int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = tStmt(s, STMT_GET, SQL_GET);
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

static int tablesEvictionCandidates(CachierStore *pStore, const char *zFn,
                                    int ePolicy, double staleBefore, int nMax,
                                    EvictCandidate **paCand, int *pnCand){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  EvictCandidate *aCand;
  int n = 0, rc;
  char *zSql;
  *paCand = 0;
  *pnCand = 0;
  aCand = sqlite3_malloc64(sizeof(EvictCandidate)*(nMax>0 ? nMax : 1));
  if( aCand==0 ) return SQLITE_NOMEM;
  zSql = sqlite3_mprintf(
      "SELECT id, CASE WHEN subtype>" CACHIER_STR(CACHIER_COL_SUBTYPE_MAX)
      " THEN length(v) ELSE bytes END AS st,"
      " %s, created < ?5 AS stale FROM main.cachier_data %s"
      " ORDER BY stale DESC, %s LIMIT ?6",
      zFn ? "NULL" : "CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT)",
      zFn ? WHERE_FN : "",
      ePolicy==EVICT_COST ? "compute_ns*1.0/max(st, 1), created" : "created");
  rc = zSql ? sqlite3_prepare_v2(s->db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
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

static int tablesDeleteOlder(CachierStore *pStore, const char *zFn,
                             double before, sqlite3_int64 *pnDeleted){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc, bHas;
  *pnDeleted = 0;
  beforeWrite(s);
  rc = tablesForManagement(s, &bHas);
  if( rc || !bHas ) return rc;
  rc = sqlite3_prepare_v2(s->db, "DELETE FROM main.cachier_data " WHERE_FN
                          " AND created<?5", -1, &pStmt, 0);
  if( rc ) return rc;
  bindFnRange(pStmt, zFn);
  sqlite3_bind_double(pStmt, 5, before);
  sqlite3_step(pStmt);
  rc = sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) *pnDeleted = sqlite3_changes64(s->db);
  return groupEndWrite(s, rc);
}

static int tablesScanOpen(CachierStore *pStore, const char *zFn,
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
    rc = sqlite3_prepare_v2(s->db, zFn
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

static int tablesScanNext(CachierScan *pScan, CachierEntry *pEntry,
                          int *pEof){
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

static void tablesScanClose(CachierScan *pScan){
  TablesScan *s = (TablesScan*)pScan;
  if( s ){
    sqlite3_finalize(s->pStmt);
    sqlite3_free(s);
  }
}

/* Rows (fn, entries, bytes, average compute seconds, stored bytes) per
** function (of zFn only, if not NULL). */
static int tablesTotals(CachierStore *pStore, const char *zFn,
                        StoreTotal **paTotal, int *pnTotal){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  StoreTotal *a = 0;
  int n = 0, nAlloc = 0, bHas;
  int rc = tablesForManagement(s, &bHas);
  *paTotal = 0;
  *pnTotal = 0;
  if( rc || !bHas ) return rc;
#define TOTALS_OF(where) \
      "SELECT CAST(substr(k, 1, instr(k, x'00')-1) AS TEXT) AS fn," \
      " count(*), sum(bytes), avg(compute_ns)*1e-9," \
      " sum(CASE WHEN subtype>" CACHIER_STR(CACHIER_COL_SUBTYPE_MAX) \
  " THEN length(v) ELSE bytes END)" \
      " FROM main.cachier_data " where " GROUP BY fn"
  /* One function's totals read only its rowid range. */
  rc = sqlite3_prepare_v2(s->db, zFn ? TOTALS_OF(WHERE_FN) : TOTALS_OF(""),
                          -1, &pStmt, 0);
  if( rc ) return rc;
  if( zFn ) bindFnRange(pStmt, zFn);
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

static int tablesDictLatest(CachierStore *pStore, const char *zFn,
                            sqlite3_int64 *piId, unsigned *pZstdId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = tStmt(s, STMT_DICT_ID, "SELECT id, substr(dict,5,4)"
      " FROM main.cachier_dict WHERE fn=?1 ORDER BY id DESC LIMIT 1");
  *piId = 0;
  *pZstdId = 0;
  if( pStmt==0 ) return SQLITE_OK;     /* no tables (yet) */
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
  if( sqlite3_step(pStmt)==SQLITE_ROW
   && sqlite3_column_bytes(pStmt, 1)==4 ){
    /* A zstd dictionary's header: magic, then its id (little-endian). */
    const unsigned char *a = sqlite3_column_blob(pStmt, 1);
    *piId = sqlite3_column_int64(pStmt, 0);
    *pZstdId = (unsigned)a[0] | (unsigned)a[1]<<8
             | (unsigned)a[2]<<16 | (unsigned)a[3]<<24;
  }
  tStmtDone(s, STMT_DICT_ID, pStmt);
  return SQLITE_OK;
}

static int tablesDictLoad(CachierStore *pStore, sqlite3_int64 iId,
                          void **ppDict, sqlite3_int64 *pnDict){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  *ppDict = 0;
  *pnDict = 0;
  rc = sqlite3_prepare_v2(s->db, "SELECT dict FROM main.cachier_dict"
                          " WHERE id=?1", -1, &pStmt, 0);
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

static int tablesDictAdd(CachierStore *pStore, const char *zFn,
                         const void *aDict, sqlite3_int64 nDict, int nSample,
                         double created, sqlite3_int64 *piId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_int64 iLastRowid = sqlite3_last_insert_rowid(s->db);
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = storeEnsureTables(pStore);
  *piId = 0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(s->db, "INSERT INTO main.cachier_dict(fn, dict,"
        " samples, created) VALUES (?1, ?2, ?3, ?4)", -1, &pStmt, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(pStmt, 2, aDict, nDict, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 3, nSample);
    sqlite3_bind_double(pStmt, 4, created);
    sqlite3_step(pStmt);
    rc = sqlite3_finalize(pStmt);
  }
  if( rc==SQLITE_OK ) *piId = sqlite3_last_insert_rowid(s->db);
  sqlite3_set_last_insert_rowid(s->db, iLastRowid);
  return groupEndWrite(s, rc);
}

static int tablesDictDelete(CachierStore *pStore, sqlite3_int64 iId){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt = 0;
  int rc;
  beforeWrite(s);
  rc = sqlite3_prepare_v2(s->db, "DELETE FROM main.cachier_dict"
                          " WHERE id=?1", -1, &pStmt, 0);
  if( rc ) return rc;
  sqlite3_bind_int64(pStmt, 1, iId);
  sqlite3_step(pStmt);
  return groupEndWrite(s, sqlite3_finalize(pStmt));
}

/* ------------------------------------------------------------ lifecycle */

/* May what a lookup now finds enter the hot tier, whose values are of
** version aVer (read just before)? Yes if the lookup reads a snapshot
** that is that version:
**   - outside any transaction, the lookup starts a new snapshot, at least
**     as new as aVer; aVer is noted as the snapshot's;
**   - inside a read transaction (the rest of the statement), if the
**     version is still the one noted when no transaction was open: then
**     nobody committed since, and the snapshot, begun after, is aVer;
**   - in this store's own group of writes (it holds the write lock, and a
**     group that fails to commit empties the tier);
** never in a write transaction of the user's, which may roll back. */
static int tablesMayFill(CachierStore *pStore, const unsigned char *aVer){
  TablesStore *s = (TablesStore*)pStore;
  int eTxn, bFill;
  storeLock(s);
  eTxn = sqlite3_txn_state(s->db, "main");
  if( eTxn==SQLITE_TXN_NONE ){
    memcpy(s->aSnapVer, aVer, STORE_VERSION_BYTES);
    s->bSnapVer = 1;
    bFill = 1;
  }else if( eTxn==SQLITE_TXN_READ ){
    bFill = s->bSnapVer
         && memcmp(s->aSnapVer, aVer, STORE_VERSION_BYTES)==0;
  }else{
    bFill = s->inGroup;
  }
  storeUnlock(s);
  return bFill;
}

/* The user's connection is about to read main outside any transaction
** (cachier's own check of main's data_version, which starts the snapshot
** a statement's lookups then share): note the version first, so that
** hits found in that snapshot may fill the hot tier (tablesMayFill()). */
static void tablesNoteSnapshot(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  unsigned char aVer[STORE_VERSION_BYTES];
  if( pStore->pHot && sqlite3_txn_state(s->db, "main")==SQLITE_TXN_NONE
   && tablesVersion(pStore, aVer, 1) ){
    memcpy(s->aSnapVer, aVer, STORE_VERSION_BYTES);
    s->bSnapVer = 1;
  }
}

/* Is the store's database in WAL mode? */
static int tablesIsWal(TablesStore *s){
  sqlite3_stmt *pStmt = 0;
  int bWal = 0;
  if( sqlite3_prepare_v2(s->db, "PRAGMA main.journal_mode", -1, &pStmt,
                         0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    bWal = sqlite3_stricmp((const char*)sqlite3_column_text(pStmt, 0),
                           "wal")==0;
  }
  sqlite3_finalize(pStmt);
  return bWal;
}

/* The hot tier's version of the store (hot.c): the WAL index header,
** which every commit of any process rewrites. Its location is found
** again whenever the database's journal or WAL file object changes (the
** journal mode changed), so a WAL index that was unmapped is never read.
** 0 outside WAL mode, or while the header is being rewritten. */
#define WALINDEX_REGION 32768   /* what SQLite maps the WAL index in */
static int tablesVersionSlow(TablesStore*, unsigned char*);
static int tablesVersion(CachierStore *pStore, unsigned char *aVer,
                         int bRecheck){
  TablesStore *s = (TablesStore*)pStore;
  int rc;
  if( s->bHotStale
   && __atomic_exchange_n(&s->bHotStale, 0, __ATOMIC_ACQ_REL) ){
    return 0;                 /* a group rolled back: the tier empties */
  }
  /* cachier's own connections stay in WAL mode: once found, the WAL
  ** index stays where it is. */
  if( s->pShm && (s->bOwnDb || !bRecheck) ){
    /* SQLite writes the second copy, then the first; readers compare. */
    memcpy(aVer, (const void*)s->pShm, STORE_VERSION_BYTES);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return memcmp(aVer, (const void*)(s->pShm + STORE_VERSION_BYTES),
                  STORE_VERSION_BYTES)==0;
  }
  storeLock(s);
  rc = tablesVersionSlow(s, aVer);
  storeUnlock(s);
  return rc;
}
static int tablesVersionSlow(TablesStore *s, unsigned char *aVer){
  sqlite3_file *pJournal = 0, *pDb = 0;
  if( sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
                           &pJournal)!=SQLITE_OK ){
    return 0;
  }
  if( pJournal!=s->pJournalSeen ){
    void volatile *pMap = 0;
    s->pShm = 0;
    if( pJournal==0 || pJournal->pMethods==0 ) return 0;  /* not open yet */
    if( !tablesIsWal(s) ){
      s->pJournalSeen = pJournal;     /* not WAL: asked again on a change */
      return 0;
    }
    if( sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER,
                             &pDb)!=SQLITE_OK
     || pDb==0 || pDb->pMethods==0 || pDb->pMethods->iVersion<2
     || pDb->pMethods->xShmMap==0
     || pDb->pMethods->xShmMap(pDb, 0, WALINDEX_REGION, 0,
                               &pMap)!=SQLITE_OK
     || pMap==0 ){
      return 0;                       /* not mapped yet: asked again */
    }
    s->pShm = (const volatile unsigned char*)pMap;
    s->pJournalSeen = pJournal;
  }
  if( s->pShm==0 ) return 0;
  /* SQLite writes the second copy, then the first; readers compare. */
  memcpy(aVer, (const void*)s->pShm, STORE_VERSION_BYTES);
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return memcmp(aVer, (const void*)(s->pShm + STORE_VERSION_BYTES),
                STORE_VERSION_BYTES)==0;
}

/* The busy handler of cachier's own connections: another connection's
** group holds a file's write lock for GROUP_MAX_AGE_NS at most, so poll
** finely (0.1 ms, doubling to 2 ms) rather than on SQLite's default
** schedule, for about 5 s in all. */
static int ownBusy(void *pArg, int nTry){
  struct timespec ts;
  long us = nTry<5 ? 100L<<nTry : 2000L;
  (void)pArg;
  if( nTry>2500 ) return 0;
  ts.tv_sec = 0;
  ts.tv_nsec = us*1000L;
  nanosleep(&ts, 0);
  return 1;
}

/* What a connection of cachier's own needs before it can hold the tables:
** the "cachier" module, whose xCreate runs the schema, and the busy
** handler. */
int tablesPrepareDb(Cachier *p, sqlite3 *db){
  extern const sqlite3_module cachierSchemaModule;
  sqlite3_busy_handler(db, ownBusy, 0);
  return sqlite3_create_module_v2(db, "cachier", &cachierSchemaModule, p, 0);
}

static const char *tablesPath(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  const char *z;
  if( !s->bOwnDb ) return cachierMainFile(pStore->pCachier);
  z = sqlite3_db_filename(s->db, "main");
  return z && z[0] && pStore->zLockDb ? z : 0;
}

static void tablesClose(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  int i;
  if( s->bGroup ){
    pthread_mutex_lock(&s->mutex);
    s->bStop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mutex);
    if( s->bFlusher ) pthread_join(s->flusher, 0);
    readEnd(s);
    groupCommit(s, 0);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mutex);
  }
  for(i=0; i<STMT_COUNT; i++) sqlite3_finalize(s->aStmt[i]);
  sqlite3_finalize(s->pLatestLookup);
  sqlite3_close(s->pLatest);
  if( s->bOwnDb ) sqlite3_close(s->db);
  sqlite3_free(s->aDeferred);
}

/* ----------------------------------------------------- grouping stores */

/* A grouping store's methods hold its lock (the flusher thread shares the
** connection); those that leave a row in use hold it until xLookupDone()
** or xScanClose(). */
#define LOCKED(ret, name, params, args) \
  static ret g_##name params{ \
    TablesStore *s = (TablesStore*)pStore; ret r; \
    storeLock(s); r = name args; storeUnlock(s); return r; }
LOCKED(int, tablesMarkRefresh, (CachierStore *pStore, sqlite3_int64 iId),
       (pStore, iId))
LOCKED(int, tablesRefreshDue, (CachierStore *pStore, const char *zFn,
       double now, sqlite3_int64 **paId, int *pnId),
       (pStore, zFn, now, paId, pnId))
LOCKED(int, tablesRefreshFailed, (CachierStore *pStore, sqlite3_int64 iId,
       int attempts, double retryAt), (pStore, iId, attempts, retryAt))
LOCKED(int, tablesEvictionCandidates, (CachierStore *pStore,
       const char *zFn, int ePolicy, double staleBefore, int nMax,
       EvictCandidate **paCand, int *pnCand),
       (pStore, zFn, ePolicy, staleBefore, nMax, paCand, pnCand))
LOCKED(int, tablesDeleteOlder, (CachierStore *pStore, const char *zFn,
       double before, sqlite3_int64 *pn), (pStore, zFn, before, pn))
LOCKED(int, tablesClear, (CachierStore *pStore, const char *zFn,
       sqlite3_int64 *pn), (pStore, zFn, pn))
LOCKED(int, tablesDelete, (CachierStore *pStore, sqlite3_int64 iId),
       (pStore, iId))
LOCKED(int, tablesState, (CachierStore *pStore, int *peState),
       (pStore, peState))
LOCKED(const char*, tablesErrmsg, (CachierStore *pStore, int rc),
       (pStore, rc))
LOCKED(int, tablesTotals, (CachierStore *pStore, const char *zFn,
       StoreTotal **pa, int *pn), (pStore, zFn, pa, pn))
LOCKED(int, tablesDictLatest, (CachierStore *pStore, const char *zFn,
       sqlite3_int64 *piId, unsigned *pZstdId), (pStore, zFn, piId, pZstdId))
LOCKED(int, tablesDictLoad, (CachierStore *pStore, sqlite3_int64 iId,
       void **pp, sqlite3_int64 *pn), (pStore, iId, pp, pn))
LOCKED(int, tablesDictAdd, (CachierStore *pStore, const char *zFn,
       const void *a, sqlite3_int64 n, int nSample, double created,
       sqlite3_int64 *piId), (pStore, zFn, a, n, nSample, created, piId))
LOCKED(int, tablesDictDelete, (CachierStore *pStore, sqlite3_int64 iId),
       (pStore, iId))

static int g_tablesGet(CachierStore *pStore, sqlite3_int64 iId,
                       CachierEntry *pEntry, int *pFound){
  TablesStore *s = (TablesStore*)pStore;
  storeLock(s);
  s->nSpan++;                 /* until xLookupDone() */
  return tablesGet(pStore, iId, pEntry, pFound);
}

static int g_tablesScanOpen(CachierStore *pStore, const char *zFn,
                            CachierScan **ppScan){
  TablesStore *s = (TablesStore*)pStore;
  int rc;
  storeLock(s);               /* until xScanClose() */
  rc = tablesScanOpen(pStore, zFn, ppScan);
  if( rc ) storeUnlock(s);
  return rc;
}

static void g_tablesScanClose(CachierScan *pScan){
  TablesStore *s = pScan ? ((TablesScan*)pScan)->pStore : 0;
  tablesScanClose(pScan);
  if( s ) storeUnlock(s);
}

/* Might a lookup miss what another connection committed? Not inside our
** own group (we hold the write lock), nor in a shared read snapshot when
** nobody has committed since it began. */
static int tablesSnapshotStale(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  unsigned char aVer[STORE_VERSION_BYTES];
  int bStale = 1;
  storeLock(s);
  if( s->inGroup ){
    bStale = 0;
  }else if( s->inRead && s->bReadVer
         && tablesVersion(pStore, aVer, 0)
         && memcmp(aVer, s->aReadVer, STORE_VERSION_BYTES)==0 ){
    bStale = 0;
  }
  storeUnlock(s);
  return bStale;
}

static int tablesDataVersion(CachierStore *pStore, sqlite3_int64 *pV){
  TablesStore *s = (TablesStore*)pStore;
  sqlite3_stmt *pStmt;
  int rc;
  storeLock(s);
  pStmt = tStmt(s, STMT_DB_VERSION, "PRAGMA main.data_version");
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
static void tablesReconfigure(CachierStore *pStore, const char *zSpec){
  (void)pStore; (void)zSpec;
}

/* A tables store counts no failures of its own (its errors are the
** callers'). */
static void tablesStatus(CachierStore *pStore, CachierStoreStatus *pStatus){
  (void)pStore;
  memset(pStatus, 0, sizeof(*pStatus));
}

static const CachierStoreVersions tablesVersions = {
  .xVersion = tablesVersion,
  .xMayFill = tablesMayFill,
  .xDataVersion = tablesDataVersion,
  .xNoteSnapshot = tablesNoteSnapshot,
};

static const CachierStoreMethods tablesMethods = {
  .zName = "tables",
  .xLookup = tablesLookup,
  .xLookupDone = tablesLookupDone,
  .xLookupLatest = tablesLookupLatest,
  .xWrite = tablesWrite,
  .xGet = tablesGet,
  .xDelete = tablesDelete,
  .xMarkRefresh = tablesMarkRefresh,
  .xRefreshDue = tablesRefreshDue,
  .xRefreshFailed = tablesRefreshFailed,
  .xScanOpen = tablesScanOpen,
  .xScanNext = tablesScanNext,
  .xScanClose = tablesScanClose,
  .xClear = tablesClear,
  .xDeleteOlder = tablesDeleteOlder,
  .xEvictionCandidates = tablesEvictionCandidates,
  .xTotals = tablesTotals,
  .xState = tablesState,
  .xErrmsg = tablesErrmsg,
  .xDictLatest = tablesDictLatest,
  .xDictLoad = tablesDictLoad,
  .xDictAdd = tablesDictAdd,
  .xDictDelete = tablesDictDelete,
  .xPath = tablesPath,
  .xStatus = tablesStatus,
  .xReconfigure = tablesReconfigure,
  .xClose = tablesClose,
  .pVersions = &tablesVersions,
};

/* The same for a store that groups its writes (store_file.c): the g_
** methods take the store's mutex around the plain ones. */
static const CachierStoreGroup tablesGroup = {
  .xFlush = tablesFlush,
  .xTick = tablesTick,
  .xStatementEnd = tablesStatementEnd,
  .xSnapshotStale = tablesSnapshotStale,
  .xMarkDone = tablesMarkDone,
};

static const CachierStoreMethods tablesGroupMethods = {
  .zName = "tables",
  .xLookup = tablesLookup,
  .xLookupDone = tablesLookupDone,
  .xLookupLatest = tablesLookupLatest,
  .xWrite = tablesWrite,
  .xGet = g_tablesGet,
  .xDelete = g_tablesDelete,
  .xMarkRefresh = g_tablesMarkRefresh,
  .xRefreshDue = g_tablesRefreshDue,
  .xRefreshFailed = g_tablesRefreshFailed,
  .xScanOpen = g_tablesScanOpen,
  .xScanNext = tablesScanNext,
  .xScanClose = g_tablesScanClose,
  .xClear = g_tablesClear,
  .xDeleteOlder = g_tablesDeleteOlder,
  .xEvictionCandidates = g_tablesEvictionCandidates,
  .xTotals = g_tablesTotals,
  .xState = g_tablesState,
  .xErrmsg = g_tablesErrmsg,
  .xDictLatest = g_tablesDictLatest,
  .xDictLoad = g_tablesDictLoad,
  .xDictAdd = g_tablesDictAdd,
  .xDictDelete = g_tablesDictDelete,
  .xPath = tablesPath,
  .xStatus = tablesStatus,
  .xReconfigure = tablesReconfigure,
  .xClose = tablesClose,
  .pGroup = &tablesGroup,
  .pVersions = &tablesVersions,
};

CachierStore *tablesStoreNew(Cachier *p, sqlite3 *db, int bOwnDb, int bGroup,
                             const char *zSpec){
  TablesStore *s = sqlite3_malloc(sizeof(*s));
  if( s==0 ) return 0;
  memset(s, 0, sizeof(*s));
  s->base.pMethods = bGroup ? &tablesGroupMethods : &tablesMethods;
  s->base.pCachier = p;
  s->base.zSpec = sqlite3_mprintf("%s", zSpec);
  s->db = db;
  s->bOwnDb = bOwnDb;
  s->bGroup = bGroup;
  if( s->base.zSpec==0 ){
    sqlite3_free(s);
    return 0;
  }
  if( bGroup ){
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&s->cond, 0);
  }
  return &s->base;
}

void storeFreeTotals(StoreTotal *a, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_free(a[i].zFn);
  sqlite3_free(a);
}
