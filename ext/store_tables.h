/*
** store_tables.h - private header of the stores made of cachier's tables
** (main, file:, memory), shared by the files that implement them:
**
**   store_tables.c     the SQL: kept statements, per-entry methods, scans,
**                      totals, dictionaries; the method table tablesMethods
**   store_file.c       the file: store: grouped commits, their flusher
**                      thread, the shared read snapshot of a statement
**   store_walversion.c the store's version for the hot tier (the header of
**                      SQLite's WAL index)
**   store_schema.c     the tables themselves: create, drop, schema version,
**                      migration
**   store_counters.c   the counters that outlive connections (cachier_info)
**
** The rest of cachier reaches these stores only through store.h.
*/
#ifndef CACHIER_STORE_TABLES_H
#define CACHIER_STORE_TABLES_H

#include "store.h"
#include <pthread.h>

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
  sqlite3 *pLatest;           /* read-only connection for xLookupLatest
                              ** (main: open while statements run) */
  sqlite3_stmt *pLatestLookup;
  sqlite3_stmt *pHeld;        /* statement holding the row xGet returned */
  /* Main only: a connection of cachier's own to main's file, for the
  ** writes the user's connection cannot make from an old read snapshot
  ** (mainWriter()); opened on first need, closed once no statement of
  ** the user's runs (mainStatementEnd()). */
  struct TablesStore *pWriter;
  int bNoWriter;              /* it could not be opened in this statement */
  int nBusyTries;             /* the writer's: tries of its busy handler */
  int bOldSnapshot;           /* a write of the running statement found
                              ** the user's read snapshot old */
  unsigned char aLatestVer[STORE_VERSION_BYTES]; /* the WAL version when */
  int bLatestVer;             /* a cache write of the running statement
                              ** (or of one it nests) made the user's
                              ** snapshot the newest, at aLatestVer */
  int rcWriteErr;             /* the last failed write on the user's */
  char *zWriteErr;            /* connection, and why (tablesErrmsg()) */
  /* The tables' schema as last checked (store_schema.c tablesGuard()). */
  int bSchemaChecked;         /* iSchemaCookie holds a checked version */
  int iSchemaCookie;          /* main's PRAGMA schema_version then */
  char *zRefused;             /* why the tables are refused; NULL: not */
};

typedef struct TablesScan TablesScan;
struct TablesScan {
  sqlite3_stmt *pStmt;
  TablesStore *pStore;
};

/* The store's lock: only grouping stores have one (their flusher thread
** shares the connection). */
static inline void storeLock(TablesStore *s){
  if( s->bGroup ) pthread_mutex_lock(&s->mutex);
}
static inline void storeUnlock(TablesStore *s){
  if( s->bGroup ) pthread_mutex_unlock(&s->mutex);
}

/**************************************************************************
** Interface to code in store_tables.c.
*/
sqlite3_stmt *tStmt(TablesStore*, int id);
void tStmtDone(TablesStore*, int id, sqlite3_stmt*);
int tStmtError(TablesStore*);

/* The methods, for the table of a grouping store (store_file.c). */
int tablesLookup(CachierStore*, const CachierKey*, int flags, CachierEntry*,
                 int *pFound);
void tablesLookupDone(CachierStore*);
int tablesLookupLatest(CachierStore*, const CachierKey*, CachierEntry*,
                       int *pFound);
void tablesLatestClose(TablesStore*);
void tablesWriterClose(TablesStore*);
int tablesWrite(CachierStore*, const CachierKey*, const CachierWrite*);
int tablesMarkRefresh(CachierStore*, sqlite3_int64 iId);
int tablesRefreshDue(CachierStore*, const char *zFn, double now,
                     sqlite3_int64 **paId, int *pnId);
int tablesGet(CachierStore*, sqlite3_int64 iId, CachierEntry*, int *pFound);
int tablesRefreshFailed(CachierStore*, sqlite3_int64 iId, int attempts,
                        double retryAt);
int tablesEvictionCandidates(CachierStore*, const char *zFn, int ePolicy,
                             double staleBefore, int nMax,
                             EvictCandidate **paCand, int *pnCand);
int tablesDeleteOlder(CachierStore*, const char *zFn, double before,
                      sqlite3_int64 *pnDeleted);
int tablesClear(CachierStore*, const char *zFn, sqlite3_int64 *pnDeleted);
int tablesDelete(CachierStore*, sqlite3_int64 iId);
int tablesScanOpen(CachierStore*, const char *zFn, CachierScan**);
int tablesScanNext(CachierScan*, CachierEntry*, int *pEof);
void tablesScanClose(CachierScan*);
int tablesTotals(CachierStore*, const char *zFn, StoreTotal **paTotal,
                 int *pnTotal);
int tablesDictLatest(CachierStore*, const char *zFn, sqlite3_int64 *piId,
                     unsigned *pZstdId);
int tablesDictLoad(CachierStore*, sqlite3_int64 iId, void **ppDict,
                   sqlite3_int64 *pnDict);
int tablesDictAdd(CachierStore*, const char *zFn, const void *aDict,
                  sqlite3_int64 nDict, int nSample, double created,
                  sqlite3_int64 *piId);
int tablesDictDelete(CachierStore*, sqlite3_int64 iId);
const char *tablesPath(CachierStore*);
int tablesDataVersion(CachierStore*, sqlite3_int64 *pV);
void tablesClose(CachierStore*);
void tablesStatus(CachierStore*, CachierStoreStatus*);
void tablesReconfigure(CachierStore*, const char *zSpec);
extern const CachierStoreVersions tablesVersions;
extern const CachierStoreCounters tablesCounters;   /* store_counters.c */

/* The core methods of every tables store that does not group its writes
** (tablesMethods, tablesMainMethods). */
#define TABLES_METHODS \
  .zName = "tables", \
  .xLookup = tablesLookup, \
  .xLookupDone = tablesLookupDone, \
  .xLookupLatest = tablesLookupLatest, \
  .xWrite = tablesWrite, \
  .xGet = tablesGet, \
  .xDelete = tablesDelete, \
  .xMarkRefresh = tablesMarkRefresh, \
  .xRefreshDue = tablesRefreshDue, \
  .xRefreshFailed = tablesRefreshFailed, \
  .xScanOpen = tablesScanOpen, \
  .xScanNext = tablesScanNext, \
  .xScanClose = tablesScanClose, \
  .xClear = tablesClear, \
  .xDeleteOlder = tablesDeleteOlder, \
  .xEvictionCandidates = tablesEvictionCandidates, \
  .xTotals = tablesTotals, \
  .xState = tablesState, \
  .xErrmsg = tablesErrmsg, \
  .xDictLatest = tablesDictLatest, \
  .xDictLoad = tablesDictLoad, \
  .xDictAdd = tablesDictAdd, \
  .xDictDelete = tablesDictDelete, \
  .xPath = tablesPath, \
  .xStatus = tablesStatus, \
  .xReconfigure = tablesReconfigure, \
  .xClose = tablesClose, \
  .pVersions = &tablesVersions, \
  .pCounters = &tablesCounters
extern const CachierStoreMethods tablesMethods;

/**************************************************************************
** Interface to code in store_main.c.
*/
extern const CachierStoreMethods tablesMainMethods;
int mainWriteFailed(TablesStore*, int rc, const CachierKey*,
                    const CachierWrite*);

/**************************************************************************
** Interface to code in store_file.c.
*/
extern const CachierStoreMethods tablesGroupMethods;
void groupInit(TablesStore*);
void groupClose(TablesStore*);
void readBegin(TablesStore*);
void readEnd(TablesStore*);
int groupBegin(TablesStore*);
int groupWrote(TablesStore*, int rc, const CachierWrite*);
void beforeWrite(TablesStore*);
int groupEndWrite(TablesStore*, int rc);
void tablesMarkDone(CachierStore*, InflightLock*, int bWrote);

/**************************************************************************
** Interface to code in store_walversion.c.
*/
int tablesVersion(CachierStore*, unsigned char *aVer, int bRecheck);
int tablesVersionIs(CachierStore*, const unsigned char *aVer);
int tablesMayFill(CachierStore*, const unsigned char *aVer);
int tablesNoteSnapshot(CachierStore*, unsigned char *aVer);
void tablesNoteStatementEnd(CachierStore*);

/**************************************************************************
** Interface to code in store_schema.c.
*/
int tablesState(CachierStore*, int *peState);
const char *tablesErrmsg(CachierStore*, int rc);
int tablesForManagement(TablesStore*, int *pbHas);
int tablesGuard(TablesStore*);

#endif /* CACHIER_STORE_TABLES_H */
