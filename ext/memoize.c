/*
** memoize.c - the SQL surface of the cache.
**
**   memoize(FN, ARG, ...)
**       Returns FN(ARG, ...), computing it once per distinct argument list
**       and serving it from the cache afterwards. FN is the text name of
**       any scalar SQL function on this connection; 0 to 126 arguments.
**   memoize_with(OPTIONS, FN, ARG, ...)
**       The same with per-call options, a JSON object (or NULL) with any of
**       skip_cache, overwrite_cache, allow_none, stale_after, max_age,
**       verbose, next_time, stale_while_refresh, stale_if_error,
**       wait_for_calc_timeout, cleanup_stale, cleanup_interval,
**       statement_bytes (the statement memo's bound, memo.c).
**   cachier_precache(FN, VALUE, ARG, ...)
**       Stores VALUE as the result of FN(ARG, ...) and returns it.
**   cachier_clear([FN])
**       Deletes FN's entries (all entries without FN); returns the count.
**   cachier_enable(ON)
**       Switches caching on or off for this connection; returns the
**       previous state (1 or 0).
**
** All are SQLITE_DIRECTONLY: they call other functions and write, so a
** view or trigger in an untrusted schema must not reach them (nor a CHECK
** constraint, which SQLite 3.40 lets through: guard.c).
**
** Per-statement state (the resolved function, its prepared call, its
** settings, its counters) is a Plan kept as auxdata on the constant name
** argument, as regexp.c does: SQLite frees it with the statement, so no
** statement outlives the connection. The plan also keeps the statement
** memo (memo.c): a repeated argument list is served from it first.
**
** When its statement ends, a plan is parked on its FnInfo (one a function)
** rather than freed, and the function's next statement takes it back:
** SQLite drops auxdata at every reset, so a kept "SELECT memoize('f', ?1)"
** run once a row, and every read of a cachier_query table, would otherwise
** build one a call. Parked, a plan holds no statement and no memo; taken
** back, it starts a statement as a new one would (planRestart()), and its
** settings are loaded again if anything they came from moved.
*/
#include "store.h"
#include <string.h>

/* The options of a memoize() call: none. */
static const CallOptions noOptions;

typedef struct Plan Plan;
struct Plan {
  Cachier *p;
  FnInfo *pInfo;              /* the memoized function (per connection) */
  FnCall ownCall;             /* its call when pInfo's kept one is busy */
  FnCall hashCall;            /* its hash_func, if any */
  FnSettings settings;        /* a copy of pInfo's, for this statement */
  sqlite3_int64 settingsGen;  /* p->settingsGen when settings were copied */
  FnStats *pStats;
  CachierStore *pStore;
  CachierStore *pFallback;    /* main is pStore, has cache tables and cannot
                              ** be written: results are stored here, and
                              ** looked up here after main (fallback.c);
                              ** NULL: none (planUsesFallback()) */
  int bFallbackChecked;       /* pFallback was decided for these settings */
  int bNoWrite;               /* a write to the store results go to (pStore
                              ** or pFallback) failed: stop trying this
                              ** statement */
  int eWal;                   /* main is in WAL mode: 1, not: 0, unknown: -1 */
  int bNoRead;                /* the store is unusable (newer schema) */
  sqlite3_int64 infoLoads;    /* fnInfoLoads() when settings were copied */
  int bNoTables;              /* the store had no tables: nothing to read */
  int bHotChecked;            /* the hot tier's version source was checked */
  int eHotPin;                /* HOT_PIN_*: must it be checked again at
                              ** every use (planHotRecheck())? */
  int bKept;                  /* SQLite kept it for a second call: it is
                              ** freed when the statement ends */
  int bHotFast;               /* plain hits may take the hot tier in
                              ** memoizeFast() */
  int bMemoKey;               /* the statement memo may serve (keys are the
                              ** arguments: no hash_func) */
  int bFastLookup;            /* a call without options judges a stored
                              ** entry by its age and stamps alone (no
                              ** eviction, keys made of the arguments):
                              ** memoizeFast() looks it up itself
                              ** (memoizeStoreHit()), with these flags: */
  int fastLookupFlags;        /* lookupFlags() of the plain rules */
  StmtMemo *pMemo;            /* the statement memo (memo.c), or NULL */
  int bMemoWanted;            /* a value was offered to it once (its
                              ** hash: hMemoSeen); a second offer makes it
                              ** (one-call statements allocate none) */
  uint64_t hMemoSeen;
  CallRules plainRules;       /* the rules of a call without options */
  const char *zFn;            /* fnInfoName(pInfo), its length, and the */
  int nFn;                    /* first id of its range in the store */
  sqlite3_int64 iFnBase;
  KeyBuf key;                 /* the call's key. It starts with zFn and
                              ** its NUL (planGet() puts them there, with
                              ** room for one INTEGER argument after them,
                              ** and every writer keeps them): memoizeFast()
                              ** writes only the arguments */
  int bStamp;                 /* depends_on or version: entries' stamps
                              ** are read and checked (depends.c) */
  DepsState deps;             /* the current dependency stamp */
  int nArg;                   /* fnInfoArgCount(pInfo), set with the
                              ** settings */
  HotProbe hotProbe;          /* what memoizeFast() asks the hot tier */
};

static int stampFresh(void *pArg, const CachierEntry *e);
static int lookupFlags(const Plan *pPlan, const CallRules *pRules);

/* What memoizeFast() hands memoizeCore() when it did not serve: the call's
** key, already made in pPlan->key, and its arguments' hash, so that the
** call encodes and hashes its arguments once. pPlan 0: no key made. */
typedef struct FastKey FastKey;
struct FastKey {
  Plan *pPlan;                /* the plan whose key buffer holds the key;
                              ** NULL: memoizeFast() made none, and the
                              ** fields below are unset */
  uint64_t hArgs;             /* keyArgsHash(0, ) of the arguments part */
  int eLooked;                /* FAST_*: what memoizeStoreHit() did */
  /* FAST_LOOKED: the lookup memoizeServe() takes over. */
  int rc;                     /* storeLookup()'s */
  int bFound;
  int bFill;                  /* the hot tier may keep what was found */
  CachierEntry entry;
};
/* FastKey.eLooked: whether the plan's store was looked up already, so
** that memoizeCore() does not look again. */
#define FAST_NOT_LOOKED 0     /* it was not */
#define FAST_LOOKED     1     /* it was, and the lookup is still open:
                              ** memoizeServe() goes on with it */
#define FAST_CORRUPT    2     /* a fresh value that did not decode (the
                              ** lookup is done) */

/* Free a plan that is no statement's (never parked, or taken back). */
static void planDestroy(void *pArg){
  Plan *pPlan = (Plan*)pArg;
  if( pPlan ){
    callFinalize(&pPlan->ownCall);
    callFinalize(&pPlan->hashCall);
    memoFree(pPlan->pMemo);
    settingsClear(&pPlan->settings);
    keyBufFree(&pPlan->key);
    dependsClear(&pPlan->deps);
    sqlite3_free(pPlan);
  }
}

/* The auxdata destructor: the plan's statement ended, or (a name that is
** not constant) its call did. Ends the plan's use of its stores, then
** parks it on its FnInfo if the slot is free, else frees it. A parked plan
** keeps no prepared statement (sqlite3_close() would find it) and no memo
** (what a statement saw is not the next one's). */
static void planFree(void *pArg){
  Plan *pPlan = (Plan*)pArg;
  if( pPlan ){
    /* The statement ended (its store's shared snapshot with it). A plan
    ** freed after one call may be freed in the middle of its statement
    ** (a name that is not constant): only a kept one tells the end. */
    if( pPlan->pStore ){
      if( pPlan->bKept ) storeNoteStatementEnd(pPlan->pStore);
      storeStatementEnd(pPlan->pStore);
    }
    if( pPlan->pFallback ) storeStatementEnd(pPlan->pFallback);
    if( pPlan->pInfo && pPlan->hashCall.zFn==0 ){
      sqlite3_finalize(pPlan->ownCall.pStmt);
      pPlan->ownCall.pStmt = 0;
      memoFree(pPlan->pMemo);
      pPlan->pMemo = 0;
      if( fnInfoPark(pPlan->pInfo, pPlan, planDestroy) ) return;
    }
    planDestroy(pPlan);
  }
}

/* Copy the function's current settings and store state into the plan and,
** if the settings name one, check and set up its hash_func. Only a load
** that succeeded stamps the plan (settingsGen, infoLoads): after a failed
** one, the next use of the plan (this statement's next call, or a later
** statement's, parked) loads again and fails again, rather than running
** half loaded (a hash_func refused, then ignored). */
static int planLoadSettings(Plan *pPlan, const char *zCaller, char **pzErr){
  Cachier *p = pPlan->p;
  const FnSettings *pS;
  sqlite3_int64 settingsGen, infoLoads;
  int eState, rc = fnInfoRefresh(p, pPlan->pInfo, pzErr);
  if( rc ) return rc;
  infoLoads = fnInfoLoads(pPlan->pInfo);
  pS = fnInfoSettings(pPlan->pInfo);
  settingsClear(&pPlan->settings);
  pPlan->settings = *pS;
  pPlan->settings.zHashFunc = 0;
  pPlan->settings.zStore = 0;       /* (the plan has the store itself) */
  pPlan->settings.zDependsOn = 0;
  if( pS->zDependsOn ){
    pPlan->settings.zDependsOn = sqlite3_mprintf("%s", pS->zDependsOn);
    if( pPlan->settings.zDependsOn==0 ) return SQLITE_NOMEM;
  }
  pPlan->bStamp = (pS->zDependsOn && pS->zDependsOn[0])
               || pS->bDependsUnsealed || pS->version!=0;
  dependsRead(p, &pPlan->settings, &pPlan->deps);
  settingsGen = p->settingsGen;
  eState = fnInfoStoreState(pPlan->pInfo);
  if( pPlan->pStore && pPlan->pStore!=fnInfoStore(pPlan->pInfo) ){
    storeStatementEnd(pPlan->pStore);   /* switched */
    pPlan->bHotChecked = 0;             /* (the new store's tier too) */
  }
  pPlan->pStore = fnInfoStore(pPlan->pInfo);
  pPlan->pFallback = 0;               /* decided again (on a miss) */
  pPlan->bFallbackChecked = 0;
  pPlan->bNoTables = eState==STORE_ABSENT;
  pPlan->bNoRead = 0;
  if( eState==STORE_UNAVAILABLE || pPlan->pStore==0 ){
    /* (fninfo.c logged why.) */
    pPlan->bNoRead = pPlan->bNoWrite = 1;
  }
  if( eState==STORE_NEWER ){
    cachierLog(p, "cachier: %s; computing without it",
               CACHIER_NEWER_SCHEMA_MSG);
    pPlan->bNoRead = pPlan->bNoWrite = 1;
  }
  if( eState==STORE_OLD ){
    /* An old layout that could not be upgraded (storeMainState logged
    ** why): this build neither reads nor writes it. */
    pPlan->bNoRead = pPlan->bNoWrite = 1;
  }
  /* The hot tier's fast path serves what needs no more than the value: no
  ** staleness to judge, no hits to note for eviction, keys made of the
  ** arguments themselves. */
  pPlan->bHotFast = pS->zHashFunc==0 && pS->staleAfter>=CACHIER_NEVER
                 && !evictBounded(pS) && !pPlan->bNoRead
                 && pPlan->pStore!=0;
  pPlan->bMemoKey = pS->zHashFunc==0 && !pPlan->bNoRead && pPlan->pStore!=0;
  pPlan->nArg = fnInfoArgCount(pPlan->pInfo);
  pPlan->hotProbe.zFn = pPlan->zFn;
  pPlan->hotProbe.nFn = pPlan->nFn;
  pPlan->hotProbe.iFnBase = pPlan->iFnBase;
  pPlan->hotProbe.bAllowNone = pPlan->settings.allowNone;
  pPlan->hotProbe.xFresh = pPlan->bStamp ? stampFresh : 0;
  pPlan->hotProbe.pFreshArg = pPlan;
  callRules(&pPlan->settings, &noOptions, &pPlan->plainRules);
  pPlan->bFastLookup = pS->zHashFunc==0 && !evictBounded(pS)
                    && !pPlan->bNoRead && pPlan->pStore!=0;
  pPlan->fastLookupFlags = lookupFlags(pPlan, &pPlan->plainRules);
  callFinalize(&pPlan->hashCall);
  if( pS->zHashFunc ){
    int nArg = fnInfoArgCount(pPlan->pInfo);
    rc = callCheckHashFunc(p, zCaller, pS->zHashFunc, nArg, pzErr);
    if( rc ) return rc;
    pPlan->settings.zHashFunc = sqlite3_mprintf("%s", pS->zHashFunc);
    pPlan->hashCall.zFn = sqlite3_mprintf("%s", pS->zHashFunc);
    if( pPlan->hashCall.zFn==0 || pPlan->settings.zHashFunc==0 ){
      return SQLITE_NOMEM;
    }
    pPlan->hashCall.nArg = nArg;
  }
  pPlan->settingsGen = settingsGen;
  pPlan->infoLoads = infoLoads;
  return SQLITE_OK;
}

/* Start a statement with a plan taken back from its FnInfo (its settings
** still those of the function): as planGet() leaves a new one. */
static void planRestart(Plan *pPlan){
  pPlan->pFallback = 0;
  pPlan->bFallbackChecked = 0;
  pPlan->bNoWrite = pPlan->bNoRead;   /* (earlier write failures forgotten) */
  pPlan->eWal = -1;
  pPlan->bHotChecked = 0;
  pPlan->bKept = 0;
  pPlan->bMemoWanted = 0;
  pPlan->hMemoSeen = 0;
}

/* The plan parked on the FnInfo of the function named argv[iName] taking
** nArg arguments, taken back and brought up to date for a new statement;
** NULL if it has none (*pRc SQLITE_OK), or on error (*pRc and *pzErr
** set; the plan is freed). */
static Plan *planTakeParked(sqlite3_context *ctx, const char *zCaller,
                            int iName, int nArg, sqlite3_value **argv,
                            int *pRc, char **pzErr){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  FnInfo *pInfo = fnInfoFind(p, argv[iName], nArg);
  Plan *pPlan = pInfo ? (Plan*)fnInfoTakeParked(pInfo) : 0;
  int rc;
  if( pPlan==0 ) return 0;
  /* (What a new plan's planLoadSettings() would do first.) */
  planRestart(pPlan);
  rc = fnInfoRefresh(p, pInfo, pzErr);
  if( rc==SQLITE_OK ){
    if( pPlan->settingsGen!=p->settingsGen
     || pPlan->infoLoads!=fnInfoLoads(pInfo) ){
      pPlan->pStore = 0;      /* (its statement ended: no switch to tell) */
      pPlan->bNoRead = pPlan->bNoWrite = 0;   /* (as the store is now) */
      rc = planLoadSettings(pPlan, zCaller, pzErr);
    }else{
      rc = dependsRead(p, &pPlan->settings, &pPlan->deps);
    }
  }
  if( rc ){
    planDestroy(pPlan);
    *pRc = rc;
    return 0;
  }
  return pPlan;
}

/* The plan for the function named by argv[iName], from auxdata, parked on
** its FnInfo, or new. NULL after reporting an error on ctx. */
static Plan *planGet(sqlite3_context *ctx, const char *zCaller, int iName,
                     int nArg, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  Plan *pPlan = (Plan*)sqlite3_get_auxdata(ctx, iName);
  char *zErr = 0;
  int rc = SQLITE_OK;
  if( pPlan && pPlan->nArg==nArg ){
    pPlan->bKept = 1;
    if( pPlan->settingsGen!=p->settingsGen ){
      rc = planLoadSettings(pPlan, zCaller, &zErr);
      if( rc ) goto error;
    }
    return pPlan;
  }
  /* Once per statement: called by the user, not by the schema (guard.c). */
  if( guardDirectCall(ctx, zCaller) ) return 0;
  pPlan = planTakeParked(ctx, zCaller, iName, nArg, argv, &rc, &zErr);
  if( pPlan ) goto keep;
  if( rc ) goto error;
  pPlan = sqlite3_malloc(sizeof(*pPlan));
  if( pPlan==0 ){
    sqlite3_result_error_nomem(ctx);
    return 0;
  }
  memset(pPlan, 0, sizeof(*pPlan));
  pPlan->p = p;
  pPlan->eWal = -1;
  keyBufInit(&pPlan->key);
  settingsDefaults(&pPlan->settings);
  pPlan->pInfo = fnInfoGet(p, zCaller, argv[iName], nArg, &rc, &zErr);
  if( pPlan->pInfo ){
    sqlite3_int64 iHi;
    pPlan->zFn = fnInfoName(pPlan->pInfo);
    pPlan->nFn = (int)strlen(pPlan->zFn);
    keyFnRange(pPlan->zFn, &pPlan->iFnBase, &iHi);
    pPlan->pStats = fnInfoStats(pPlan->pInfo);
    pPlan->ownCall.nArg = nArg;
    pPlan->ownCall.zFn = sqlite3_mprintf("%s", fnInfoName(pPlan->pInfo));
    if( pPlan->ownCall.zFn==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK ){
      rc = keyEncodeArgs(&pPlan->key, pPlan->zFn, pPlan->nFn, 0, 0);
    }
    if( rc==SQLITE_OK ) rc = planLoadSettings(pPlan, zCaller, &zErr);
  }
  if( rc ){
    planDestroy(pPlan);
    goto error;
  }
keep:
  sqlite3_set_auxdata(ctx, iName, pPlan, planFree);
  pPlan = (Plan*)sqlite3_get_auxdata(ctx, iName);
  if( pPlan==0 ) sqlite3_result_error_nomem(ctx);
  return pPlan;
error:
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
    sqlite3_result_error_code(ctx, rc);
  }
  sqlite3_free(zErr);
  return 0;
}

/* Report an error from a called function (its own message) on ctx. */
static void resultCallError(sqlite3_context *ctx, int rc, char *zErr){
  sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
  sqlite3_result_error_code(ctx, rc);
  sqlite3_free(zErr);
}

/* The key in pPlan->key as a CachierKey (OUT: pKey), its ids made. */
static CACHIER_HOT_INLINE void planKey(Plan *pPlan, CachierKey *pKey){
  pKey->zFn = pPlan->zFn;
  pKey->nFn = pPlan->nFn;
  pKey->aKey = pPlan->key.a;
  pKey->nKey = pPlan->key.n;
  keySetHash(pPlan->p, pKey, pPlan->iFnBase);
}

/* Build the key of apArg in pPlan->key: the arguments themselves, or what
** the hash_func returns for them; or take the one memoizeFast() made
** (pFast, which is then this plan's). */
static int planMakeKey(Plan *pPlan, sqlite3_value **apArg,
                       const FastKey *pFast, CachierKey *pKey, char **pzErr){
  const char *zFn = pPlan->zFn;
  int nFn = pPlan->nFn;
  int rc;
  if( pFast ){
    rc = SQLITE_OK;
  }else if( pPlan->hashCall.zFn ){
    pPlan->p->depth++;
    rc = callRun(pPlan->p, &pPlan->hashCall, apArg, pzErr);
    pPlan->p->depth--;
    if( rc!=SQLITE_ROW ) return rc;
    rc = keyEncodeHashFuncKey(&pPlan->key, zFn, nFn,
                              sqlite3_column_value(pPlan->hashCall.pStmt, 0));
    callReset(&pPlan->hashCall);
  }else{
    rc = keyEncodeArgs(&pPlan->key, zFn, nFn, pPlan->nArg, apArg);
  }
  if( rc ) return rc;
  planKey(pPlan, pKey);
  return SQLITE_OK;
}

/* The store the plan's results are written to: its fallback if it has
** one, else its store. */
static CachierStore *planWriteStore(Plan *pPlan){
  return pPlan->pFallback ? pPlan->pFallback : pPlan->pStore;
}

/* Whether the plan's misses go to a fallback (main is its store, with
** cache tables, and cannot be written: fallback.c): decided on the first
** miss after its settings were loaded, which is when it matters (a
** statement of hits pays nothing for it). */
static int planUsesFallback(Plan *pPlan){
  if( !pPlan->bFallbackChecked ){
    pPlan->bFallbackChecked = 1;
    if( pPlan->pStore && pPlan->pStore==pPlan->p->pMainStore
     && !pPlan->bNoRead && !pPlan->bNoTables ){
      pPlan->pFallback = fallbackStore(pPlan->p);
      /* (a failed write to main no longer stops this statement's writes) */
      if( pPlan->pFallback ) pPlan->bNoWrite = 0;
    }
  }
  return pPlan->pFallback!=0;
}

/* A cache write to pStore failed: count and log it. A busy, locked or
** full database may accept the next row's write; any other failure
** (read-only, query_only, a newer schema, a read snapshot too old to write
** that the store could not write around) would repeat, so the statement
** stops writing. Never reported to the user. */
static void planWriteFailed(Plan *pPlan, CachierStore *pStore, int rc,
                            const char *zWhat){
  int eCode = rc & 0xff;
  int bTransient = (eCode==SQLITE_BUSY && rc!=SQLITE_BUSY_SNAPSHOT)
                || eCode==SQLITE_LOCKED || eCode==SQLITE_FULL;
  pPlan->pStats->nWriteError++;
  if( !bTransient && pStore==planWriteStore(pPlan) ) pPlan->bNoWrite = 1;
  if( pStore==pPlan->p->pMainStore ) fallbackWriteFailed(pPlan->p, rc);
  cachierLog(pPlan->p, "cachier: %s(): cannot %s (%s) in store %s: %s%s",
             pPlan->zFn, zWhat, sqlite3_errstr(rc), pStore->zSpec,
             storeErrmsg(pStore, rc),
             bTransient ? "" : "; no more cache writes in this statement");
}

/* An entry keyed by a hash_func keeps its arguments, for refreshes: their
** encoding in *pArgs (empty otherwise, or if it cannot be made). Free
** with keyBufFree(). */
static void planArgs(Plan *pPlan, sqlite3_value **apArg, KeyBuf *pArgs){
  keyBufInit(pArgs);
  if( pPlan->hashCall.zFn
   && keyEncodeArgs(pArgs, pPlan->zFn, pPlan->nFn, pPlan->nArg,
                    apArg)!=SQLITE_OK ){
    pArgs->n = 0;
  }
}

/* Serve a value as the result. */
static void resultEntry(sqlite3_context *ctx, sqlite3_value *pValue,
                        int subtype){
  sqlite3_result_value(ctx, pValue);
  if( subtype ) sqlite3_result_subtype(ctx, (unsigned int)subtype);
}

/* True if e is compressed and says it decodes to more than the function's
** entry_size_limit: memoize() never stored it, so it is damaged, and is
** not decoded (an allocation of that size). */
static int entryOverLimit(Plan *pPlan, const CachierEntry *e){
  return e->codec && pPlan->settings.entrySizeLimit>=0
      && e->nBytes>pPlan->settings.entrySizeLimit;
}

/* Serve an entry stored in pStore as the result, decoding it if it is
** compressed. A value that does not decode (a corrupted frame, a lost
** dictionary) is never served: it is counted and logged, and the caller
** treats the entry as a miss, so the value is computed and rewritten. */
static int serveEntry(sqlite3_context *ctx, Plan *pPlan, CachierStore *pStore,
                      CachierEntry *e){
  int rc = entryOverLimit(pPlan, e) ? SQLITE_TOOBIG
         : valueResult(pStore, ctx, e);
  if( rc ){
    pPlan->pStats->nError++;
    cachierLog(pPlan->p, "cachier: %s(): a stored value does not decode "
               "(%s); recomputing it", pPlan->zFn, sqlite3_errstr(rc));
  }
  return rc;
}

/* A stale value kept while its entry is recomputed, to stand in for an
** error (stale_if_error). */
typedef struct StaleCopy StaleCopy;
struct StaleCopy {
  sqlite3_value *pValue;      /* a raw value, or */
  DecodedValue decoded;       /* a decoded one */
  int subtype;
  int bHeld;
};

/* Keep entry e of pStore in pCopy, unless it holds one already (main's:
** the fallback's is looked up second). */
static void staleKeep(Plan *pPlan, CachierStore *pStore, CachierEntry *e,
                      StaleCopy *pCopy){
  if( pCopy->bHeld ) return;
  pCopy->subtype = e->subtype;
  if( entryOverLimit(pPlan, e) ){
    pCopy->bHeld = 0;
  }else if( e->codec ){
    pCopy->bHeld = valueDecode(pStore, e->codec, e->pValue, e->nBytes,
                               &pCopy->decoded)==SQLITE_OK;
  }else{
    pCopy->pValue = sqlite3_value_dup(e->pValue);
    pCopy->bHeld = pCopy->pValue!=0;
  }
}

static void staleServe(sqlite3_context *ctx, StaleCopy *pCopy){
  if( pCopy->pValue ){
    resultEntry(ctx, pCopy->pValue, pCopy->subtype);
  }else{
    decodedValueResult(ctx, &pCopy->decoded, pCopy->subtype);
  }
}

static void staleFree(StaleCopy *pCopy){
  sqlite3_value_free(pCopy->pValue);
  decodedValueFree(&pCopy->decoded);
  memset(pCopy, 0, sizeof(*pCopy));
}

/* May a call made in main's transaction state eTxn (not a write one) wait
** for another connection's computation of its key? Not if that connection
** could not store its result until we finish: we hold a read lock outside
** WAL mode (a rollback journal cannot commit under a reader). Waiting
** would only stall the other connection for its busy_timeout and then
** compute twice. */
static int planMayWait(Plan *pPlan, int eTxn){
  if( eTxn==SQLITE_TXN_NONE ) return 1;
  if( pPlan->eWal<0 ) pPlan->eWal = cachierIsWal(pPlan->p->db);
  return pPlan->eWal;
}

/* Mark entry iId of pStore for a next_time refresh (the first stale hit
** does; the mark is in the entry, so later stale hits see it and write
** nothing). A failure only means a later stale hit tries again. Only the
** store results are written to is marked (not main beside a fallback). */
static void planMarkRefresh(Plan *pPlan, CachierStore *pStore,
                            sqlite3_int64 iId){
  int rc;
  if( pStore==pPlan->p->pMainStore ) planUsesFallback(pPlan);
  if( pPlan->bNoWrite || pStore!=planWriteStore(pPlan) ) return;
  rc = storeMarkRefresh(pStore, iId);
  if( rc ) planWriteFailed(pPlan, pStore, rc, "mark a refresh");
}

/* ----------------------------------------------------- compute and store */

/*
** Run pJob->pCall on its arguments (counted and timed on pJob->pStats)
** and, if the result may be kept (not NULL unless bAllowNone, within the
** settings' entry_size_limit), write it for pJob->pKey to pJob->pStore.
** Returns the call's code: SQLITE_ROW when the function returned, with
** the OUT fields of pJob set; any other code with pJob->zErr (free it).
** The key's in-flight mark is the caller's to release (after the write,
** so waiters find the value).
*/
int computeAndStore(Cachier *p, ComputeJob *pJob){
  const FnSettings *pS = pJob->pSettings;
  sqlite3_int64 t0;
  double tClock0;
  int rc;
  pJob->pResult = 0;
  pJob->zErr = 0;
  pJob->eStored = COMPUTE_NOT_STORED;
  pJob->rcWrite = SQLITE_OK;
  p->depth++;
  t0 = cachierMonotonicNs();
  tClock0 = cachierNow(p);
  rc = pJob->apArg ? callRun(p, pJob->pCall, pJob->apArg, &pJob->zErr)
       : callRunEncoded(p, pJob->pCall, pJob->aArgs, pJob->nArgs, &pJob->zErr);
  pJob->computeNs = cachierComputeNs(p, t0, tClock0);
  p->depth--;
  if( pJob->pStats ){
    pJob->pStats->nCompute++;
    pJob->pStats->computeNs += pJob->computeNs;
  }
  if( rc!=SQLITE_ROW ) return rc;
  pJob->pResult = sqlite3_column_value(pJob->pCall->pStmt, 0);
  if( (sqlite3_value_type(pJob->pResult)==SQLITE_NULL && !pJob->bAllowNone)
   || (pS->entrySizeLimit>=0
       && cachierValueBytes(pJob->pResult)>pS->entrySizeLimit) ){
    pJob->eStored = COMPUTE_UNSTORABLE;
  }else if( pJob->pStore ){
    pJob->rcWrite = valueWrite(p, pJob->pStore, pJob->pKey, pS,
                               pJob->pResult, pJob->computeNs,
                               pJob->aKeyArgs, pJob->nKeyArgs, pJob->pDeps);
    if( pJob->rcWrite==SQLITE_OK ) pJob->eStored = COMPUTE_STORED;
  }
  return rc;
}

/* ------------------------------------------------------ statement memo */

/* The statement memo's bound for a call with options pOpts. */
static sqlite3_int64 memoBytes(const CallOptions *pOpts){
  return pOpts->hasStatementBytes ? pOpts->statementBytes
                                  : CACHIER_STATEMENT_BYTES;
}

/* Whether rules pRules judge an entry by its age (it then needs the
** entry's created time). */
static int rulesTimed(const CallRules *pRules){
  return pRules->staleAfter<CACHIER_NEVER || pRules->maxAge<CACHIER_NEVER;
}

/* Serve the call whose encoded arguments are aArgs (hArgs: their
** keyArgsHash(0, )) from the statement memo, if it holds them with a
** value the call's rules (pRules, bAllowNone) let it serve. 1 if served
** (a hit). */
static CACHIER_HOT_INLINE int planMemoServe(
  Plan *pPlan, sqlite3_context *ctx,
  const unsigned char *aArgs, sqlite3_int64 nArgs, uint64_t hArgs,
  const CallRules *pRules, int bAllowNone
){
  MemoEntry *e = memoFind(pPlan->pMemo, pPlan->p, aArgs, nArgs, hArgs);
  if( e==0 || (e->eType==SQLITE_NULL && !bAllowNone) ) return 0;
  if( rulesTimed(pRules)
   && (e->created==0.0
       || entryAge(pRules, e->created, cachierNow(pPlan->p))!=AGE_FRESH) ){
    return 0;                 /* the store decides (and recomputes) */
  }
  memoResult(ctx, e);
  pPlan->pStats->nHit++;
  pPlan->pStats->nMemoHit++;
  if( e->id ) evictNoteHit(pPlan->pStats, e->id);
  return 1;
}

/* Keep the value pKey's entry holds (pValue, raw, as stored) in the
** statement memo, with the entry's created time if the rules are timed
** and its id if an eviction bound notes hits (else 0). */
static void planMemoOffer(Plan *pPlan, sqlite3_int64 maxBytes,
                          const unsigned char *aArgs, sqlite3_int64 nArgs,
                          uint64_t hArgs, sqlite3_value *pValue, int subtype,
                          double created, sqlite3_int64 id){
  if( !pPlan->bMemoKey || maxBytes<=0 ) return;
  if( pPlan->pMemo==0 && !pPlan->bMemoWanted ){
    pPlan->bMemoWanted = 1;
    pPlan->hMemoSeen = hArgs;
    return;
  }
  memoFill(&pPlan->pMemo, pPlan->p, maxBytes, pPlan->hMemoSeen, aArgs, nArgs,
           hArgs, pValue, subtype, created, id);
}
/* planMemoOffer() of a call's whole key (hArgs: its arguments' hash). */
static void planMemoFill(Plan *pPlan, sqlite3_int64 maxBytes,
                         const CachierKey *pKey, uint64_t hArgs,
                         sqlite3_value *pValue, int subtype, double created,
                         sqlite3_int64 id){
  planMemoOffer(pPlan, maxBytes, pKey->aKey + pKey->nFn + 1,
                pKey->nKey - pKey->nFn - 1, hArgs, pValue, subtype, created,
                id);
}

/* ---------------------------------------------------------------- memoize */

/* Before a statement memo or hot tier lookup of a function with
** depends_on: the counters again if this connection changed anything
** since they were read (a change inside the same statement or
** transaction counts); when they moved, what the statement memos hold
** was computed before that change, so they empty. */
static int planDepsUpToDate(Cachier *p, Plan *pPlan){
  sqlite3_int64 nBefore;
  int rc;
  if( !pPlan->bStamp ) return SQLITE_OK;
  nBefore = pPlan->deps.nChanges;
  rc = dependsUpToDate(p, &pPlan->settings, &pPlan->deps);
  if( pPlan->deps.nChanges!=nBefore ) cachierMemoChanged(p);
  return rc;
}

/* For the hot tier's fast path: 1 if entry e of pArg's function is fresh
** by its stamps. */
static int stampFresh(void *pArg, const CachierEntry *e){
  Plan *pPlan = (Plan*)pArg;
  return dependsVerdict(&pPlan->settings, &pPlan->deps, e)==VERDICT_FRESH;
}

/* The stamps of entry e (a function with depends_on or a version): its
** verdict (dependsVerdict()), counted in invalidated hits when not fresh,
** and *peAge as it makes it: an outdated entry is never served; a changed
** dependency makes it stale as if stale_after had just passed. */
static int stampVerdict(Plan *pPlan, const CallRules *pRules,
                        const CachierEntry *e, int *peAge){
  int eVerdict = dependsVerdict(&pPlan->settings, &pPlan->deps, e);
  if( eVerdict==VERDICT_OUTDATED ){
    *peAge = AGE_TOO_OLD;
  }else if( eVerdict==VERDICT_CHANGED && *peAge==AGE_FRESH ){
    *peAge = pRules->nextTime ? AGE_STALE_SERVE : AGE_STALE;
  }
  if( eVerdict!=VERDICT_FRESH ) pPlan->pStats->nInvalidated++;
  return eVerdict;
}

/* One memoize() or memoize_with() call, as its phases share it. */
typedef struct MemoCall MemoCall;
struct MemoCall {
  sqlite3_context *ctx;
  Plan *pPlan;
  const CallOptions *pOpts;
  sqlite3_value **apArg;      /* the function's arguments */
  CallRules rules;
  CachierKey key;             /* (made when bRead or bWrite) */
  uint64_t hArgs;             /* keyArgsHash(0, ) of its arguments part
                              ** (made with it when the plan's bMemoKey) */
  int bRead;                  /* may serve a stored value */
  int bWrite;                 /* may store the result */
  int bAllowNone;             /* a stored NULL may be served */
  int bCorrupt;               /* the entry found did not decode */
  sqlite3_int64 memoBytes;    /* the statement memo's bound */
  InflightLock lock;          /* the key's in-flight mark, if taken */
  StaleCopy stale;            /* stale value kept for stale_if_error */
};

/* Plan.eHotPin: whether the hot tier's version source stays where the
** statement's first use found it. */
#define HOT_PIN_UNKNOWN 0     /* decided at the second use */
#define HOT_PIN_YES     1     /* it does: later uses read it as found */
#define HOT_PIN_NO      2     /* it may not: every use checks again */

/* bRecheck for a use of the hot tier now (storeVersion()): at the
** statement's first use, and at every use while main may have left WAL
** mode since, unmapping the WAL index the version is read from. A
** statement that reads a table (of any schema) keeps the connection in
** WAL mode until it ends ("cannot change out of wal mode from within a
** transaction"); one that reads none (VALUES, no FROM) does not, and
** between two of its calls, or in a function it calls, the connection
** may leave it; so may a COMMIT of a transaction it did not begin. At
** the second use (one-call statements never pay for it): pinned if the
** store is not main (cachier's own connections stay in WAL mode), or if
** the connection is in autocommit mode with a read transaction open and
** this statement the only one running (so the transaction is its own).
** (What keeps WAL mode is SQLite's own rule, OP_JournalMode refusing
** while another statement reads: read in SQLite 3.40's vdbe.c, not a
** documented promise.) */
static CACHIER_HOT_INLINE int planHotRecheck(Plan *pPlan){
  Cachier *p = pPlan->p;
  if( !pPlan->bHotChecked ){
    pPlan->bHotChecked = 1;
    pPlan->eHotPin = HOT_PIN_UNKNOWN;
    return 1;
  }
  if( pPlan->eHotPin==HOT_PIN_UNKNOWN ){
    int bPinned = pPlan->pStore!=p->pMainStore
               || (sqlite3_txn_state(p->db, 0)!=SQLITE_TXN_NONE
                   && cachierOneStatementRuns(p->db));
    pPlan->eHotPin = bPinned ? HOT_PIN_YES : HOT_PIN_NO;
    return 1;
  }
  return pPlan->eHotPin==HOT_PIN_NO;
}

/* What a lookup of pPlan's entries reads under rules pRules
** (CACHIER_LOOKUP_*). */
static int lookupFlags(const Plan *pPlan, const CallRules *pRules){
  int bTimed = rulesTimed(pRules);
  int bStamp = pPlan->bStamp;
  return (bTimed ? CACHIER_LOOKUP_CREATED : 0)
       | (((bTimed || bStamp) && pRules->nextTime)
          || evictBounded(&pPlan->settings) ? CACHIER_LOOKUP_REFRESH : 0)
       | (bStamp ? CACHIER_LOOKUP_STAMP : 0);
}

/* 1 if entry e of pPlan's function, found by a lookup with the flags
** of pRules, may be served as fresh: not a NULL unless bAllowNone, not
** stale by its age, not invalidated or outdated by its stamps. */
static int entryFresh(Plan *pPlan, const CallRules *pRules, int bAllowNone,
                      const CachierEntry *e){
  return (bAllowNone || sqlite3_value_type(e->pValue)!=SQLITE_NULL)
      && (!rulesTimed(pRules)
          || entryAge(pRules, e->created, cachierNow(pPlan->p))==AGE_FRESH)
      && (!pPlan->bStamp
          || dependsVerdict(&pPlan->settings, &pPlan->deps, e)
             ==VERDICT_FRESH);
}

/*
** Phase 1: serve the key from the hot tier or pStore (the plan's store,
** then its fallback). Returns 1 if it served the result. Otherwise, OUT:
** pCall->stale (a stale value to stand in for an error), pCall->bCorrupt.
**
** A call serves a fresh entry; under next_time it serves a stale one
** (within stale_while_refresh) and marks it for refresh. pLooked, if not
** NULL, is memoizeStoreHit()'s open lookup of pStore (FAST_LOOKED): what
** it found is judged instead of looking again.
*/
static int memoizeServe(MemoCall *pCall, CachierStore *pStore,
                        const FastKey *pLooked){
  sqlite3_context *ctx = pCall->ctx;
  Plan *pPlan = pCall->pPlan;
  Cachier *p = pPlan->p;
  const CallOptions *pOpts = pCall->pOpts;
  const CallRules *pRules = &pCall->rules;
  CachierKey *pKey = &pCall->key;
  CachierEntry entry;
  int bTimed = rulesTimed(pRules);
  int bBounded = evictBounded(&pPlan->settings);
  int bStamp = pPlan->bStamp;
  int flags = lookupFlags(pPlan, pRules);
  HotTier *pHot = hotFor(pStore, pPlan->settings.hotBytes);
  int bHot = 0, bFill = 0, bFound = 0;
  int rc = SQLITE_OK;
  entry.aStamp = 0;           /* (stores that keep no stamps leave them) */
  entry.nStamp = 0;
  entry.created = 0.0;        /* (read only when bTimed) */
  if( pLooked ){
    /* memoizeStoreHit() looked, with these flags (its errors counted). */
    entry = pLooked->entry;
    bFound = pLooked->bFound;
    bFill = pLooked->bFill;
    rc = pLooked->rc;
  }else if( pHot ){
    bHot = hotLookup(pHot, pStore, pKey, flags, &entry,
                     planHotRecheck(pPlan));
    /* A value found in the store may be kept if the lookup reads the
    ** version the tier's values are of, in a transaction that cannot
    ** roll back (storeMayFill(), hot.c). */
    bFill = !bHot && hotBeforeLookup(pHot, pStore, 0)
         && storeMayFill(pStore, hotVersion(pHot));
  }
  if( bHot ){
    bFound = 1;
  }else if( !pLooked ){
    rc = storeLookup(pStore, pKey, flags, &entry, &bFound);
    if( rc ) pPlan->pStats->nReadError++;   /* (a miss: computed) */
  }
  if( bFound && sqlite3_value_type(entry.pValue)==SQLITE_NULL
   && !pCall->bAllowNone ){
    bFound = 0;               /* a stored NULL is served only to allow_none */
  }
  if( bFound ){
    int eAge = bTimed ? entryAge(pRules, entry.created, cachierNow(p))
                      : AGE_FRESH;
    int eVerdict = bStamp ? stampVerdict(pPlan, pRules, &entry, &eAge)
                          : VERDICT_FRESH;
    int bServable = eAge==AGE_FRESH || eAge==AGE_STALE_SERVE;
    if( bServable && serveEntry(ctx, pPlan, pStore, &entry)==SQLITE_OK ){
      if( bFill ) hotInsert(pHot, pStore, pKey, flags, &entry);
      if( eAge==AGE_FRESH && entry.codec==0 ){
        planMemoFill(pPlan, pCall->memoBytes, pKey, pCall->hArgs,
                     entry.pValue, entry.subtype,
                     bTimed ? entry.created : 0.0, bBounded ? entry.id : 0);
      }
      if( !bHot ) storeLookupDone(pStore);
      pPlan->pStats->nHit++;
      if( bBounded ) evictNoteHit(pPlan->pStats, entry.id);
      if( eAge==AGE_STALE_SERVE ){
        pPlan->pStats->nStaleHit++;
        if( !entry.refresh ){
          planMarkRefresh(pPlan, pStore, entry.id);
        }
        if( pPlan->settings.backgroundRefresh ) refresherWake(p);
        if( pOpts->verbose ){
          cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
              "cachier: %s(): stale hit (next_time): served, "
                     "refresh %s", pKey->zFn,
                     entry.refresh ? "already pending" : "marked");
        }
      }else if( pOpts->verbose ){
        cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
            "cachier: %s(): fresh hit", pKey->zFn);
      }
      return 1;
    }
    pCall->bCorrupt = bServable;      /* it did not decode */
    if( !bServable ){
      pPlan->pStats->nStaleHit++;
      if( eVerdict!=VERDICT_OUTDATED
       && staleIfErrorApplies(pRules, entry.created, cachierNow(p)) ){
        staleKeep(pPlan, pStore, &entry, &pCall->stale);
      }
    }
    if( eAge!=AGE_FRESH && pOpts->verbose ){
      cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
          "cachier: %s(): stale entry, recomputing", pKey->zFn);
    }
  }else if( pOpts->verbose ){
    cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
        "cachier: %s(): miss%s", pKey->zFn,
               rc ? " (cache unreadable)" : "");
  }
  storeLookupDone(pStore);
  return 0;
}

/*
** The store lookup of memoizeServe() for a call without options of a plan
** that judges an entry by its age and stamps alone (Plan.bFastLookup), from
** memoizeFast() once the hot tier's fast path missed (and, for stamps,
** brought the plan's up to date): the common B-tree hit without the setup
** of a whole call. Serves a fresh entry as memoizeServe() would and
** returns 1. Otherwise returns 0 and says in pFast->eLooked what
** memoizeCore() goes on with: FAST_LOOKED (the lookup, still open, for
** memoizeServe() to judge: no entry, a NULL, an entry stale by its age or
** its stamps), FAST_CORRUPT, or FAST_NOT_LOOKED when memoizeServe() must
** do what this does not: ask a tier the fast path did not ask (timed
** rules), or make the tier.
*/
static int memoizeStoreHit(sqlite3_context *ctx, Plan *pPlan,
                           sqlite3_int64 memoBytes, FastKey *pFast){
  CachierStore *pStore = pPlan->pStore;
  HotTier *pHot = pStore->pHot;
  const CallRules *pRules = &pPlan->plainRules;
  int flags = pPlan->fastLookupFlags;
  CachierEntry *e = &pFast->entry;
  CachierKey key;
  if( pPlan->p->depth>=CACHIER_MAX_DEPTH || pPlan->bNoTables ) return 0;
  if( pHot ){
    /* (memoizeFast() asked the tier, with the recheck this use needs.) */
    if( !pPlan->bHotFast ) return 0;
  }else if( pPlan->settings.hotBytes>0 && storeKeepsVersions(pStore) ){
    return 0;
  }
  storeTick(pStore);
  planKey(pPlan, &key);
  pFast->bFill = 0;
  /* As memoizeServe(): the plan's hot_bytes may drop the tier (another
  ** statement's plan may have made it under newer settings). */
  if( pHot && (pHot = hotFor(pStore, pPlan->settings.hotBytes))!=0 ){
    pFast->bFill = hotBeforeLookup(pHot, pStore, 0)
                && storeMayFill(pStore, hotVersion(pHot));
  }
  e->aStamp = 0;
  e->nStamp = 0;
  e->created = 0.0;
  pFast->bFound = 0;
  pFast->rc = storeLookup(pStore, &key, flags, e, &pFast->bFound);
  if( pFast->rc ) pPlan->pStats->nReadError++;   /* (a miss: computed) */
  pFast->eLooked = FAST_LOOKED;
  if( !pFast->bFound
   || !entryFresh(pPlan, pRules, pPlan->settings.allowNone, e) ){
    return 0;
  }
  if( serveEntry(ctx, pPlan, pStore, e)!=SQLITE_OK ){
    storeLookupDone(pStore);
    pFast->eLooked = FAST_CORRUPT;
    return 0;
  }
  if( pFast->bFill ) hotInsert(pHot, pStore, &key, flags, e);
  if( e->codec==0 ){
    planMemoFill(pPlan, memoBytes, &key, pFast->hArgs, e->pValue, e->subtype,
                 rulesTimed(pRules) ? e->created : 0.0, 0);
  }
  storeLookupDone(pStore);
  pPlan->pStats->nHit++;
  return 1;
}

/*
** Phase 2: take the key's in-flight mark (OUT: pCall->lock), waiting for
** a computation of it that is under way elsewhere, so that concurrent
** callers of the same key wait for one computation instead of repeating
** it; then look again, since the value may have just been stored (a
** connection whose read snapshot is older than that needs
** storeLookupLatest(), which is only worth it after a wait). Returns 1 if
** it served the value found.
**
** The mark and the second look are the store's the result is written to
** (a fallback's when the plan has one). Under a write transaction of main
** nobody else can see a result stored in main before it commits, so a
** mark would only make others wait in vain. The other stores commit on
** connections of their own: main's transactions do not matter to them.
*/
static int memoizeAwait(MemoCall *pCall){
  Plan *pPlan = pCall->pPlan;
  Cachier *p = pPlan->p;
  CachierStore *pStore = planWriteStore(pPlan);
  CachierEntry entry;
  int bMainStore = pStore==p->pMainStore;
  int eTxn = bMainStore ? sqlite3_txn_state(p->db, "main") : SQLITE_TXN_NONE;
  int eMark, bWaited = 0, bFound = 0, rc;
  entry.aStamp = 0;
  entry.nStamp = 0;
  if( !pCall->bWrite || pPlan->bNoWrite || eTxn==SQLITE_TXN_WRITE ) return 0;
  eMark = inflightAcquire(p, pStore, pCall->key.iBase,
                          pCall->rules.waitForCalcTimeout,
                          !planMayWait(pPlan, eTxn), &pCall->lock, &bWaited);
  if( bWaited && pCall->pOpts->verbose ){
    cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
        "cachier: %s(): waited for another computation of this "
               "key (%s)", pCall->key.zFn, eMark==INFLIGHT_HELD
               ? "it ended" : "timed out or cleared");
  }
  /* A statement reading main in WAL mode holds a read snapshot that
  ** others' commits make old: the store's latest lookup looks past it. */
  if( !pCall->bRead
   || !(bWaited || (eMark==INFLIGHT_HELD && !pCall->bCorrupt
                    && (eTxn==SQLITE_TXN_NONE || pPlan->eWal==1)
                    && storeSnapshotStale(pStore))) ){
    return 0;
  }
  rc = storeLookupLatest(pStore, &pCall->key, &entry, &bFound);
  if( rc ) pPlan->pStats->nReadError++;
  if( bFound && entryFresh(pPlan, &pCall->rules, pCall->bAllowNone, &entry)
   && serveEntry(pCall->ctx, pPlan, pStore, &entry)==SQLITE_OK ){
    storeLookupDone(pStore);
    inflightRelease(&pCall->lock);
    staleFree(&pCall->stale);
    pPlan->pStats->nHit++;
    return 1;
  }
  storeLookupDone(pStore);
  return 0;
}

/*
** Phase 3: compute (on the connection's kept call statement when it is
** free), store the result, release the key's mark and serve the result
** (or, under stale_if_error, the stale value in place of an error).
*/
static void memoizeCompute(MemoCall *pCall){
  sqlite3_context *ctx = pCall->ctx;
  Plan *pPlan = pCall->pPlan;
  Cachier *p = pPlan->p;
  CachierStore *pStore = planWriteStore(pPlan);
  FnSettings fallbackSettings;
  ComputeJob job;
  KeyBuf args;
  int rc;

  memset(&job, 0, sizeof(job));
  job.pCall = fnInfoCall(p, pPlan->pInfo);
  if( job.pCall==0 ) job.pCall = &pPlan->ownCall;
  job.apArg = pCall->apArg;
  job.pStats = pPlan->pStats;
  job.pKey = &pCall->key;
  job.pSettings = &pPlan->settings;
  if( pStore!=pPlan->pStore ){
    /* main's trained dictionary is not the fallback's */
    fallbackSettings = pPlan->settings;
    fallbackSettings.dictId = 0;
    fallbackSettings.dictZstdId = 0;
    job.pSettings = &fallbackSettings;
  }
  job.bAllowNone = pCall->bAllowNone;
  keyBufInit(&args);
  job.pDeps = &pPlan->deps;
  if( pCall->bWrite && !pPlan->bNoWrite
   && (!pPlan->bStamp || dependsMayStore(p, &pPlan->deps, pStore)) ){
    job.pStore = pStore;
    planArgs(pPlan, pCall->apArg, &args);
    job.aKeyArgs = args.a;
    job.nKeyArgs = args.n;
  }
  rc = computeAndStore(p, &job);
  keyBufFree(&args);
  if( rc!=SQLITE_ROW ){
    inflightRelease(&pCall->lock);
    pPlan->pStats->nError++;
    if( pCall->stale.bHeld ){
      /* stale_if_error: the stale value stands in for the error. */
      cachierLog(p, "cachier: %s(): %s; serving the stale value "
                 "(stale_if_error)", pCall->key.zFn,
                 job.zErr ? job.zErr : "error");
      staleServe(ctx, &pCall->stale);
      staleFree(&pCall->stale);
      sqlite3_free(job.zErr);
      return;
    }
    resultCallError(ctx, rc, job.zErr);
    return;
  }
  staleFree(&pCall->stale);
  if( job.eStored==COMPUTE_STORED ){
    pPlan->bNoTables = 0;
  }else if( job.eStored==COMPUTE_UNSTORABLE ){
    if( pCall->pOpts->verbose && pCall->bWrite ){
      cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
          "cachier: %s(): result not stored (NULL or over "
                 "entry_size_limit)", fnInfoName(pPlan->pInfo));
    }
  }else if( job.rcWrite ){
    planWriteFailed(pPlan, pStore, job.rcWrite, "store a result");
  }
  /* Waiters look as soon as the mark is released: after the write is
  ** committed (at once, or with the store's group). */
  if( pCall->lock.off>=0 ){
    storeMarkDone(pStore, &pCall->lock,
                  job.eStored==COMPUTE_STORED);
  }
  resultEntry(ctx, job.pResult, (int)sqlite3_value_subtype(job.pResult));
  if( job.eStored==COMPUTE_STORED && pCall->rules.staleAfter>=CACHIER_NEVER
   && pCall->rules.maxAge>=CACHIER_NEVER ){
    /* (Timed rules need the entry's created time: its first hit fills.) */
    planMemoFill(pPlan, pCall->memoBytes, &pCall->key, pCall->hArgs,
                 job.pResult, (int)sqlite3_value_subtype(job.pResult), 0.0, 0);
  }
  callReset(job.pCall);
  if( job.eStored==COMPUTE_STORED ){
    /* A write that happens anyway carries the counts (at most once a
    ** second): hits never write. (A fallback keeps no counts: they
    ** belong to main, which cannot take them.) */
    if( pStore==pPlan->pStore ) statsFlush(p, pPlan->pStats, pStore, 0);
    cleanupMaybe(p, pPlan->pInfo, pStore, pCall->pOpts);
    evictMaybe(p, pPlan->pInfo, pStore, pCall->rules.staleAfter);
  }
}

/* Shared body of memoize() and memoize_with(). argv[iName] is the function
** name, the arguments follow it; pOpts may be NULL; pFast, what
** memoizeFast() made of this call (it has then looked in the statement
** memo by this call's rules: it runs only for options that change nothing
** but the memo's bound). */
static void memoizeCore(sqlite3_context *ctx, const char *zCaller, int iName,
                        int argc, sqlite3_value **argv,
                        const CallOptions *pOpts, const FastKey *pFast){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  MemoCall call;
  char *zErr = 0;
  int rc;

  if( argc<=iName ){
    sqlite3_result_error(ctx, iName ? "memoize_with: missing function name"
                                    : "memoize: missing function name", -1);
    return;
  }
  if( p->depth>=CACHIER_MAX_DEPTH ){
    char *z = sqlite3_mprintf("%s: calls nested deeper than %d levels",
                              zCaller, CACHIER_MAX_DEPTH);
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    return;
  }
  if( pFast && pFast->pPlan==0 ) pFast = 0;
  /* (memoizeFast() took the plan from auxdata and checked what planGet()
  ** would.) */
  call.pPlan = pFast ? pFast->pPlan
                     : planGet(ctx, zCaller, iName, argc - iName - 1, argv);
  if( call.pPlan==0 ) return;
  /* (memoizeFast() did, when it made the key.) */
  if( pFast==0 ) planDepsUpToDate(p, call.pPlan);
  call.ctx = ctx;
  call.pOpts = pOpts ? pOpts : &noOptions;
  call.apArg = &argv[iName+1];
  call.bCorrupt = 0;
  call.memoBytes = memoBytes(call.pOpts);
  call.lock.off = -1;
  memset(&call.stale, 0, sizeof(call.stale));
  /* (Not while memoizeStoreHit()'s lookup is open: it ticked.) */
  if( call.pPlan->pStore && !(pFast && pFast->eLooked!=FAST_NOT_LOOKED) ){
    storeTick(call.pPlan->pStore);
  }

  call.bRead = p->enabled && !call.pOpts->skipCache
            && !call.pOpts->overwriteCache && !call.pPlan->bNoRead;
  call.bWrite = p->enabled && !call.pOpts->skipCache;
  call.bAllowNone = call.pOpts->hasAllowNone ? call.pOpts->allowNone
                                             : call.pPlan->settings.allowNone;
  if( pOpts ){
    callRules(&call.pPlan->settings, call.pOpts, &call.rules);
  }else{
    call.rules = call.pPlan->plainRules;
  }

  call.hArgs = 0;
  if( call.bRead || call.bWrite ){
    rc = planMakeKey(call.pPlan, call.apArg, pFast, &call.key, &zErr);
    if( rc ){
      call.pPlan->pStats->nError++;
      resultCallError(ctx, rc, zErr);
      return;
    }
    if( pFast ){
      call.hArgs = pFast->hArgs;
    }else if( call.pPlan->bMemoKey && call.memoBytes>0 ){
      call.hArgs = keyArgsHash(0, call.key.aKey + call.key.nFn + 1,
                               call.key.nKey - call.key.nFn - 1);
    }
  }
  /* (memoizeFast() looked already, by the same rules, if it made the key.) */
  if( call.bRead && !pFast && call.memoBytes>0 && call.pPlan->bMemoKey
   && call.pPlan->pMemo
   && planMemoServe(call.pPlan, ctx, call.key.aKey + call.key.nFn + 1,
                    call.key.nKey - call.key.nFn - 1, call.hArgs,
                    &call.rules, call.bAllowNone) ){
    return;
  }
  /* An overwrite changes what the statement memos hold. */
  if( call.pOpts->overwriteCache && call.bWrite ) cachierMemoChanged(p);
  if( pFast && pFast->eLooked==FAST_LOOKED ){
    /* memoizeStoreHit()'s lookup, still open: nothing above returns with
    ** it (a FastKey's key is made without error), and memoizeServe() ends
    ** it. */
    if( memoizeServe(&call, call.pPlan->pStore, pFast) ) return;
  }else if( pFast && pFast->eLooked==FAST_CORRUPT ){
    call.bCorrupt = 1;        /* (as memoizeServe() leaves it) */
  }else if( call.bRead && !call.pPlan->bNoTables
         && memoizeServe(&call, call.pPlan->pStore, 0) ){
    return;
  }
  /* Main has no entry to serve and cannot be written: the fallback, by
  ** the same rules (fallback.c). */
  if( (call.bRead || call.bWrite) && planUsesFallback(call.pPlan)
   && call.bRead && memoizeServe(&call, call.pPlan->pFallback, 0) ){
    return;
  }
  if( call.bRead && call.pPlan->bNoTables && call.pOpts->verbose ){
    cachierLogFn(p, CACHIER_LOG_VERBOSE, 0,
        "cachier: %s(): miss (no cache tables yet)", call.key.zFn);
  }
  if( memoizeAwait(&call) ) return;
  if( call.bRead ) call.pPlan->pStats->nMiss++;
  memoizeCompute(&call);
}

/* The fast path of memoize(FN, ARG, ...) (argv[iName] is FN), and of
** memoize_with() whose options change nothing but the memo's bound
** (memoBytes): a plan already made by this statement, and a value that
** the statement memo holds for these arguments, or (when the settings
** allow it: bHotFast) the hot tier. Serves the value as memoizeCore()
** would. 0 if it did not serve: memoizeCore() then does the rest, with
** the key made here if *pFast names a plan (OUT: pFast). */
static int memoizeFast(sqlite3_context *ctx, int iName, int argc,
                       sqlite3_value **argv, sqlite3_int64 memoBytes,
                       FastKey *pFast){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  Plan *pPlan = (Plan*)sqlite3_get_auxdata(ctx, iName);
  int nArg = argc - iName - 1;
  HotTier *pHot;
  CachierEntry served;
  const unsigned char *aArgs;
  sqlite3_int64 nArgs;
  uint64_t hArgs;
  int bOffer;
  pFast->pPlan = 0;
  if( pPlan==0 ) return 0;
  pPlan->bKept = 1;
  if( pPlan->settingsGen!=p->settingsGen || !p->enabled
   || (!pPlan->bMemoKey && !pPlan->bHotFast) || pPlan->nArg!=nArg
   || (pPlan->bStamp && planDepsUpToDate(p, pPlan)!=SQLITE_OK) ){
    return 0;
  }
  /* The arguments after the name already there (Plan.key). */
  if( nArg==1 && sqlite3_value_type(argv[iName+1])==SQLITE_INTEGER
   && sqlite3_value_subtype(argv[iName+1])==0 ){
    unsigned char *a = pPlan->key.a + pPlan->nFn + 1;
    keyEncodeOneInt(a, sqlite3_value_int64(argv[iName+1]));
    pPlan->key.n = pPlan->nFn + 1 + KEY_ONE_INT_BYTES;
    aArgs = a;
    nArgs = KEY_ONE_INT_BYTES;
    hArgs = keyArgsHash(0, a, KEY_ONE_INT_BYTES);  /* (unrolled) */
  }else if( keyEncodeArgsAfterName(&pPlan->key, pPlan->nFn, nArg,
                                   &argv[iName+1])==SQLITE_OK ){
    aArgs = pPlan->key.a + pPlan->nFn + 1;
    nArgs = pPlan->key.n - pPlan->nFn - 1;
    hArgs = keyArgsHash(0, aArgs, nArgs);
  }else{
    return 0;
  }
  if( pPlan->pMemo && memoBytes>0
   && planMemoServe(pPlan, ctx, aArgs, nArgs, hArgs, &pPlan->plainRules,
                    pPlan->settings.allowNone) ){
    return 1;
  }
  bOffer = pPlan->bMemoKey && memoBytes>0;
  if( !pPlan->bHotFast || (pHot = pPlan->pStore->pHot)==0
   || !hotServeArgs(pHot, pPlan->pStore, ctx, &pPlan->hotProbe,
                    aArgs, nArgs, hArgs, planHotRecheck(pPlan),
                    bOffer ? &served : 0) ){
    pFast->pPlan = pPlan;       /* (the whole key is in pPlan->key) */
    pFast->hArgs = hArgs;
    pFast->eLooked = FAST_NOT_LOOKED;
    return pPlan->bFastLookup && memoizeStoreHit(ctx, pPlan, memoBytes, pFast);
  }
  pPlan->pStats->nHit++;
  if( bOffer && served.codec==0 ){
    planMemoOffer(pPlan, memoBytes, aArgs, nArgs, hArgs, served.pValue,
                  served.subtype, 0.0, 0);
  }
  return 1;
}

/* memoize(FN, ARG, ...) */
static void memoizeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  FastKey fast;
  fast.pPlan = 0;
  if( argc>0
   && memoizeFast(ctx, 0, argc, argv, CACHIER_STATEMENT_BYTES, &fast) ){
    return;
  }
  memoizeCore(ctx, "memoize", 0, argc, argv, 0, &fast);
}

static void optionsFree(void *p){ sqlite3_free(p); }

/* memoize_with(OPTIONS, FN, ARG, ...). Options are parsed once per
** statement when constant (auxdata on argument 0). */
static void memoizeWithFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  CallOptions *pOpts;
  FastKey fast;
  if( argc<2 ){
    sqlite3_result_error(ctx,
        "memoize_with: expects (options, function name, arguments...)", -1);
    return;
  }
  pOpts = (CallOptions*)sqlite3_get_auxdata(ctx, 0);
  if( pOpts==0 ){
    char *zErr = 0;
    int rc;
    pOpts = sqlite3_malloc(sizeof(*pOpts));
    if( pOpts==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    rc = optionsParse(sqlite3_context_db_handle(ctx), argv[0], pOpts, &zErr);
    if( rc ){
      char *z = sqlite3_mprintf("memoize_with: %s", zErr ? zErr : "error");
      sqlite3_result_error(ctx, z, -1);
      sqlite3_free(z);
      sqlite3_free(zErr);
      sqlite3_free(pOpts);
      return;
    }
    sqlite3_set_auxdata(ctx, 0, pOpts, optionsFree);
    pOpts = (CallOptions*)sqlite3_get_auxdata(ctx, 0);
    if( pOpts==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
  }
  fast.pPlan = 0;
  if( pOpts->bOnlyMemoBytes
   && memoizeFast(ctx, 1, argc, argv, memoBytes(pOpts), &fast) ){
    return;
  }
  memoizeCore(ctx, "memoize_with", 1, argc, argv, pOpts, &fast);
}

/* cachier_precache(FN, VALUE, ARG, ...) */
static void precacheFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Plan *pPlan;
  CachierKey key;
  char *zErr = 0;
  int rc;
  if( argc<2 ){
    sqlite3_result_error(ctx,
        "cachier_precache: expects (function name, value, arguments...)", -1);
    return;
  }
  pPlan = planGet(ctx, "cachier_precache", 0, argc-2, argv);
  if( pPlan==0 ) return;
  if( pPlan->bNoRead ){
    char *z = sqlite3_mprintf("cachier_precache: %s", pPlan->pStore
        ? storeErrmsg(pPlan->pStore, SQLITE_MISMATCH)
        : "the function's store cannot be opened");
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    return;
  }
  if( pPlan->bStamp ){
    dependsUpToDate(pPlan->p, &pPlan->settings, &pPlan->deps);
    if( !dependsMayStore(pPlan->p, &pPlan->deps, pPlan->pStore) ){
      sqlite3_result_error(ctx, "cachier_precache: the function's "
          "dependencies cannot be stamped now (untracked, or changed by "
          "this connection's write transaction): nothing stored", -1);
      return;
    }
  }
  rc = planMakeKey(pPlan, &argv[2], 0, &key, &zErr);
  if( rc==SQLITE_OK ){
    KeyBuf args;
    planArgs(pPlan, &argv[2], &args);
    rc = valueWrite(pPlan->p, pPlan->pStore, &key, &pPlan->settings,
                    argv[1], 0, args.a, args.n, &pPlan->deps);
    cachierMemoChanged(pPlan->p);
    keyBufFree(&args);
    if( rc ){
      zErr = sqlite3_mprintf("cachier_precache: cannot store the value: %s",
                             sqlite3_errstr(rc));
    }
  }
  if( rc ){
    resultCallError(ctx, rc, zErr);
    return;
  }
  evictMaybe(pPlan->p, pPlan->pInfo, pPlan->pStore,
             pPlan->settings.staleAfter);
  sqlite3_result_value(ctx, argv[1]);
  if( sqlite3_value_subtype(argv[1]) ){
    sqlite3_result_subtype(ctx, sqlite3_value_subtype(argv[1]));
  }
}

/* cachier_clear([FN]): from every store, wherever FN's entries are (a
** function moved to another store leaves its old entries behind). */
static void clearFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  CachierStore **apStore = 0;
  char *zFn = 0, *zErr = 0;
  sqlite3_int64 n = 0;
  int rc = SQLITE_OK, nStore = 0, i;
  if( guardDirectOrTempCall(ctx, "cachier_clear") ) return;
  if( argc==1 ) rc = callCanonicalName("cachier_clear", argv[0], &zFn, &zErr);
  if( rc==SQLITE_OK ) rc = storeListAll(p, &apStore, &nStore);
  cachierMemoChanged(p);
  /* Every store is cleared, even after one fails (a Redis server down):
  ** the first failure is reported once all were tried. */
  for(i=0; i<nStore; i++){
    sqlite3_int64 nStoreDeleted = 0;
    int rcStore = storeClear(apStore[i], zFn, &nStoreDeleted);
    n += nStoreDeleted;
    if( rcStore && rc==SQLITE_OK ){
      rc = rcStore;
      zErr = sqlite3_mprintf("cachier_clear: %s", storeErrmsg(apStore[i], rc));
    }
  }
  sqlite3_free(apStore);
  sqlite3_free(zFn);
  if( rc ){
    resultCallError(ctx, rc, zErr);
    return;
  }
  sqlite3_result_int64(ctx, n);
}

/* cachier_enable(ON) */
static void enableFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  char *zErr = 0;
  int bOn = 0, bPrev = p->enabled;
  (void)argc;
  if( guardDirectCall(ctx, "cachier_enable") ) return;
  if( parseBool(argv[0], &bOn, &zErr) ){
    char *z = sqlite3_mprintf("cachier_enable: the argument %s", zErr);
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    sqlite3_free(zErr);
    return;
  }
  p->enabled = bOn;
  sqlite3_result_int(ctx, bPrev);
}

/* Registration table for this file's functions (see cachier.c). */
const CachierFunction cachierMemoizeFunctions[] = {
  { "memoize",          -1, CACHIER_FN_WRITES, memoizeFunc },
  { "memoize_with",     -1, CACHIER_FN_WRITES, memoizeWithFunc },
  { "cachier_precache", -1, CACHIER_FN_WRITES, precacheFunc },
  { "cachier_clear",     0, CACHIER_FN_WRITES, clearFunc },
  { "cachier_clear",     1, CACHIER_FN_WRITES, clearFunc },
  { "cachier_enable",    1, CACHIER_FN_WRITES, enableFunc },
  { 0, 0, 0, 0 }
};
