/*
** cachier.c - entry point, registration, per-connection state.
**
** Load with ".load ./cachier" (entry point sqlite3_cachier_init).
**
** SQL surface of this file:
**   cachier_version()   The extension's version (ext/VERSION), e.g. '0.5.0'.
**   cachier_debug()     One line of build and connection facts, for bug
**                       reports: version, SQLite version, schema version,
**                       build kind, statement cache state.
**   cachier_test_hash_bits(N)   Test builds only: keep only N bits of the
**                       key hash on this connection (0: full), so that
**                       collisions happen and must be told apart.
**   cachier_test_last_log()     Test builds only: the last line cachier
**                       logged through sqlite3_log() on this connection.
**   cachier_test_own_busy_tries(N)  Test builds only: main's own writer
**                       connection gives up after N busy tries (0: 2500);
**                       returns its tries now (or those it would
**                       have, opened now; NULL: main not used yet).
** The other functions and tables are registered from the tables exported
** by memoize.c, call.c, inflight.c, refresh.c, staleness.c and the
** vtab_*.c files.
**
** Statements the connection keeps prepared between calls (cachierStmt)
** belong to the eponymous table cachier_stats: SQLite disconnects it in
** sqlite3_close() before checking for unfinalized statements, and its
** xDisconnect finalizes them, so a connection that used the cache closes
** cleanly. Until that table is connected, statements are prepared per use.
*/
#define _GNU_SOURCE           /* dladdr(), RTLD_NODELETE: see pinLibrary() */
#define CACHIER_MAIN_FILE
#include "store.h"
SQLITE_EXTENSION_INIT1
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>
#ifdef CACHIER_TEST
#include <stdatomic.h>
#endif

extern const CachierFunction cachierMemoizeFunctions[];
extern const CachierFunction cachierCallFunctions[];
extern const CachierFunction cachierInflightFunctions[];
extern const CachierFunction cachierRefreshFunctions[];
extern const CachierFunction cachierStalenessFunctions[];
extern const CachierFunction cachierCompressFunctions[];
extern const CachierFunction cachierStoreFunctions[];
extern const CachierFunction cachierGetFunctions[];
extern const CachierFunction cachierUninstallFunctions[];
extern const CachierFunction cachierDependsFunctions[];
extern const CachierFunction cachierQueryFunctions[];
#ifdef CACHIER_TEST
extern const CachierFunction cachierTestFunctions[];
extern const CachierFunction cachierRedisFormatTestFunctions[];
extern const CachierFunction cachierSha256TestFunctions[];
#endif
extern const sqlite3_module cachierSchemaModule;
extern const sqlite3_module cachierFunctionsModule;
extern const sqlite3_module cachierEntriesModule;
extern const sqlite3_module cachierStatsModule;
extern const sqlite3_module cachierLogModule;
extern const sqlite3_module cachierSettingsModule;
extern const sqlite3_module cachierQueryModule;

/* ------------------------------------------------------------------ state */

static void cachierUnref(void *pArg){
  Cachier *p = (Cachier*)pArg;
  if( p && --p->nRef==0 ){
    /* The anchor's xDisconnect finalized the kept statements already. */
    fnInfoFreeAll(p);
    cachierStatsFreeAll(p);
    storeCloseAll(p);
    inflightClose(&p->pInflight);
    compressFreeAll(p);
    sealFree(p);
    dependsFreeAll(p);
    cachierLogFree(p);        /* last: the others may log */
#ifdef CACHIER_TEST
    sqlite3_free(p->zWaitMarker);
    sqlite3_free(p->zTestStore);
#endif
    sqlite3_free(p);
  }
}

/* Connect the anchor table so statements may be kept. Returns p->anchored. */
int cachierAnchor(Cachier *p){
  sqlite3_stmt *pStmt = 0;
  if( p->anchored ) return 1;
  if( sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.cachier_stats", -1,
                         &pStmt, 0)==SQLITE_OK ){
    sqlite3_finalize(pStmt);
  }
  return p->anchored;
}

/* A prepared statement of db for zSql, to be returned with stmtKeptDone():
** the one kept in *ppKept (prepared into it first if bKeep); a fresh one
** when that one is running further up the stack, or may not be kept. NULL
** if it cannot be prepared (for example: the tables do not exist yet). */
sqlite3_stmt *stmtKept(sqlite3 *db, sqlite3_stmt **ppKept, int bKeep,
                       const char *zSql){
  sqlite3_stmt *pStmt = *ppKept;
  if( pStmt && !sqlite3_stmt_busy(pStmt) ) return pStmt;
  if( pStmt==0 && bKeep ){
    if( sqlite3_prepare_v3(db, zSql, -1, SQLITE_PREPARE_PERSISTENT, ppKept,
                           0)!=SQLITE_OK ){
      *ppKept = 0;
      return 0;
    }
    return *ppKept;
  }
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)!=SQLITE_OK ) return 0;
  return pStmt;
}

void stmtKeptDone(sqlite3_stmt *pKept, sqlite3_stmt *pStmt){
  if( pStmt==0 ) return;
  if( pStmt==pKept ){
    sqlite3_reset(pStmt);
  }else{
    sqlite3_finalize(pStmt);
  }
}

/* 1 if db is in autocommit mode and runs at most one statement (the one
** calling, or the one ending): a read transaction found open is then
** that statement's own, and ends with it. */
int cachierOneStatementRuns(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int nBusy = 0;
  if( !sqlite3_get_autocommit(db) ) return 0;
  while( (pStmt = sqlite3_next_stmt(db, pStmt))!=0 ){
    if( sqlite3_stmt_busy(pStmt) && ++nBusy>1 ) return 0;
  }
  return 1;
}

/* Is db's main database in WAL mode? (It may change between statements:
** callers ask once per statement at most, or when the journal changed.) */
int cachierIsWal(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int bWal = 0;
  if( sqlite3_prepare_v2(db, "PRAGMA main.journal_mode", -1, &pStmt,
                         0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    bWal = sqlite3_stricmp((const char*)sqlite3_column_text(pStmt, 0),
                           "wal")==0;
  }
  sqlite3_finalize(pStmt);
  return bWal;
}

/* The connection's statement for zSql: kept across calls once the anchor
** is connected (see the header). */
sqlite3_stmt *cachierStmt(Cachier *p, int id, const char *zSql){
  return stmtKept(p->db, &p->aStmt[id], p->aStmt[id]!=0 || cachierAnchor(p),
                  zSql);
}

void cachierStmtDone(Cachier *p, int id, sqlite3_stmt *pStmt){
  stmtKeptDone(p->aStmt[id], pStmt);
}

void cachierStmtFinalizeAll(Cachier *p){
  int i;
  refresherStop(p);           /* it runs statements on this connection */
  fnInfoFlushStats(p, 0);     /* the counts outlive the connection */
  storeFlushAll(p);           /* a clean close loses no grouped write */
  for(i=0; i<STMT_COUNT; i++){
    sqlite3_finalize(p->aStmt[i]);
    p->aStmt[i] = 0;
  }
  fnInfoFinalizeAll(p);
  p->anchored = 0;
}

/* The file name of the main database if it is an ordinary file that other
** connections may open too (a unix VFS), else NULL: ":memory:", temp
** databases and in-memory VFSes (memdb) are private to this connection. */
const char *cachierMainFile(Cachier *p){
  const char *zFile = sqlite3_db_filename(p->db, "main");
  char *zVfs = 0;
  int bUnix;
  if( zFile==0 || zFile[0]==0 ) return 0;
  if( sqlite3_file_control(p->db, "main", SQLITE_FCNTL_VFSNAME, &zVfs)
      !=SQLITE_OK ){
    return 0;
  }
  bUnix = zVfs && strncmp(zVfs, "unix", 4)==0;
  sqlite3_free(zVfs);
  return bUnix ? zFile : 0;
}

/* Log a notice through sqlite3_log() (SQLITE_NOTICE), where applications
** and the shell's error log see it, and in cachier_log (log.c). */
void cachierLog(Cachier *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  cachierLogV(p, CACHIER_LOG_NOTICE, 0, zFmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------- SQL functions */

static void versionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  sqlite3_result_text(ctx, CACHIER_VERSION, -1, SQLITE_STATIC);
}

static void debugFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  struct CachierStore *pStore;
  sqlite3_str *pStores = sqlite3_str_new(p->db);
  int i, nKept = 0;
  (void)argc; (void)argv;
  for(i=0; i<STMT_COUNT; i++) nKept += p->aStmt[i]!=0;
  /* The open stores, each with its hot tier's hits. */
  sqlite3_str_appendf(pStores, "main");
  for(pStore=p->pStores; pStore; pStore=pStore->pNext){
    sqlite3_str_appendf(pStores, ",%s", pStore->zSpec);
  }
  sqlite3_str_appendf(pStores, "; hot hits %lld",
      (p->pMainStore ? hotHits(p->pMainStore) : 0));
  for(pStore=p->pStores; pStore; pStore=pStore->pNext){
    sqlite3_str_appendf(pStores, ",%lld", hotHits(pStore));
  }
  /* Failed operations of the Redis stores (none: left out). */
  for(pStore=p->pStores; pStore; pStore=pStore->pNext){
    CachierStoreStatus status;
    storeStatus(pStore, &status);
    if( status.nFailures ){
      sqlite3_str_appendf(pStores, "; %s failures %lld", pStore->zSpec,
                          status.nFailures);
    }
  }
  sqlite3_result_text(ctx, sqlite3_mprintf(
      "cachier %s; sqlite %s; zstd %s; redis %s; schema_version %d; "
      "build %s; hash_bits %d; enabled %d; statements kept %d; "
      "refresh thread %s; stores %z",
      CACHIER_VERSION, sqlite3_libversion(), compressVersion(),
      storeRedisBuild(),
      CACHIER_SCHEMA_VERSION,
#ifdef CACHIER_TEST
      "test",
#else
      "release",
#endif
      p->hashBits ? p->hashBits : 40, p->enabled, nKept,
      p->pRefresher ? "running" : p->zRefreshOff ? p->zRefreshOff
      : sqlite3_db_mutex(p->db)==0 ? CACHIER_REFRESH_OFF_WHY : "none",
      sqlite3_str_finish(pStores)),
      -1, sqlite3_free);
}

static const CachierFunction cachierMainFunctions[] = {
  { "cachier_version",  0, CACHIER_FN_PURE,   versionFunc },
  { "cachier_debug",    0, CACHIER_FN_WRITES, debugFunc },
  { 0, 0, 0, 0 }
};

#ifdef CACHIER_TEST
static void testHashBitsFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  int n = sqlite3_value_int(argv[0]);
  (void)argc;
  if( n<0 || n>40 ){
    sqlite3_result_error(ctx, "cachier_test_hash_bits: N must be 0..40", -1);
    return;
  }
  p->hashBits = n;
  sqlite3_result_int(ctx, n);
}

/* cachier_test_own_busy_tries(N): the connection of cachier's own that
** writes main's entries when the user's read snapshot cannot (store_main.c)
** gives up after N tries of its busy handler (about 0.1 ms each at first)
** instead of OWN_BUSY_TRIES (0), so tests need not wait 5 s. Takes effect
** at the next statement. Returns the tries the writer has now (fewer
** after a write that found main's lock held all the while; it closes when
** no statement runs, and one opened now would have N), or NULL before
** main's store is used. */
static void testOwnBusyTriesFunc(sqlite3_context *ctx, int argc,
                                 sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  int n = sqlite3_value_int(argv[0]);
  (void)argc;
  if( n<0 || n>OWN_BUSY_TRIES ){
    sqlite3_result_error(ctx, "cachier_test_own_busy_tries: N must be 0.."
                         "2500", -1);
    return;
  }
  p->ownBusyTries = n;
  if( p->pMainStore ){
    sqlite3_result_int(ctx, storeMainBusyTries(p->pMainStore));
  }
}

/* cachier_test_last_log(): the last line cachier logged on this
** connection through sqlite3_log(), or NULL. */
static void testLastLogFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  if( p->zLastLog ) sqlite3_result_text(ctx, p->zLastLog, -1, SQLITE_TRANSIENT);
}

/* Allocations left before the one cachier_test_fail_alloc() makes fail
** (0: none). Process-wide, in test builds only: the allocation wrappers
** have no connection to hang it on, and a load must see it before its
** connection has any cachier state. */
static atomic_int nAllocBeforeFault;

/* True (once) when the allocation being made is the one to fail. */
int cachierTestFault(void){
  int n = atomic_load(&nAllocBeforeFault);
  while( n>0 ){
    if( atomic_compare_exchange_weak(&nAllocBeforeFault, &n, n-1) ){
      return n==1;
    }
  }
  return 0;
}
void *cachierTestMalloc(sqlite3_uint64 n){
  return cachierTestFault() ? 0 : sqlite3_api->malloc64(n);
}
void *cachierTestRealloc(void *pOld, sqlite3_uint64 n){
  return cachierTestFault() ? 0 : sqlite3_api->realloc64(pOld, n);
}

char *cachierTestMprintf(const char *zFmt, ...){
  va_list ap;
  char *z;
  int bFail = cachierTestFault();
  /* Format even when failing: a real OOM still frees the %z arguments. */
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( bFail ){
    sqlite3_free(z);
    return 0;
  }
  return z;
}
char *cachierTestStrFinish(sqlite3_str *pStr){
  char *z = sqlite3_api->str_finish(pStr);
  if( z && cachierTestFault() ){
    sqlite3_free(z);
    return 0;
  }
  return z;
}
/* (A NULL value's text is NULL anyway: only a conversion may fail.) */
const unsigned char *cachierTestValueText(sqlite3_value *pVal){
  if( sqlite3_value_type(pVal)!=SQLITE_NULL && cachierTestFault() ) return 0;
  return sqlite3_api->value_text(pVal);
}

/* (A TEXT or BLOB is copied: that may fail, leaving the parameter NULL.) */
int cachierTestBindValue(sqlite3_stmt *pStmt, int i,
                         const sqlite3_value *pVal){
  int eType = sqlite3_value_type((sqlite3_value*)pVal);
  if( (eType==SQLITE_TEXT || eType==SQLITE_BLOB) && cachierTestFault() ){
    sqlite3_bind_null(pStmt, i);
    return SQLITE_NOMEM;
  }
  return sqlite3_api->bind_value(pStmt, i, pVal);
}

/* (With SQLITE_TRANSIENT the blob is copied: that may fail too.) */
int cachierTestBindBlob(sqlite3_stmt *pStmt, int i, const void *p, int n,
                        void (*xDel)(void*)){
  if( xDel==SQLITE_TRANSIENT && cachierTestFault() ){
    sqlite3_bind_null(pStmt, i);
    return SQLITE_NOMEM;
  }
  return sqlite3_api->bind_blob(pStmt, i, p, n, xDel);
}

/* (Text is copied with SQLITE_TRANSIENT, and converted in a UTF-16
** database whatever xDel says: either may fail.) */
int cachierTestBindText(sqlite3_stmt *pStmt, int i, const char *z, int n,
                        void (*xDel)(void*)){
  if( z && cachierTestFault() ){
    if( xDel!=SQLITE_STATIC && xDel!=SQLITE_TRANSIENT ) xDel((void*)z);
    sqlite3_bind_null(pStmt, i);
    return SQLITE_NOMEM;
  }
  return sqlite3_api->bind_text(pStmt, i, z, n, xDel);
}

/* cachier_test_fail_alloc(N): the Nth next allocation cachier makes (in
** any connection of the process) fails, once; 0 disarms it. */
static void testFailAllocFunc(sqlite3_context *ctx, int argc,
                              sqlite3_value **argv){
  int n = sqlite3_value_int(argv[0]);
  (void)argc;
  atomic_store(&nAllocBeforeFault, n>0 ? n : 0);
  sqlite3_result_int(ctx, n);
}

const CachierFunction cachierTestFunctions[] = {
  { "cachier_test_fail_alloc", 1, CACHIER_FN_WRITES, testFailAllocFunc },
  { "cachier_test_last_log",  0, CACHIER_FN_WRITES, testLastLogFunc },
  { "cachier_test_hash_bits", 1, CACHIER_FN_WRITES, testHashBitsFunc },
  { "cachier_test_own_busy_tries", 1, CACHIER_FN_WRITES,
    testOwnBusyTriesFunc },
  { 0, 0, 0, 0 }
};
#endif

/* Every function table, for registration and cachierIsOwnFunction(). */
static const CachierFunction *const aFunctionTables[] = {
  cachierMainFunctions, cachierMemoizeFunctions, cachierCallFunctions,
  cachierInflightFunctions, cachierRefreshFunctions,
  cachierStalenessFunctions, cachierCompressFunctions, cachierStoreFunctions,
  cachierGetFunctions, cachierUninstallFunctions,
  cachierDependsFunctions,
  cachierQueryFunctions,
#ifdef CACHIER_TEST
  cachierTestFunctions, cachierRedisFormatTestFunctions,
  cachierSha256TestFunctions,
#endif
};

static const struct {
  const char *zName;
  const sqlite3_module *pModule;
} aModules[] = {
  /* "cachier" comes first: its shadow tables are protected only if the
  ** module exists when the schema is parsed. */
  { "cachier",           &cachierSchemaModule },
  { "cachier_functions", &cachierFunctionsModule },
  { "cachier_entries",   &cachierEntriesModule },
  { "cachier_stats",     &cachierStatsModule },
  { "cachier_log",       &cachierLogModule },
  { "cachier_settings",  &cachierSettingsModule },
  { "cachier_query",     &cachierQueryModule },
};

/* True if zName (in any letter case) is one of the functions this file
** registers: memoizing those would recurse or write. */
int cachierIsOwnFunction(const char *zName){
  size_t t;
  const CachierFunction *f;
  for(t=0; t<sizeof(aFunctionTables)/sizeof(aFunctionTables[0]); t++){
    for(f=aFunctionTables[t]; f->zName; f++){
      if( sqlite3_stricmp(f->zName, zName)==0 ) return 1;
    }
  }
  return 0;
}

/* Shadow tables are protected only if the schema was parsed after the
** "cachier" module was registered. When the extension is loaded through
** SQL's load_extension() the schema is parsed already, so have SQLite parse
** it again on the next statement. Skipped while the user has
** writable_schema on (RESET would turn it off). */
static void reparseSchema(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int bWritable = 1;
  if( sqlite3_prepare_v2(db, "PRAGMA writable_schema", -1, &pStmt, 0)==0
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    bWritable = sqlite3_column_int(pStmt, 0);
  }
  sqlite3_finalize(pStmt);
  if( !bWritable ) sqlite3_exec(db, "PRAGMA writable_schema=RESET", 0, 0, 0);
}

/* Keep this library mapped until the process ends (on a failed load that
** could not take back all its registrations). */
static void pinLibrary(void){
  Dl_info info;
  if( dladdr((void*)pinLibrary, &info) && info.dli_fname ){
    (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

/* Take back the first nModule modules and nFunction functions a failed
** load registered: SQLite unloads the library then, so nothing of the
** connection may point into it. A function cannot be removed while a
** statement runs (a load through SQL's load_extension()): if one stays,
** the library is pinned instead, which keeps what stays valid. */
static void initUndo(sqlite3 *db, size_t nModule, size_t nFunction){
  size_t i, t, n = 0;
  int bKept = 0;
  for(i=0; i<nModule; i++){
    /* A NULL module removes the name (and drops its reference to p). */
    sqlite3_create_module_v2(db, aModules[i].zName, 0, 0, 0);
  }
  for(t=0; t<sizeof(aFunctionTables)/sizeof(aFunctionTables[0]); t++){
    const CachierFunction *f;
    for(f=aFunctionTables[t]; n<nFunction && f->zName; f++, n++){
      if( sqlite3_create_function_v2(db, f->zName, f->nArg, SQLITE_UTF8,
                                     0, 0, 0, 0, 0)!=SQLITE_OK ){
        bKept = 1;
      }
    }
  }
  if( bKept ) pinLibrary();
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_cachier_init(sqlite3 *db, char **pzErrMsg,
                         const sqlite3_api_routines *pApi){
  Cachier *p;
  size_t i, t, nModule = 0, nFunction = 0;
  int rc = SQLITE_OK;
  SQLITE_EXTENSION_INIT2(pApi);
  if( sqlite3_libversion_number()<CACHIER_MIN_SQLITE ){
    *pzErrMsg = sqlite3_mprintf("cachier needs SQLite " CACHIER_MIN_SQLITE_TEXT
                                " or newer; this is SQLite %s",
                                sqlite3_libversion());
    return SQLITE_ERROR;
  }
  p = sqlite3_malloc(sizeof(*p));
  if( p==0 ){
    *pzErrMsg = sqlite3_mprintf("cachier: %s", sqlite3_errstr(SQLITE_NOMEM));
    return SQLITE_NOMEM;
  }
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->enabled = 1;
  p->nRef = 1;                /* held by this function until the end */
  for(i=0; rc==SQLITE_OK && i<sizeof(aModules)/sizeof(aModules[0]); i++){
    p->nRef++;
    if( CACHIER_FAULT() ){
      cachierUnref(p);        /* as SQLite does when registering fails */
      rc = SQLITE_NOMEM;
    }else{
      rc = sqlite3_create_module_v2(db, aModules[i].zName,
                                    aModules[i].pModule, p, cachierUnref);
    }
    if( rc==SQLITE_OK ) nModule++;
  }
  for(t=0; rc==SQLITE_OK
           && t<sizeof(aFunctionTables)/sizeof(aFunctionTables[0]); t++){
    const CachierFunction *f;
    for(f=aFunctionTables[t]; rc==SQLITE_OK && f->zName; f++){
      int flags = SQLITE_UTF8;
      if( f->eKind==CACHIER_FN_WRITES ){
        flags |= SQLITE_DIRECTONLY | SQLITE_SUBTYPE;
      }else{
        flags |= SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC;
      }
      p->nRef++;
      if( CACHIER_FAULT() ){
        cachierUnref(p);
        rc = SQLITE_NOMEM;
      }else{
        rc = sqlite3_create_function_v2(db, f->zName, f->nArg, flags, p,
                                        f->xFunc, 0, 0, cachierUnref);
      }
      if( rc==SQLITE_OK ) nFunction++;
    }
  }
  if( rc==SQLITE_OK ) reparseSchema(db);
  if( rc ){
    initUndo(db, nModule, nFunction);
    *pzErrMsg = sqlite3_mprintf("cachier: %s", sqlite3_errstr(rc));
  }
  cachierUnref(p);
  return rc;
}
