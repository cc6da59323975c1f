/*
** driver.c - concurrent callers of memoize('slow', KEY), for
** tests/concurrency.test. Each thread has its own connection; slow(x)
** returns 'v' || x as text, sleeps, and counts its calls in this process.
**
**   driver same-key DB EXT NTHREADS SLEEP_MS
**       NTHREADS threads start together (a barrier) and each run
**       SELECT memoize('slow', 1) once.
**       Prints "calls N wrong W errors E".
**   driver hold DB EXT KEY [OPTIONS]
**       Computes memoize('slow', KEY) (memoize_with(OPTIONS, ...) if given)
**       with a slow() that prints "computing" and then sleeps until killed.
**   driver get DB EXT KEY [-sleep MS] [-options JSON] [-marker PATH]
**                         [-gate PATH] [-announce 1]
**       One call (slow() sleeps MS, default 0). -marker: create PATH when
**       the call starts waiting for another computation. -gate: print
**       "ready" once set up, then wait for PATH to exist before calling.
**       -announce 1: slow() prints "computing" when it starts.
**       Prints "value V calls N", or "error MESSAGE calls N".
**   driver hammer DB EXT NTHREADS NCALLS NKEYS [SEED]
**       NTHREADS threads each make NCALLS calls with pseudo-random keys in
**       0..NKEYS-1 (slow() sleeps 1 ms), checking every value.
**       Prints "calls N wrong W errors E".
**   driver scan DB EXT NTHREADS NKEYS WINDOW SLEEP_MS [-first I] [-total N]
**                     [-store SPEC] [-gate PATH]
**       The README's pattern: NTHREADS threads (connections I.. I+NTHREADS-1
**       of N in all, default 0 and NTHREADS) start together and each run
**       one statement SELECT k, memoize('slow', k) FROM items over WINDOW
**       keys of the table items(k), which holds 0..NKEYS-1 (made by the
**       caller): connection c starts at key c*NKEYS/N and wraps around,
**       so the key sets overlap and the statements run in read snapshots
**       that others' commits make old. slow() sleeps SLEEP_MS. -store:
**       the connections' default store (a test build's
**       cachier_test_default_store()); -gate as for get.
**       Prints "calls N wrong W errors E rows R write_errors X" (X:
**       values computed but not stored, from cachier_stats).
**   driver seal DB EXT NTHREADS
**       NTHREADS threads start together (a barrier), each with a database
**       of its own (DB.0, DB.1, ...), and each seals a setting there
**       (INSERT INTO cachier_functions(name, store) VALUES ('f',
**       'memory')): with no key file yet (CACHIER_KEY_FILE), all of them
**       want to create it at once. Then a new connection on each database
**       checks the seal (cachier_functions.trusted).
**       Prints "untrusted U" (seals the key file does not verify).
**
** Every run dies of SIGALRM after 60 s, so no test can hang on it.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

static const char *g_zDb, *g_zExt;
static atomic_int g_nCalls;         /* calls of slow() in this process */
static atomic_int g_nWrong, g_nErrors;
static int g_sleepMs;               /* how long slow() sleeps; <0: forever */
static int g_bAnnounce;             /* slow() prints "computing" first */
static pthread_barrier_t g_barrier;

static void sleepMs(int ms){
  struct timespec ts;
  ts.tv_sec = ms/1000;
  ts.tv_nsec = (long)(ms%1000)*1000000;
  while( nanosleep(&ts, &ts)!=0 ){}
}

/* slow(x): 'v' || x, after g_sleepMs. */
static void slowFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  atomic_fetch_add(&g_nCalls, 1);
  if( g_sleepMs<0 || g_bAnnounce ){
    printf("computing\n");
    fflush(stdout);
  }
  if( g_sleepMs<0 ){
    for(;;) pause();                /* until killed (or SIGALRM) */
  }
  if( g_sleepMs>0 ) sleepMs(g_sleepMs);
  sqlite3_result_text(ctx, sqlite3_mprintf("v%s", sqlite3_value_text(argv[0])),
                      -1, sqlite3_free);
}

static void fail(const char *zWhat, const char *zMsg){
  fprintf(stderr, "driver: %s: %s\n", zWhat, zMsg ? zMsg : "error");
  exit(2);
}

/* A connection on zDb with cachier loaded and slow() registered. */
static sqlite3 *openDbNamed(const char *zDb, int flags){
  sqlite3 *db = 0;
  char *zErr = 0;
  if( sqlite3_open_v2(zDb, &db, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE
                      |flags, 0)!=SQLITE_OK ){
    fail("open", db ? sqlite3_errmsg(db) : "out of memory");
  }
  sqlite3_busy_timeout(db, 20000);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, g_zExt, "sqlite3_cachier_init", &zErr) ){
    fail("load_extension", zErr);
  }
  sqlite3_create_function(db, "slow", 1, SQLITE_UTF8, 0, slowFunc, 0, 0);
  return db;
}
/* The same on g_zDb. */
static sqlite3 *openDb(int flags){
  return openDbNamed(g_zDb, flags);
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)!=SQLITE_OK ){
    fail("prepare", sqlite3_errmsg(db));
  }
  return pStmt;
}

/* Run pStmt, bound to KEY (and OPTIONS if not NULL); check the value
** against 'v' || KEY, counting wrong values and errors. The statement's
** text or error message goes to *pzOut if pzOut (sqlite3_free it). */
static void callOnce(sqlite3_stmt *pStmt, sqlite3_int64 iKey, char **pzOut){
  char zWant[32];
  int rc;
  snprintf(zWant, sizeof(zWant), "v%lld", (long long)iKey);
  sqlite3_bind_int64(pStmt, 1, iKey);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    if( z==0 || strcmp(z, zWant)!=0 ) atomic_fetch_add(&g_nWrong, 1);
    if( pzOut ) *pzOut = sqlite3_mprintf("value %s", z ? z : "NULL");
  }else{
    atomic_fetch_add(&g_nErrors, 1);
    if( pzOut ){
      *pzOut = sqlite3_mprintf("error %s",
                               sqlite3_errmsg(sqlite3_db_handle(pStmt)));
    }
  }
  sqlite3_reset(pStmt);
}

static void printCounts(void){
  printf("calls %d wrong %d errors %d\n", atomic_load(&g_nCalls),
         atomic_load(&g_nWrong), atomic_load(&g_nErrors));
}

/* ------------------------------------------------------------- same-key */

static void *sameKeyThread(void *pArg){
  int i = (int)(intptr_t)pArg;
  /* Serialized and multi-thread connections alike: one per thread. */
  sqlite3 *db = openDb(i%2 ? SQLITE_OPEN_NOMUTEX : SQLITE_OPEN_FULLMUTEX);
  sqlite3_stmt *pStmt = prepare(db, "SELECT memoize('slow', ?1)");
  pthread_barrier_wait(&g_barrier);
  callOnce(pStmt, 1, 0);
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return 0;
}

/* ----------------------------------------------------------------- hammer */

static int g_nCallsPerThread, g_nKeys;
static unsigned g_seed;

static void *hammerThread(void *pArg){
  int i;
  uint64_t x = g_seed*0x9e3779b97f4a7c15ULL + (uint64_t)(intptr_t)pArg + 1;
  sqlite3 *db = openDb(SQLITE_OPEN_NOMUTEX);
  sqlite3_stmt *pStmt = prepare(db, "SELECT memoize('slow', ?1)");
  pthread_barrier_wait(&g_barrier);
  for(i=0; i<g_nCallsPerThread; i++){
    x ^= x<<13; x ^= x>>7; x ^= x<<17;          /* xorshift64 */
    callOnce(pStmt, (sqlite3_int64)(x % (uint64_t)g_nKeys), 0);
  }
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return 0;
}

/* ------------------------------------------------------------------- scan */

static int g_nWindow, g_iFirst, g_nTotal;
static const char *g_zStore;
static atomic_int g_nRows, g_nWriteErrors;

static void *scanThread(void *pArg){
  int c = g_iFirst + (int)(intptr_t)pArg;
  sqlite3_int64 iStart = (sqlite3_int64)c * g_nKeys / g_nTotal;
  sqlite3 *db = openDb(SQLITE_OPEN_NOMUTEX);
  sqlite3_stmt *pStmt;
  int rc;
  if( g_zStore ){
    char *zSql = sqlite3_mprintf("SELECT cachier_test_default_store(%Q)",
                                 g_zStore);
    if( sqlite3_exec(db, zSql, 0, 0, 0)!=SQLITE_OK ){
      fail("cachier_test_default_store", sqlite3_errmsg(db));
    }
    sqlite3_free(zSql);
  }
  /* The window [iStart, iStart+WINDOW), wrapped around NKEYS. */
  pStmt = prepare(db,
      "SELECT k, memoize('slow', k) FROM items WHERE k>=?1 AND k<?1+?2"
      " UNION ALL "
      "SELECT k, memoize('slow', k) FROM items WHERE k<?1+?2-?3");
  sqlite3_bind_int64(pStmt, 1, iStart);
  sqlite3_bind_int(pStmt, 2, g_nWindow);
  sqlite3_bind_int(pStmt, 3, g_nKeys);
  pthread_barrier_wait(&g_barrier);
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    char zWant[32];
    const char *z = (const char*)sqlite3_column_text(pStmt, 1);
    snprintf(zWant, sizeof(zWant), "v%lld", sqlite3_column_int64(pStmt, 0));
    if( z==0 || strcmp(z, zWant)!=0 ) atomic_fetch_add(&g_nWrong, 1);
    atomic_fetch_add(&g_nRows, 1);
  }
  if( rc!=SQLITE_DONE ){
    fprintf(stderr, "driver: scan: %s\n", sqlite3_errmsg(db));
    atomic_fetch_add(&g_nErrors, 1);
  }
  sqlite3_finalize(pStmt);
  /* Values this connection computed but could not store. */
  pStmt = prepare(db, "SELECT sum(write_errors) FROM cachier_stats");
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    atomic_fetch_add(&g_nWriteErrors, sqlite3_column_int(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return 0;
}

/* Start n threads running xThread, wait for them all. */
static void runThreads(int n, void *(*xThread)(void*)){
  pthread_t aThread[MAX_THREADS];
  int i;
  if( n<1 || n>MAX_THREADS ) fail("threads", "NTHREADS must be 1..64");
  pthread_barrier_init(&g_barrier, 0, (unsigned)n);
  for(i=0; i<n; i++){
    if( pthread_create(&aThread[i], 0, xThread, (void*)(intptr_t)i) ){
      fail("pthread_create", "failed");
    }
  }
  for(i=0; i<n; i++) pthread_join(aThread[i], 0);
  pthread_barrier_destroy(&g_barrier);
}

/* ----------------------------------------------------------------- seal */

static void sealDbName(char *zOut, size_t n, int i){
  snprintf(zOut, n, "%s.%d", g_zDb, i);
}
static void *sealThread(void *pArg){
  char zDb[4200];
  sqlite3 *db;
  char *zErr = 0;
  sealDbName(zDb, sizeof(zDb), (int)(intptr_t)pArg);
  db = openDbNamed(zDb, 0);
  pthread_barrier_wait(&g_barrier);
  if( sqlite3_exec(db, "INSERT INTO cachier_functions(name, store)"
                   " VALUES ('f', 'memory')", 0, 0, &zErr)!=SQLITE_OK ){
    fail("seal", zErr);
  }
  sqlite3_close(db);
  return 0;
}
static int sealRun(int nThreads){
  int i, nUntrusted = 0;
  runThreads(nThreads, sealThread);
  for(i=0; i<nThreads; i++){
    char zDb[4200];
    sqlite3 *db;
    sqlite3_stmt *pStmt;
    sealDbName(zDb, sizeof(zDb), i);
    db = openDbNamed(zDb, 0);
    pStmt = prepare(db, "SELECT trusted FROM cachier_functions"
                        " WHERE name = 'f'");
    if( sqlite3_step(pStmt)!=SQLITE_ROW || sqlite3_column_int(pStmt, 0)!=1 ){
      nUntrusted++;
    }
    sqlite3_finalize(pStmt);
    sqlite3_close(db);
  }
  printf("untrusted %d\n", nUntrusted);
  return 0;
}

/* ------------------------------------------------------------ hold, get */

/* One call of memoize('slow', KEY) on a new connection; prints the value
** and this process's count of slow() calls. */
static int oneCall(const char *zKey, const char *zOptions,
                   const char *zMarker, const char *zGate){
  sqlite3 *db = openDb(0);
  sqlite3_stmt *pStmt;
  char *zOut = 0;
  if( zMarker ){
    char *zSql = sqlite3_mprintf("SELECT cachier_test_wait_marker(%Q)",
                                 zMarker);
    if( sqlite3_exec(db, zSql, 0, 0, 0)!=SQLITE_OK ){
      fail("cachier_test_wait_marker", sqlite3_errmsg(db));
    }
    sqlite3_free(zSql);
  }
  if( zOptions ){
    pStmt = prepare(db, "SELECT memoize_with(?2, 'slow', ?1)");
    sqlite3_bind_text(pStmt, 2, zOptions, -1, SQLITE_STATIC);
  }else{
    pStmt = prepare(db, "SELECT memoize('slow', ?1)");
  }
  if( zGate ){
    printf("ready\n");
    fflush(stdout);
    while( access(zGate, F_OK)!=0 ) sleepMs(1);
  }
  callOnce(pStmt, atoll(zKey), &zOut);
  printf("%s calls %d\n", zOut ? zOut : "error out of memory",
         atomic_load(&g_nCalls));
  sqlite3_free(zOut);
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  return atomic_load(&g_nErrors)>0;
}

static void usage(void){
  fprintf(stderr,
    "usage: driver same-key DB EXT NTHREADS SLEEP_MS\n"
    "       driver hold DB EXT KEY [OPTIONS]\n"
    "       driver get DB EXT KEY [-sleep MS] [-options JSON] [-marker PATH]"
    " [-gate PATH] [-announce 1]\n"
    "       driver hammer DB EXT NTHREADS NCALLS NKEYS [SEED]\n"
    "       driver scan DB EXT NTHREADS NKEYS WINDOW SLEEP_MS [-first I]"
    " [-total N] [-store SPEC] [-gate PATH]\n"
    "       driver seal DB EXT NTHREADS\n");
  exit(2);
}

int main(int argc, char **argv){
  const char *zMode;
  alarm(60);
  if( argc<5 ) usage();
  zMode = argv[1];
  g_zDb = argv[2];
  g_zExt = argv[3];
  if( strcmp(zMode, "same-key")==0 && argc==6 ){
    g_sleepMs = atoi(argv[5]);
    runThreads(atoi(argv[4]), sameKeyThread);
    printCounts();
    return 0;
  }
  if( strcmp(zMode, "seal")==0 && argc==5 ){
    return sealRun(atoi(argv[4]));
  }
  if( strcmp(zMode, "hold")==0 && argc<=6 ){
    g_sleepMs = -1;
    return oneCall(argv[4], argc==6 ? argv[5] : 0, 0, 0);
  }
  if( strcmp(zMode, "get")==0 ){
    const char *zOptions = 0, *zMarker = 0, *zGate = 0;
    int i;
    for(i=5; i+1<argc; i+=2){
      if( strcmp(argv[i], "-sleep")==0 ) g_sleepMs = atoi(argv[i+1]);
      else if( strcmp(argv[i], "-options")==0 ) zOptions = argv[i+1];
      else if( strcmp(argv[i], "-marker")==0 ) zMarker = argv[i+1];
      else if( strcmp(argv[i], "-gate")==0 ) zGate = argv[i+1];
      else if( strcmp(argv[i], "-announce")==0 ) g_bAnnounce = atoi(argv[i+1]);
      else usage();
    }
    if( i!=argc ) usage();
    return oneCall(argv[4], zOptions, zMarker, zGate);
  }
  if( strcmp(zMode, "hammer")==0 && (argc==7 || argc==8) ){
    g_sleepMs = 1;
    g_nCallsPerThread = atoi(argv[5]);
    g_nKeys = atoi(argv[6]);
    g_seed = argc==8 ? (unsigned)atoi(argv[7]) : 1;
    if( g_nKeys<1 ) usage();
    runThreads(atoi(argv[4]), hammerThread);
    printCounts();
    return 0;
  }
  if( strcmp(zMode, "scan")==0 && argc>=8 ){
    const char *zGate = 0;
    int i, nThreads = atoi(argv[4]);
    g_nKeys = atoi(argv[5]);
    g_nWindow = atoi(argv[6]);
    g_sleepMs = atoi(argv[7]);
    g_nTotal = nThreads;
    for(i=8; i+1<argc; i+=2){
      if( strcmp(argv[i], "-first")==0 ) g_iFirst = atoi(argv[i+1]);
      else if( strcmp(argv[i], "-total")==0 ) g_nTotal = atoi(argv[i+1]);
      else if( strcmp(argv[i], "-store")==0 ) g_zStore = argv[i+1];
      else if( strcmp(argv[i], "-gate")==0 ) zGate = argv[i+1];
      else usage();
    }
    if( i!=argc || g_nKeys<1 || g_nWindow<1 || g_nTotal<1 ) usage();
    if( zGate ){
      printf("ready\n");
      fflush(stdout);
      while( access(zGate, F_OK)!=0 ) sleepMs(1);
    }
    runThreads(nThreads, scanThread);
    printf("calls %d wrong %d errors %d rows %d write_errors %d\n",
           atomic_load(&g_nCalls), atomic_load(&g_nWrong),
           atomic_load(&g_nErrors), atomic_load(&g_nRows),
           atomic_load(&g_nWriteErrors));
    return 0;
  }
  usage();
  return 2;
}
