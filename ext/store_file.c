/*
** store_file.c - "file:PATH": a cache database file of its own, and the
** grouped commits, the flusher thread and the shared read snapshot that
** make it cheap.
**
** SQL surface: store names 'file:PATH' in cachier_functions.store (and
** cachier_cache_path(), store.c).
**
** PATH is absolute, or relative to the main database's directory (the
** current directory for ":memory:"). The file holds the same tables as
** main (sql/schema.sql, read and written by store_tables.c) and is opened
** by cachier on a connection of its own, in WAL mode with
** synchronous=NORMAL, so it is shared by every process on the machine and
** committed independently of the user's transactions: a rollback of the
** user's transaction keeps the values it computed.
**
** Grouped commits: stored values go into a transaction that commits when
** it is 10 ms old (a thread of cachier's sees to it, also when the
** process is idle), after GROUP_MAX_WRITES (256) values or 1 MB, before
** any other kind of write, before the connection waits for another's
** computation, at cachier_flush(), and when the connection closes. So a
** stored miss costs no commit of its own, a clean close loses nothing,
** and a crash loses at most the values stored in the last 10 ms, no more
** than 256 values or 1 MB. The group holds the file's write lock while it
** is open: another process's write waits for it, at most about 10 ms.
** In-flight marks live beside the file (PATH-cachier-locks) and are
** released when the value they guard is committed, so processes that
** share the file compute each key once. The lookups of one statement
** share one read transaction (one snapshot, and one round of WAL read
** locks, per statement).
**
** The store's lock keeps the flusher and the user's thread apart: the
** methods of tablesGroupMethods are those of tablesMethods
** (store_tables.c) taken under it.
*/
#define _GNU_SOURCE           /* realpath() */
#include "store_tables.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GROUP_MAX_WRITES 256
#define GROUP_MAX_BYTES  (1<<20)
#define GROUP_MAX_AGE_NS 10000000   /* 10 ms */

/* ------------------------------------------------------------- the file */

/* The canonical form of the absolute path zAbs (sqlite3_free it): its
** directory resolved by realpath() when it exists (symbolic links, "."
** and ".."), so that every way of naming a file names one store; else
** "." and ".." are removed as text. */
static char *canonicalPath(const char *zAbs){
  const char *zSlash = strrchr(zAbs, '/');
  char *zDir = sqlite3_mprintf("%.*s", (int)(zSlash - zAbs), zAbs);
  char *zReal = zDir ? realpath(zDir[0] ? zDir : "/", 0) : 0;
  char *zRes = 0;
  if( zReal ){
    zRes = sqlite3_mprintf("%s/%s", strcmp(zReal, "/")==0 ? "" : zReal,
                           zSlash+1);
    free(zReal);
  }else if( zDir ){
    /* Lexically: keep a stack of the components. */
    int n = (int)strlen(zAbs), i = 0, j = 0;
    zRes = sqlite3_malloc(n+2);
    while( zRes && i<n ){
      int k = i+1;
      while( k<n && zAbs[k]!='/' ) k++;
      if( k-i==2 && zAbs[i+1]=='.' ){
        /* "/." */
      }else if( k-i==3 && zAbs[i+1]=='.' && zAbs[i+2]=='.' ){
        while( j>0 && zRes[j-1]!='/' ) j--;
        if( j>0 ) j--;
      }else if( k-i>1 ){
        memcpy(&zRes[j], &zAbs[i], k-i);
        j += k-i;
      }
      i = k;
    }
    if( zRes ) zRes[j] = 0;
  }
  sqlite3_free(zDir);
  return zRes;
}

/* The absolute path zSpec ("file:PATH") means on this connection, in
** canonical form. */
char *storeFilePath(Cachier *p, const char *zSpec){
  const char *zPath = zSpec + 5;
  const char *zMain;
  char *zDir, *zAbs, *zRes;
  int n;
  if( zPath[0]=='/' ){
    zAbs = sqlite3_mprintf("%s", zPath);
  }else{
    zMain = sqlite3_db_filename(p->db, "main");
    if( zMain && zMain[0]=='/' ){
      n = (int)(strrchr(zMain, '/') - zMain);
      zAbs = sqlite3_mprintf("%.*s/%s", n>0 ? n : 1, zMain, zPath);
    }else{
      zDir = sqlite3_malloc(4096);
      if( zDir==0 ) return 0;
      zAbs = getcwd(zDir, 4096) ? sqlite3_mprintf("%s/%s", zDir, zPath) : 0;
      sqlite3_free(zDir);
    }
  }
  if( zAbs==0 ) return 0;
  zRes = canonicalPath(zAbs);
  sqlite3_free(zAbs);
  return zRes;
}

/* Is zPath the file of the main database (or of another database the
** connection has attached)? */
static int isMainFile(Cachier *p, const char *zPath){
  struct stat a, b;
  int i;
  if( stat(zPath, &a)!=0 ) return 0;       /* a new file: nobody's yet */
  for(i=0; ; i++){
    const char *zDb = sqlite3_db_name(p->db, i);
    const char *zFile;
    if( zDb==0 ) break;
    zFile = sqlite3_db_filename(p->db, zDb);
    if( zFile && zFile[0] && stat(zFile, &b)==0
     && a.st_dev==b.st_dev && a.st_ino==b.st_ino ){
      return 1;
    }
  }
  return 0;
}

CachierStore *storeFileOpen(Cachier *p, const char *zSpec, char **pzErr){
  char *zPath = storeFilePath(p, zSpec);
  char *zCanon;
  sqlite3 *db = 0;
  CachierStore *pStore = 0;
  int rc;
  if( zPath==0 ) return 0;
  /* The file is cachier's own: it is switched to WAL mode and written in
  ** groups that hold its write lock, which must never happen to the
  ** user's database. */
  if( isMainFile(p, zPath) ){
    *pzErr = sqlite3_mprintf("the cache file %s is the main database: use "
                             "the store 'main'", zPath);
    sqlite3_free(zPath);
    return 0;
  }
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                       |SQLITE_OPEN_NOMUTEX, 0);
  if( rc==SQLITE_OK ) rc = tablesPrepareDb(p, db);
  if( rc==SQLITE_OK ){
    rc = tablesExecOwn(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL");
  }
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
static int runKept(TablesStore *s, int id){
  sqlite3_stmt *pStmt = tStmt(s, id);
  int rc;
  if( pStmt==0 ) return tStmtError(s);
  sqlite3_step(pStmt);
  rc = sqlite3_reset(pStmt);
  tStmtDone(s, id, pStmt);
  return rc;
}

/* Before a lookup: the lookups of a statement share one read transaction
** (one snapshot, and one set of WAL read locks, per statement instead of
** per lookup). The version first: the snapshot will be at least as new. */
void readBegin(TablesStore *s){
  if( !s->inGroup && !s->inRead && sqlite3_get_autocommit(s->db) ){
    s->bReadVer = tablesVersion(&s->base, s->aReadVer, 0);
    if( runKept(s, STMT_BEGIN)==SQLITE_OK ){
      s->inRead = 1;
      s->readStartNs = cachierMonotonicNs();
    }
  }
}

/* End the read transaction a statement's lookups share. */
void readEnd(TablesStore *s){
  s->bSnapVer = 0;
  if( s->inRead ){
    s->inRead = 0;
    if( !s->inGroup && sqlite3_get_autocommit(s->db)==0
     && runKept(s, STMT_COMMIT)!=SQLITE_OK ){
      /* (Never left inside a transaction: later writes begin their own.) */
      sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
    }
  }
}

/* An error inside a group (out of memory, I/O) can make SQLite roll the
** group's transaction back itself, and a ROLLBACK that fails after a
** failed commit leaves one open outside any group. Either way the next
** write starts clean: a group SQLite ended is over (its values lost, as
** after a failed commit) and a transaction left open is rolled back now.
** (Grouping stores only: their connection is their own.) */
static void groupRecover(TablesStore *s){
  int i;
  if( !s->bGroup ) return;
  if( s->inGroup && sqlite3_get_autocommit(s->db) ){
    s->inGroup = 0;
    s->nGroup = 0;
    s->nGroupBytes = 0;
    s->inRead = 0;
    __atomic_store_n(&s->bHotStale, 1, __ATOMIC_RELEASE);
    for(i=0; i<s->nDeferred; i++) inflightUnlockLater(&s->aDeferred[i]);
    s->nDeferred = 0;
    cachierLog(s->base.pCachier, "cachier: a group of cached values in %s "
               "was rolled back (%s)", s->base.zSpec, sqlite3_errmsg(s->db));
  }else if( !s->inGroup && !s->inRead && !sqlite3_get_autocommit(s->db) ){
    sqlite3_exec(s->db, "ROLLBACK", 0, 0, 0);
  }
}

/* Commit the open group (if any) and release the marks it held. A failed
** commit rolls the group back: those values are simply not cached (and
** the hot tier, which may hold some, is emptied). bThread: called by the
** flusher, which logs straight to sqlite3_log(). */
static int groupCommit(TablesStore *s, int bThread){
  int rc = SQLITE_OK, i;
  /* (A group SQLite rolled back itself is over: nothing to commit.) */
  groupRecover(s);
  if( s->inGroup ){
    s->inGroup = 0;
    rc = runKept(s, STMT_COMMIT);
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
int groupBegin(TablesStore *s){
  int rc;
  groupRecover(s);
  if( !s->bGroup || s->inGroup ) return SQLITE_OK;
  readEnd(s);
  rc = runKept(s, STMT_BEGIN_IMMEDIATE);
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
void beforeWrite(TablesStore *s){
  readEnd(s);
  groupRecover(s);
}

/* After it: it must not wait for the group. */
int groupEndWrite(TablesStore *s, int rc){
  int rc2;
  hotClear(&s->base);
  rc2 = groupCommit(s, 0);
  return rc ? rc : rc2;
}

/* After a cached value was written (rc: how that went): count it into
** the open group, which commits once it is large enough. */
int groupWrote(TablesStore *s, int rc, const CachierWrite *w){
  groupRecover(s);
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

/* The xMarkDone method: the mark of a value written into an open group
** is released when the group commits; any other at once. */
void tablesMarkDone(CachierStore *pStore, InflightLock *pLock, int bWrote){
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

/* A grouping store's lock and thread state (tablesStoreNew()). */
void groupInit(TablesStore *s){
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&s->mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  pthread_cond_init(&s->cond, 0);
}

/* Stop the flusher and commit what is left (tablesClose()). */
void groupClose(TablesStore *s){
  pthread_mutex_lock(&s->mutex);
  s->bStop = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->mutex);
  if( s->bFlusher ) pthread_join(s->flusher, 0);
  readEnd(s);
  groupCommit(s, 0);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->mutex);
  sqlite3_free(s->aDeferred);
}

/* ----------------------------------------------------- grouping methods */

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

/* tablesMethods (store_tables.c), for a store that groups its writes. */
static const CachierStoreGroup tablesGroup = {
  .xFlush = tablesFlush,
  .xTick = tablesTick,
  .xStatementEnd = tablesStatementEnd,
  .xSnapshotStale = tablesSnapshotStale,
  .xMarkDone = tablesMarkDone,
};

/* tablesMethods (store_tables.c) with the g_ methods, which take the
** store's mutex around the plain ones, and the group capability. */
const CachierStoreMethods tablesGroupMethods = {
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
  .pCounters = &tablesCounters,
};

