/*
** faults.h - what the fault campaigns of tests/faults share.
**
** Included by each driver (oom.c, ioerr.c, crash.c, hostile.c), which are
** built with ASan+UBSan, link the system libsqlite3 and load the extension
** under test with sqlite3_load_extension(). It holds:
**   - the functions whose results the campaigns memoize (tv, big), each
**     with a true result that a memoized one is compared against;
**   - the counting allocator (SQLITE_CONFIG_MALLOC): counts allocations,
**     fails the Nth once or every one from the Nth on, tracks the bytes
**     outstanding and their peak, refuses to go past a limit;
**   - the workload: a fixed list of SQL steps over the main, file: and
**     memory stores, some of which check a value (their one result must
**     be 1, or the statement must fail);
**   - a pool running one forked child per run, two at a time, each with
**     its stderr in a log file whose ASan SUMMARY line names the defect.
** A run's child reports through its exit status: 0 ok, FAULT_WRONG a
** wrong value, FAULT_LEAK a leak, FAULT_AFTER the connection did not work
** once the faults were off, FAULT_INTEGRITY a damaged database; any other
** status or a signal is a crash (ASan exits with FAULT_ASAN).
*/
#ifndef FAULTS_H
#define FAULTS_H

/* Each driver uses some of these helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"

#include <sqlite3.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAULT_OK        0
#define FAULT_WRONG     10
#define FAULT_LEAK      11
#define FAULT_AFTER     12
#define FAULT_INTEGRITY 13
#define FAULT_HANG      14
#define FAULT_BOUND     15
#define FAULT_OUTSIDE   16
#define FAULT_SETUP     17
#define FAULT_ASAN      66

/* ASan's own exit status, and leak checking on, unless ASAN_OPTIONS says
** otherwise. */
const char *__asan_default_options(void);
const char *__asan_default_options(void){
  return "exitcode=66:detect_leaks=1:abort_on_error=0:"
         "allocator_may_return_null=1:max_allocation_size_mb=256";
}
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void){
  return "print_stacktrace=1:exitcode=66";
}

/* ---------------------------------------------------------------------
** The memoized functions.
*/

/* tv(X): 'v' || X. */
static void tvFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  char *z;
  (void)argc;
  z = sqlite3_mprintf("v%s", (const char*)sqlite3_value_text(argv[0]));
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
  sqlite3_result_text(ctx, z, -1, sqlite3_free);
}

/* big(X): 1200 bytes of text that compress well and look alike across X
** (so a dictionary can be trained on them). */
static void bigFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const int n = 1200;
  sqlite3_int64 x = sqlite3_value_int64(argv[0]);
  char *z;
  int i = 0;
  (void)argc;
  z = sqlite3_malloc(n+1);
  if( z==0 ){ sqlite3_result_error_nomem(ctx); return; }
  while( i<n ){
    int m = snprintf(z+i, (size_t)(n+1-i),
                     "{\"id\":%lld,\"email\":\"user%lld@example.com\"} ", x, x);
    if( m<=0 ) break;
    i += m;
  }
  z[n] = 0;
  sqlite3_result_text(ctx, z, n, sqlite3_free);
}

static int registerFunctions(sqlite3 *db){
  static const char *const azTv[] = { "tv", "tf", "tm", "tn", "td" };
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<5; i++){
    rc = sqlite3_create_function(db, azTv[i], 1, SQLITE_UTF8, 0, tvFunc, 0, 0);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "big", 1, SQLITE_UTF8, 0, bigFunc, 0, 0);
  }
  return rc;
}

/* ---------------------------------------------------------------------
** The counting allocator.
*/
typedef struct FaultMem FaultMem;
struct FaultMem {
  sqlite3_mem_methods real;   /* SQLite's own */
  int bArmed;                 /* count (and fail) allocations */
  sqlite3_int64 nCount;       /* allocations counted while armed */
  sqlite3_int64 iFail;        /* fail the allocation numbered this (1-based) */
  int bPersist;               /* and every one after it, until disarmed */
  int bFailing;               /* persistent failure in progress */
  sqlite3_int64 nFailed;      /* allocations failed */
  sqlite3_int64 nOut;         /* allocations outstanding */
  sqlite3_int64 nBytes;       /* bytes outstanding */
  sqlite3_int64 nPeak;        /* peak of nBytes */
  sqlite3_int64 nLimit;       /* refuse to go past this many bytes (0: none) */
  sqlite3_int64 nRefused;     /* allocations refused by nLimit */
};
static FaultMem g_mem;

static int memShouldFail(void){
  if( !g_mem.bArmed ) return 0;
  g_mem.nCount++;
  if( g_mem.bFailing ) return 1;
  if( g_mem.iFail>0 && g_mem.nCount==g_mem.iFail ){
    if( g_mem.bPersist ) g_mem.bFailing = 1;
    return 1;
  }
  return 0;
}

static void *memMalloc(int n){
  void *p;
  if( memShouldFail() ){ g_mem.nFailed++; return 0; }
  if( g_mem.nLimit && g_mem.nBytes + n > g_mem.nLimit ){
    g_mem.nRefused++;
    return 0;
  }
  p = g_mem.real.xMalloc(n);
  if( p ){
    g_mem.nOut++;
    g_mem.nBytes += g_mem.real.xSize(p);
    if( g_mem.nBytes>g_mem.nPeak ) g_mem.nPeak = g_mem.nBytes;
  }
  return p;
}

static void memFree(void *p){
  if( p==0 ) return;
  g_mem.nOut--;
  g_mem.nBytes -= g_mem.real.xSize(p);
  g_mem.real.xFree(p);
}

static void *memRealloc(void *p, int n){
  sqlite3_int64 nOld = p ? g_mem.real.xSize(p) : 0;
  void *pNew;
  if( memShouldFail() ){ g_mem.nFailed++; return 0; }
  if( g_mem.nLimit && g_mem.nBytes - nOld + n > g_mem.nLimit ){
    g_mem.nRefused++;
    return 0;
  }
  pNew = g_mem.real.xRealloc(p, n);
  if( pNew ){
    if( p==0 ) g_mem.nOut++;
    g_mem.nBytes += g_mem.real.xSize(pNew) - nOld;
    if( g_mem.nBytes>g_mem.nPeak ) g_mem.nPeak = g_mem.nBytes;
  }
  return pNew;
}

static int memSize(void *p){ return g_mem.real.xSize(p); }
static int memRoundup(int n){ return g_mem.real.xRoundup(n); }
static int memInit(void *pAppData){ return g_mem.real.xInit(pAppData); }
static void memShutdown(void *pAppData){ g_mem.real.xShutdown(pAppData); }

/* Install the counting allocator; before sqlite3_initialize(). */
static void memInstall(void){
  static sqlite3_mem_methods m = {
    memMalloc, memFree, memRealloc, memSize, memRoundup, memInit,
    memShutdown, 0
  };
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &g_mem.real);
  m.pAppData = g_mem.real.pAppData;
  sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
  /* No lookaside: every allocation goes through the counter. */
  sqlite3_config(SQLITE_CONFIG_LOOKASIDE, 0, 0);
}

static void memArm(sqlite3_int64 iFail, int bPersist){
  g_mem.iFail = iFail;
  g_mem.bPersist = bPersist;
  g_mem.bFailing = 0;
  g_mem.bArmed = 1;
}

/* ---------------------------------------------------------------------
** Running SQL.
*/

/* Run zSql (one statement) to the end. *pzOut gets the first column of
** the first row as text (sqlite3_malloc'ed, or NULL). SQLite's code. */
static int runSql(sqlite3 *db, const char *zSql, char **pzOut){
  sqlite3_stmt *pStmt = 0;
  int rc, bFirst = 1;
  if( pzOut ) *pzOut = 0;
  rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if( rc!=SQLITE_OK ) return rc;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    int i;
    for(i=0; i<sqlite3_column_count(pStmt); i++){
      const unsigned char *z = sqlite3_column_text(pStmt, i);
      if( z==0 && sqlite3_column_type(pStmt, i)!=SQLITE_NULL ){
        /* Out of memory converting to text: an error, not a value. */
        sqlite3_finalize(pStmt);
        sqlite3_free(pzOut ? *pzOut : 0);
        if( pzOut ) *pzOut = 0;
        return SQLITE_NOMEM;
      }
      if( bFirst && i==0 && pzOut && z ){
        *pzOut = sqlite3_mprintf("%s", z);
        if( *pzOut==0 ){
          sqlite3_finalize(pStmt);
          return SQLITE_NOMEM;
        }
      }
    }
    bFirst = 0;
  }
  rc = sqlite3_finalize(pStmt);
  return rc;
}

/* Keep the extension mapped after its last connection closes, so leak
** reports at exit can name its functions. */
static void keepMapped(const char *zExt){
  if( dlopen(zExt, RTLD_NOW|RTLD_NODELETE)==0 ){
    fprintf(stderr, "note: dlopen %s: %s\n", zExt, dlerror());
  }
}

/* Open zPath (vfs zVfs or the default) with the extension loaded and the
** functions registered. 0 if any of it fails; *pzErr says why. */
static __attribute__((unused)) sqlite3 *openWithExt(const char *zPath, const char *zVfs,
                            const char *zExt, char **pzErr){
  sqlite3 *db = 0;
  char *zErr = 0;
  int rc;
  keepMapped(zExt);
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE
                       | SQLITE_OPEN_CREATE, zVfs);
  if( rc==SQLITE_OK ) rc = registerFunctions(db);
  if( rc==SQLITE_OK ){
    /* The C API only: SQL's load_extension() stays off. */
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, 0);
    rc = sqlite3_load_extension(db, zExt, "sqlite3_cachier_init", &zErr);
  }
  if( rc!=SQLITE_OK ){
    if( pzErr ){
      *pzErr = sqlite3_mprintf("%s", zErr ? zErr
                               : db ? sqlite3_errmsg(db) : "out of memory");
    }
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 0;
  }
  return db;
}

/* "ok" from PRAGMA integrity_check on zPath, opened with the plain unix
** VFS and no extension. 1 if ok; else prints what it said. */
static __attribute__((unused)) int integrityOk(const char *zPath){
  sqlite3 *db = 0;
  char *zOut = 0;
  int rc, ok;
  if( access(zPath, F_OK)!=0 ) return 1;      /* never created */
  rc = sqlite3_open_v2(zPath, &db, SQLITE_OPEN_READWRITE, "unix");
  if( rc==SQLITE_OK ) rc = runSql(db, "PRAGMA integrity_check", &zOut);
  ok = rc==SQLITE_OK && zOut && strcmp(zOut, "ok")==0;
  if( !ok ){
    fprintf(stderr, "integrity_check %s: rc=%d %s\n", zPath, rc,
            zOut ? zOut : sqlite3_errmsg(db));
  }
  sqlite3_free(zOut);
  sqlite3_close(db);
  return ok;
}

/* ---------------------------------------------------------------------
** The workload. In zSql, %S is replaced by the file: store's path. A
** checking step's statement returns one value, which must be 1.
*/
typedef struct Step Step;
struct Step {
  int bCheck;
  const char *zSql;
  int iPart;                  /* 0: the core; 1: invalidation and queries */
};

#define SERIES(n) "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1" \
                  " FROM c WHERE i<" #n ") "

static const Step aWorkload[] = {
  { 0, "INSERT OR REPLACE INTO cachier_functions(name, store)"
       " VALUES ('tf', 'file:%S')", 0 },
  { 0, "INSERT OR REPLACE INTO cachier_functions(name, store)"
       " VALUES ('tm', 'memory')", 0 },
  { 0, "INSERT OR REPLACE INTO cachier_functions(name, compress_min)"
       " VALUES ('big', 600)", 0 },
  { 0, "INSERT OR REPLACE INTO cachier_functions(name, stale_after, next_time)"
       " VALUES ('tn', 10, 1)", 0 },
  { 0, "SELECT cachier_test_clock(1000000)", 0 },
  { 1, "SELECT memoize('tv', 1) IS tv(1)", 0 },                 /* miss */
  { 1, "SELECT memoize('tv', 1) IS tv(1)", 0 },                 /* hit */
  { 1, "SELECT memoize('tv', 'a') IS tv('a')", 0 },
  { 1, "SELECT memoize_with('{\"allow_none\":true}', 'tv', 2) IS tv(2)", 0 },
  { 1, "SELECT memoize_with('{\"overwrite_cache\":true}', 'tv', 1) IS tv(1)", 0 },
  { 1, "SELECT cachier_precache('tv', tv(3), 3) IS tv(3)", 0 },
  { 1, "SELECT memoize('tv', 3) IS tv(3)", 0 },
  { 1, SERIES(10) "SELECT min(memoize('big', i) IS big(i)) FROM c", 0 },
  { 0, "SELECT cachier_train('big')", 0 },
  { 1, SERIES(14) "SELECT min(memoize('big', i) IS big(i)) FROM c", 0 },
  { 1, "SELECT memoize('tf', 1) IS tf(1)", 0 },
  { 1, "SELECT memoize('tf', 2) IS tf(2)", 0 },
  { 0, "SELECT cachier_flush()", 0 },
  { 1, "SELECT memoize('tf', 1) IS tf(1)", 0 },
  { 1, "SELECT memoize('tm', 1) IS tm(1)", 0 },
  { 1, "SELECT memoize('tm', 1) IS tm(1)", 0 },
  { 1, SERIES(3) "SELECT min(memoize('tn', i) IS tn(i)) FROM c", 0 },
  { 0, "SELECT cachier_test_clock(1000100)", 0 },
  /* Stale, served, marked for refresh: cachier_refresh() runs three. */
  { 1, SERIES(3) "SELECT min(memoize('tn', i) IS tn(i)) FROM c", 0 },
  { 0, "SELECT cachier_refresh()", 0 },
  { 1, SERIES(3) "SELECT min(memoize('tn', i) IS tn(i)) FROM c", 0 },
  { 0, "SELECT fn, args, value, type, stored_bytes FROM cachier_entries", 0 },
  { 1, "SELECT count(*)=0 FROM cachier_entries WHERE fn IN ('tv','tf','tm','tn')"
       " AND value IS NOT tv(json_extract(args, '$[0]'))", 0 },
  { 1, "SELECT count(*)=0 FROM cachier_entries WHERE fn='big'"
       " AND value IS NOT big(json_extract(args, '$[0]'))", 0 },
  { 0, "DELETE FROM cachier_entries WHERE fn='tv' AND args='[1]'", 0 },
  { 1, "SELECT memoize('tv', 1) IS tv(1)", 0 },
  { 0, "SELECT fn, hits, misses, saved_seconds FROM cachier_stats", 0 },
  { 0, "UPDATE cachier_functions SET stale_after = 20 WHERE name = 'tn'", 0 },
  { 0, "SELECT cachier_clear('tm')", 0 },
  { 1, "SELECT memoize('tm', 1) IS tm(1)", 0 },
  { 0, "SELECT cachier_clear('tv')", 0 },
  { 1, "SELECT memoize('tv', 1) IS tv(1)", 0 },
  { 1, "SELECT memoize('tf', 3) IS tf(3)", 0 },
  /* Invalidation (depends.c): a tracked table, a version, a change. */
  { 0, "CREATE TABLE IF NOT EXISTS dep(k INTEGER PRIMARY KEY, v TEXT)", 1 },
  { 0, "INSERT OR REPLACE INTO dep VALUES (1, 'a')", 1 },
  { 0, "INSERT OR REPLACE INTO cachier_functions(name, depends_on, version)"
       " VALUES ('td', 'dep', 'v1')", 1 },
  { 1, "SELECT memoize('td', 1) IS td(1)", 1 },
  { 1, "SELECT memoize('td', 1) IS td(1)", 1 },
  { 0, "UPDATE dep SET v = v || 'b' WHERE k = 1", 1 },
  { 1, "SELECT memoize('td', 1) IS td(1)", 1 },
  { 0, "SELECT cachier_invalidate('dep')", 1 },
  { 1, "SELECT memoize('td', 1) IS td(1)", 1 },
  { 0, "UPDATE cachier_functions SET version = 'v2' WHERE name = 'td'", 1 },
  { 1, "SELECT memoize('td', 1) IS td(1)", 1 },
  { 0, "SELECT fn, state, changed FROM cachier_entries WHERE fn = 'td'", 1 },
  /* A cached query (vtab_query.c) over the tracked table: its result is
  ** the query's, before and after a change. */
  { 0, "CREATE VIRTUAL TABLE IF NOT EXISTS qd USING cachier_query("
       "'SELECT group_concat(v, ''/'') AS g FROM dep WHERE k >= ?1')", 1 },
  { 1, "SELECT (SELECT g FROM qd(1)) IS (SELECT group_concat(v, '/')"
       " FROM dep WHERE k >= 1)", 1 },
  { 1, "SELECT (SELECT g FROM qd(1)) IS (SELECT group_concat(v, '/')"
       " FROM dep WHERE k >= 1)", 1 },
  { 0, "INSERT OR REPLACE INTO dep VALUES (2, 'c')", 1 },
  { 1, "SELECT (SELECT g FROM qd(1)) IS (SELECT group_concat(v, '/')"
       " FROM dep WHERE k >= 1)", 1 },
};
#define N_WORKLOAD ((int)(sizeof(aWorkload)/sizeof(aWorkload[0])))

static char *stepSql(const Step *pStep, const char *zStore){
  const char *z = pStep->zSql;
  const char *zS = strstr(z, "%S");
  if( zS==0 ) return sqlite3_mprintf("%s", z);
  return sqlite3_mprintf("%.*s%s%s", (int)(zS-z), z, zStore, zS+2);
}

/* The entries as the listing shows them, to stderr. */
static void dumpEntries(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(db, "SELECT fn, args, typeof(value), length(value),"
        " substr(value, 1, 24), stored_bytes FROM cachier_entries", -1,
        &pStmt, 0) ){
    fprintf(stderr, "  (listing failed: %s)\n", sqlite3_errmsg(db));
    return;
  }
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    fprintf(stderr, "  entry %s %s: %s, %d bytes, '%s', stored %d\n",
            sqlite3_column_text(pStmt, 0), sqlite3_column_text(pStmt, 1),
            sqlite3_column_text(pStmt, 2), sqlite3_column_int(pStmt, 3),
            sqlite3_column_text(pStmt, 4), sqlite3_column_int(pStmt, 5));
  }
  sqlite3_finalize(pStmt);
}

/* Whether step i is in the part of the workload this run takes:
** CACHIER_FAULTS_PART=core or deps runs one part only (a full sweep in two
** shorter halves: each run then runs less); unset, the whole of it. */
static int stepSelected(int i){
  const char *z = getenv("CACHIER_FAULTS_PART");
  if( z==0 || z[0]==0 ) return 1;
  if( strcmp(z, "core")==0 ) return aWorkload[i].iPart==0;
  if( strcmp(z, "deps")==0 ) return aWorkload[i].iPart==1;
  fprintf(stderr, "CACHIER_FAULTS_PART must be core or deps, not %s\n", z);
  exit(2);
}

/* Run step i. Returns FAULT_WRONG if a checking step gave anything but 1
** without an error; *pRc gets the statement's result code. A step outside
** the selected part (stepSelected()) does nothing. */
static int runStep(sqlite3 *db, int i, const char *zStore, int *pRc,
                   char **pzErr){
  char *zSql;
  char *zOut = 0;
  int rc, ret = FAULT_OK;
  if( !stepSelected(i) ){
    *pRc = SQLITE_OK;
    if( pzErr ) *pzErr = 0;
    return FAULT_OK;
  }
  zSql = stepSql(&aWorkload[i], zStore);
  if( zSql==0 ){ *pRc = SQLITE_NOMEM; return FAULT_OK; }
  rc = runSql(db, zSql, &zOut);
  *pRc = rc;
  if( pzErr ) *pzErr = rc ? sqlite3_mprintf("%s", sqlite3_errmsg(db)) : 0;
  if( rc==SQLITE_OK && aWorkload[i].bCheck
   && (zOut==0 || strcmp(zOut, "1")!=0) ){
    fprintf(stderr, "WRONG at step %d: %s -> %s\n", i, zSql,
            zOut ? zOut : "NULL");
    ret = FAULT_WRONG;
    dumpEntries(db);
  }
  sqlite3_free(zOut);
  sqlite3_free(zSql);
  return ret;
}

/* Steps 0..iLast of the workload with no fault: every one must succeed
** and every check hold. FAULT_OK, FAULT_WRONG or FAULT_AFTER. */
static int runWorkloadCleanTo(sqlite3 *db, const char *zStore, int iLast){
  int i;
  for(i=0; i<=iLast && i<N_WORKLOAD; i++){
    int rc;
    char *zErr = 0;
    int ret = runStep(db, i, zStore, &rc, &zErr);
    if( ret ) { sqlite3_free(zErr); return ret; }
    if( rc!=SQLITE_OK ){
      fprintf(stderr, "AFTER: step %d failed without faults: %s\n", i, zErr);
      sqlite3_free(zErr);
      return FAULT_AFTER;
    }
  }
  return FAULT_OK;
}

/* The whole workload with no fault. */
static int runWorkloadClean(sqlite3 *db, const char *zStore){
  return runWorkloadCleanTo(db, zStore, N_WORKLOAD-1);
}

/* ---------------------------------------------------------------------
** Runs in forked children, two at a time.
*/
typedef struct Outcome Outcome;
struct Outcome {
  int nRun, nCrash, nLeak, nWrong, nIntegrity, nAfter, nHang, nBound,
      nOutside, nOther;
};

static void fatal(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vfprintf(stderr, zFmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static void mkdirP(const char *zDir){
  char z[1024];
  char *p;
  snprintf(z, sizeof(z), "%s", zDir);
  for(p=z+1; *p; p++){
    if( *p=='/' ){ *p = 0; mkdir(z, 0777); *p = '/'; }
  }
  if( mkdir(z, 0777)!=0 && errno!=EEXIST ) fatal("mkdir %s failed", zDir);
}

/* rm -rf zPath, without a shell (a child per run spawning one cost a
** few milliseconds each). */
static void rmTree(const char *zPath){
  struct stat st;
  DIR *pDir;
  struct dirent *pEnt;
  if( lstat(zPath, &st)!=0 ) return;
  if( !S_ISDIR(st.st_mode) ){ unlink(zPath); return; }
  pDir = opendir(zPath);
  if( pDir ){
    while( (pEnt = readdir(pDir))!=0 ){
      char z[1200];
      if( strcmp(pEnt->d_name, ".")==0 || strcmp(pEnt->d_name, "..")==0 ){
        continue;
      }
      snprintf(z, sizeof(z), "%s/%s", zPath, pEnt->d_name);
      rmTree(z);
    }
    closedir(pDir);
  }
  rmdir(zPath);
}

/* The defect line of a log: ASan's SUMMARY line, else the first line
** naming a failure. */
static void logSummary(const char *zLog, char *zOut, int nOut){
  FILE *f = fopen(zLog, "r");
  char zLine[600], zFrame[600];
  zOut[0] = 0;
  zFrame[0] = 0;
  if( f==0 ) return;
  while( fgets(zLine, sizeof(zLine), f) ){
    zLine[strcspn(zLine, "\n")] = 0;
    if( zFrame[0]==0 && strstr(zLine, " ext/") && strstr(zLine, "    #") ){
      char *z = strstr(zLine, " in ");
      snprintf(zFrame, sizeof(zFrame), "%s", z ? z+4 : zLine);
    }
    if( strncmp(zLine, "SUMMARY:", 8)==0 ){
      snprintf(zOut, (size_t)nOut, "%s%s%s", zLine, zFrame[0] ? " | first ext frame: " : "", zFrame);
      break;
    }
    if( zOut[0]==0 && (strstr(zLine, "WRONG") || strstr(zLine, "AFTER")
        || strstr(zLine, "LEAK") || strstr(zLine, "integrity_check")
        || strstr(zLine, "HANG") || strstr(zLine, "BOUND")
        || strstr(zLine, "OUTSIDE") || strstr(zLine, "runtime error")) ){
      snprintf(zOut, (size_t)nOut, "%s", zLine);
    }
  }
  fclose(f);
}

/* Record a child's status. zWhat names the run (for the report); zLog its
** stderr, kept when the run failed. Returns 1 if it failed. */
static int recordOutcome(Outcome *pO, int status, const char *zWhat,
                         const char *zLog){
  char zSum[600];
  const char *zKind = 0;
  pO->nRun++;
  if( WIFSIGNALED(status) ){
    static char zSig[40];
    snprintf(zSig, sizeof(zSig), "crash (signal %d)", WTERMSIG(status));
    pO->nCrash++; zKind = zSig;
  }else{
    switch( WEXITSTATUS(status) ){
      case FAULT_OK: break;
      case FAULT_WRONG: pO->nWrong++; zKind = "wrong value"; break;
      case FAULT_LEAK: pO->nLeak++; zKind = "leak"; break;
      case FAULT_AFTER: pO->nAfter++; zKind = "broken after faults"; break;
      case FAULT_INTEGRITY: pO->nIntegrity++; zKind = "integrity"; break;
      case FAULT_HANG: pO->nHang++; zKind = "hang"; break;
      case FAULT_BOUND: pO->nBound++; zKind = "allocation bound"; break;
      case FAULT_OUTSIDE: pO->nOutside++; zKind = "outside effect"; break;
      case FAULT_ASAN: {
        logSummary(zLog, zSum, sizeof(zSum));
        if( strstr(zSum, "leaked") ){
          /* Whole stacks (through libsqlite3): run it again with
          ** ASAN_OPTIONS=fast_unwind_on_malloc=0. */
          pO->nLeak++; zKind = "leak";
        }else{
          pO->nCrash++; zKind = "crash (ASan)";
        }
        break;
      }
      default: pO->nOther++; zKind = "failed"; break;
    }
  }
  if( zKind==0 ){
    unlink(zLog);
    return 0;
  }
  logSummary(zLog, zSum, sizeof(zSum));
  printf("FAIL %s: %s [log %s] %s\n", zWhat, zKind, zLog, zSum);
  fflush(stdout);
  return 1;
}

static int outcomeFailures(const Outcome *p){
  return p->nCrash + p->nLeak + p->nWrong + p->nIntegrity + p->nAfter
       + p->nHang + p->nBound + p->nOutside + p->nOther;
}

static void outcomePrint(const char *zCampaign, const Outcome *p,
                         double secs){
  printf("%s: runs %d, crashes %d, leaks %d, wrong values %d, integrity"
         " failures %d, broken after %d, hangs %d, over bound %d, outside"
         " effects %d, other %d (%.0f s)\n", zCampaign, p->nRun, p->nCrash,
         p->nLeak, p->nWrong, p->nIntegrity, p->nAfter, p->nHang, p->nBound,
         p->nOutside, p->nOther, secs);
  fflush(stdout);
}

/* Run xRun(iRun, pArg) for iRun in aRun[0..nRun-1], each in a child with
** stderr to LOGDIR/NAME-iRun.log, at most nJobs at a time; xName names a
** run for the report. The child's xRun returns its exit status. */
typedef int (*RunFn)(int iRun, void *pArg);
typedef void (*NameFn)(int iRun, void *pArg, char *zOut, int nOut);

static void runPool(Outcome *pO, const char *zLogDir, const char *zName,
                    int nJobs, const int *aRun, int nRun,
                    RunFn xRun, NameFn xName, void *pArg){
  pid_t aPid[16];
  int aIdx[16];
  int nBusy = 0, iNext = 0, j;
  if( nJobs>16 ) nJobs = 16;
  memset(aPid, 0, sizeof(aPid));
  fflush(stdout);
  fflush(stderr);
  while( iNext<nRun || nBusy>0 ){
    if( iNext<nRun && nBusy<nJobs ){
      char zLog[1200];
      pid_t pid;
      for(j=0; aPid[j]; j++){}
      snprintf(zLog, sizeof(zLog), "%s/%s-%d.log", zLogDir, zName, aRun[iNext]);
      pid = fork();
      if( pid<0 ) fatal("fork failed");
      if( pid==0 ){
        if( freopen(zLog, "w", stderr)==0 ) _exit(2);
        setvbuf(stderr, 0, _IONBF, 0);
        fflush(stdout);
        exit(xRun(aRun[iNext], pArg));
      }
      aPid[j] = pid;
      aIdx[j] = aRun[iNext];
      nBusy++;
      iNext++;
    }else{
      int status;
      pid_t pid = wait(&status);
      if( pid<0 ) fatal("wait failed");
      for(j=0; j<16 && aPid[j]!=pid; j++){}
      if( j<16 ){
        char zLog[1200], zWhat[300];
        snprintf(zLog, sizeof(zLog), "%s/%s-%d.log", zLogDir, zName, aIdx[j]);
        xName(aIdx[j], pArg, zWhat, sizeof(zWhat));
        recordOutcome(pO, status, zWhat, zLog);
        aPid[j] = 0;
        nBusy--;
      }
    }
  }
}

#endif /* FAULTS_H */
