/*
** get.c - cachier_get(): read the cache without the function.
**
** SQL surface:
**   cachier_get(FN, ARG, ...)
**       The value memoize(FN, ARG, ...) would serve from the cache without
**       computing, exactly (type, bytes and subtype), or NULL if there is
**       none: no entry, one past FN's stale_after (a stale value is
**       never returned, even for next_time functions: cachier_entries
**       shows those), or one of another version or computed before a
**       change of a table in FN's depends_on. FN is neither called nor needed: any client that
**       loads cachier can read what an application cached (a hash_func,
**       if FN's settings name one, is called to make the key, as memoize()
**       does). FN's settings (its store, stale_after) are read as
**       memoize() reads them (main read-only: main's entry, else its
**       fallback's, fallback.c). Counts nothing in cachier_stats and
**       writes nothing. DIRECTONLY: it reads the store the settings name.
*/
#include "store.h"
#include <string.h>

/* The key of FN's call with apArg[0..nArg) into pBuf and pKey (zFn
** stays the caller's); a hash_func's result when s names one. */
static int getMakeKey(Cachier *p, const char *zFn, const FnSettings *s,
                      int nArg, sqlite3_value **apArg, KeyBuf *pBuf,
                      CachierKey *pKey, char **pzErr){
  sqlite3_int64 iLo, iHi;
  int nFn = (int)strlen(zFn), rc;
  if( s->zHashFunc ){
    FnCall hash;
    memset(&hash, 0, sizeof(hash));
    rc = callCheckHashFunc(p, "cachier_get", s->zHashFunc, nArg, pzErr);
    if( rc ) return rc;
    hash.zFn = s->zHashFunc;
    hash.nArg = nArg;
    p->depth++;
    rc = callRun(p, &hash, apArg, pzErr);
    p->depth--;
    if( rc==SQLITE_ROW ){
      rc = keyEncodeHashFuncKey(pBuf, zFn, nFn,
                                sqlite3_column_value(hash.pStmt, 0));
    }
    hash.zFn = 0;             /* (the settings' own string) */
    callFinalize(&hash);
  }else{
    rc = keyEncodeArgs(pBuf, zFn, nFn, nArg, apArg);
  }
  if( rc ) return rc;
  pKey->zFn = zFn;
  pKey->nFn = nFn;
  pKey->aKey = pBuf->a;
  pKey->nKey = pBuf->n;
  keyFnRange(zFn, &iLo, &iHi);
  keySetHash(p, pKey, iLo);
  return SQLITE_OK;
}

/* Serve pKey's entry in pStore as ctx's result, if it has one that is
** not stale by s (and, bStamp: whose stamps memoize() would find fresh by
** pDeps, memoize.c stampVerdict()). 1 if it had (a value that does not
** decode is served as NULL: there is none), 0 if not. */
static int getLookup(Cachier *p, sqlite3_context *ctx, CachierStore *pStore,
                     const CachierKey *pKey, const FnSettings *s,
                     int bStamp, const DepsState *pDeps){
  CachierEntry entry;
  int bFound = 0, bServed = 0;
  memset(&entry, 0, sizeof(entry));
  if( storeLookup(pStore, pKey, CACHIER_LOOKUP_CREATED
                  | (bStamp ? CACHIER_LOOKUP_STAMP : 0), &entry,
                  &bFound)==SQLITE_OK
   && bFound && !entryIsStale(entry.created, cachierNow(p), s->staleAfter)
   && (!bStamp || dependsVerdict(s, pDeps, &entry)==VERDICT_FRESH) ){
    bServed = 1;
    if( valueResult(pStore, ctx, &entry)!=SQLITE_OK ){
      sqlite3_result_null(ctx);       /* does not decode: none */
    }
  }
  storeLookupDone(pStore);
  return bServed;
}

static void getFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  CachierStore *pStore = 0;
  CachierKey key;
  FnSettings s;
  DepsState deps;
  KeyBuf buf;
  char *zFn = 0, *zErr = 0;
  int rc, eState = STORE_ABSENT;
  if( guardDirectCall(ctx, "cachier_get") ) return;
  if( argc<1 ){
    sqlite3_result_error(ctx, "cachier_get: the function name is missing",
                         -1);
    return;
  }
  if( argc-1>CACHIER_MAX_ARGS ){
    sqlite3_result_error(ctx, "cachier_get: too many arguments", -1);
    return;
  }
  rc = callCanonicalName("cachier_get", argv[0], &zFn, &zErr);
  if( rc ) goto done;
  settingsDefaults(&s);
  keyBufInit(&buf);
  memset(&key, 0, sizeof(key));
  memset(&deps, 0, sizeof(deps));
  /* The settings live in main (none yet: the defaults), as fninfo.c
  ** reads them. */
  if( cachierMainStore(p)==0 ){
    rc = SQLITE_NOMEM;
  }else if( storeState(cachierMainStore(p), &eState)==SQLITE_OK
         && (eState==STORE_READY || eState==STORE_ABSENT) ){
    if( eState==STORE_READY ) rc = settingsLoad(p, zFn, &s, &zErr);
    if( rc==SQLITE_OK ){
      char *zOpenErr = 0;
      const char *zSpec = s.zStore;
#ifdef CACHIER_TEST
      if( zSpec==0 ) zSpec = p->zTestStore;
#endif
      pStore = storeOpen(p, fallbackSpec(p, zSpec, eState), &zOpenErr);
      sqlite3_free(zOpenErr);   /* a store that cannot open has nothing */
    }
  }
  if( rc==SQLITE_OK && pStore
   && storeState(pStore, &eState)==SQLITE_OK && eState==STORE_READY ){
    /* A version or depends_on: only an entry whose stamps memoize() would
    ** find fresh (memoize.c stampVerdict()). */
    int bStamp = (s.zDependsOn && s.zDependsOn[0]) || s.bDependsUnsealed
              || s.version!=0;
    CachierStore *pFallback;
    if( bStamp ) dependsRead(p, &s, &deps);
    rc = getMakeKey(p, zFn, &s, argc-1, argv+1, &buf, &key, &zErr);
    if( rc==SQLITE_OK && !getLookup(p, ctx, pStore, &key, &s, bStamp, &deps)
     && pStore==cachierMainStore(p) && (pFallback = fallbackStore(p))!=0 ){
      /* as memoize() looks */
      getLookup(p, ctx, pFallback, &key, &s, bStamp, &deps);
    }
  }
  keyBufFree(&buf);
  dependsClear(&deps);
  settingsClear(&s);
done:
  sqlite3_free(zFn);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
  }
  sqlite3_free(zErr);
}

const CachierFunction cachierGetFunctions[] = {
  { "cachier_get", -1, CACHIER_FN_WRITES, getFunc },
  { 0, 0, 0, 0 }
};
