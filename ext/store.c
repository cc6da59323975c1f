/*
** store.c - the registry of a connection's stores.
**
** A function's store is named by its
** cachier_functions.store setting (NULL: the '*' row's, then main):
**   main          shadow tables in the main database (store_main.c)
**   memory        the process-wide in-memory store (store_memory.c)
**   file:PATH     a cache database file of its own (store_file.c)
**   redis://...   a Redis server (store_redis.c; also unix:/PATH), or an
**                 error saying the build has no Redis (store_redis_none.c)
** A connection opens each store the first time it needs it and keeps it
** until it closes; a function switched to another store starts empty
** there (its old entries stay where they are until cleared).
**
** SQL surface:
**   cachier_flush()
**       Commits the values this connection's file: stores hold in their
**       open groups now (they commit by themselves within 10 ms) and
**       returns how many; an error if a commit failed. Also adds this
**       connection's counts to the stores' lasting counters (stats.c).
**   cachier_cache_path([FN])
**       The file holding FN's entries (the default store's without FN):
**       the main database's file, a file: store's absolute path, or NULL
**       for stores without a file (memory, ":memory:" databases).
** Test builds only:
**   cachier_test_group_age(SECONDS)
**       Groups of file: stores on this connection commit by age after
**       SECONDS instead of 0.01 (NULL: the default again), so tests of
**       grouping do not depend on timing.
**   cachier_test_default_store(SPEC)
**       Makes SPEC this connection's store for functions whose settings
**       name none (NULL: main again), so the whole test suite can run
**       against each store without writing cachier_functions.
**   cachier_test_store_sql(SPEC, SQL)
**       Runs SQL on file: store SPEC's own connection, to leave it as an
**       error can (a ROLLBACK, as SQLite's own after an out-of-memory or
**       I/O error; a transaction a failed ROLLBACK left open). Returns the
**       result code.
*/
#include "store.h"
#include <string.h>
#ifdef CACHIER_TEST
# include "store_tables.h"
#endif

/* The connection's default store (shadow tables in "main"); never NULL
** after a successful storeMainOpen() in the init. */
CachierStore *cachierMainStore(Cachier *p){
  if( p->pMainStore==0 ) p->pMainStore = storeMainOpen(p);
  return p->pMainStore;
}

static int isRedisSpec(const char *zSpec){
  return strncmp(zSpec, "redis://", 8)==0 || strncmp(zSpec, "unix:", 5)==0;
}

/* The canonical name of zSpec on this connection (sqlite3_free it), NULL
** if it is not a store name or memory runs out. */
static char *storeCanonical(Cachier *p, const char *zSpec){
  if( zSpec==0 || strcmp(zSpec, "main")==0 ) return sqlite3_mprintf("main");
  if( strcmp(zSpec, "memory")==0 ) return sqlite3_mprintf("memory");
  if( strncmp(zSpec, "file:", 5)==0 && zSpec[5] ){
    char *zPath = storeFilePath(p, zSpec);
    char *z = zPath ? sqlite3_mprintf("file:%s", zPath) : 0;
    sqlite3_free(zPath);
    return z;
  }
  if( isRedisSpec(zSpec) ){
    char *zCanon = 0, *zWhy = 0;
    storeRedisCheck(zSpec, &zCanon, &zWhy);
    sqlite3_free(zWhy);
    return zCanon;
  }
  return 0;
}

/* Check a store name for cachier_functions: SQLITE_OK, or an error with
** *pzWhy saying what is wrong. */
int storeSpecCheck(const char *zSpec, char **pzWhy){
  if( strcmp(zSpec, "main")==0 || strcmp(zSpec, "memory")==0 ) return 0;
  if( strncmp(zSpec, "file:", 5)==0 ){
    if( zSpec[5]==0 ){
      *pzWhy = sqlite3_mprintf("'file:' needs a path, as in "
                               "'file:cache.db'");
      return SQLITE_ERROR;
    }
    return SQLITE_OK;
  }
  if( isRedisSpec(zSpec) ){
    char *zWhy = 0;
    int rc = storeRedisCheck(zSpec, 0, &zWhy);
    if( rc==SQLITE_NOTFOUND ){        /* a build without Redis */
      *pzWhy = sqlite3_mprintf("'%s': %s", zSpec,
                               zWhy ? zWhy : "out of memory");
      sqlite3_free(zWhy);
      rc = SQLITE_ERROR;
    }else if( rc ){
      *pzWhy = sqlite3_mprintf("'%s' is not a Redis store name: %s", zSpec,
                               zWhy ? zWhy : "out of memory");
      sqlite3_free(zWhy);
    }
    return rc;
  }
  if( strncmp(zSpec, "rediss://", 9)==0 ){
    *pzWhy = sqlite3_mprintf("'%s': TLS (rediss://) is not supported (the "
                             "hiredis of this build has no TLS): reach the "
                             "server through a local TLS tunnel and name "
                             "that, or a unix: socket", zSpec);
    return SQLITE_ERROR;
  }
  *pzWhy = sqlite3_mprintf("'%s' is not a store: use 'main', 'memory', "
                           "'file:PATH', 'redis://HOST[:PORT][/DB]' or "
                           "'unix:/PATH'", zSpec);
  return SQLITE_ERROR;
}

/* The store named zSpec (a cachier_functions.store value; NULL: main),
** opened on first use. NULL with *pzErr set if it cannot be opened. An
** open store named anew (another password or timeout in the same
** canonical name) takes what the new name says (storeReconfigure()). */
CachierStore *storeOpen(Cachier *p, const char *zSpec, char **pzErr){
  CachierStore *pStore;
  char *zCanon;
  *pzErr = 0;
#ifdef CACHIER_TEST
  if( zSpec==0 ) zSpec = p->zTestStore;
#endif
  if( zSpec==0 || strcmp(zSpec, "main")==0 ) return cachierMainStore(p);
  zCanon = storeCanonical(p, zSpec);
  if( zCanon==0 ){
    /* Not a store name (a row written around cachier_functions), or no
    ** memory: *pzErr says which, NULL meaning the latter. */
    storeSpecCheck(zSpec, pzErr);
    return 0;
  }
  for(pStore=p->pStores; pStore; pStore=pStore->pNext){
    if( strcmp(pStore->zSpec, zCanon)==0 ) break;
  }
  if( pStore ){
    storeReconfigure(pStore, zSpec);  /* e.g. a new password or timeout */
  }
  if( pStore==0 ){
    pStore = strcmp(zCanon, "memory")==0 ? storeMemoryOpen(p, pzErr)
           : isRedisSpec(zSpec) ? storeRedisOpen(p, zSpec, pzErr)
           : storeFileOpen(p, zSpec, pzErr);
    if( pStore ){
      pStore->pNext = p->pStores;
      p->pStores = pStore;
    }
  }
  sqlite3_free(zCanon);
  return pStore;
}

/* The store zFn's entries live in, as its settings say (zFn NULL: the
** default store, the '*' row's). NULL with *pzErr set on error. */
CachierStore *storeForFunction(Cachier *p, const char *zFn, char **pzErr){
  FnSettings s;
  CachierStore *pStore;
  const char *zSpec;
  int eMain = STORE_ABSENT;
  *pzErr = 0;
  settingsDefaults(&s);
  if( settingsLoad(p, zFn ? zFn : "*", &s, pzErr) ) return 0;
  zSpec = s.zStore;
#ifdef CACHIER_TEST
  if( zSpec==0 ) zSpec = p->zTestStore;
#endif
  /* A read-only main without cache tables: its fallback (fallback.c). */
  if( (zSpec==0 || strcmp(zSpec, "main")==0) && cachierMainStore(p)
   && storeState(cachierMainStore(p), &eMain)==SQLITE_OK ){
    zSpec = fallbackSpec(p, zSpec, eMain);
  }
  pStore = storeOpen(p, zSpec, pzErr);
  settingsClear(&s);
  return pStore;
}

/* Add pStore to the list unless it is in it. */
static int listAdd(CachierStore ***paStore, int *pn, CachierStore *pStore){
  CachierStore **aNew;
  int i;
  for(i=0; i<*pn; i++) if( (*paStore)[i]==pStore ) return SQLITE_OK;
  aNew = sqlite3_realloc64(*paStore, (*pn+1)*sizeof(CachierStore*));
  if( aNew==0 ) return SQLITE_NOMEM;
  aNew[(*pn)++] = pStore;
  *paStore = aNew;
  return SQLITE_OK;
}

/* Every store this connection may have entries in: main, the stores that
** cachier_functions names, and those already open. *paStore is
** sqlite3_malloc'ed (the stores themselves belong to the connection);
** stores that cannot be opened are skipped (and logged). */
int storeListAll(Cachier *p, CachierStore ***paStore, int *pnStore){
  CachierStore **a = 0, *pStore;
  sqlite3_stmt *pStmt = 0;
  int n = 0, rc = SQLITE_OK;
  *paStore = 0;
  *pnStore = 0;
  pStore = cachierMainStore(p);
  if( pStore==0 || listAdd(&a, &n, pStore) ) return SQLITE_NOMEM;
  /* The stores cachier_functions names (none if it has no table yet),
  ** in rows whose seal makes them count (settings.c). */
  if( (pStmt = settingsStoresPrepare(p))!=0 ){
    const char *zSpec;
    while( rc==SQLITE_OK && (zSpec = settingsStoresNext(p, pStmt))!=0 ){
      char *zErr = 0;
      if( storeSpecCheck(zSpec, &zErr) ){
        sqlite3_free(zErr);
        continue;
      }
      pStore = storeOpen(p, zSpec, &zErr);
      if( pStore ){
        rc = listAdd(&a, &n, pStore);
      }else if( zErr ){
        cachierLog(p, "cachier: %s", zErr);
      }
      sqlite3_free(zErr);
    }
  }
  sqlite3_finalize(pStmt);
#ifdef CACHIER_TEST
  if( rc==SQLITE_OK && p->zTestStore ){
    char *zErr = 0;
    pStore = storeOpen(p, p->zTestStore, &zErr);
    sqlite3_free(zErr);
    if( pStore ) rc = listAdd(&a, &n, pStore);
  }
#endif
  for(pStore=p->pStores; rc==SQLITE_OK && pStore; pStore=pStore->pNext){
    rc = listAdd(&a, &n, pStore);
  }
  if( rc ){
    sqlite3_free(a);
    return rc;
  }
  *paStore = a;
  *pnStore = n;
  return SQLITE_OK;
}

/* Commit every open store's grouped writes (before waiting, connection
** close, cachier_flush()): how many values were committed, -1 if a commit
** failed. */
int storeFlushAll(Cachier *p){
  CachierStore *pStore;
  int nTotal = 0, rc = SQLITE_OK;
  for(pStore=p->pStores; pStore; pStore=pStore->pNext){
    int n = 0;
    int rc2 = storeFlush(pStore, &n);
    if( rc==SQLITE_OK ) rc = rc2;
    nTotal += n;
  }
  return rc ? -1 : nTotal;
}

static void storeFree(CachierStore *pStore){
  storeClose(pStore);
  inflightClose(&pStore->pInflight);
  hotFree(pStore);
  sqlite3_free(pStore->zSpec);
  sqlite3_free(pStore->zLockDb);
  sqlite3_free(pStore);
}

/* Close every store (connection close). */
void storeCloseAll(Cachier *p){
  while( p->pStores ){
    CachierStore *pStore = p->pStores;
    p->pStores = pStore->pNext;
    storeFree(pStore);
  }
  if( p->pMainStore ){
    storeFree(p->pMainStore);
    p->pMainStore = 0;
  }
}

/* cachier_flush() */
static void flushFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  int n;
  (void)argc; (void)argv;
  fnInfoFlushStats(p, 1);     /* the counts too (not in the result) */
  n = storeFlushAll(p);
  if( n<0 ){
    sqlite3_result_error(ctx, "cachier_flush: a store could not commit its "
                         "values (see sqlite3_log)", -1);
    return;
  }
  sqlite3_result_int(ctx, n);
}

/* cachier_cache_path([FN]) */
static void cachePathFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  FnSettings s;
  char *zFn = 0, *zErr = 0;
  const char *zSpec;
  if( argc==1 && sqlite3_value_type(argv[0])!=SQLITE_NULL
   && callCanonicalName("cachier_cache_path", argv[0], &zFn, &zErr) ){
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return;
  }
  /* From the settings alone: the path of a file that cannot be opened
  ** (yet) is still its path. */
  settingsDefaults(&s);
  settingsLoad(p, zFn ? zFn : "*", &s, 0);
  sqlite3_free(zFn);
  zSpec = s.zStore;
#ifdef CACHIER_TEST
  if( zSpec==0 ) zSpec = p->zTestStore;
#endif
  if( zSpec==0 || strcmp(zSpec, "main")==0 ){
    const char *zMain = cachierMainFile(p);
    if( zMain ) sqlite3_result_text(ctx, zMain, -1, SQLITE_TRANSIENT);
  }else if( strncmp(zSpec, "file:", 5)==0 ){
    sqlite3_result_text(ctx, storeFilePath(p, zSpec), -1, sqlite3_free);
  }
  settingsClear(&s);
}

#ifdef CACHIER_TEST
/* cachier_test_group_age(SECONDS) */
static void testGroupAgeFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  double r = sqlite3_value_double(argv[0]);
  (void)argc;
  __atomic_store_n(&p->testGroupAgeNs,
      sqlite3_value_type(argv[0])==SQLITE_NULL || r<=0 ? 0
      : (sqlite3_int64)(r*1e9), __ATOMIC_RELAXED);
  sqlite3_result_value(ctx, argv[0]);
}

/* cachier_test_default_store(SPEC) */
static void testDefaultStoreFunc(sqlite3_context *ctx, int argc,
                                 sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  const char *zSpec = (const char*)sqlite3_value_text(argv[0]);
  char *zWhy = 0;
  (void)argc;
  if( zSpec && storeSpecCheck(zSpec, &zWhy) ){
    char *z = sqlite3_mprintf("cachier_test_default_store: %s", zWhy);
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    sqlite3_free(zWhy);
    return;
  }
  sqlite3_free(p->zTestStore);
  p->zTestStore = zSpec ? sqlite3_mprintf("%s", zSpec) : 0;
  p->settingsGen++;
  sqlite3_result_value(ctx, argv[0]);
}

/* cachier_test_store_sql(SPEC, SQL) */
static void testStoreSqlFunc(sqlite3_context *ctx, int argc,
                                  sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  const char *zSpec = (const char*)sqlite3_value_text(argv[0]);
  char *zErr = 0;
  CachierStore *pStore;
  (void)argc;
  if( zSpec==0 || strncmp(zSpec, "file:", 5)!=0
   || (pStore = storeOpen(p, zSpec, &zErr))==0 ){
    sqlite3_free(zErr);
    sqlite3_result_error(ctx, "cachier_test_store_sql: not a file: store",
                         -1);
    return;
  }
  storeLock((TablesStore*)pStore);
  sqlite3_result_int(ctx, sqlite3_exec(((TablesStore*)pStore)->db,
      (const char*)sqlite3_value_text(argv[1]), 0, 0, 0));
  storeUnlock((TablesStore*)pStore);
}
#endif

const CachierFunction cachierStoreFunctions[] = {
  { "cachier_flush",      0, CACHIER_FN_WRITES, flushFunc },
  { "cachier_cache_path", 0, CACHIER_FN_WRITES, cachePathFunc },
  { "cachier_cache_path", 1, CACHIER_FN_WRITES, cachePathFunc },
#ifdef CACHIER_TEST
  { "cachier_test_default_store", 1, CACHIER_FN_WRITES, testDefaultStoreFunc },
  { "cachier_test_group_age",     1, CACHIER_FN_WRITES, testGroupAgeFunc },
  { "cachier_test_store_sql",     2, CACHIER_FN_WRITES, testStoreSqlFunc },
#endif
  { 0, 0, 0, 0 }
};
