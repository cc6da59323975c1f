/*
** bench.c - the bench's harness: cachier benchmarks, each beside a floor
** measured in the same run. The areas' rows are in the other files of
** tests/bench (bench.h lists them); this file owns the command line, the
** connection and its C functions, the key sequence, the timing loops,
** the medians, the rows, notes and table, and the per-size database.
**
**   tests/bench/bench [--area NAME ...] ./cachier.so [TEST.so] [ENTRIES ...]
**   tests/bench/bench --list
**   (make bench [AREA="NAME ..."])
**
** Prints one markdown table of median ns per call, then a PASS/FAIL line
** per target. Targets are informational: the exit status is 0 unless a SQL
** error occurs (then 1). --area (repeatable; a value may name several,
** separated by spaces or commas) runs only the areas named; --list lists
** them; the default is all. ENTRIES defaults to 10000 1000000 (the sizes
** of the hits, misses and inflight areas). TEST.so is the test build
** (tests/cachier_test.so, with cachier_test_inflight()); without it the
** in-flight marking rows are left out. The Redis rows run when the
** environment names a server: CACHIER_REDIS_PORT (on 127.0.0.1) and,
** optionally, CACHIER_BENCH_REDIS_CPU, the vCPU the server is pinned to
** (make bench starts a redis-server of its own with tests/with_redis.sh
** and sets both).
**
** Method, per size N, for the hits, misses and inflight areas (a fresh
** file database in /tmp, journal_mode=WAL, synchronous=NORMAL, default
** page cache; deleted afterwards); the other areas use a database of
** their own built the same way:
**   - mem.q(x, s), an attached in-memory table, holds a fixed pseudo-random
**     permutation x of 0..N-1 and a 40-byte text s derived from x. Keeping
**     it in memory keeps the scan out of main's page cache.
**   - main.t(k INTEGER PRIMARY KEY, a, v BLOB) holds N rows, one per x, with
**     k = bkey(x), a bijective 64-bit mix of x shifted left 8 bits: the
**     keys spread over the rowid space as cachier's hashed rowids do, and
**     t is filled in key order (a user's table, filled by its key: full
**     pages), the cache in its hashed ids' (random) order. a holds the
**     argument (x, or the 40-byte s for the TEXT hit) as the cache stores
**     its key, so the floor's table is the same size as the cache's and
**     both compete alike for the page cache.
**   - The cache is filled with N entries of payload(x) (then, for the TEXT
**     hit, cleared and filled with N entries of payload(s)), each fill a
**     single BEGIN..COMMIT. Without the hits area, the misses and
**     inflight areas start from the TEXT fill alone (sizeFillText()).
**   - Per-row costs are net of the scan: the time of
**         SELECT count(F(x)) FROM mem.q WHERE rowid<=?n
**     minus the same query with the trivial ident(x), divided by n.
**     count() rather than sum(length()) because length() of an INTEGER
**     formats it as text, which the baseline would pay and a blob-returning
**     F would not. Every timed pass is preceded by an untimed warm-up pass
**     over the same keys (at most WARM_KEYS), and the measurements are
**     interleaved rep by rep so that drift hits them alike; each figure is
**     the median over the reps of (measurement - baseline).
**
** Then hits.c, misses.c and inflight.c, in that order, on the same
** database; compress.c, stores.c (and hot.c) and redis.c follow, each
** on its own.
*/
#include "bench.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

sqlite3 *g_db;
char g_zPath[256];
char g_zCacheFile[300];
sqlite3_stmt *g_pLookup;
sqlite3_stmt *g_pStore;
int64_t g_fresh = 1000000000000LL;
int64_t *g_aPerm;

/* ------------------------------------------------------------- areas */

typedef struct Area Area;
struct Area {
  int eArea;
  const char *zName;
  const char *zWhat;
};
static const Area g_aArea[] = {
  { AREA_HITS, "hits", "hits (INTEGER, TEXT, one statement per call), "
    "stale_after and next_time hits; per size" },
  { AREA_MISSES, "misses", "stored misses (writes): WAL in one "
    "transaction and autocommit, DELETE journal; per size" },
  { AREA_INFLIGHT, "inflight", "in-flight marking, extra cost per stored "
    "miss (needs TEST.so); per size" },
  { AREA_COMPRESS, "compress", "zstd compression and trained "
    "dictionaries: ratios, hits, stored misses" },
  { AREA_STORES, "stores", "stores main, file: and memory: hits with the "
    "hot tier off, file: stored misses" },
  { AREA_HOT, "hot", "hot-tier hits on the file: and main stores" },
  { AREA_REDIS, "redis", "the Redis store: hits, hot-tier hit, stored "
    "misses, round trips (needs CACHIER_REDIS_PORT)" },
  { AREA_SCAN, "scan", "the canonical scan of a table in main: memoize() "
    "on a column, 1k to 200k distinct keys, statement memo and hot tier, "
    "WAL and rollback journal" },
  { AREA_INVALIDATE, "invalidate", "depends_on: hits with and without, "
    "one-row and 100k-row INSERTs into a tracked table and an untracked "
    "one" },
  { AREA_QUERY, "query", "cachier_query tables: cached 10-row and "
    "10,000-row results against a plain table, the first read against the "
    "bare query" },
};
#define N_AREA ((int)(sizeof(g_aArea)/sizeof(g_aArea[0])))
static int g_mArea;                   /* the areas of this run */

int areaOn(int eArea){
  return (g_mArea & eArea)!=0;
}

/* Add the areas named in z (separated by spaces or commas) to g_mArea. */
static void areaAdd(const char *z){
  while( *z ){
    size_t n;
    int i;
    z += strspn(z, " ,");
    n = strcspn(z, " ,");
    if( n==0 ) break;
    for(i=0; i<N_AREA; i++){
      if( strlen(g_aArea[i].zName)==n && strncmp(g_aArea[i].zName, z, n)==0 ){
        break;
      }
    }
    if( i==N_AREA ){
      char zMsg[100];
      snprintf(zMsg, sizeof(zMsg), "no area \"%.*s\" (bench --list)",
               (int)n, z);
      fail("usage", zMsg);
    }
    g_mArea |= g_aArea[i].eArea;
    z += n;
  }
}

static void areaList(void){
  int i;
  for(i=0; i<N_AREA; i++){
    printf("%-9s %s\n", g_aArea[i].zName, g_aArea[i].zWhat);
  }
}

/* ------------------------------------------------------------- helpers */

/* Remove the database file zPath and its companions. */
void removeDbFiles(const char *zPath){
  static const char *azSuffix[] = { "", "-wal", "-shm", "-journal",
                                     "-cachier-locks" };
  char z[340];
  size_t i;
  if( zPath[0]==0 ) return;
  for(i=0; i<sizeof(azSuffix)/sizeof(azSuffix[0]); i++){
    snprintf(z, sizeof(z), "%s%s", zPath, azSuffix[i]);
    unlink(z);
  }
}

void fail(const char *zWhat, const char *zMsg){
  fprintf(stderr, "bench: %s: %s\n", zWhat, zMsg ? zMsg : "error");
  removeDbFiles(g_zPath);
  removeDbFiles(g_zCacheFile);
  exit(1);
}

void failDb(const char *zWhat){
  fail(zWhat, sqlite3_errmsg(g_db));
}

int64_t nowNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec*1000000000 + ts.tv_nsec;
}

void exec(const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(g_db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    char z[600];
    snprintf(z, sizeof(z), "%s [%s]", zErr ? zErr : "error", zSql);
    sqlite3_free(zErr);
    fail("exec", z);
  }
}

sqlite3_stmt *prep(const char *zSql){
  sqlite3_stmt *pStmt = 0;
  if( sqlite3_prepare_v2(g_db, zSql, -1, &pStmt, 0)!=SQLITE_OK ){
    char z[600];
    snprintf(z, sizeof(z), "%s [%s]", sqlite3_errmsg(g_db), zSql);
    fail("prepare", z);
  }
  return pStmt;
}

/* Step pStmt (with ?1, ?2 bound to a, b when it has them) to its end;
** returns column 0 of its first row as an integer (-1 if no row). */
static int64_t runInt(sqlite3_stmt *pStmt, int64_t a, int64_t b){
  int64_t v = -1;
  int rc;
  if( sqlite3_bind_parameter_count(pStmt)>=1 ) sqlite3_bind_int64(pStmt, 1, a);
  if( sqlite3_bind_parameter_count(pStmt)>=2 ) sqlite3_bind_int64(pStmt, 2, b);
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( v<0 ) v = sqlite3_column_int64(pStmt, 0);
  }
  if( rc!=SQLITE_DONE ){
    char z[600];
    snprintf(z, sizeof(z), "%s [%s]", sqlite3_errmsg(g_db), sqlite3_sql(pStmt));
    sqlite3_reset(pStmt);
    fail("step", z);
  }
  sqlite3_reset(pStmt);
  return v;
}

int64_t queryInt(const char *zSql, int64_t a, int64_t b){
  sqlite3_stmt *pStmt = prep(zSql);
  int64_t v = runInt(pStmt, a, b);
  sqlite3_finalize(pStmt);
  return v;
}

/* ns to run pStmt; fails unless its first column is nExpect. */
double timeStmt(sqlite3_stmt *pStmt, int64_t a, int64_t b,
                       int64_t nExpect){
  int64_t t0 = nowNs(), v;
  v = runInt(pStmt, a, b);
  t0 = nowNs() - t0;
  if( v!=nExpect ){
    char z[600];
    snprintf(z, sizeof(z), "expected %lld, got %lld [%s]", (long long)nExpect,
             (long long)v, sqlite3_sql(pStmt));
    fail("unexpected result", z);
  }
  return (double)t0;
}

/* ns of n stored misses by pStmt on the fresh keys base..base+n-1: one
** SELECT over the table fresh (bScan: it holds them already), or one
** statement per key. */
double timeMisses(sqlite3_stmt *pStmt, int bScan, int64_t base, int64_t n){
  return bScan ? timeStmt(pStmt, 0, 0, n) : timeLoop(pStmt, 0, base, n);
}

/* cachier_clear(zFn): the number of entries it dropped. */
int64_t clearFn(const char *zFn){
  return queryIntText("SELECT cachier_clear(?1)", zFn);
}

/* ns to run pStmt inside one BEGIN..COMMIT (the COMMIT timed); fails
** unless its first column is nExpect. */
double timeTxn(sqlite3_stmt *pStmt, int64_t a, int64_t b, int64_t nExpect){
  int64_t t0 = nowNs();
  exec("BEGIN");
  timeStmt(pStmt, a, b, nExpect);
  exec("COMMIT");
  return (double)(nowNs() - t0);
}

double median(const double *a, int n){
  double s[MAX_REPS];
  int i, j;
  for(i=0; i<n; i++){
    double x = a[i];
    for(j=i; j>0 && s[j-1]>x; j--) s[j] = s[j-1];
    s[j] = x;
  }
  return n%2 ? s[n/2] : (s[n/2-1]+s[n/2])/2;
}

int isNumber(const char *z){
  if( *z==0 ) return 0;
  for(; *z; z++) if( *z<'0' || *z>'9' ) return 0;
  return 1;
}


/* --------------------------------------------------- the C functions */

uint64_t mix64(uint64_t z){          /* splitmix64 finalizer */
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Row key in t of x: spread over the rowid space like cachier's ids. */
static int64_t bkey(int64_t x){
  return (int64_t)(mix64((uint64_t)x) << 8);
}

uint64_t valueSeed(sqlite3_value *v){
  switch( sqlite3_value_type(v) ){
    case SQLITE_INTEGER: return (uint64_t)sqlite3_value_int64(v);
    case SQLITE_TEXT: case SQLITE_BLOB: {
      const unsigned char *a = sqlite3_value_type(v)==SQLITE_TEXT
          ? sqlite3_value_text(v) : sqlite3_value_blob(v);
      int i, n = sqlite3_value_bytes(v);
      uint64_t h = 0xcbf29ce484222325ULL;     /* FNV-1a */
      for(i=0; i<n; i++) h = (h ^ a[i]) * 0x100000001b3ULL;
      return h;
    }
    default: {
      double r = sqlite3_value_double(v);
      uint64_t u;
      memcpy(&u, &r, sizeof(u));
      return u;
    }
  }
}

void fillPayload(uint64_t seed, unsigned char *a){
  int i;
  for(i=0; i<PAYLOAD_BYTES; i+=8){
    uint64_t r = mix64(seed + (uint64_t)i);
    int n = PAYLOAD_BYTES-i<8 ? PAYLOAD_BYTES-i : 8;
    memcpy(a+i, &r, n);
  }
}

/* payload(x) and payload_m(x): a deterministic 100-byte blob. */
void payloadFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  unsigned char a[PAYLOAD_BYTES];
  (void)argc;
  fillPayload(valueSeed(argv[0]), a);
  sqlite3_result_blob(ctx, a, PAYLOAD_BYTES, SQLITE_TRANSIENT);
}

/* ident(x): x. */
static void identFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  sqlite3_result_value(ctx, argv[0]);
}

/* bkey(x) */
static void bkeyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  sqlite3_result_int64(ctx, bkey(sqlite3_value_int64(argv[0])));
}

/* lookup(x): v of t's row for x, by a reused prepared point lookup.
** lookup_int(x) and lookup_64k(x), the same on the tables of the store
** rows (their statement is the user data). */
void lookupFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3_stmt **ppStmt = (sqlite3_stmt**)sqlite3_user_data(ctx);
  sqlite3_stmt *pStmt = ppStmt ? *ppStmt : g_pLookup;
  int rc;
  (void)argc;
  sqlite3_bind_int64(pStmt, 1, bkey(sqlite3_value_int64(argv[0])));
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    sqlite3_result_value(ctx, sqlite3_column_value(pStmt, 0));
  }else if( rc!=SQLITE_DONE ){
    sqlite3_result_error(ctx, sqlite3_errmsg(g_db), -1);
  }
  sqlite3_reset(pStmt);
}

/* store(x): write t's row for x (a 100-byte blob), by a reused prepared
** INSERT OR REPLACE; returns 1. */
static void storeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  unsigned char a[PAYLOAD_BYTES];
  int rc;
  (void)argc;
  fillPayload(valueSeed(argv[0]), a);
  sqlite3_bind_int64(g_pStore, 1, bkey(sqlite3_value_int64(argv[0])));
  sqlite3_bind_blob(g_pStore, 2, a, PAYLOAD_BYTES, SQLITE_TRANSIENT);
  rc = sqlite3_step(g_pStore);
  if( rc!=SQLITE_DONE ){
    sqlite3_result_error(ctx, sqlite3_errmsg(g_db), -1);
  }else{
    sqlite3_result_int(ctx, 1);
  }
  sqlite3_reset(g_pStore);
}

/* val_int(x): a deterministic INTEGER (8 bytes in a record). */
void valIntFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  sqlite3_result_int64(ctx, (int64_t)(mix64(valueSeed(argv[0])) >> 2));
}

/* n deterministic (and incompressible) bytes of seed; n a multiple of 8. */
void fillBlob(uint64_t seed, unsigned char *a, int n){
  int i;
  for(i=0; i<n; i+=8){
    uint64_t r = mix64(seed + (uint64_t)i);
    memcpy(a+i, &r, 8);
  }
}

static void blobResult(sqlite3_context *ctx, sqlite3_value *pArg, int n){
  unsigned char *a = sqlite3_malloc(n);
  if( a==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  fillBlob(valueSeed(pArg), a, n);
  sqlite3_result_blob(ctx, a, n, sqlite3_free);
}

/* blob64k(x) and blob4k(x): a deterministic (and incompressible) blob of
** 65,536 or 4,096 bytes. */
void blob64kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  blobResult(ctx, argv[0], BIG_BYTES);
}
void blob4kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  blobResult(ctx, argv[0], B4K_BYTES);
}

/* ----------------------------------------------------------- results */

static Row g_aRow[MAX_ROWS];
static int g_nRow;
#define MAX_NOTES 64
static char g_azNote[MAX_NOTES][320];
static int g_nNote;

Row *addRow(const char *zName, int64_t nEntries, double ns,
                   const char *zFloor, double floorNs){
  Row *r;
  if( g_nRow>=MAX_ROWS ) fail("internal", "too many rows");
  r = &g_aRow[g_nRow++];
  memset(r, 0, sizeof(*r));
  snprintf(r->zName, sizeof(r->zName), "%s", zName);
  r->nEntries = nEntries;
  r->ns = ns;
  snprintf(r->zFloor, sizeof(r->zFloor), "%s", zFloor);
  r->floorNs = floorNs;
  snprintf(r->zVs, sizeof(r->zVs), "floor");
  return r;
}

/* Give r the target "ratio <= target x zVs". */
void ratioTarget(Row *r, double target, const char *zVs){
  r->eTarget = 1;
  r->target = target;
  snprintf(r->zVs, sizeof(r->zVs), "%s", zVs);
}

/* Give r the target "ns <= targetNs". */
void nsTarget(Row *r, double targetNs){
  r->eTarget = 2;
  r->target = targetNs;
}

static double rowRatio(const Row *r){
  return (r->ratioNs>0 ? r->ratioNs : r->ns)/r->floorNs;
}

void note(const char *zFmt, ...){
  va_list ap;
  if( g_nNote>=MAX_NOTES ) return;
  va_start(ap, zFmt);
  vsnprintf(g_azNote[g_nNote++], sizeof(g_azNote[0]), zFmt, ap);
  va_end(ap);
}

static void fmtNs(char *z, size_t n, double ns){
  if( ns<0 ) snprintf(z, n, "-");
  else if( ns<100 ) snprintf(z, n, "%.1f", ns);
  else snprintf(z, n, "%.0f", ns);
}

void fmtEntries(char *z, size_t n, int64_t v){
  if( v>=1000000 && v%1000000==0 ) snprintf(z, n, "%lldM", (long long)(v/1000000));
  else if( v>=1000 && v%1000==0 ) snprintf(z, n, "%lldk", (long long)(v/1000));
  else snprintf(z, n, "%lld", (long long)v);
}

static void fmtTarget(char *z, size_t n, const Row *r){
  if( r->eTarget==1 ) snprintf(z, n, "<= %gx %s", r->target, r->zVs);
  else if( r->eTarget==2 ) snprintf(z, n, "<= %.0f µs", r->target/1000);
  else snprintf(z, n, "-");
}

static void printResults(void){
  int i;
  printf("| measurement | entries | ns/call | floor | floor ns | ratio | target |\n");
  printf("|---|---:|---:|---|---:|---:|---|\n");
  for(i=0; i<g_nRow; i++){
    const Row *r = &g_aRow[i];
    char zE[32], zNs[32], zF[32], zR[32], zT[128];
    fmtEntries(zE, sizeof(zE), r->nEntries);
    fmtNs(zNs, sizeof(zNs), r->ns);
    fmtNs(zF, sizeof(zF), r->floorNs);
    if( r->shownRatio>0 ) snprintf(zR, sizeof(zR), "%.2fx", r->shownRatio);
    else if( r->floorNs>0 ) snprintf(zR, sizeof(zR), "%.2fx", rowRatio(r));
    else snprintf(zR, sizeof(zR), "-");
    fmtTarget(zT, sizeof(zT), r);
    printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->zName, zE, zNs,
           r->floorNs<0 && r->shownRatio<=0 ? "-" : r->zFloor, zF, zR, zT);
  }
  printf("\n");
  for(i=0; i<g_nRow; i++){
    const Row *r = &g_aRow[i];
    char zE[32], zT[128];
    int bPass;
    if( r->eTarget==0 ) continue;
    fmtEntries(zE, sizeof(zE), r->nEntries);
    fmtTarget(zT, sizeof(zT), r);
    if( r->eTarget==1 ){
      bPass = r->floorNs>0 && rowRatio(r) <= r->target;
      printf("%s: %s, %s entries: %.2fx %s (target %s)\n",
             bPass ? "PASS" : "FAIL", r->zName, zE, rowRatio(r), r->zVs, zT);
    }else{
      bPass = r->ns <= r->target;
      printf("%s: %s, %s entries: %.1f µs (target %s)\n",
             bPass ? "PASS" : "FAIL", r->zName, zE, r->ns/1000, zT);
    }
  }
  if( g_nNote ) printf("\n");
  for(i=0; i<g_nNote; i++) printf("%s\n", g_azNote[i]);
}


/* ------------------------------------------------------------ the run */

/* Register the C function xFunc as zName(x) on g_db, with user data
** pArg. Not DETERMINISTIC: nothing may be factored out of the timed
** loops. */
void createFunction(const char *zName, void *pArg,
                    void (*xFunc)(sqlite3_context*, int, sqlite3_value**)){
  if( sqlite3_create_function(g_db, zName, 1, SQLITE_UTF8, pArg, xFunc, 0, 0)
      !=SQLITE_OK ){
    failDb("create_function");
  }
}

/* Open g_zPath on g_db with the extension zExt and the C functions every
** area may use (an area registers its own in its setup). */
void openConn(const char *zExt){
  char *zErr = 0;
  static const struct { const char *zName; void (*x)(sqlite3_context*,int,sqlite3_value**); } aFn[] = {
    { "payload", payloadFunc }, { "payload_m", payloadFunc },
    { "ident", identFunc }, { "bkey", bkeyFunc },
    { "lookup", lookupFunc }, { "store", storeFunc },
  };
  size_t i;
  if( sqlite3_open(g_zPath, &g_db)!=SQLITE_OK ) failDb("open");
  sqlite3_enable_load_extension(g_db, 1);
  if( sqlite3_load_extension(g_db, zExt, "sqlite3_cachier_init", &zErr)
      !=SQLITE_OK ){
    fail("load_extension", zErr);
  }
  for(i=0; i<sizeof(aFn)/sizeof(aFn[0]); i++){
    createFunction(aFn[i].zName, 0, aFn[i].x);
  }
  /* Hits are B-tree hits unless a section says otherwise: its figures
  ** are the store's (the hot tier has rows of its own). */
  setHotBytes(0);
}

void prepFloorStmts(void){
  g_pLookup = prep("SELECT v FROM t WHERE k=?1");
  g_pStore = prep("INSERT OR REPLACE INTO t(k, v) VALUES(?1, ?2)");
}

void openDb(const char *zExt, int64_t n, const char *zTag){
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-%lld%s.db",
           (long)getpid(), (long long)n, zTag);
  removeDbFiles(g_zPath);
  openConn(zExt);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
       "ATTACH ':memory:' AS mem;"
       "CREATE TABLE mem.q(x INTEGER, s TEXT);"
       "CREATE TABLE t(k INTEGER PRIMARY KEY, a, v BLOB);"
       "CREATE TABLE fresh(x INTEGER);");
  prepFloorStmts();
}

/* Close g_db; the files stay. */
void closeConn(void){
  sqlite3_finalize(g_pLookup);
  sqlite3_finalize(g_pStore);
  g_pLookup = g_pStore = 0;
  if( sqlite3_close(g_db)!=SQLITE_OK ) failDb("close");
  g_db = 0;
}

void closeDb(void){
  closeConn();
  removeDbFiles(g_zPath);
  g_zPath[0] = 0;
}

static void textOf(int64_t x, char *z){
  snprintf(z, TEXT_BYTES+1, "%016llx%016llx%08x",
           (unsigned long long)mix64((uint64_t)x ^ 0x5555),
           (unsigned long long)mix64((uint64_t)x ^ 0xaaaa),
           (unsigned)(mix64((uint64_t)x) & 0xffffffffu));
}

/* Fill mem.q with a fixed pseudo-random permutation of 0..n-1. */
void makeKeys(int64_t n){
  sqlite3_stmt *pIns;
  uint64_t rng = 0x2545f4914f6cdd1dULL;
  int64_t i;
  g_aPerm = realloc(g_aPerm, sizeof(int64_t)*(size_t)n);
  if( g_aPerm==0 ) fail("malloc", "out of memory");
  for(i=0; i<n; i++) g_aPerm[i] = i;
  for(i=n-1; i>0; i--){
    int64_t j, tmp;
    rng = mix64(rng);
    j = (int64_t)(rng % (uint64_t)(i+1));
    tmp = g_aPerm[i]; g_aPerm[i] = g_aPerm[j]; g_aPerm[j] = tmp;
  }
  exec("BEGIN");
  pIns = prep("INSERT INTO mem.q(rowid, x, s) VALUES(?1, ?2, ?3)");
  for(i=0; i<n; i++){
    char z[TEXT_BYTES+1];
    textOf(g_aPerm[i], z);
    sqlite3_bind_int64(pIns, 1, i+1);
    sqlite3_bind_int64(pIns, 2, g_aPerm[i]);
    sqlite3_bind_text(pIns, 3, z, TEXT_BYTES, SQLITE_TRANSIENT);
    if( sqlite3_step(pIns)!=SQLITE_DONE ) failDb("insert q");
    sqlite3_reset(pIns);
  }
  sqlite3_finalize(pIns);
  exec("COMMIT");
}

/* Fill the cache with memoize(zFn, zArg) for the first n rows of q (zArg:
** a column of q), in one transaction if bTxn, else in autocommit; returns
** the elapsed ns. */
double fillMemo(const char *zFn, const char *zArg, int64_t n, int bTxn){
  char zSql[200];
  int64_t t0 = nowNs();
  snprintf(zSql, sizeof(zSql), "SELECT count(memoize('%s', %s)) FROM mem.q"
           " WHERE rowid<=?1", zFn, zArg);
  if( bTxn ) exec("BEGIN");
  if( queryInt(zSql, n, 0)!=n ) fail("fill", zFn);
  if( bTxn ) exec("COMMIT");
  return (double)(nowNs() - t0);
}

/* Fill the cache of the per-size database with N entries of
** memoize('payload', zCol) (zCol: x or s) in one transaction, checked,
** then checkpoint; returns the fill's ns. */
double populate(const char *zCol, int64_t N){
  double t = fillMemo("payload", zCol, N, 1);
  if( statOf("entries", "payload")!=N ){
    fail("populate", "cache does not hold N entries");
  }
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return t;
}

/* The cache of the per-size database refilled with N entries of
** payload(s) (40-byte TEXT keys), t's rows holding the text: the state
** the hits area leaves, which the misses and inflight areas start from. */
void sizeFillText(int64_t N){
  double t;
  queryInt("SELECT cachier_clear()", 0, 0);
  exec("BEGIN; DELETE FROM t;"
       "INSERT INTO t(k, a, v) SELECT bkey(x), s, payload(x) FROM mem.q"
       " ORDER BY 1;"
       "COMMIT;");
  t = populate("s", N);
  note("fill: %lld misses (40-byte TEXT key) in one transaction: %.2f s, %.2f µs each",
       (long long)N, t/1e9, t/1e3/(double)N);
}

/* Column 0 of the first row of zSql with ?1 bound to the text zArg. */
int64_t queryIntText(const char *zSql, const char *zArg){
  sqlite3_stmt *pStmt = prep(zSql);
  int64_t v = -1;
  int rc;
  sqlite3_bind_text(pStmt, 1, zArg, -1, SQLITE_TRANSIENT);
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( v<0 ) v = sqlite3_column_int64(pStmt, 0);
  }
  if( rc!=SQLITE_DONE ){
    char z[600];
    snprintf(z, sizeof(z), "%s [%s]", sqlite3_errmsg(g_db), zSql);
    fail("step", z);
  }
  sqlite3_finalize(pStmt);
  return v;
}


/* Column zCol of cachier_stats, summed over the rows of function zFn (0
** if none). cachier_stats reads every store: called sparingly. */
int64_t statOf(const char *zCol, const char *zFn){
  char zSql[200];
  sqlite3_stmt *pStmt;
  int64_t v;
  snprintf(zSql, sizeof(zSql),
           "SELECT total(%s) FROM cachier_stats WHERE fn=?1", zCol);
  pStmt = prep(zSql);
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) failDb("cachier_stats");
  v = sqlite3_column_int64(pStmt, 0);
  sqlite3_finalize(pStmt);
  return v;
}

/* 1 if cachier_stats has the column zCol. */
int statHasColumn(const char *zCol){
  char zSql[200];
  sqlite3_stmt *pStmt = 0;
  int rc;
  snprintf(zSql, sizeof(zSql), "SELECT %s FROM cachier_stats LIMIT 0", zCol);
  rc = sqlite3_prepare_v2(g_db, zSql, -1, &pStmt, 0);
  sqlite3_finalize(pStmt);
  return rc==SQLITE_OK;
}

/* hot_bytes of the '*' row: every function's hot tier (a write of main). */
void setHotBytes(int64_t nBytes){
  char zSql[120];
  snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
           "(name, hot_bytes) VALUES ('*', %lld)", (long long)nBytes);
  exec(zSql);
}

void scanInit(Scan *s, const char *zExpr){
  char zSql[200];
  snprintf(zSql, sizeof(zSql),
           "SELECT count(%s) FROM mem.q WHERE rowid<=?1", zExpr);
  memset(s, 0, sizeof(*s));
  s->pStmt = prep(zSql);
}

void scanRun(Scan *s, int iRep, int64_t n){
  int64_t nWarm = n<WARM_KEYS ? n : WARM_KEYS;
  timeStmt(s->pStmt, nWarm, 0, nWarm);
  s->a[iRep] = timeStmt(s->pStmt, n, 0, n);
}

void scanFree(Scan *s){ sqlite3_finalize(s->pStmt); }

/* Median over reps of (a - b)/n. */
double netPer(const double *a, const double *b, int nRep, int64_t n){
  double d[MAX_REPS];
  int i;
  for(i=0; i<nRep; i++) d[i] = (a[i] - b[i])/(double)n;
  return median(d, nRep);
}

/* One statement per call: "SELECT EXPR(?1)" for each of n keys (the key
** sequence if aKey, else base..base+n-1); returns elapsed ns. */
double timeLoop(sqlite3_stmt *pStmt, const int64_t *aKey, int64_t base,
                       int64_t n){
  int64_t i, t0 = nowNs();
  for(i=0; i<n; i++){
    sqlite3_bind_int64(pStmt, 1, aKey ? aKey[i] : base+i);
    if( sqlite3_step(pStmt)!=SQLITE_ROW
     || sqlite3_column_type(pStmt, 0)==SQLITE_NULL ){
      char z[600];
      snprintf(z, sizeof(z), "%s [%s]", sqlite3_errmsg(g_db), sqlite3_sql(pStmt));
      fail("step", z);
    }
    sqlite3_reset(pStmt);
  }
  return (double)(nowNs() - t0);
}

/* ------------------------------------------------ stored misses, shared */

/* The INSERT of the never-used keys ?1..?2 into table fresh. */
sqlite3_stmt *prepFreshFill(void){
  return prep(FRESH_CTE "INSERT INTO fresh SELECT i FROM c");
}

/* Make table fresh hold the n never-used keys base..base+n-1 (pFill is
** prepFreshFill()'s). */
void refillFresh(sqlite3_stmt *pFill, int64_t base, int64_t n){
  exec("DELETE FROM fresh");
  sqlite3_bind_int64(pFill, 1, base);
  sqlite3_bind_int64(pFill, 2, base+n-1);
  if( sqlite3_step(pFill)!=SQLITE_DONE ) failDb("fill fresh");
  sqlite3_reset(pFill);
}

/* Drop the rows the miss measurements added: cache entries of payload_m
** and t's rows for keys base..base+n-1. */
void dropMisses(int64_t base, int64_t n){
  sqlite3_stmt *pStmt;
  clearFn("payload_m");
  pStmt = prep(FRESH_CTE "DELETE FROM t WHERE k IN (SELECT bkey(i) FROM c)");
  runInt(pStmt, base, base+n-1);
  sqlite3_finalize(pStmt);
}

/* Time nRep reps of nMiss stored misses of memoize(zFn, x) (zFn runs
** payload()) on fresh keys in autocommit, each committing on its own:
** one statement per miss, or (bScan) one SELECT over the table fresh of
** main (the shape of "SELECT memoize('geocode', address) FROM customers",
** where the outer statement holds the read transaction). Each rep:
** payload_m() called directly in the same statement shape (m->aBase), the
** misses (m->aMiss) and, unless zFloor is NULL, the floor zFloor(x)
** (m->aFloor: store, or rset for the Redis rows); then the misses (and
** store()'s rows) are dropped, so the cache stays at its size. */
void timeFreshMisses(const char *zFn, int bScan, const char *zFloor,
                     int64_t nMiss, int nRep, MissTimes *m){
  char zSql[128];
  sqlite3_stmt *pBase = prep(bScan ? "SELECT count(payload_m(x)) FROM fresh"
                                   : "SELECT payload_m(?1)");
  sqlite3_stmt *pMiss, *pFloor, *pFill;
  int i;
  m->nRep = nRep;
  m->nMiss = nMiss;
  snprintf(zSql, sizeof(zSql), bScan
      ? "SELECT count(memoize('%s', x)) FROM fresh"
      : "SELECT memoize('%s', ?1)", zFn);
  pMiss = prep(zSql);
  if( zFloor ){
    snprintf(zSql, sizeof(zSql), bScan ? "SELECT count(%s(x)) FROM fresh"
                                       : "SELECT %s(?1)", zFloor);
  }
  pFloor = zFloor ? prep(zSql) : 0;
  pFill = bScan ? prepFreshFill() : 0;
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh;
    g_fresh += nMiss;
    if( bScan ) refillFresh(pFill, base, nMiss);
    timeMisses(pBase, bScan, base, nMiss);          /* warm-up */
    m->aBase[i] = timeMisses(pBase, bScan, base, nMiss);
    m->aMiss[i] = timeMisses(pMiss, bScan, base, nMiss);
    if( pFloor ){
      m->aFloor[i] = timeMisses(pFloor, bScan, base, nMiss);
      dropMisses(base, nMiss);
    }
    if( strcmp(zFn, "payload_m")!=0 && clearFn(zFn)!=nMiss ){
      fail("stored misses", "cachier_clear did not find every miss");
    }
  }
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
  sqlite3_finalize(pFill);
}

/* The median ns per miss of m, and of its floor, net of the function. */
double missNs(const MissTimes *m){
  return netPer(m->aMiss, m->aBase, m->nRep, m->nMiss);
}
double missFloorNs(const MissTimes *m){
  return netPer(m->aFloor, m->aBase, m->nRep, m->nMiss);
}

/* ------------------------------------------------- the per-size database */

/* The hits, misses and inflight areas at size N, on one database of
** their own, in that order. */
static void benchSize(const char *zExt, const char *zTestExt, int64_t N){
  int nRep = MAX_REPS;
  int64_t t0 = nowNs();

  openDb(zExt, N, "");
  makeKeys(N);
  /* The floor's table: N rows, filled in key order, as a user's table
  ** filled by its key would be (pages full; the cache's own fill order is
  ** its hashed ids': random). */
  exec("BEGIN;"
       "INSERT OR REPLACE INTO t(k, a, v) SELECT bkey(x), x, payload(x)"
       " FROM mem.q ORDER BY 1;"
       "COMMIT;");

  if( areaOn(AREA_HITS) ){
    benchHits(N, nRep);
  }else{
    sizeFillText(N);
  }
  if( areaOn(AREA_MISSES) ) benchMisses(N, nRep);
  if( areaOn(AREA_INFLIGHT) && zTestExt ) benchInflight(zTestExt, N, nRep);
  closeDb();
  note("%lld entries: %.1f s in all", (long long)N, (double)(nowNs()-t0)/1e9);
}

/* Load zExt into a new in-memory connection and run zSql, which must
** return a row; copies the first column of that row into zOut. */
static void checkExtension(const char *zExt, const char *zSql, char *zOut,
                           size_t nOut){
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  char *zErr = 0;
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) fail("open", ":memory:");
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExt, "sqlite3_cachier_init", &zErr) ){
    fail("load_extension", zErr);
  }
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)!=SQLITE_OK
   || sqlite3_step(pStmt)!=SQLITE_ROW ){
    char z[600];
    snprintf(z, sizeof(z), "%s: %s [%s]", zExt, sqlite3_errmsg(db), zSql);
    sqlite3_finalize(pStmt);
    sqlite3_close(db);
    fail("extension check", z);
  }
  snprintf(zOut, nOut, "%s", (const char*)sqlite3_column_text(pStmt, 0));
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
}


static void usage(void){
  fail("usage", "bench [--list] [--area NAME ...] EXTENSION [TEST_EXTENSION]"
       " [ENTRIES ...]");
}

int main(int argc, char **argv){
  const char *zExt = "./cachier.so";
  const char *zTestExt = 0;
  int64_t aSize[8] = { 10000, 1000000 };
  int nSize = 2, i, iArg = 1;
  char zVersion[64] = "?", zTestVersion[64] = "?", zDummy[16];
  char zAreas[200] = "";
  const char *zRedisPort = getenv("CACHIER_REDIS_PORT");
  const char *zRedisCpu = getenv("CACHIER_BENCH_REDIS_CPU");

  /* Options first: --list, --area NAME (or --area=NAME). */
  for(; iArg<argc && strncmp(argv[iArg], "--", 2)==0; iArg++){
    if( strcmp(argv[iArg], "--list")==0 ){
      areaList();
      return 0;
    }else if( strcmp(argv[iArg], "--area")==0 && iArg+1<argc ){
      areaAdd(argv[++iArg]);
    }else if( strncmp(argv[iArg], "--area=", 7)==0 ){
      areaAdd(argv[iArg]+7);
    }else{
      usage();
    }
  }
  if( g_mArea==0 ){
    g_mArea = ~0;
  }else{
    for(i=0; i<N_AREA; i++){
      size_t k = strlen(zAreas);
      if( areaOn(g_aArea[i].eArea) ){
        snprintf(zAreas+k, sizeof(zAreas)-k, "%s%s", k ? " " : "",
                 g_aArea[i].zName);
      }
    }
  }
  if( iArg<argc ) zExt = argv[iArg++];
  if( argc>iArg && !isNumber(argv[iArg]) ) zTestExt = argv[iArg++];
  if( argc>iArg ){
    for(nSize=0; nSize<8 && iArg<argc; nSize++, iArg++){
      aSize[nSize] = isNumber(argv[iArg]) ? atoll(argv[iArg]) : 0;
      if( aSize[nSize]<10 ) usage();
    }
  }
  /* The versions, and an early check that the extensions load. */
  checkExtension(zExt, "SELECT cachier_version()", zVersion, sizeof(zVersion));
  if( zTestExt ){
    checkExtension(zTestExt, "SELECT cachier_version()", zTestVersion,
                   sizeof(zTestVersion));
    checkExtension(zTestExt, "SELECT cachier_test_inflight(1)", zDummy,
                   sizeof(zDummy));
    if( strcmp(zVersion, zTestVersion)!=0 ){
      fail("usage", "the extension and the test build differ in version");
    }
  }

  printf("cachier %s, SQLite %s, zstd %s; median of %d reps (main-store "
         "stored miss, DELETE journal: 5 reps of 40); hits timed over up to %d keys per "
         "rep%s%s%s\n\n",
         zVersion, sqlite3_libversion(), ZSTD_versionString(), MAX_REPS,
         HIT_KEYS,
         zTestExt ? "; in-flight rows on the test build" : "",
         zAreas[0] ? "; areas: " : "", zAreas);
  fflush(stdout);
  if( areaOn(AREA_HITS|AREA_MISSES) || (areaOn(AREA_INFLIGHT) && zTestExt) ){
    for(i=0; i<nSize; i++) benchSize(zExt, zTestExt, aSize[i]);
  }
  if( areaOn(AREA_COMPRESS) ) benchCompress(zExt);
  if( areaOn(AREA_STORES|AREA_HOT) ) benchStores(zExt);
  if( areaOn(AREA_SCAN) ) benchScan(zExt);
  if( areaOn(AREA_INVALIDATE) ) benchInvalidate(zExt);
  if( areaOn(AREA_QUERY) ) benchQuery(zExt);
  if( areaOn(AREA_REDIS) ){
    if( zRedisPort && isNumber(zRedisPort) && atoi(zRedisPort)>0 ){
      benchRedis(zExt, atoi(zRedisPort),
                 zRedisCpu && isNumber(zRedisCpu) ? atoi(zRedisCpu) : -1);
    }else{
      note("Redis rows left out: no server given (CACHIER_REDIS_PORT; "
           "make bench starts one)");
    }
  }
  if( !areaOn(AREA_INFLIGHT) ){
    /* Not asked for. */
  }else if( zTestExt==0 ){
    note("in-flight marking rows left out: no test build given "
         "(bench EXTENSION TEST_EXTENSION)");
  }else{
    note("in-flight marking rows: ns/call is marks on - marks off per stored "
         "miss; ratio is marks on / marks off");
  }
  printResults();
  free(g_aPerm);
  return 0;
}
