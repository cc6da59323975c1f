/*
** refresh.c - next_time refreshes and the cleanup of stale entries.
**
** SQL surface:
**   cachier_refresh([FN [, MAX_SECONDS]])
**       Runs the due next_time refreshes of FN (of every function when FN
**       is omitted or NULL), one after another, and starts no new one once
**       MAX_SECONDS (a duration) have passed. Returns how many it ran,
**       failed ones included. A refresh that fails keeps the old value and
**       the mark, and is due again after a backoff (5 s, doubling, at most
**       an hour); until then calls keep serving the stale value. An entry
**       that another connection is computing right now is left to it. A
**       function this connection does not have is left to one that has it.
**   cachier_cleanup_stale([FN])   (also deletes entries of another version)
**       Deletes the stale entries of FN (of every function) now, by each
**       function's current stale_after. Returns how many it deleted.
**
** A refresh mark lives in the entry (cachier_data.refresh), so it
** survives the connection; only the first stale hit writes it, and a
** refresh holds the key's in-flight mark, so a refresh never runs twice.
**
** Automatic cleanup: for a function with cleanup_stale on, the first call
** that stores a value once cleanup_interval has passed since the last
** cleanup deletes the function's stale entries. The time of the last
** cleanup is kept in cachier_info, so all connections share the interval;
** hits never check it.
**
** Background refresh: when a function's background_refresh is on, a
** thread of cachier's runs its refreshes as soon as they are marked,
** calling the user's function on the user's connection. That is safe only
** if (1) the connection serializes its users (it was opened in SQLite's
** serialized mode: sqlite3_db_mutex() is not NULL; Tcl's connections are
** not) and (2) the function may be called from any thread: C functions and
** Python's sqlite3 functions may, Tcl's and JavaScript's may not. cachier
** checks (1) and leaves (2) to whoever turns background_refresh on.
** The thread runs only while no statement of the connection is running
** and no transaction is open, so its writes never join the user's. It
** only ever tries the connection's mutex, never waits for it, and
** sqlite3_close() joins it; a close (or any call) that comes while a
** refresh runs waits for that refresh to end, as with any other user of
** a serialized connection. Every stale hit of such a function wakes it
** (so failed refreshes are retried once due, and marks made by other
** connections are found), but it rests a second between rounds.
** Elsewhere refreshes wait for cachier_refresh().
*/
#include "store.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

/* --------------------------------------------------------------- refresh */

/* Refresh entry iId if it is still marked, due, and nobody is computing
** it. bBackgroundOnly: only if its function has background_refresh on.
** Returns 1 if the function ran (successfully or not), else 0. */
static int refreshEntry(Cachier *p, CachierStore *pStore, sqlite3_int64 iId,
                        int bBackgroundOnly){
  CachierEntry e;
  CachierKey key;
  FnSettings s;
  FnCall call;
  ComputeJob job;
  InflightLock lock;
  DepsState deps;
  unsigned char *aKey = 0, *aArgs = 0;
  sqlite3_int64 nKey = 0, nArgs = 0;
  char *zErr = 0;
  int bFound = 0, attempts = 0, nArg = 0, bWaited, rc, bRan = 0;
  int bHashKey = 0, bDamaged = 0;
  double now = cachierNow(p);

  memset(&call, 0, sizeof(call));
  memset(&deps, 0, sizeof(deps));
  lock.off = -1;
  settingsDefaults(&s);
  rc = storeGet(pStore, iId, &e, &bFound);
  if( rc==SQLITE_OK && bFound && e.refresh && e.retryAt<=now
   && (e.nKey<=0 || e.aKey==0 || e.aKey[0]==0
       || memchr(e.aKey, 0, (size_t)e.nKey)==0) ){
    bDamaged = 1;             /* no function name: no memoize() stored it */
  }else if( rc==SQLITE_OK && bFound && e.refresh && e.retryAt<=now ){
    nKey = e.nKey;
    /* Only a hash_func key lacks the arguments. Any other key is its own
    ** source of truth: a stray args value must not change what the
    ** refresh computes for it. */
    bHashKey = keyIsHashFuncKey(e.aKey, e.nKey);
    nArgs = bHashKey && e.aArgs ? e.nArgs : 0;
    aKey = sqlite3_malloc64(nKey + nArgs + 1);
    if( aKey ){
      memcpy(aKey, e.aKey, (size_t)nKey);
      aArgs = aKey + nKey;
      if( nArgs ) memcpy(aArgs, e.aArgs, (size_t)nArgs);
      /* (A stored count may be anything: attempts+1 below must not
      ** overflow.) */
      attempts = e.attempts<0 ? 0 : e.attempts<INT_MAX ? e.attempts
                                                       : INT_MAX-1;
    }
  }
  storeLookupDone(pStore);
  if( bDamaged ){
    /* A damaged row (its key names no function) can be neither refreshed
    ** nor served: drop it, as an undecodable key below. */
    storeDelete(pStore, iId);
    cachierLog(p, "cachier: an entry whose key names no function cannot be "
               "refreshed; deleted it");
    goto done;
  }
  if( aKey==0 ) goto done;

  call.zFn = sqlite3_mprintf("%s", (const char*)aKey);
  if( call.zFn==0 ) goto done;
  if( cachierIsOwnFunction(call.zFn) ){
    /* No memoize() call stores such an entry: a forged or damaged row,
    ** which must not make a refresh run cachier_clear() or the like. */
    storeDelete(pStore, iId);
    goto done;
  }
  if( settingsLoad(p, call.zFn, &s, 0) ) goto done;
  if( bBackgroundOnly && !s.backgroundRefresh ) goto done;
  /* An entry left behind in a store the function no longer uses is not
  ** refreshed (it is never served either). */
  {
    char *zStoreErr = 0;
    CachierStore *pFnStore = storeOpen(p, s.zStore, &zStoreErr);
    sqlite3_free(zStoreErr);
    if( pFnStore!=pStore ) goto done;
  }
  /* The arguments: those stored beside a hash_func key, else the key's. */
  if( !bHashKey ){
    aArgs = aKey;
    nArgs = nKey;
  }
  rc = keyDecodeArgs(aArgs, nArgs, &nArg, 0, 0);
  if( rc ){
    /* Not refreshable (a hash_func entry stored by cachier 0.1.0, without
    ** its arguments, or a damaged key): drop it, so the next call
    ** computes it afresh instead of serving it stale for ever. */
    storeDelete(pStore, iId);
    cachierLog(p, "cachier: %s(): an entry without its arguments cannot be "
               "refreshed; deleted it", call.zFn);
    goto done;
  }
  call.nArg = nArg;
  if( callCheckStoredFunction(p, "cachier_refresh", call.zFn, nArg, &zErr) ){
    goto done;                /* this connection lacks the function, or it
                              ** is not to be called for stored data */
  }
  if( inflightAcquire(p, pStore, iId & ~(sqlite3_int64)0xff, 0.0, 1, &lock,
                      &bWaited)==INFLIGHT_BUSY ){
    goto done;                /* being computed elsewhere right now */
  }
  /* Someone may have refreshed it between the first read and the mark. */
  rc = storeGet(pStore, iId, &e, &bFound);
  bFound = rc==SQLITE_OK && bFound && e.refresh && e.nKey==nKey
        && memcmp(e.aKey, aKey, (size_t)nKey)==0;
  storeLookupDone(pStore);
  if( !bFound ) goto done;

  key.zFn = call.zFn;
  key.nFn = (int)strlen(call.zFn);
  key.aKey = aKey;
  key.nKey = nKey;
  key.iBase = iId & ~(sqlite3_int64)0xff;
  /* Stamped with the counters read before computing (depends.c). */
  dependsRead(p, &s, &deps);
  if( !dependsMayStore(p, &deps, pStore) ) goto done;
  memset(&job, 0, sizeof(job));
  job.pDeps = &deps;
  job.pCall = &call;
  job.aArgs = aArgs;
  job.nArgs = nArgs;
  job.pStats = cachierStatsFor(p, call.zFn);
  job.pStore = pStore;
  job.pKey = &key;
  job.pSettings = &s;
  job.bAllowNone = s.allowNone;
  job.aKeyArgs = bHashKey ? aArgs : 0;
  job.nKeyArgs = bHashKey ? nArgs : 0;
  rc = computeAndStore(p, &job);
  zErr = job.zErr;
  bRan = 1;
  if( rc==SQLITE_ROW ){
    /* The function's answer may not be cacheable now: drop the old one. */
    rc = job.eStored==COMPUTE_UNSTORABLE ? storeDelete(pStore, iId)
                                         : job.rcWrite;
    callReset(&call);
    if( rc ){
      if( job.pStats ) job.pStats->nWriteError++;
      cachierLog(p, "cachier: %s(): cannot store a refreshed value (%s)",
                 call.zFn, sqlite3_errstr(rc));
    }
  }else{
    if( job.pStats ) job.pStats->nError++;
    cachierLog(p, "cachier: %s(): refresh failed (%s); keeping the stale "
               "value, next attempt in %g s", call.zFn,
               zErr ? zErr : sqlite3_errstr(rc), refreshBackoff(attempts+1));
    storeRefreshFailed(pStore, iId, attempts+1,
                       cachierNow(p) + refreshBackoff(attempts+1));
  }

done:
  if( lock.off>=0 ) storeMarkDone(pStore, &lock, 1);
  callFinalize(&call);
  dependsClear(&deps);
  settingsClear(&s);
  sqlite3_free(zErr);
  sqlite3_free(aKey);
  return bRan;
}

/* Seconds since t0 on this connection's clock (the test clock when set,
** so tests can drive the MAX_SECONDS budget). */
static double elapsedSince(Cachier *p, double t0, sqlite3_int64 t0Ns){
  if( p->hasTestClock ) return cachierNow(p) - t0;
  return (double)(cachierMonotonicNs() - t0Ns) * 1e-9;
}

/* Run the due refreshes of zFn (all functions if NULL) for at most
** budget seconds; *pnRan gets how many ran. */
static int refreshDue(Cachier *p, const char *zFn, double budget,
                      int bBackgroundOnly, sqlite3_int64 *pnRan,
                      CachierStore **ppErrStore){
  CachierStore **apStore = 0;
  sqlite3_int64 t0Ns = cachierMonotonicNs();
  double t0 = cachierNow(p);
  int nStore = 0, j, rc;
  *pnRan = 0;
  *ppErrStore = 0;
  rc = storeListAll(p, &apStore, &nStore);
  for(j=0; rc==SQLITE_OK && j<nStore; j++){
    CachierStore *pStore = apStore[j];
    sqlite3_int64 *aId = 0;
    int nId = 0, i;
    rc = storeRefreshDue(pStore, zFn, t0, &aId, &nId);
    if( rc ) *ppErrStore = pStore;
    for(i=0; rc==SQLITE_OK && i<nId; i++){
      if( budget<CACHIER_NEVER && elapsedSince(p, t0, t0Ns)>=budget ) break;
      *pnRan += refreshEntry(p, pStore, aId[i], bBackgroundOnly);
    }
    sqlite3_free(aId);
    /* Refreshed values are committed (and their marks released) now. */
    storeFlush(pStore, 0);
  }
  sqlite3_free(apStore);
  return rc;
}

/* The message of error rc from pStore (NULL: not a store's error). */
static const char *refreshErrmsg(Cachier *p, CachierStore *pStore, int rc){
  if( pStore ) return storeErrmsg(pStore, rc);
  return rc==SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(p->db);
}

/* Report an error as "FUNC: message" on ctx. */
static void resultErrorf(sqlite3_context *ctx, int rc, const char *zFmt,
                         ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_result_error(ctx, z ? z : "out of memory", -1);
  sqlite3_result_error_code(ctx, rc);
  sqlite3_free(z);
}

/* The optional function-name argument of a management function: NULL
** means all. 0 after reporting an error. */
static int optionalFnArg(sqlite3_context *ctx, const char *zCaller, int argc,
                         sqlite3_value **argv, char **pzFn){
  char *zErr = 0;
  *pzFn = 0;
  if( argc<1 || sqlite3_value_type(argv[0])==SQLITE_NULL ) return 1;
  if( callCanonicalName(zCaller, argv[0], pzFn, &zErr) ){
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return 0;
  }
  return 1;
}

/* cachier_refresh([FN [, MAX_SECONDS]]) */
static void refreshFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  double budget = CACHIER_NEVER;
  CachierStore *pErrStore = 0;
  sqlite3_int64 nRan = 0;
  char *zFn = 0;
  int rc;
  if( guardDirectCall(ctx, "cachier_refresh") ) return;
  if( !optionalFnArg(ctx, "cachier_refresh", argc, argv, &zFn) ) return;
  if( argc>1 && sqlite3_value_type(argv[1])!=SQLITE_NULL ){
    char *zWhy = 0;
    if( parseDuration(argv[1], 0, &budget, &zWhy) ){
      resultErrorf(ctx, SQLITE_ERROR, "cachier_refresh: max_seconds: %s",
                   zWhy ? zWhy : "invalid");
      sqlite3_free(zWhy);
      sqlite3_free(zFn);
      return;
    }
  }
  rc = refreshDue(p, zFn, budget, 0, &nRan, &pErrStore);
  sqlite3_free(zFn);
  if( rc ){
    resultErrorf(ctx, rc, "cachier_refresh: %s",
                 refreshErrmsg(p, pErrStore, rc));
    return;
  }
  sqlite3_result_int64(ctx, nRan);
}

/* --------------------------------------------------------------- cleanup */

/* Delete zFn's entries that are stale under staleAfter; record the time. */
static int cleanupFunction(Cachier *p, CachierStore *pStore, const char *zFn,
                           double staleAfter, sqlite3_int64 *pn){
  double now = cachierNow(p);
  sqlite3_stmt *pStmt = 0;
  int rc;
  *pn = 0;
  if( staleAfter>=CACHIER_NEVER ) return SQLITE_OK;
  rc = storeDeleteOlder(pStore, zFn, now - staleAfter, pn);
  if( rc ) return rc;
  if( sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO main.cachier_info"
        "(key, value) VALUES ('last_cleanup:' || ?1, ?2)", -1, &pStmt,
        0)==SQLITE_OK ){
    sqlite3_int64 iLastRowid = sqlite3_last_insert_rowid(p->db);
    if( sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC)==SQLITE_OK ){
      sqlite3_bind_double(pStmt, 2, now);
      sqlite3_step(pStmt);
    }
    sqlite3_set_last_insert_rowid(p->db, iLastRowid);
  }
  sqlite3_finalize(pStmt);
  return SQLITE_OK;
}

/* When did the last cleanup of zFn run (0: never)? */
static double lastCleanup(Cachier *p, const char *zFn){
  sqlite3_stmt *pStmt = 0;
  double t = 0.0;
  if( sqlite3_prepare_v2(p->db, "SELECT value FROM main.cachier_info"
        " WHERE key = 'last_cleanup:' || ?1", -1, &pStmt, 0)==SQLITE_OK ){
    if( sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC)==SQLITE_OK
     && sqlite3_step(pStmt)==SQLITE_ROW ){
      t = sqlite3_column_double(pStmt, 0);
    }
  }
  sqlite3_finalize(pStmt);
  return t;
}

/* Called after a call stored a value: run the automatic cleanup of the
** function if cleanup_stale is on and cleanup_interval has passed. The
** interval is checked in memory first, so this costs nothing on most
** calls. */
void cleanupMaybe(Cachier *p, FnInfo *pInfo, CachierStore *pStore,
                  const CallOptions *o){
  const FnSettings *s = fnInfoSettings(pInfo);
  FnStats *pStats = fnInfoStats(pInfo);
  double interval, staleAfter, now, last;
  sqlite3_int64 n = 0;
  int bOn = o->hasCleanupStale ? o->cleanupStale : s->cleanupStale;
  if( !bOn ) return;
  staleAfter = o->hasStaleAfter ? o->staleAfter : s->staleAfter;
  if( staleAfter>=CACHIER_NEVER ) return;
  now = cachierNow(p);
  if( now<pStats->cleanupDue ) return;
  interval = o->hasCleanupInterval ? o->cleanupInterval : s->cleanupInterval;
  last = lastCleanup(p, pStats->zFn);
  if( now - last < interval ){
    pStats->cleanupDue = last + interval;
    return;
  }
  if( cleanupFunction(p, pStore, pStats->zFn, staleAfter, &n)==SQLITE_OK ){
    pStats->cleanupDue = now + interval;
    cachierLog(p, "cachier: %s(): cleanup_stale deleted %lld stale "
               "entr%s", pStats->zFn, n, n==1 ? "y" : "ies");
  }
}

/* cachier_cleanup_stale([FN]) */
static void cleanupStaleFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  CachierStore **apStore = 0, *pErrStore = 0;
  char *zFn = 0;
  int nStore = 0, j, rc;
  sqlite3_int64 nDeleted = 0;
  if( guardDirectCall(ctx, "cachier_cleanup_stale") ) return;
  if( !optionalFnArg(ctx, "cachier_cleanup_stale", argc, argv, &zFn) ) return;
  rc = storeListAll(p, &apStore, &nStore);
  for(j=0; rc==SQLITE_OK && j<nStore; j++){
    CachierStore *pStore = apStore[j];
    StoreTotal *aTotal = 0;   /* the functions with entries in the store */
    int nTotal = 0, i;
    rc = storeTotals(pStore, zFn, &aTotal, &nTotal);
    for(i=0; rc==SQLITE_OK && i<nTotal; i++){
      FnSettings s;
      sqlite3_int64 n = 0;
      settingsDefaults(&s);
      rc = settingsLoad(p, aTotal[i].zFn, &s, 0);
      if( rc==SQLITE_OK ){
        rc = cleanupFunction(p, pStore, aTotal[i].zFn, s.staleAfter, &n);
      }
      if( rc==SQLITE_OK && s.version ){
        sqlite3_int64 nOutdated = 0;
        rc = dependsDeleteOutdated(pStore, aTotal[i].zFn, &s, &nOutdated);
        n += nOutdated;
      }
      settingsClear(&s);
      nDeleted += n;
    }
    if( rc ) pErrStore = pStore;
    storeFreeTotals(aTotal, nTotal);
  }
  sqlite3_free(apStore);
  sqlite3_free(zFn);
  if( rc ){
    resultErrorf(ctx, rc, "cachier_cleanup_stale: %s",
                 refreshErrmsg(p, pErrStore, rc));
    return;
  }
  sqlite3_result_int64(ctx, nDeleted);
}

/* ---------------------------------------------------- background refresh */

struct Refresher {
  Cachier *p;
  pthread_t thread;
  pthread_mutex_t mutex;      /* guards bWork and bStop */
  pthread_cond_t cond;
  int bWork;                  /* refreshes may be due */
  int bStop;
};

static int refresherStopping(Refresher *r){
  int b;
  pthread_mutex_lock(&r->mutex);
  b = r->bStop;
  pthread_mutex_unlock(&r->mutex);
  return b;
}

/* True if no statement of db is running and no transaction is open: then
** the refresh's statements and writes are the only ones. */
static int connectionIdle(sqlite3 *db){
  sqlite3_stmt *pStmt;
  if( !sqlite3_get_autocommit(db) ) return 0;
  for(pStmt=sqlite3_next_stmt(db, 0); pStmt; pStmt=sqlite3_next_stmt(db, pStmt)){
    if( sqlite3_stmt_busy(pStmt) ) return 0;
  }
  return 1;
}

/* One round of background refreshes. Returns 0 if the connection was busy
** (try again soon), 1 otherwise. The connection's mutex is only ever
** tried, never waited for: sqlite3_close() holds it while joining us. */
static int refresherRound(Refresher *r){
  Cachier *p = r->p;
  sqlite3_mutex *pMutex = sqlite3_db_mutex(p->db);
  sqlite3_int64 nRan = 0;
  struct timespec ts = {0, 1000000};
  int bDone = 1;
  while( sqlite3_mutex_try(pMutex)!=SQLITE_OK ){
    if( refresherStopping(r) ) return 1;
    nanosleep(&ts, 0);
  }
  if( connectionIdle(p->db) ){
    CachierStore *pErrStore = 0;
    refreshDue(p, 0, CACHIER_NEVER, 1, &nRan, &pErrStore);
  }else{
    bDone = 0;
  }
  sqlite3_mutex_leave(pMutex);
  return bDone;
}

/* Wait on r->cond until ms milliseconds have passed or the thread must
** stop (wakes in between do not shorten the pause). r->mutex is held. */
static void refresherPause(Refresher *r, long ms){
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms/1000;
  until.tv_nsec += (ms%1000)*1000000L;
  if( until.tv_nsec>=1000000000L ){
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while( !r->bStop ){
    if( pthread_cond_timedwait(&r->cond, &r->mutex, &until)==ETIMEDOUT ){
      break;
    }
  }
}

static void *refresherMain(void *pArg){
  Refresher *r = (Refresher*)pArg;
  pthread_mutex_lock(&r->mutex);
  while( !r->bStop ){
    int bDone;
    if( !r->bWork ){
      pthread_cond_wait(&r->cond, &r->mutex);
      continue;
    }
    r->bWork = 0;
    pthread_mutex_unlock(&r->mutex);
    bDone = refresherRound(r);
    pthread_mutex_lock(&r->mutex);
    if( !bDone ) r->bWork = 1;
    /* Look again in 20 ms if the connection was in use; after a round,
    ** rest a second, so that a stream of stale hits (each wakes us)
    ** cannot keep the connection's mutex busy. */
    refresherPause(r, bDone ? 1000 : 20);
  }
  pthread_mutex_unlock(&r->mutex);
  return 0;
}

/* A refresh was marked for a function with background_refresh on: start
** the thread if needed and wake it. Does nothing on connections that are
** not serialized (see the header comment). */
void refresherWake(Cachier *p){
  Refresher *r = p->pRefresher;
  if( sqlite3_db_mutex(p->db)==0 ){
    /* Said once per connection: cachier_log, cachier_debug(). */
    if( p->zRefreshOff==0 ){
      p->zRefreshOff = CACHIER_REFRESH_OFF_WHY;
      cachierLogFn(p, CACHIER_LOG_WARNING, 0, "cachier: background refresh "
          "is %s", p->zRefreshOff);
    }
    return;
  }
  if( r==0 ){
    r = sqlite3_malloc(sizeof(*r));
    if( r==0 ) return;
    memset(r, 0, sizeof(*r));
    r->p = p;
    pthread_mutex_init(&r->mutex, 0);
    pthread_cond_init(&r->cond, 0);
    if( pthread_create(&r->thread, 0, refresherMain, r)!=0 ){
      pthread_cond_destroy(&r->cond);
      pthread_mutex_destroy(&r->mutex);
      sqlite3_free(r);
      p->zRefreshOff = "off (its thread could not be started)";
      cachierLogFn(p, CACHIER_LOG_WARNING, 0, "cachier: background refresh "
          "is %s", p->zRefreshOff);
      return;
    }
    p->pRefresher = r;
  }
  pthread_mutex_lock(&r->mutex);
  r->bWork = 1;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->mutex);
}

/* Stop and join the thread (before the connection closes). From the
** thread itself (a schema change during its own refresh disconnects the
** anchor), there is nothing to join: it stops after its round. */
void refresherStop(Cachier *p){
  Refresher *r = p->pRefresher;
  if( r==0 ) return;
  pthread_mutex_lock(&r->mutex);
  r->bStop = 1;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->mutex);
  if( pthread_equal(pthread_self(), r->thread) ) return;
  pthread_join(r->thread, 0);
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->mutex);
  sqlite3_free(r);
  p->pRefresher = 0;
}

const CachierFunction cachierRefreshFunctions[] = {
  { "cachier_refresh",       0, CACHIER_FN_WRITES, refreshFunc },
  { "cachier_refresh",       1, CACHIER_FN_WRITES, refreshFunc },
  { "cachier_refresh",       2, CACHIER_FN_WRITES, refreshFunc },
  { "cachier_cleanup_stale", 0, CACHIER_FN_WRITES, cleanupStaleFunc },
  { "cachier_cleanup_stale", 1, CACHIER_FN_WRITES, cleanupStaleFunc },
  { 0, 0, 0, 0 }
};
