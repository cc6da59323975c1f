/*
** fninfo.c - what a connection knows about each memoized function.
**
** No SQL surface of its own. An application that runs one short statement
** per call ("SELECT memoize('f', ?)" from Python, say) would otherwise pay
** on every statement for resolving the name, reading the store's state and
** the function's settings, and preparing the call. FnInfo keeps those per
** (function, arity) for the life of the connection:
**   - the name is resolved once;
**   - the settings and store state are reused while the database's
**     data_version (commits by other connections) and this connection's
**     own generation (its cachier_functions writes, creating or dropping
**     the store) are unchanged; in WAL mode data_version is not even read
**     while the WAL-index header (store_walversion.c), which every commit
**     rewrites, is the one seen just before it was last read outside a
**     transaction: nobody can have committed since;
**   - the prepared call statement is kept while the connection is anchored
**     (cachier.c), and finalized with the other kept statements when the
**     connection closes.
*/
#include "store.h"
#include <string.h>

struct FnInfo {
  FnInfo *pNext;
  char *zFn;                  /* canonical name */
  int nArg;
  FnStats *pStats;
  FnCall call;                /* kept call statement (anchored only) */
  FnSettings settings;
  int eState;                 /* STORE_* of its store then */
  struct CachierStore *pStore;/* its store (NULL: it cannot be opened) */
  int bLoaded;                /* settings and eState are set */
  unsigned int dataVersion;   /* PRAGMA data_version then */
  unsigned char aDataVersionAt[STORE_VERSION_BYTES];  /* main's version
                              ** just before that was read, outside a
                              ** transaction, */
  int bDataVersionAt;         /* if this is set */
  sqlite3_int64 storeVersion; /* and that of its store, if not main */
  sqlite3_int64 settingsGen;  /* p->settingsGen then */
  sqlite3_int64 nLoads;       /* times settings and eState were read */
  void *pParked;              /* a plan between statements (memoize.c) */
  void (*xParkedFree)(void*); /* and how it is freed */
};

/* PRAGMA data_version of main: it changes when another connection
** commits. This connection's own relevant changes (cachier_functions
** writes, creating or dropping the store) bump p->settingsGen instead. */
static int dbVersion(Cachier *p, unsigned int *pDataVersion){
  sqlite3_stmt *pStmt = cachierStmt(p, STMT_DB_VERSION,
                                    "PRAGMA main.data_version");
  int rc;
  if( pStmt==0 ) return sqlite3_errcode(p->db);
  rc = sqlite3_step(pStmt);
  *pDataVersion = (unsigned int)sqlite3_column_int64(pStmt, 0);
  cachierStmtDone(p, STMT_DB_VERSION, pStmt);
  return rc==SQLITE_ROW ? SQLITE_OK : rc==SQLITE_DONE ? SQLITE_ERROR : rc;
}

/* Bring pInfo's settings and store state up to date. A store that cannot
** be read (locked) leaves built-in defaults, not cached, so the next
** statement tries again. */
int fnInfoRefresh(Cachier *p, FnInfo *pInfo, char **pzErr){
  unsigned int dataVersion = 0;
  struct CachierStore *pMain;
  unsigned char aVer[STORE_VERSION_BYTES];
  int bVersion, bVer, rc;
  /* (dbVersion() may start main's read snapshot for the statement.) */
  bVer = p->pMainStore && storeNoteSnapshot(p->pMainStore, aVer);
  if( bVer && pInfo->bDataVersionAt
   && memcmp(aVer, pInfo->aDataVersionAt, STORE_VERSION_BYTES)==0 ){
    dataVersion = pInfo->dataVersion;   /* nobody committed since */
    bVersion = 1;
  }else{
    bVersion = dbVersion(p, &dataVersion)==SQLITE_OK;
  }
  /* What to remember with dataVersion if it is kept (below). */
  pInfo->bDataVersionAt = 0;
  if( bVersion && bVer ){
    memcpy(pInfo->aDataVersionAt, aVer, STORE_VERSION_BYTES);
  }
  /* (A cachier_query table redefined by this connection moves no
  ** data_version: its definition is looked at here.) */
  queryRefresh(p, pInfo->zFn);
  if( pInfo->bLoaded && bVersion && dataVersion==pInfo->dataVersion
   && p->settingsGen==pInfo->settingsGen ){
    /* Another store: another connection may have trained a dictionary
    ** there (or dropped its tables). */
    sqlite3_int64 v;
    if( pInfo->pStore==p->pMainStore
     || (storeDataVersion(pInfo->pStore, &v)==SQLITE_OK
         && v==pInfo->storeVersion) ){
      pInfo->bDataVersionAt = bVer;
      return SQLITE_OK;
    }
  }
  pInfo->bLoaded = 0;
  pInfo->nLoads++;
  settingsClear(&pInfo->settings);
  pInfo->eState = STORE_ABSENT;
  pInfo->pStore = pMain = cachierMainStore(p);
  if( pMain==0 ) return SQLITE_NOMEM;
  rc = storeState(pMain, &pInfo->eState);
  if( rc ) return SQLITE_OK;          /* unreadable: defaults, not cached */
  /* The settings live in main; the entries in the function's store. */
  if( pInfo->eState==STORE_READY ){
    rc = settingsLoad(p, pInfo->zFn, &pInfo->settings, pzErr);
    if( rc==SQLITE_NOMEM ) return rc;
    if( rc ){
      cachierLog(p, "cachier: %s(): its settings cannot be read (%s); "
                 "computing without a cache", pInfo->zFn, sqlite3_errstr(rc));
      settingsClear(&pInfo->settings);
      pInfo->eState = STORE_UNAVAILABLE;
      return SQLITE_OK;               /* not cached: tried again */
    }
  }
  if( pInfo->eState==STORE_READY || pInfo->eState==STORE_ABSENT ){
    const char *zSpec = pInfo->settings.zStore;
#ifdef CACHIER_TEST
    if( zSpec==0 ) zSpec = p->zTestStore;
#endif
    zSpec = fallbackSpec(p, zSpec, pInfo->eState);   /* main read-only */
    if( zSpec && strcmp(zSpec, "main")!=0 ){
      char *zErr = 0;
      pInfo->pStore = storeOpen(p, zSpec, &zErr);
      if( pInfo->pStore==0 ){
        cachierLog(p, "cachier: %s(): %s; computing without a cache",
                   pInfo->zFn, zErr ? zErr : "out of memory");
        sqlite3_free(zErr);
        pInfo->eState = STORE_UNAVAILABLE;
        return SQLITE_OK;             /* not cached: tried again */
      }
      rc = storeState(pInfo->pStore, &pInfo->eState);
      if( rc ){
        pInfo->eState = STORE_UNAVAILABLE;
        return SQLITE_OK;
      }
      /* Another process may create that store's tables at any time: an
      ** absent store is looked at again by the next statement. */
      if( pInfo->eState==STORE_ABSENT ) bVersion = 0;
    }
    if( pInfo->eState==STORE_READY ){
      storeDictLatest(pInfo->pStore, pInfo->zFn, &pInfo->settings.dictId,
                      &pInfo->settings.dictZstdId);
    }
  }
  /* A refused store (store_schema.c) may be repaired by this very
  ** connection, which no data_version tells: looked at again. */
  if( pInfo->eState==STORE_UNAVAILABLE ) bVersion = 0;
  if( bVersion && pInfo->pStore!=pMain
   && storeDataVersion(pInfo->pStore, &pInfo->storeVersion) ){
    bVersion = 0;
  }
  if( bVersion ){
    pInfo->bLoaded = 1;
    pInfo->dataVersion = dataVersion;
    pInfo->bDataVersionAt = bVer;
    pInfo->settingsGen = p->settingsGen;
  }
  return SQLITE_OK;
}

/* The FnInfo of the function named pName taking nArg arguments if one was
** resolved already, else NULL. Only a TEXT name without a NUL may match
** (so a BLOB is not converted to text here). */
FnInfo *fnInfoFind(Cachier *p, sqlite3_value *pName, int nArg){
  FnInfo *pInfo;
  const char *zName = sqlite3_value_type(pName)==SQLITE_TEXT
                    ? (const char*)sqlite3_value_text(pName) : 0;
  if( zName && strlen(zName)==(size_t)sqlite3_value_bytes(pName) ){
    for(pInfo=p->pFnInfo; pInfo; pInfo=pInfo->pNext){
      if( pInfo->nArg==nArg && sqlite3_stricmp(pInfo->zFn, zName)==0 ){
        return pInfo;
      }
    }
  }
  return 0;
}

/* The FnInfo of the function named pName taking nArg arguments, resolved
** (and checked: a scalar function, not one of cachier's) on first use.
** NULL with *pRc and *pzErr set on error. */
FnInfo *fnInfoGet(Cachier *p, const char *zCaller, sqlite3_value *pName,
                  int nArg, int *pRc, char **pzErr){
  FnInfo *pInfo = fnInfoFind(p, pName, nArg);
  char *zFn = 0;
  int rc;
  if( pInfo ) return pInfo;
  /* (Any other name is refused by callResolve().) */
  rc = callResolve(p, zCaller, pName, nArg, &zFn, pzErr);
  if( rc ){
    *pRc = rc;
    return 0;
  }
  pInfo = sqlite3_malloc(sizeof(*pInfo));
  if( pInfo==0 ){
    sqlite3_free(zFn);
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  memset(pInfo, 0, sizeof(*pInfo));
  settingsDefaults(&pInfo->settings);
  pInfo->zFn = zFn;
  pInfo->nArg = nArg;
  pInfo->call.nArg = nArg;
  pInfo->call.zFn = sqlite3_mprintf("%s", zFn);
  pInfo->pStats = cachierStatsFor(p, zFn);
  if( pInfo->call.zFn==0 || pInfo->pStats==0 ){
    fnInfoFree(pInfo);
    *pRc = SQLITE_NOMEM;
    return 0;
  }
  pInfo->pNext = p->pFnInfo;
  p->pFnInfo = pInfo;
  return pInfo;
}

const char *fnInfoName(const FnInfo *pInfo){ return pInfo->zFn; }
int fnInfoArgCount(const FnInfo *pInfo){ return pInfo->nArg; }
FnStats *fnInfoStats(const FnInfo *pInfo){ return pInfo->pStats; }
const FnSettings *fnInfoSettings(const FnInfo *pInfo){
  return &pInfo->settings;
}
int fnInfoStoreState(const FnInfo *pInfo){ return pInfo->eState; }
struct CachierStore *fnInfoStore(const FnInfo *pInfo){ return pInfo->pStore; }

/* The kept call statement of pInfo if it may be used now: the connection
** is anchored and the statement is not running further up the stack (a
** memoized function that memoizes itself). NULL otherwise: the caller uses
** a call of its own. */
FnCall *fnInfoCall(Cachier *p, FnInfo *pInfo){
  if( !p->anchored && !cachierAnchor(p) ) return 0;
  if( pInfo->call.pStmt && sqlite3_stmt_busy(pInfo->call.pStmt) ) return 0;
  return &pInfo->call;
}

/* Times pInfo's settings and store state were read (fnInfoRefresh()):
** what was copied from them at another count is out of date. */
sqlite3_int64 fnInfoLoads(const FnInfo *pInfo){ return pInfo->nLoads; }

/* Park pPlan (freed by xFree) on pInfo until fnInfoTakeParked(): 1, or 0
** if one is parked already (the caller keeps pPlan). */
int fnInfoPark(FnInfo *pInfo, void *pPlan, void (*xFree)(void*)){
  if( pInfo->pParked ) return 0;
  pInfo->pParked = pPlan;
  pInfo->xParkedFree = xFree;
  return 1;
}

/* The plan parked on pInfo, now the caller's, or NULL. */
void *fnInfoTakeParked(FnInfo *pInfo){
  void *pPlan = pInfo->pParked;
  pInfo->pParked = 0;
  return pPlan;
}

void fnInfoFree(FnInfo *pInfo){
  if( pInfo->pParked ) pInfo->xParkedFree(pInfo->pParked);
  callFinalize(&pInfo->call);
  settingsClear(&pInfo->settings);
  sqlite3_free(pInfo->zFn);
  sqlite3_free(pInfo);
}

/* True if no statement of db runs and no transaction is open: a write
** of cachier's own then joins nothing of the user's. */
static int connectionIdle(sqlite3 *db){
  sqlite3_stmt *pStmt;
  if( !sqlite3_get_autocommit(db) ) return 0;
  for(pStmt=sqlite3_next_stmt(db, 0); pStmt;
      pStmt=sqlite3_next_stmt(db, pStmt)){
    if( sqlite3_stmt_busy(pStmt) ) return 0;
  }
  return 1;
}

/* Add every function's counts to its store's lasting counters now: the
** connection closes (into main only while it is idle: the anchor is also
** disconnected in the middle of a schema change), or bFromCall, a call
** of cachier_flush(). */
void fnInfoFlushStats(Cachier *p, int bFromCall){
  FnInfo *pInfo;
  int bIdle = bFromCall || connectionIdle(p->db);
  for(pInfo=p->pFnInfo; pInfo; pInfo=pInfo->pNext){
    if( pInfo->pStore==0 || pInfo->eState!=STORE_READY ) continue;
    if( pInfo->pStore==p->pMainStore && !bIdle ) continue;
    statsFlush(p, pInfo->pStats, pInfo->pStore,
               bFromCall ? STATS_FLUSH_NOW
                         : STATS_FLUSH_NOW|STATS_FLUSH_CLOSING);
  }
}

/* Finalize every kept call statement (the anchor is disconnecting). */
void fnInfoFinalizeAll(Cachier *p){
  FnInfo *pInfo;
  for(pInfo=p->pFnInfo; pInfo; pInfo=pInfo->pNext){
    sqlite3_finalize(pInfo->call.pStmt);
    pInfo->call.pStmt = 0;
  }
}

void fnInfoFreeAll(Cachier *p){
  while( p->pFnInfo ){
    FnInfo *pNext = p->pFnInfo->pNext;
    fnInfoFree(p->pFnInfo);
    p->pFnInfo = pNext;
  }
}
