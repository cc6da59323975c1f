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
** (mainWriter(), mainSnapshotStale() below). The SQL is that of every
** tables store (store_tables.c); what is particular to main is that the
** connection is the user's: its statements are kept by the connection
** (cachierStmt()) and it is never closed by cachier.
*/
#include "store_tables.h"
#include <string.h>


/* ------------------------------------------- main's writes that survive */

/* Tries of the busy handler of main's writer at a statement's start. */
static int mainBusyTries(Cachier *p){
  return p->ownBusyTries>0 ? p->ownBusyTries : OWN_BUSY_TRIES;
}

/* The connection of cachier's own to main's file that writes what the
** user's connection cannot (mainWriteFailed()), as a store of its own:
** opened on first need with main's VFS and synchronous setting, in WAL
** mode (main's), with the busy handler of cachier's own connections;
** closed with the main store.
** NULL for a database without a file (":memory:", temp: nobody else can
** write it, so its snapshot is never old) or a read-only one. */
static TablesStore *mainWriter(TablesStore *s){
  Cachier *p = s->base.pCachier;
  const char *zFile = sqlite3_db_filename(s->db, "main");
  sqlite3_vfs *pVfs = 0;
  sqlite3 *db = 0;
  CachierStore *pWriter = 0;
  if( s->pWriter || s->bNoWriter ) return s->pWriter;
  s->bNoWriter = 1;           /* (until the statement ends: tried again) */
  if( zFile==0 || zFile[0]==0 || sqlite3_db_readonly(s->db, "main")!=0
   || sqlite3_file_control(s->db, "main", SQLITE_FCNTL_VFS_POINTER,
                           &pVfs)!=SQLITE_OK || pVfs==0 ){
    return 0;
  }
  if( sqlite3_open_v2(zFile, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_NOMUTEX,
                      pVfs->zName)==SQLITE_OK
   && tablesPrepareDb(p, db)==SQLITE_OK ){
    sqlite3_stmt *pStmt = 0;
    if( sqlite3_prepare_v2(s->db, "PRAGMA main.synchronous", -1, &pStmt,
                           0)==SQLITE_OK
     && sqlite3_step(pStmt)==SQLITE_ROW ){
      char *zSql = sqlite3_mprintf("PRAGMA synchronous=%d",
                                   sqlite3_column_int(pStmt, 0));
      if( zSql ) sqlite3_exec(db, zSql, 0, 0, 0);
      sqlite3_free(zSql);
    }
    sqlite3_finalize(pStmt);
    pWriter = tablesStoreNew(p, db, 1, 0, "main");
  }
  if( pWriter==0 ){
    sqlite3_close(db);
    return 0;
  }
  s->pWriter = (TablesStore*)pWriter;
  s->pWriter->nBusyTries = mainBusyTries(p);
  tablesBusyTries(db, &s->pWriter->nBusyTries);
  s->bNoWriter = 0;
  return s->pWriter;
}


/* A write on the user's connection failed with rc. If only its read
** snapshot stood in the way (a statement reading main holds one, and in
** WAL mode it cannot become a write transaction once another connection
** has committed, SQLITE_BUSY_SNAPSHOT, nor wait for another's write lock,
** SQLITE_BUSY, while it reads), write the entry through mainWriter(),
** which commits it before the caller releases the key's mark; never in a
** write transaction of the user's, which the write must join. The reason
** of a failure is kept for tablesErrmsg(): the user's connection would
** only say "database is locked", or by then "not an error". */
int mainWriteFailed(TablesStore *s, int rc, const CachierKey *pKey,
                           const CachierWrite *w){
  int eTxn = sqlite3_txn_state(s->db, "main");
  TablesStore *pWriter = 0;
  char *zWhy;
  if( eTxn!=SQLITE_TXN_WRITE
   && (rc==SQLITE_BUSY_SNAPSHOT
       || (rc==SQLITE_BUSY && eTxn==SQLITE_TXN_READ && cachierIsWal(s->db))) ){
    pWriter = mainWriter(s);
  }
  if( pWriter ){
    int rcOwn;
    s->bOldSnapshot = 1;
    rcOwn = tablesWrite(&pWriter->base, pKey, w);
    if( rcOwn==SQLITE_OK ) return SQLITE_OK;
    zWhy = sqlite3_mprintf("%s (on cachier's own connection to main's "
        "file, as this statement's read snapshot could not write)",
        sqlite3_errcode(pWriter->db)==rcOwn ? sqlite3_errmsg(pWriter->db)
                                            : sqlite3_errstr(rcOwn));
    rc = rcOwn;
    if( (rcOwn & 0xff)==SQLITE_BUSY ){
      /* Other writers held main's write lock for all the tries of the
      ** busy handler: busy (planWriteFailed() lets the next row write),
      ** and until the statement ends the writer waits only about 3 ms
      ** (OWN_BUSY_TRIES_AFTER): a lock held that long would cost each row
      ** the whole wait, and one that changes hands often (many writers
      ** starved of CPU) is often free. Stopping the statement's writes
      ** instead left every later key unguarded: computed by each
      ** connection that wanted it. */
      int nTries = mainBusyTries(s->base.pCachier);
      pWriter->nBusyTries = nTries<OWN_BUSY_TRIES_AFTER ? nTries
                                                       : OWN_BUSY_TRIES_AFTER;
      rc = SQLITE_BUSY;
    }
  }else if( rc==SQLITE_BUSY_SNAPSHOT ){
    zWhy = sqlite3_mprintf("another connection committed after this "
                           "statement's read snapshot of main began");
  }else if( (rc & 0xff)==SQLITE_BUSY ){
    zWhy = sqlite3_mprintf(eTxn==SQLITE_TXN_READ
        ? "another connection holds a lock on main that this statement's "
          "read transaction cannot wait for"
        : "another connection holds a lock on main (busy_timeout)");
  }else if( sqlite3_errcode(s->db)==SQLITE_OK ){
    zWhy = sqlite3_mprintf("%s", sqlite3_errstr(rc));
  }else{
    zWhy = sqlite3_mprintf("%s", sqlite3_errmsg(s->db));
  }
  sqlite3_free(s->zWriteErr);
  s->zWriteErr = zWhy;
  s->rcWriteErr = rc;
  return rc;
}

/* The main store's use of the group capability. Its writes join the
** user's transaction or commit at once, so there is nothing to flush or
** tick, and marks are released at once; what main needs of the
** capability is the end of each statement and the question whether a
** statement's read snapshot may be old. */
static int mainFlush(CachierStore *pStore, int *pnCommitted){
  (void)pStore;
  if( pnCommitted ) *pnCommitted = 0;
  return SQLITE_OK;
}
static void mainTick(CachierStore *pStore){
  (void)pStore;
}
/* Whether a statement of db runs besides the one that ends: that one
** still counts as running while SQLite frees its auxdata (the plan whose
** end this is), so two must. */
static int mainOtherStatementRuns(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int nRun = 0;
  while( (pStmt = sqlite3_next_stmt(db, pStmt))!=0 ){
    if( sqlite3_stmt_busy(pStmt) && ++nRun>1 ) return 1;
  }
  return 0;
}
/* A statement that used main ended. What its writes learnt of the read
** snapshot, and the short waits of the writer, hold until no statement
** of the connection runs: one that goes on (the statement of a function
** whose computation ran this one, or one stepped in turn with it) still
** reads the same snapshot, and would wait the whole busy time again at
** each row. Then too the connections of cachier's own to main's file
** (the writer, and the one that looks past a snapshot) close: open, they
** would keep the user from leaving WAL mode (PRAGMA journal_mode=DELETE
** needs the only connection: "database is locked"); the next statement
** that needs one opens it again. (Walking the statements only when
** something is to forget: a hit forgets nothing.) */
static void mainStatementEnd(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  if( (s->bOldSnapshot || s->bLatestVer || s->pWriter || s->pLatest
       || s->bNoWriter)
   && !mainOtherStatementRuns(s->db) ){
    s->bOldSnapshot = 0;
    /* (The next statement's snapshot may be newer than that version.) */
    s->bLatestVer = 0;
    tablesWriterClose(s);
    s->bNoWriter = 0;         /* (a failed open, out of memory: try again) */
    tablesLatestClose(s);
  }
}
static void mainMarkDone(CachierStore *pStore, InflightLock *pLock,
                         int bWrote){
  (void)pStore; (void)bWrote;
  inflightRelease(pLock);
}
/* After a miss and taking the key's mark, in a statement that reads main
** (a read transaction: a lookup outside one sees every commit, so looks
** again as ever): is the snapshot older than another connection's
** commit? Once this statement's own write made it the newest
** (bLatestVer), main's version says: the same, no (but for a commit
** between that write and the version's read: then one value may be
** computed again); moved, yes (someone committed since; at worst a
** checkpoint moved it, and the look past finds nothing new). Yes once a
** write of this statement found it old (mainWriteFailed()). Without
** either sign, no: no connection is opened to look past it, and at worst
** a value stored meanwhile is computed again once, and its write tells. */
static int mainSnapshotStale(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  unsigned char aVer[STORE_VERSION_BYTES];
  if( sqlite3_txn_state(s->db, "main")!=SQLITE_TXN_READ ) return 1;
  if( s->bLatestVer && tablesVersion(pStore, aVer, 1) ){
    return memcmp(aVer, s->aLatestVer, STORE_VERSION_BYTES)!=0
        || s->bOldSnapshot;
  }
  return s->bOldSnapshot;
}
static const CachierStoreGroup mainGroup = {
  .xFlush = mainFlush,
  .xTick = mainTick,
  .xStatementEnd = mainStatementEnd,
  .xSnapshotStale = mainSnapshotStale,
  .xMarkDone = mainMarkDone,
};

const CachierStoreMethods tablesMainMethods = {
  TABLES_METHODS,
  .pGroup = &mainGroup,
};

#ifdef CACHIER_TEST
/* The tries main's writer has now, or (none open) one opened now would
** have. */
int storeMainBusyTries(CachierStore *pStore){
  TablesStore *s = (TablesStore*)pStore;
  return s->pWriter ? s->pWriter->nBusyTries
                    : mainBusyTries(s->base.pCachier);
}
#endif

/* The main store of p, made on first use (it opens nothing). */
CachierStore *storeMainOpen(Cachier *p){
  return tablesStoreNew(p, p->db, 0, 0, "main");
}
