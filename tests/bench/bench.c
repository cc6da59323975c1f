/*
** bench.c - cachier benchmarks, each beside a floor measured in the same run.
**
**   tests/bench/bench ./cachier.so [ENTRIES ...]     (make bench)
**
** Prints one markdown table of median ns per call, then a PASS/FAIL line
** per target. Targets are informational: the exit status is 0 unless a SQL
** error occurs (then 1). ENTRIES defaults to 10000 1000000.
**
** Method, per size N (a fresh file database in /tmp, journal_mode=WAL,
** synchronous=NORMAL, default page cache; deleted afterwards):
**   - mem.q(x, s), an attached in-memory table, holds a fixed pseudo-random
**     permutation x of 0..N-1 and a 40-byte text s derived from x. Keeping
**     it in memory keeps the scan out of main's page cache.
**   - main.t(k INTEGER PRIMARY KEY, a, v BLOB) holds N rows, one per x, with
**     k = bkey(x), a bijective 64-bit mix of x shifted left 8 bits: the
**     keys spread over the rowid space as cachier's hashed rowids do, and
**     both tables are filled in the same (random) key order. a holds the
**     argument (x, or the 40-byte s for the TEXT hit) as the cache stores
**     its key, so the floor's table is the same size as the cache's and
**     both compete alike for the page cache.
**   - The cache is filled with N entries of payload(x) (then, for the TEXT
**     hit, cleared and filled with N entries of payload(s)), each fill a
**     single BEGIN..COMMIT.
**   - Per-row costs are net of the scan: the time of
**         SELECT count(F(x)) FROM mem.q WHERE rowid<=?n
**     minus the same query with the trivial ident(x), divided by n.
**     count() rather than sum(length()) because length() of an INTEGER
**     formats it as text, which the baseline would pay and a blob-returning
**     F would not. Every timed pass is preceded by an untimed warm-up pass
**     over the same keys (at most WARM_KEYS), and the measurements are
**     interleaved rep by rep so that drift hits them alike; each figure is
**     the median over the reps of (measurement - baseline).
**   - Floor of a hit: lookup(x), a C function running a reused prepared
**         SELECT v FROM t WHERE k=?
**     on the same connection, over the same key sequence.
**   - Stored misses use fresh keys in every rep, under a second name
**     (payload_m, same C function) so that cachier_clear('payload_m') can
**     drop them after each rep and the cache stays at N entries. Each is
**     net of calling payload_m() directly on the same number of keys in the
**     same statement shape. The floor is store(x), a C function running a
**     reused prepared INSERT OR REPLACE of a 100-byte row into t (random
**     key, like cachier's), in the same transaction mode; its rows are
**     deleted after each rep too.
**       (a) WAL, synchronous=NORMAL, autocommit: one statement per miss,
**           so each miss commits on its own.
**       (b) journal_mode=DELETE, synchronous=FULL (the defaults),
**           autocommit: few misses, each pays its fsyncs.
**       (c) one BEGIN..COMMIT (WAL) around a scan of fresh keys; the
**           COMMIT is inside the timed region.
*/
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS      7
#define MAX_ROWS      64
#define PAYLOAD_BYTES 100
#define TEXT_BYTES    40
#define WARM_KEYS     20000     /* keys in a warm-up pass, at most */
#define HIT_KEYS      200000    /* keys in a timed hit pass, at most */
#define STMT_KEYS     2000      /* one-statement-per-call passes */

static sqlite3 *g_db;
static char g_zPath[256];             /* current database file, or "" */
static sqlite3_stmt *g_pLookup;       /* SELECT v FROM t WHERE k=?1 */
static sqlite3_stmt *g_pStore;        /* INSERT OR REPLACE INTO t ... */
static int64_t g_fresh = 1000000000000LL;  /* next never-used key */
static int64_t *g_aPerm;              /* the key sequence, q's x column */

/* ------------------------------------------------------------- helpers */

static void removeFiles(void){
  static const char *azSuffix[] = { "", "-wal", "-shm", "-journal" };
  char z[300];
  size_t i;
  if( g_zPath[0]==0 ) return;
  for(i=0; i<sizeof(azSuffix)/sizeof(azSuffix[0]); i++){
    snprintf(z, sizeof(z), "%s%s", g_zPath, azSuffix[i]);
    unlink(z);
  }
  g_zPath[0] = 0;
}

static void fail(const char *zWhat, const char *zMsg){
  fprintf(stderr, "bench: %s: %s\n", zWhat, zMsg ? zMsg : "error");
  removeFiles();
  exit(1);
}

static void failDb(const char *zWhat){
  fail(zWhat, sqlite3_errmsg(g_db));
}

static int64_t nowNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec*1000000000 + ts.tv_nsec;
}

static void exec(const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(g_db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    char z[600];
    snprintf(z, sizeof(z), "%s [%s]", zErr ? zErr : "error", zSql);
    sqlite3_free(zErr);
    fail("exec", z);
  }
}

static sqlite3_stmt *prep(const char *zSql){
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

static int64_t queryInt(const char *zSql, int64_t a, int64_t b){
  sqlite3_stmt *pStmt = prep(zSql);
  int64_t v = runInt(pStmt, a, b);
  sqlite3_finalize(pStmt);
  return v;
}

/* ns to run pStmt; fails unless its first column is nExpect. */
static double timeStmt(sqlite3_stmt *pStmt, int64_t a, int64_t b,
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

static double median(const double *a, int n){
  double s[MAX_REPS];
  int i, j;
  for(i=0; i<n; i++){
    double x = a[i];
    for(j=i; j>0 && s[j-1]>x; j--) s[j] = s[j-1];
    s[j] = x;
  }
  return n%2 ? s[n/2] : (s[n/2-1]+s[n/2])/2;
}

/* --------------------------------------------------- the C functions */

static uint64_t mix64(uint64_t z){          /* splitmix64 finalizer */
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Row key in t of x: spread over the rowid space like cachier's ids. */
static int64_t bkey(int64_t x){
  return (int64_t)(mix64((uint64_t)x) << 8);
}

static uint64_t valueSeed(sqlite3_value *v){
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

static void fillPayload(uint64_t seed, unsigned char *a){
  int i;
  for(i=0; i<PAYLOAD_BYTES; i+=8){
    uint64_t r = mix64(seed + (uint64_t)i);
    int n = PAYLOAD_BYTES-i<8 ? PAYLOAD_BYTES-i : 8;
    memcpy(a+i, &r, n);
  }
}

/* payload(x) and payload_m(x): a deterministic 100-byte blob. */
static void payloadFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
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

/* lookup(x): v of t's row for x, by a reused prepared point lookup. */
static void lookupFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  int rc;
  (void)argc;
  sqlite3_bind_int64(g_pLookup, 1, bkey(sqlite3_value_int64(argv[0])));
  rc = sqlite3_step(g_pLookup);
  if( rc==SQLITE_ROW ){
    sqlite3_result_value(ctx, sqlite3_column_value(g_pLookup, 0));
  }else if( rc!=SQLITE_DONE ){
    sqlite3_result_error(ctx, sqlite3_errmsg(g_db), -1);
  }
  sqlite3_reset(g_pLookup);
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

/* ----------------------------------------------------------- results */

typedef struct Row Row;
struct Row {
  char zName[96];
  int64_t nEntries;
  double ns;
  char zFloor[96];
  double floorNs;             /* <0: no floor */
  int eTarget;                /* 0 none, 1 ratio <= target, 2 ns <= target */
  double target;
};
static Row g_aRow[MAX_ROWS];
static int g_nRow;
static char g_azNote[32][200];
static int g_nNote;

static Row *addRow(const char *zName, int64_t nEntries, double ns,
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
  return r;
}

static void note(const char *zFmt, ...)
    __attribute__((format(printf, 1, 2)));
static void note(const char *zFmt, ...){
  va_list ap;
  if( g_nNote>=32 ) return;
  va_start(ap, zFmt);
  vsnprintf(g_azNote[g_nNote++], sizeof(g_azNote[0]), zFmt, ap);
  va_end(ap);
}

static void fmtNs(char *z, size_t n, double ns){
  if( ns<0 ) snprintf(z, n, "-");
  else if( ns<100 ) snprintf(z, n, "%.1f", ns);
  else snprintf(z, n, "%.0f", ns);
}

static void fmtEntries(char *z, size_t n, int64_t v){
  if( v>=1000000 && v%1000000==0 ) snprintf(z, n, "%lldM", (long long)(v/1000000));
  else if( v>=1000 && v%1000==0 ) snprintf(z, n, "%lldk", (long long)(v/1000));
  else snprintf(z, n, "%lld", (long long)v);
}

static void fmtTarget(char *z, size_t n, const Row *r){
  if( r->eTarget==1 ) snprintf(z, n, "<= %.1fx floor", r->target);
  else if( r->eTarget==2 ) snprintf(z, n, "<= %.0f µs", r->target/1000);
  else snprintf(z, n, "-");
}

static void printResults(void){
  int i;
  printf("| measurement | entries | ns/call | floor | floor ns | ratio | target |\n");
  printf("|---|---:|---:|---|---:|---:|---|\n");
  for(i=0; i<g_nRow; i++){
    const Row *r = &g_aRow[i];
    char zE[32], zNs[32], zF[32], zR[32], zT[64];
    fmtEntries(zE, sizeof(zE), r->nEntries);
    fmtNs(zNs, sizeof(zNs), r->ns);
    fmtNs(zF, sizeof(zF), r->floorNs);
    if( r->floorNs>0 ) snprintf(zR, sizeof(zR), "%.2fx", r->ns/r->floorNs);
    else snprintf(zR, sizeof(zR), "-");
    fmtTarget(zT, sizeof(zT), r);
    printf("| %s | %s | %s | %s | %s | %s | %s |\n", r->zName, zE, zNs,
           r->floorNs<0 ? "-" : r->zFloor, zF, zR, zT);
  }
  printf("\n");
  for(i=0; i<g_nRow; i++){
    const Row *r = &g_aRow[i];
    char zE[32], zT[64];
    int bPass;
    if( r->eTarget==0 ) continue;
    fmtEntries(zE, sizeof(zE), r->nEntries);
    fmtTarget(zT, sizeof(zT), r);
    if( r->eTarget==1 ){
      bPass = r->floorNs>0 && r->ns <= r->target*r->floorNs;
      printf("%s: %s, %s entries: %.2fx floor (target %s)\n",
             bPass ? "PASS" : "FAIL", r->zName, zE, r->ns/r->floorNs, zT);
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

static void openDb(const char *zExt, int64_t n){
  char *zErr = 0;
  static const struct { const char *zName; void (*x)(sqlite3_context*,int,sqlite3_value**); } aFn[] = {
    { "payload", payloadFunc }, { "payload_m", payloadFunc },
    { "ident", identFunc }, { "bkey", bkeyFunc },
    { "lookup", lookupFunc }, { "store", storeFunc },
  };
  size_t i;
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-%lld.db",
           (long)getpid(), (long long)n);
  removeFiles();
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-%lld.db",
           (long)getpid(), (long long)n);
  if( sqlite3_open(g_zPath, &g_db)!=SQLITE_OK ) failDb("open");
  sqlite3_enable_load_extension(g_db, 1);
  if( sqlite3_load_extension(g_db, zExt, "sqlite3_cachier_init", &zErr)
      !=SQLITE_OK ){
    fail("load_extension", zErr);
  }
  for(i=0; i<sizeof(aFn)/sizeof(aFn[0]); i++){
    /* Not DETERMINISTIC: nothing may be factored out of the timed loops. */
    if( sqlite3_create_function(g_db, aFn[i].zName, 1, SQLITE_UTF8, 0,
                                aFn[i].x, 0, 0)!=SQLITE_OK ){
      failDb("create_function");
    }
  }
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
       "ATTACH ':memory:' AS mem;"
       "CREATE TABLE mem.q(x INTEGER, s TEXT);"
       "CREATE TABLE t(k INTEGER PRIMARY KEY, a, v BLOB);"
       "CREATE TABLE fresh(x INTEGER);");
  g_pLookup = prep("SELECT v FROM t WHERE k=?1");
  g_pStore = prep("INSERT OR REPLACE INTO t(k, v) VALUES(?1, ?2)");
}

static void closeDb(void){
  sqlite3_finalize(g_pLookup);
  sqlite3_finalize(g_pStore);
  g_pLookup = g_pStore = 0;
  if( sqlite3_close(g_db)!=SQLITE_OK ) failDb("close");
  g_db = 0;
  removeFiles();
}

static void textOf(int64_t x, char *z){
  snprintf(z, TEXT_BYTES+1, "%016llx%016llx%08x",
           (unsigned long long)mix64((uint64_t)x ^ 0x5555),
           (unsigned long long)mix64((uint64_t)x ^ 0xaaaa),
           (unsigned)(mix64((uint64_t)x) & 0xffffffffu));
}

/* Fill mem.q with a fixed pseudo-random permutation of 0..n-1. */
static void makeKeys(int64_t n){
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

/* Fill the cache with memoize('payload', zCol) for every row of q, in one
** transaction; returns the elapsed ns. */
static double populate(const char *zCol, int64_t n){
  char zSql[200];
  int64_t t0 = nowNs(), v;
  snprintf(zSql, sizeof(zSql),
           "SELECT count(memoize('payload', %s)) FROM mem.q", zCol);
  exec("BEGIN");
  v = queryInt(zSql, 0, 0);
  exec("COMMIT");
  t0 = nowNs() - t0;
  if( v!=n ) fail("populate", "wrong count");
  v = queryInt("SELECT entries FROM cachier_stats WHERE fn='payload'", 0, 0);
  if( v!=n ) fail("populate", "cache does not hold N entries");
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return (double)t0;
}

static int64_t statMisses(void){
  return queryInt("SELECT misses FROM cachier_stats WHERE fn='payload'", 0, 0);
}

/* A scan measurement: "SELECT count(EXPR) FROM mem.q WHERE rowid<=?1". */
typedef struct Scan Scan;
struct Scan {
  sqlite3_stmt *pStmt;
  double a[MAX_REPS];
};

static void scanInit(Scan *s, const char *zExpr){
  char zSql[200];
  snprintf(zSql, sizeof(zSql),
           "SELECT count(%s) FROM mem.q WHERE rowid<=?1", zExpr);
  memset(s, 0, sizeof(*s));
  s->pStmt = prep(zSql);
}

static void scanRun(Scan *s, int iRep, int64_t n){
  int64_t nWarm = n<WARM_KEYS ? n : WARM_KEYS;
  timeStmt(s->pStmt, nWarm, 0, nWarm);
  s->a[iRep] = timeStmt(s->pStmt, n, 0, n);
}

static void scanFree(Scan *s){ sqlite3_finalize(s->pStmt); }

/* Median over reps of (a - b)/n. */
static double netPer(const double *a, const double *b, int nRep, int64_t n){
  double d[MAX_REPS];
  int i;
  for(i=0; i<nRep; i++) d[i] = (a[i] - b[i])/(double)n;
  return median(d, nRep);
}

/* One statement per call: "SELECT EXPR(?1)" for each of n keys (the key
** sequence if aKey, else base..base+n-1); returns elapsed ns. */
static double timeLoop(sqlite3_stmt *pStmt, const int64_t *aKey, int64_t base,
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

/* Drop the rows the miss measurements added: cache entries of payload_m
** and t's rows for keys base..base+n-1. */
static void dropMisses(int64_t base, int64_t n){
  sqlite3_stmt *pStmt;
  queryInt("SELECT cachier_clear('payload_m')", 0, 0);
  pStmt = prep("WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i+1 FROM c"
               " WHERE i<?2) DELETE FROM t WHERE k IN (SELECT bkey(i) FROM c)");
  runInt(pStmt, base, base+n-1);
  sqlite3_finalize(pStmt);
}

static void benchHits(int64_t N, int nRep){
  int64_t n = N<HIT_KEYS ? N : HIT_KEYS;
  int64_t nStmt = N<STMT_KEYS ? N : STMT_KEYS;
  int64_t nMiss0;
  Scan scan, identX, identS, floorX, hitX, floorT, hitS;
  sqlite3_stmt *pIdentStmt, *pFloorStmt, *pHitStmt;
  double aIdentStmt[MAX_REPS], aFloorStmt[MAX_REPS], aHitStmt[MAX_REPS];
  double ns, floorNs, t;
  int i;
  Row *r;

  t = populate("x", N);
  note("fill: %lld misses (INTEGER key) in one transaction: %.2f s, %.2f µs each",
       (long long)N, t/1e9, t/1e3/(double)N);
  nMiss0 = statMisses();

  scanInit(&scan, "x");
  scanInit(&identX, "ident(x)");
  scanInit(&floorX, "lookup(x)");
  scanInit(&hitX, "memoize('payload', x)");
  pIdentStmt = prep("SELECT ident(?1)");
  pFloorStmt = prep("SELECT lookup(?1)");
  pHitStmt = prep("SELECT memoize('payload', ?1)");
  for(i=0; i<nRep; i++){
    scanRun(&scan, i, n);
    scanRun(&identX, i, n);
    scanRun(&floorX, i, n);
    scanRun(&hitX, i, n);
    timeLoop(pIdentStmt, g_aPerm, 0, nStmt);      /* warm-up */
    aIdentStmt[i] = timeLoop(pIdentStmt, g_aPerm, 0, nStmt);
    timeLoop(pFloorStmt, g_aPerm, 0, nStmt);
    aFloorStmt[i] = timeLoop(pFloorStmt, g_aPerm, 0, nStmt);
    timeLoop(pHitStmt, g_aPerm, 0, nStmt);
    aHitStmt[i] = timeLoop(pHitStmt, g_aPerm, 0, nStmt);
  }
  if( statMisses()!=nMiss0 ) fail("hits", "a hit measurement missed");

  addRow("trivial C function per row (net of scan)", N,
         netPer(identX.a, scan.a, nRep, n), "", -1);
  floorNs = netPer(floorX.a, identX.a, nRep, n);
  ns = netPer(hitX.a, identX.a, nRep, n);
  r = addRow("hit, 1 INTEGER arg", N, ns, "point lookup (C fn)", floorNs);
  r->eTarget = 1; r->target = 1.5;

  scanFree(&scan); scanFree(&identX); scanFree(&floorX); scanFree(&hitX);
  sqlite3_finalize(pHitStmt);

  /* The 40-byte TEXT hit: the cache refilled with N text keys, the
  ** floor's table with the same rows holding the text. */
  queryInt("SELECT cachier_clear()", 0, 0);
  exec("BEGIN; DELETE FROM t;"
       "INSERT INTO t(k, a, v) SELECT bkey(x), s, payload(x) FROM mem.q;"
       "COMMIT;");
  t = populate("s", N);
  note("fill: %lld misses (40-byte TEXT key) in one transaction: %.2f s, %.2f µs each",
       (long long)N, t/1e9, t/1e3/(double)N);
  nMiss0 = statMisses();
  scanInit(&identS, "ident(s)");
  scanInit(&identX, "ident(x)");
  scanInit(&floorT, "lookup(x)");
  scanInit(&hitS, "memoize('payload', s)");
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, n);
    scanRun(&floorT, i, n);
    scanRun(&identS, i, n);
    scanRun(&hitS, i, n);
  }
  if( statMisses()!=nMiss0 ) fail("hits", "a TEXT hit measurement missed");
  floorNs = netPer(floorT.a, identX.a, nRep, n);
  ns = netPer(hitS.a, identS.a, nRep, n);
  r = addRow("hit, 40-byte TEXT arg", N, ns, "point lookup (C fn)", floorNs);
  r->eTarget = 1; r->target = 1.5;
  scanFree(&identS); scanFree(&identX); scanFree(&floorT); scanFree(&hitS);

  addRow("hit, 1 INTEGER arg, one statement per call", N,
         netPer(aHitStmt, aIdentStmt, nRep, nStmt),
         "point lookup, one statement per call",
         netPer(aFloorStmt, aIdentStmt, nRep, nStmt));
  sqlite3_finalize(pIdentStmt);
  sqlite3_finalize(pFloorStmt);
}

/* Add the row of a stored-miss measurement: aMiss and its floor aFloor,
** both net of aBase (the function called directly). eTarget: the 10 µs
** target applies. */
static void addMissRow(const char *zName, int64_t N, double *aMiss,
                       double *aBase, double *aFloor, int nRep, int64_t nMiss,
                       int eTarget){
  Row *r = addRow(zName, N, netPer(aMiss, aBase, nRep, nMiss),
                  "INSERT OR REPLACE 100-byte row (C fn)",
                  netPer(aFloor, aBase, nRep, nMiss));
  if( eTarget ){ r->eTarget = 2; r->target = 10000; }
}

/* Stored misses in autocommit made by one SELECT over a table of fresh
** keys in main (the shape of "SELECT memoize('geocode', address) FROM
** customers"): the outer statement holds the read transaction and each
** stored miss commits on its own. */
static void benchMissScan(int64_t N, int nRep, int64_t nMiss,
                          const char *zName, int eTarget){
  sqlite3_stmt *pBase = prep("SELECT count(payload_m(x)) FROM fresh");
  sqlite3_stmt *pMiss = prep("SELECT count(memoize('payload_m', x)) FROM fresh");
  sqlite3_stmt *pFloor = prep("SELECT count(store(x)) FROM fresh");
  sqlite3_stmt *pFill = prep("WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL"
      " SELECT i+1 FROM c WHERE i<?2) INSERT INTO fresh SELECT i FROM c");
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  int i;
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh;
    g_fresh += nMiss;
    exec("DELETE FROM fresh");
    sqlite3_bind_int64(pFill, 1, base);
    sqlite3_bind_int64(pFill, 2, base+nMiss-1);
    if( sqlite3_step(pFill)!=SQLITE_DONE ) failDb("fill fresh");
    sqlite3_reset(pFill);
    timeStmt(pBase, 0, 0, nMiss);                  /* warm-up */
    aBase[i] = timeStmt(pBase, 0, 0, nMiss);
    aMiss[i] = timeStmt(pMiss, 0, 0, nMiss);
    aFloor[i] = timeStmt(pFloor, 0, 0, nMiss);
    dropMisses(base, nMiss);
  }
  addMissRow(zName, N, aMiss, aBase, aFloor, nRep, nMiss, eTarget);
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
  sqlite3_finalize(pFill);
}

/* Stored misses in autocommit, one statement per miss. */
static void benchMissAutocommit(int64_t N, int nRep, int64_t nMiss,
                                const char *zName, int eTarget){
  sqlite3_stmt *pBase = prep("SELECT payload_m(?1)");
  sqlite3_stmt *pMiss = prep("SELECT memoize('payload_m', ?1)");
  sqlite3_stmt *pFloor = prep("SELECT store(?1)");
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  int i;
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh;
    g_fresh += nMiss;
    timeLoop(pBase, 0, base, nMiss);               /* warm-up */
    aBase[i] = timeLoop(pBase, 0, base, nMiss);
    aMiss[i] = timeLoop(pMiss, 0, base, nMiss);
    aFloor[i] = timeLoop(pFloor, 0, base, nMiss);
    dropMisses(base, nMiss);
  }
  addMissRow(zName, N, aMiss, aBase, aFloor, nRep, nMiss, eTarget);
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
}

/* Stored misses inside one BEGIN..COMMIT (COMMIT timed). */
static void benchMissTxn(int64_t N, int nRep, int64_t nMiss){
#define FRESH "WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i+1 FROM c" \
              " WHERE i<?2) "
  sqlite3_stmt *pBase = prep(FRESH "SELECT count(payload_m(i)) FROM c");
  sqlite3_stmt *pMiss = prep(FRESH "SELECT count(memoize('payload_m', i)) FROM c");
  sqlite3_stmt *pFloor = prep(FRESH "SELECT count(store(i)) FROM c");
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  int i;
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh, t0;
    g_fresh += nMiss;
    timeStmt(pBase, base, base+nMiss-1, nMiss);   /* warm-up */
    aBase[i] = timeStmt(pBase, base, base+nMiss-1, nMiss);
    t0 = nowNs();
    exec("BEGIN");
    timeStmt(pMiss, base, base+nMiss-1, nMiss);
    exec("COMMIT");
    aMiss[i] = (double)(nowNs() - t0);
    t0 = nowNs();
    exec("BEGIN");
    timeStmt(pFloor, base, base+nMiss-1, nMiss);
    exec("COMMIT");
    aFloor[i] = (double)(nowNs() - t0);
    dropMisses(base, nMiss);
  }
  addMissRow("stored miss, one BEGIN..COMMIT (WAL)", N, aMiss, aBase, aFloor,
             nRep, nMiss, 0);
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
#undef FRESH
}

static void benchSize(const char *zExt, int64_t N){
  int nRep = MAX_REPS;
  int64_t t0 = nowNs();
  int64_t nTxn = N/5<20000 ? N/5 : 20000;
  int64_t nAuto = N/10<2000 ? N/10 : 2000;
  if( nTxn<1 ) nTxn = 1;
  if( nAuto<1 ) nAuto = 1;

  openDb(zExt, N);
  makeKeys(N);
  /* The floor's table: N rows, filled in the same random key order. */
  exec("BEGIN;"
       "INSERT OR REPLACE INTO t(k, a, v) SELECT bkey(x), x, payload(x)"
       " FROM mem.q;"
       "COMMIT;");

  benchHits(N, nRep);
  benchMissTxn(N, nRep, nTxn);
  benchMissScan(N, nRep, nAuto,
      "stored miss, WAL sync=NORMAL, autocommit, one SELECT over a table", 1);
  benchMissAutocommit(N, nRep, nAuto,
      "stored miss, WAL sync=NORMAL, autocommit, one statement per miss", 0);
  exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
  benchMissAutocommit(N, 5, 40,
      "stored miss, DELETE journal sync=FULL, autocommit", 0);
  closeDb();
  note("%lld entries: %.1f s in all", (long long)N, (double)(nowNs()-t0)/1e9);
}

int main(int argc, char **argv){
  const char *zExt = argc>1 ? argv[1] : "./cachier.so";
  int64_t aSize[8] = { 10000, 1000000 };
  int nSize = 2, i;
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  char zVersion[64] = "?";
  char *zErr = 0;

  if( argc>2 ){
    for(nSize=0; nSize<8 && nSize+2<argc; nSize++){
      aSize[nSize] = atoll(argv[nSize+2]);
      if( aSize[nSize]<10 ) fail("usage", "bench EXTENSION [ENTRIES ...]");
    }
  }
  /* The version, and an early check that the extension loads. */
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) fail("open", ":memory:");
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExt, "sqlite3_cachier_init", &zErr) ){
    fail("load_extension", zErr);
  }
  if( sqlite3_prepare_v2(db, "SELECT cachier_version()", -1, &pStmt, 0)==0
   && sqlite3_step(pStmt)==SQLITE_ROW ){
    snprintf(zVersion, sizeof(zVersion), "%s", sqlite3_column_text(pStmt, 0));
  }
  sqlite3_finalize(pStmt);
  sqlite3_close(db);

  printf("cachier %s, SQLite %s; median of %d reps (stored miss, DELETE journal: "
         "5 reps of 40); hits timed over up to %d keys per rep\n\n",
         zVersion, sqlite3_libversion(), MAX_REPS, HIT_KEYS);
  fflush(stdout);
  for(i=0; i<nSize; i++) benchSize(zExt, aSize[i]);
  printResults();
  free(g_aPerm);
  return 0;
}
