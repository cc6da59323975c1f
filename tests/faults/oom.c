/*
** oom.c - allocation-failure sweep of cachier (fault campaign 1).
**
**   oom EXTENSION.so OUTDIR [STEP [FIRST [LAST]]]
**
** Counts the allocations (through SQLite's allocator, which cachier uses
** for all of its own) of loading the extension and running the workload
** of faults.h on a database with a file: store, a memory store, a trained
** zstd dictionary and a next_time function; then, for N = FIRST..LAST in
** steps of STEP (default every N of the count), runs it again in a child
** twice: failing the Nth allocation once (transient), and failing every
** allocation from the Nth on until the workload step it falls in ends
** (persistent). Each run checks:
**   - no crash (ASan+UBSan);
**   - no wrong value: a checking step returns 1 or fails;
**   - the connection works afterwards: with the faults off, every step
**     runs without an error and with its check true: the steps after the
**     faulted one run on (as they follow it), then the workload runs
**     again from its start to the faulted step, or on to the last step
**     that failed after it (that step may lack data which the faulted
**     one did not store); to its end if no allocation failed. (A
**     connection whose load failed must close cleanly, and a new one
**     load the extension.)
**   - no leak: sqlite3_close() succeeds, no allocation is outstanding after
**     sqlite3_shutdown(), and LeakSanitizer finds nothing at exit.
** One N again: oom EXTENSION.so OUTDIR 1 N N.
** Prints one FAIL line per failed run (with its log, kept in OUTDIR, and
** the ASan SUMMARY line) and a summary; exits 1 if any run failed.
*/
#include "faults.h"
#include <time.h>
#define ZDICT_STATIC_LINKING_ONLY
#include <zdict.h>

/* Training a dictionary the cheap way. cachier_train() calls libzstd's
** ZDICT_trainFromBuffer(), which tries five parameter sets on 2^20-entry
** tables: 35 MB of scratch memory through malloc (not SQLite's allocator:
** never counted nor failed here), fresh pages in every child, half of a
** run's time under ASan. This driver exports its own (the Makefile links
** it with --export-dynamic-symbol, so the loaded extension binds to it):
** one fastCover pass on 2^12-entry tables. The dictionary is still a real
** one, built by libzstd from the same samples, and cachier's code around
** it (sampling, storing, compressing and decoding with it) is unchanged. */
size_t ZDICT_trainFromBuffer(void *pDict, size_t nCapacity,
                             const void *pSamples, const size_t *aSize,
                             unsigned nSample);
size_t ZDICT_trainFromBuffer(void *pDict, size_t nCapacity,
                             const void *pSamples, const size_t *aSize,
                             unsigned nSample){
  ZDICT_fastCover_params_t params;
  memset(&params, 0, sizeof(params));
  params.k = 200;
  params.d = 8;
  params.f = 12;
  params.steps = 1;
  params.zParams.compressionLevel = 3;
  return ZDICT_trainFromBuffer_fastCover(pDict, nCapacity, pSamples, aSize,
                                         nSample, params);
}

typedef struct OomCtx OomCtx;
struct OomCtx {
  const char *zExt;
  const char *zOut;
};

/* Run the workload with allocation iFail failing (persistently if
** bPersist); 0: none. Writes the number of allocations counted to
** OUTDIR/count when iFail is 0. Returns the exit status. */
static int oomRun(const OomCtx *c, sqlite3_int64 iFail, int bPersist){
  char zDir[1100], zDb[1200], zStore[1200];
  sqlite3 *db = 0;
  char *zErr = 0;
  int i, rc, ret;
  sqlite3_int64 aEnd[N_WORKLOAD+1];   /* count at the end of each step */
  int iFaultStep = N_WORKLOAD;        /* step of the failed allocation */
  int iLastBad = -1;                  /* last step after it that failed */
  memInstall();
  if( sqlite3_initialize() ) return FAULT_SETUP;
  snprintf(zDir, sizeof(zDir), "%s/oom-%lld-%d", c->zOut, iFail, bPersist);
  rmTree(zDir);
  mkdirP(zDir);
  snprintf(zDb, sizeof(zDb), "%s/main.db", zDir);
  snprintf(zStore, sizeof(zStore), "%s/store.db", zDir);
  if( sqlite3_open(zDb, &db) || registerFunctions(db) ){
    fprintf(stderr, "cannot open %s\n", zDb);
    return FAULT_SETUP;
  }
  /* The C API only: SQL's load_extension() stays off. */
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, 0);

  /* Step -1: loading the extension. */
  memArm(iFail, bPersist);
  rc = sqlite3_load_extension(db, c->zExt, "sqlite3_cachier_init", &zErr);
  if( g_mem.nFailed ){ g_mem.iFail = 0; g_mem.bFailing = 0; }
  sqlite3_free(zErr);
  zErr = 0;
  if( rc!=SQLITE_OK ){
    /* A failed load must leave a connection that closes cleanly; then a
    ** new one must load it. */
    if( sqlite3_close(db)!=SQLITE_OK ){
      fprintf(stderr, "LEAK: sqlite3_close after a failed load: %s\n",
              sqlite3_errmsg(db));
      return FAULT_LEAK;
    }
    db = 0;
    if( sqlite3_open(zDb, &db) || registerFunctions(db) ){
      fprintf(stderr, "cannot open %s\n", zDb);
      return FAULT_SETUP;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, 0);
    rc = sqlite3_load_extension(db, c->zExt, "sqlite3_cachier_init", &zErr);
    if( rc!=SQLITE_OK ){
      fprintf(stderr, "AFTER: the extension does not load once faults are"
              " off: %s\n", zErr);
      return FAULT_AFTER;
    }
  }
  if( runSql(db, "SELECT cachier_test_group_age(3600)", 0) ){
    /* No fault can be pending here, unless the step above failed one. */
    g_mem.iFail = 0; g_mem.bFailing = 0;
  }
  if( g_mem.nFailed ) iFaultStep = -1;
  aEnd[0] = g_mem.nCount;

  for(i=0; i<N_WORKLOAD; i++){
    int bAfter = g_mem.nFailed>0;     /* faults are off for this step */
    ret = runStep(db, i, zStore, &rc, 0);
    if( ret ) return ret;
    if( g_mem.nFailed ){
      g_mem.iFail = 0; g_mem.bFailing = 0;
      if( !bAfter ) iFaultStep = i;
    }
    /* (It may lack data a failed step did not store: run it again.) */
    if( bAfter && rc!=SQLITE_OK ) iLastBad = i;
    aEnd[i+1] = g_mem.nCount;
  }
  g_mem.bArmed = 0;
  if( iFail==0 ){
    char zCount[1200];
    FILE *f;
    snprintf(zCount, sizeof(zCount), "%s/count", c->zOut);
    f = fopen(zCount, "w");
    if( f==0 ) return FAULT_SETUP;
    fprintf(f, "%lld\n", g_mem.nCount);
    fclose(f);
    /* Which N falls in which step, for the report. */
    printf("oom: allocations at the end of each step: load %lld", aEnd[0]);
    for(i=0; i<N_WORKLOAD; i++) printf(", %d: %lld", i, aEnd[i+1]);
    printf("\n");
    fflush(stdout);
  }

  /* Faults off: the same connection must still work. */
  if( runSql(db, "SELECT cachier_test_group_age(3600)", 0) ){
    fprintf(stderr, "AFTER: %s\n", sqlite3_errmsg(db));
    return FAULT_AFTER;
  }
  /* The steps after the faulted one have run without an error (else
  ** iLastBad): the workload again up to the faulted step, or to the last
  ** step that failed after it. The whole of it if nothing failed. */
  ret = runWorkloadCleanTo(db, zStore, g_mem.nFailed==0 ? N_WORKLOAD-1
                      : iFaultStep>iLastBad ? iFaultStep : iLastBad);
  if( ret ) return ret;

  rc = sqlite3_close(db);
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "LEAK: sqlite3_close: %s (statements left)\n",
            sqlite3_errmsg(db));
    return FAULT_LEAK;
  }
  sqlite3_shutdown();
  if( g_mem.nOut!=0 ){
    fprintf(stderr, "LEAK: %lld allocations (%lld bytes) outstanding after"
            " sqlite3_shutdown\n", g_mem.nOut, g_mem.nBytes);
    return FAULT_LEAK;
  }
  rmTree(zDir);
  return FAULT_OK;
}

/* iRun = N*2 + persistent */
static int oomChild(int iRun, void *pArg){
  return oomRun((const OomCtx*)pArg, iRun/2, iRun%2);
}

static void oomName(int iRun, void *pArg, char *zOut, int nOut){
  (void)pArg;
  snprintf(zOut, (size_t)nOut, "oom N=%d %s", iRun/2,
           iRun%2 ? "persistent" : "transient");
}

int main(int argc, char **argv){
  OomCtx c;
  Outcome o;
  int nStep = argc>3 ? atoi(argv[3]) : 1;
  int iFirst = argc>4 ? atoi(argv[4]) : 1;
  int iLast = argc>5 ? atoi(argv[5]) : 0;
  int nCount = 0, nRun = 0, i, zero;
  int *aRun;
  char zCount[1200];
  FILE *f;
  time_t t0 = time(0);
  if( argc<3 ) fatal("usage: %s EXTENSION.so OUTDIR [STEP [FIRST [LAST]]]",
                     argv[0]);
  c.zExt = argv[1];
  c.zOut = argv[2];
  if( nStep<1 ) nStep = 1;
  mkdirP(c.zOut);
  memset(&o, 0, sizeof(o));
  /* Mapped once here, not in every child (relocating the instrumented
  ** library cost each run a few milliseconds). */
  keepMapped(c.zExt);

  /* The count, from a run without faults (which must pass). */
  zero = 0;
  runPool(&o, c.zOut, "oom", 1, &zero, 1, oomChild, oomName, &c);
  if( outcomeFailures(&o) ) fatal("oom: the run without faults failed");
  snprintf(zCount, sizeof(zCount), "%s/count", c.zOut);
  f = fopen(zCount, "r");
  if( f==0 || fscanf(f, "%d", &nCount)!=1 ) fatal("oom: no count");
  fclose(f);
  if( iFirst<1 ) iFirst = 1;
  if( iLast<=0 || iLast>nCount ) iLast = nCount;
  printf("oom: the workload makes %d allocations; failing N = %d..%d"
         " step %d, transient and persistent\n", nCount, iFirst, iLast, nStep);
  fflush(stdout);

  aRun = malloc(sizeof(int)*2*(size_t)(nCount+1));
  if( aRun==0 ) fatal("out of memory");
  for(i=iFirst; i<=iLast; i+=nStep){
    aRun[nRun++] = i*2;
    aRun[nRun++] = i*2+1;
  }
  memset(&o, 0, sizeof(o));
  runPool(&o, c.zOut, "oom", 2, aRun, nRun, oomChild, oomName, &c);
  free(aRun);
  outcomePrint("oom", &o, difftime(time(0), t0));
  return outcomeFailures(&o) ? 1 : 0;
}
