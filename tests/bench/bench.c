/*
** bench.c - cachier benchmarks, each beside a floor measured in the same run.
**
**   tests/bench/bench ./cachier.so [TEST.so] [ENTRIES ...]     (make bench)
**
** Prints one markdown table of median ns per call, then a PASS/FAIL line
** per target. Targets are informational: the exit status is 0 unless a SQL
** error occurs (then 1). ENTRIES defaults to 10000 1000000. TEST.so is the
** test build (tests/cachier_test.so, with cachier_test_inflight()); without
** it the in-flight marking rows are left out. The Redis rows run when the
** environment names a server: CACHIER_REDIS_PORT (on 127.0.0.1) and,
** optionally, CACHIER_BENCH_REDIS_CPU, the vCPU the server is pinned to
** (make bench starts a redis-server of its own and sets both).
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
**   - Staleness: the same INTEGER hit with payload configured in
**     cachier_functions, switched between passes of the same rep (a
**     settings write applies from the next statement):
**       stale_after '1 day': every hit also reads created and checks it;
**           compared with the plain hit of the same reps.
**       stale_after 0.000001, next_time 1: every entry is stale. The first
**           stale hit of an entry marks it for refresh (one UPDATE, which
**           commits on its own: autocommit); rep i marks the i-th of nRep
**           chunks of the hit keys, warmed by plain hits first. Then the
**           stale hits with the refresh already pending (serve the stale
**           value, write nothing: checked with total_changes) are timed
**           interleaved with plain fresh hits. cachier_stats must count
**           every call as a stale hit and none as a miss.
**   - In-flight marks (with TEST.so only): after the rows above, the
**     connection is reopened on the same file with the test build, in WAL
**     with synchronous=NORMAL, and the stored misses of (a) and of one
**     statement per miss are timed with cachier_test_inflight(1) and (0):
**     each rep alternates blocks of 500 misses of each setting (on, off,
**     off, on, ... or the reverse, by turns), each block on its own fresh
**     keys and net of payload_m() itself, after one untimed block of each
**     (the side file's opening). The row gives the median over reps of
**     (on - off) per miss; its floor is the miss with marks off, its
**     ratio is on / off.
**
** zstd compression, after the sizes, on a database of its own (10,000 keys
** in q, WAL, synchronous=NORMAL). C functions return deterministic JSON
** text for key x: doc_1k (1,024 bytes: a pretty-printed page of analytics
** events), doc_64k (65,536 bytes: a compact export of orders) and rec (a
** user record of 200 to 2,000 bytes, valid JSON: nested name and address,
** roles, orders, and a memo that pads it to its pseudo-random size; the
** fixed part makes the shortest about 240). Each is
** registered as NAME (default settings: compressed), NAME_raw
** (compress_min 'none'), and NAME_m, NAME_raw_m for the stored misses.
** NAME and NAME_raw are filled with the 10,000 keys, one transaction each.
**   - Ratio rows: sum(bytes) / sum(stored_bytes) of NAME's entries in
**     cachier_entries (no ns).
**   - Hits: memoize('NAME', x) and memoize('NAME_raw', x) over the first
**     10,000 keys of q (1,000 for 64 KB), net of ident(x), interleaved
**     rep by rep as above. The target's reference is the raw hit plus the
**     decompression alone of the same frames, timed in each rep in C:
**     ZSTD_decompressDCtx (a reused DCtx, one reused output buffer) of
**     frames the bench makes as cachier does (level 3, checksum flag, a
**     reused CCtx; checked to be the size cachier stored; noted if not).
**   - Stored misses: 2,000 fresh keys a rep (300 for 64 KB) under NAME_m
**     and under NAME_raw_m, each in one BEGIN..COMMIT (COMMIT timed; the
**     order alternates by rep; each after an untimed wal_checkpoint
**     (TRUNCATE), so each pays the checkpoints of its own pages), net of
**     NAME_m() called directly on the same keys; both are cleared after
**     each rep. The target's reference is the raw miss plus ZSTD_compress2
**     alone of the same values (level 3, checksum flag, a reused CCtx).
**   - Dictionary: rec is filled with default settings (values under
**     compress_min 512 stay raw), then cachier_train('rec'),
**     cachier_clear('rec'), and filled again (with the dictionary); rec_m
**     gets its own dictionary the same way. Hits and stored misses as
**     above; the references use a DDict / CDict (level 3) of the
**     function's dictionary, read from cachier_dict. No targets.
**
** Stores, last, on a database of their own (10,000 keys in q, WAL,
** synchronous=NORMAL). The C functions val_int(x) (an 8-byte INTEGER),
** payload(x) (the 100-byte blob) and blob64k(x) (65,536 deterministic,
** incompressible bytes) are memoized as st_KIND_STORE (KIND int, b100,
** b64k) in each store: main, file:NAME (the database's name with
** "-cache.db" for ".db", relative to its directory; deleted afterwards)
** and memory; all with compress_min 'none', each filled in one
** BEGIN..COMMIT of main with its keys (the 64 KB ones with the first 1,000
** keys of q only). The floors' tables t_int, t and t_64k hold the same
** values in main, keyed and filled like t above.
**   - Hits with the hot tier off (hot_bytes 0 in the '*' row), so each is
**     a B-tree lookup: memoize('st_KIND_STORE', x) over the kind's keys,
**     net of ident(x), the three stores in turns by rep, beside the floor
**     lookup_KIND(x) (the point lookup on the table of the same values)
**     in the same reps. The main-store row's floor is that lookup; the
**     file: and memory rows' floor is the main-store hit of the same
**     kind, same reps. Target: file: <= 1.5x main, for each kind.
**   - Hot-tier hits (hot_bytes 64 MB: the 10,000 values fit) of the
**     100-byte value on the file: store and on main (WAL). A value enters
**     the tier only from a lookup whose snapshot is known to be the
**     store's current version: the scan of mem.q does not read main, so
**     cachier's first read starts main's snapshot (at a version it notes)
**     and the scan's hits fill the tier: a note gives main's hit warmed by
**     the scan alone. The rows' tiers are
**     filled by one statement per key (SELECT memoize(..., ?1)), then
**     timed as every hit (warm-up pass, then the timed pass over mem.q),
**     with nothing committed on main or on the cache file in between
**     (checked: total_changes, and cachier_stats counts every call a hit).
**     ns/call is net of ident(x) like every hit; the floor is the trivial
**     C function call, ident(x) net of the bare scan (SELECT count(x)),
**     in the same reps. Target: <= 3x. A note gives the hit net of the
**     bare scan and the same hit with the tier off.
**   - Stored misses on the file: store: st_b100_file_m (payload), 2,000
**     fresh keys a rep, autocommit, one statement per miss, and one SELECT
**     over the table fresh (the store groups its writes across statements:
**     a group commits after 256 writes or 10 ms, on its flusher thread);
**     net
**     of payload_m() called directly in the same statement shape, cleared
**     after each rep (cachier_clear must find every miss). Both with main
**     in WAL (synchronous=NORMAL), then in journal_mode=DELETE,
**     synchronous=FULL. The floor is the absolute target, 10 µs per miss;
**     in WAL a note gives store(x) (the floor of the stored misses above)
**     in the same reps, for scale.
**
** Redis, last, on a database of its own (10,000 keys in q, WAL,
** synchronous=NORMAL), against the redis-server on 127.0.0.1:PORT. A
** loopback round trip costs ~8 µs with client and server on one vCPU and
** ~10x that across two of this VM's vCPUs, so the bench runs these rows
** pinned to the server's vCPU (CACHIER_BENCH_REDIS_CPU; a note gives both
** affinities and, for scale, the raw GET from the other vCPU). The C
** functions val_int(x), payload(x) and blob4k(x) (4,096 incompressible
** bytes) are memoized as st_redis_KIND (KIND int, b100, b4k) with store
** 'redis://127.0.0.1:PORT/0?prefix=bench' and compress_min 'none'; each is
** filled with the 10,000 keys by one SELECT (what an earlier run left is
** cleared first). The floors run on a hiredis connection of the bench's
** own: rget_KIND(x), a C function doing a synchronous redisCommand GET of
** a string key "bench-raw:KIND:x" that holds the same bytes (filled
** pipelined; checked equal to what memoize returns), returning them as
** st_redis_KIND does.
**   - Hits: memoize('st_redis_KIND', x) over the 10,000 keys, net of
**     ident(x), beside rget_KIND(x) in the same reps, the order of the two
**     turning by rep (each pass after its warm-up pass). Target: <= 1.3x
**     the raw GET. A note gives the raw GET in a bare C loop (no SQL).
**   - Stored misses: st_redis_m (payload) on 2,000 fresh keys a rep, one
**     SELECT over the table fresh, autocommit, net of payload_m(); floor
**     rset(x), a raw SET of the same 100 bytes under a fresh key, same
**     statement shape and reps. The misses are cleared after each rep
**     (cachier_clear must find every one). No target.
**   - Counts: one more pass of the 100-byte hits, of rget_b100 and of 200
**     stored misses, with nothing else talking to the server, note per
**     call the round trips (reads the server processed, INFO stats),
**     the commands it ran (INFO commandstats: those run by Lua scripts
**     included) and the wall time split into the bench process's CPU
**     time and the server's (INFO cpu): on one vCPU they add up.
** No hot-tier row: the Redis store has no hot tier (no xVersion).
** The floors' keys and the functions' entries are deleted afterwards.
*/
#define _GNU_SOURCE               /* sched_setaffinity(), CPU_SET() */
#include <hiredis/hiredis.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define MAX_REPS      7
#define MAX_ROWS      128
#define PAYLOAD_BYTES 100
#define TEXT_BYTES    40
#define WARM_KEYS     20000     /* keys in a warm-up pass, at most */
#define HIT_KEYS      200000    /* keys in a timed hit pass, at most */
#define STMT_KEYS     2000      /* one-statement-per-call passes */

static sqlite3 *g_db;
static char g_zPath[256];             /* current database file, or "" */
static sqlite3_stmt *g_pLookup;       /* SELECT v FROM t WHERE k=?1 */
static sqlite3_stmt *g_pStore;        /* INSERT OR REPLACE INTO t ... */
static sqlite3_stmt *g_pLookupInt;    /* the same on t_int (store rows) */
static sqlite3_stmt *g_pLookup64k;    /* the same on t_64k (store rows) */
static int64_t g_fresh = 1000000000000LL;  /* next never-used key */
static int64_t *g_aPerm;              /* the key sequence, q's x column */
static char g_zCacheFile[300];        /* the store rows' file: store, or "" */
static void removeCacheFile(void);

/* ------------------------------------------------------------- helpers */

static void removeFiles(void){
  static const char *azSuffix[] = { "", "-wal", "-shm", "-journal",
                                     "-cachier-locks" };
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
  removeCacheFile();
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

static int isNumber(const char *z){
  if( *z==0 ) return 0;
  for(; *z; z++) if( *z<'0' || *z>'9' ) return 0;
  return 1;
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

/* lookup(x): v of t's row for x, by a reused prepared point lookup.
** lookup_int(x) and lookup_64k(x), the same on the tables of the store
** rows (their statement is the user data). */
static void lookupFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
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
static void valIntFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  sqlite3_result_int64(ctx, (int64_t)(mix64(valueSeed(argv[0])) >> 2));
}

/* n deterministic (and incompressible) bytes of seed; n a multiple of 8. */
static void fillBlob(uint64_t seed, unsigned char *a, int n){
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
#define BIG_BYTES 65536
#define B4K_BYTES 4096
static void blob64kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  blobResult(ctx, argv[0], BIG_BYTES);
}
static void blob4kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  blobResult(ctx, argv[0], B4K_BYTES);
}

/* The memoized functions of the store rows: st_KIND_STORE for each kind
** of value and each store (main, file, mem), all of one C function per
** kind, and st_b100_file_m (payload) for the stored misses. The floor of
** a kind is a point lookup on a table of main holding the same values. */
typedef struct StoreKind StoreKind;
struct StoreKind {
  const char *zKind;          /* in the function names */
  const char *zLabel;         /* for the rows */
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  const char *zDirect;        /* the C function under its own name */
  const char *zTable;         /* the floor's table */
  const char *zLookup;        /* the floor */
  int bBig;                   /* timed over STORE_BIG_KEYS keys only */
};
static const StoreKind g_aKind[] = {
  { "int", "INTEGER value (8 B)", valIntFunc, "val_int", "t_int",
    "lookup_int(x)", 0 },
  { "b100", "100-byte blob", payloadFunc, "payload", "t", "lookup(x)", 0 },
  { "b64k", "64 KB blob", blob64kFunc, "blob64k", "t_64k",
    "lookup_64k(x)", 1 },
};
#define N_KIND  ((int)(sizeof(g_aKind)/sizeof(g_aKind[0])))
#define N_STORE 3
static const char *g_azStore[N_STORE] = { "main", "file", "mem" };
static const char *g_azStoreLabel[N_STORE] = { "main", "file:", "memory" };

/* ------------------------------------ JSON values for the zstd rows */

/* A deterministic writer of JSON text: writes past cap are dropped, so a
** generator can run on and be cut at exactly cap bytes. */
typedef struct Gen Gen;
struct Gen {
  char *z;
  int n;            /* bytes written */
  int cap;
  uint64_t rng;
};

static uint32_t genRand(Gen *g, uint32_t n){
  g->rng = mix64(g->rng);
  return (uint32_t)((g->rng >> 32) % n);
}

static void genPut(Gen *g, const char *z){
  size_t k = strlen(z);
  if( g->n + (int)k > g->cap ) k = (size_t)(g->cap - g->n);
  memcpy(g->z + g->n, z, k);
  g->n += (int)k;
}

static void genUint(Gen *g, uint64_t v){
  char a[24];
  int i = 23;
  a[i] = 0;
  do{ a[--i] = (char)('0' + v%10); v /= 10; }while( v );
  genPut(g, a+i);
}

static void genCents(Gen *g, uint64_t v){           /* v/100, 2 decimals */
  char a[4];
  genUint(g, v/100);
  a[0] = '.'; a[1] = (char)('0' + (v/10)%10); a[2] = (char)('0' + v%10);
  a[3] = 0;
  genPut(g, a);
}

static void genTime(Gen *g, uint64_t t){   /* "2023-MM-DDTHH:MM:SSZ" */
  char a[24];
  unsigned mo = (unsigned)(t/2592000)%12 + 1, d = (unsigned)(t/86400)%28 + 1;
  unsigned h = (unsigned)(t/3600)%24, mi = (unsigned)(t/60)%60;
  unsigned s = (unsigned)(t%60);
  snprintf(a, sizeof(a), "\"2023-%02u-%02uT%02u:%02u:%02uZ\"", mo, d, h, mi, s);
  genPut(g, a);
}

static void genUuid(Gen *g){
  static const char hex[] = "0123456789abcdef";
  uint64_t r1 = mix64(g->rng ^ 1), r2 = mix64(g->rng ^ 2);
  char a[40];
  int k, j = 0;
  for(k=0; k<32; k++){
    a[j++] = hex[((k<16 ? r1 : r2) >> (4*(k&15))) & 15];
    if( k==7 || k==11 || k==15 || k==19 ) a[j++] = '-';
  }
  a[j] = 0;
  g->rng = mix64(g->rng);
  genPut(g, a);
}

#define PICK(g, a) (a[genRand(g, sizeof(a)/sizeof(a[0]))])
static const char *azFirst[] = {
  "James","Mary","Robert","Patricia","John","Jennifer","Michael","Linda",
  "David","Elizabeth","William","Barbara","Richard","Susan","Joseph",
  "Jessica","Thomas","Sarah","Charles","Karen","Wei","Aisha","Carlos","Yuki",
  "Olga","Ahmed","Priya","Lars","Fatima","Mateo","Chloe","Noah"
};
static const char *azLast[] = {
  "Smith","Johnson","Williams","Brown","Jones","Garcia","Miller","Davis",
  "Rodriguez","Martinez","Hernandez","Lopez","Gonzalez","Wilson","Anderson",
  "Thomas","Taylor","Moore","Jackson","Martin","Lee","Perez","Thompson",
  "White","Nakamura","Kowalski","Schmidt","Rossi","Dubois","Novak","Singh",
  "Okafor"
};
static const char *azDomain[] = {
  "example.com","mail.com","gmail.com","outlook.com","corp.example.net",
  "yahoo.com","proton.me","company.org"
};
static const char *azCity[] = {      /* "city" and "country" members */
  "\"city\":\"Springfield\",\"country\":\"US\"",
  "\"city\":\"Lyon\",\"country\":\"FR\"",
  "\"city\":\"Berlin\",\"country\":\"DE\"",
  "\"city\":\"Osaka\",\"country\":\"JP\"",
  "\"city\":\"Toronto\",\"country\":\"CA\"",
  "\"city\":\"Madrid\",\"country\":\"ES\"",
  "\"city\":\"Krakow\",\"country\":\"PL\"",
  "\"city\":\"Austin\",\"country\":\"US\"",
  "\"city\":\"Lagos\",\"country\":\"NG\"",
  "\"city\":\"Pune\",\"country\":\"IN\""
};
static const char *azStreet[] = {
  "Oak St","Maple Ave","Main St","Cedar Rd","Elm St","Park Lane",
  "Lake View Dr","Hill Rd","River Rd","Sunset Blvd"
};
static const char *azProduct[] = {
  "Wireless Mouse","USB-C Cable 2m","Mechanical Keyboard","27\\\" Monitor",
  "Laptop Stand","Noise Cancelling Headphones","Webcam 1080p","Desk Lamp",
  "Ergonomic Chair","HDMI Adapter","Portable SSD 1TB","Phone Case",
  "Coffee Mug","Notebook A5","Backpack","Water Bottle"
};
static const char *azStatus[] = {
  "pending","paid","shipped","delivered","cancelled","returned"
};
static const char *azTag[] = {
  "gift","express","prime","bulk","fragile","promo","b2b","repeat",
  "newsletter","vip"
};
static const char *azRole[] = { "admin","editor","viewer","billing","support" };
static const char *azWord[] = {
  "the","customer","asked","for","delivery","before","noon","please","call",
  "on","arrival","leave","package","at","front","door","invoice","sent",
  "to","billing","address","refund","processed","order","was","updated",
  "and","confirmed","by","phone","email","support","ticket","closed"
};
static const char *azEvent[] = {
  "page_view","add_to_cart","checkout","login","logout","search","click",
  "purchase"
};
static const char *azPath[] = {
  "/products/","/cart/","/checkout/","/search?q=","/account/","/orders/",
  "/help/","/"
};
static const char *azAgent[] = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/118.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
  "Mozilla/5.0 (X11; Linux x86_64) Firefox/119.0",
  "Mozilla/5.0 (Linux; Android 14) Chrome/118.0 Mobile"
};

/* A page of analytics events, pretty-printed (an API response), cut at
** nBytes. */
static void genEvents(Gen *g, int nBytes){
  uint64_t t = genRand(g, 30000000), uid = 0;
  int i;
  genPut(g, "{\n  \"page\": "); genUint(g, 1 + genRand(g, 50));
  genPut(g, ",\n  \"per_page\": 100,\n  \"events\": [\n");
  for(i=0; g->n<nBytes; i++){
    uint32_t iPath = genRand(g, 8);
    if( i==0 || genRand(g, 4)==0 ) uid = 10000 + genRand(g, 90000);
    t += genRand(g, 40);
    if( i ) genPut(g, ",\n");
    genPut(g, "    {\n      \"ts\": "); genTime(g, t);
    genPut(g, ",\n      \"session\": \"s-"); genUint(g, uid*7919 % 1000003);
    genPut(g, "\",\n      \"user_id\": "); genUint(g, uid);
    genPut(g, ",\n      \"event\": \""); genPut(g, PICK(g, azEvent));
    genPut(g, "\",\n      \"path\": \""); genPut(g, azPath[iPath]);
    if( iPath<7 ) genUint(g, genRand(g, 5000));
    genPut(g, "\",\n      \"duration_ms\": "); genUint(g, 20 + genRand(g, 900));
    genPut(g, ",\n      \"ip\": \"10.0."); genUint(g, uid % 256);
    genPut(g, "."); genUint(g, uid/256 % 256);
    genPut(g, "\",\n      \"agent\": \""); genPut(g, azAgent[uid % 5]);
    genPut(g, "\",\n      \"ok\": ");
    genPut(g, genRand(g, 10) ? "true" : "false");
    genPut(g, "\n    }");
  }
}

/* An export of orders, compact JSON, cut at nBytes. */
static void genOrders(Gen *g, int nBytes){
  uint64_t id = 1000000 + genRand(g, 8000000), t = genRand(g, 30000000);
  genPut(g, "{\"orders\":[");
  while( g->n<nBytes ){
    int i, nItem = 1 + (int)genRand(g, 4), nTag = (int)genRand(g, 3);
    const char *zF = PICK(g, azFirst), *zL = PICK(g, azLast);
    uint64_t total = 0;
    if( g->n>11 ) genPut(g, ",");
    genPut(g, "{\"id\":"); genUint(g, id++);
    genPut(g, ",\"uuid\":\""); genUuid(g);
    genPut(g, "\",\"customer\":{\"id\":"); genUint(g, 10000 + genRand(g, 90000));
    genPut(g, ",\"name\":\""); genPut(g, zF); genPut(g, " "); genPut(g, zL);
    genPut(g, "\",\"email\":\""); genPut(g, zF); genPut(g, ".");
    genPut(g, zL); genUint(g, genRand(g, 100)); genPut(g, "@");
    genPut(g, PICK(g, azDomain));
    genPut(g, "\",\"phone\":\"+1-"); genUint(g, 200 + genRand(g, 800));
    genPut(g, "-555-"); genUint(g, 1000 + genRand(g, 9000));
    genPut(g, "\",\"address\":\""); genUint(g, 1 + genRand(g, 999));
    genPut(g, " "); genPut(g, PICK(g, azStreet)); genPut(g, "\",");
    genPut(g, PICK(g, azCity));
    genPut(g, "},\"status\":\""); genPut(g, PICK(g, azStatus));
    genPut(g, "\",\"created\":"); genTime(g, t);
    t += 1 + genRand(g, 600);
    genPut(g, ",\"items\":[");
    for(i=0; i<nItem; i++){
      uint64_t price = 199 + genRand(g, 20000), qty = 1 + genRand(g, 3);
      total += price*qty;
      genPut(g, i ? ",{\"sku\":\"SKU-" : "{\"sku\":\"SKU-");
      genUint(g, 10000 + genRand(g, 90000));
      genPut(g, "\",\"name\":\""); genPut(g, PICK(g, azProduct));
      genPut(g, "\",\"qty\":"); genUint(g, qty);
      genPut(g, ",\"price\":"); genCents(g, price); genPut(g, "}");
    }
    genPut(g, "],\"total\":"); genCents(g, total);
    genPut(g, ",\"currency\":\"USD\",\"tags\":[");
    for(i=0; i<nTag; i++){
      genPut(g, i ? ",\"" : "\""); genPut(g, PICK(g, azTag)); genPut(g, "\"");
    }
    genPut(g, "]}");
  }
}

/* A user record of REC_MIN..REC_MAX bytes (a pseudo-random size; a record
** whose fixed part is longer than its size keeps the fixed part), compact
** JSON: nested name and address, roles, recent orders, and a free-text
** memo that pads it to its size. */
#define REC_MIN 200
#define REC_MAX 2000
static void genRecord(Gen *g, int64_t x){
  int nTarget = REC_MIN + (int)genRand(g, REC_MAX - REC_MIN + 1);
  const char *zF = PICK(g, azFirst), *zL = PICK(g, azLast);
  int i, nRole = 1 + (int)genRand(g, 2), nOrder, iMemo;
  genPut(g, "{\"id\":"); genUint(g, (uint64_t)x);
  genPut(g, ",\"name\":{\"first\":\""); genPut(g, zF);
  genPut(g, "\",\"last\":\""); genPut(g, zL);
  genPut(g, "\"},\"email\":\""); genPut(g, zF); genPut(g, ".");
  genPut(g, zL); genPut(g, "@"); genPut(g, PICK(g, azDomain));
  genPut(g, "\",\"age\":"); genUint(g, 18 + genRand(g, 60));
  genPut(g, ",\"phone\":\"+1-"); genUint(g, 200 + genRand(g, 800));
  genPut(g, "-555-"); genUint(g, 1000 + genRand(g, 9000));
  genPut(g, "\",\"balance\":"); genCents(g, genRand(g, 500000));
  genPut(g, ",\"address\":{\"street\":\""); genUint(g, 1 + genRand(g, 999));
  genPut(g, " "); genPut(g, PICK(g, azStreet)); genPut(g, "\",");
  genPut(g, PICK(g, azCity)); genPut(g, "},\"roles\":[");
  for(i=0; i<nRole; i++){
    genPut(g, i ? ",\"" : "\""); genPut(g, PICK(g, azRole)); genPut(g, "\"");
  }
  genPut(g, "],\"orders\":[");
  nOrder = (nTarget - g->n - 40)/140;     /* about 140 bytes an order */
  if( nOrder<0 ) nOrder = 0;
  if( nOrder>1 ) nOrder = nOrder/2 + (int)genRand(g, (uint32_t)(nOrder-nOrder/2+1));
  for(i=0; i<nOrder; i++){
    genPut(g, i ? ",{\"id\":" : "{\"id\":");
    genUint(g, 500000 + (uint64_t)x*16 + (uint64_t)i);
    genPut(g, ",\"date\":"); genTime(g, genRand(g, 30000000));
    genPut(g, ",\"product\":\""); genPut(g, PICK(g, azProduct));
    genPut(g, "\",\"qty\":"); genUint(g, 1 + genRand(g, 3));
    genPut(g, ",\"price\":"); genCents(g, 199 + genRand(g, 20000));
    genPut(g, ",\"status\":\""); genPut(g, PICK(g, azStatus));
    genPut(g, "\"}");
  }
  genPut(g, "],\"memo\":\"");
  iMemo = g->n;
  while( g->n < nTarget-2 ){
    genPut(g, PICK(g, azWord));
    genPut(g, " ");
  }
  if( g->n > nTarget-2 ) g->n = nTarget-2 > iMemo ? nTarget-2 : iMemo;
  genPut(g, "\"}");
}

/* The memoized functions of the zstd rows: NAME(x) returns the document
** or record of key x as TEXT. Each is registered under four names, all
** the same C function: NAME (default settings: compressed), NAME_raw
** (compress_min 'none'), and NAME_m, NAME_raw_m for the stored misses
** (cleared after each rep). */
#define DOC_EVENTS 1
#define DOC_ORDERS 2
#define DOC_RECORD 3
typedef struct Doc Doc;
struct Doc {
  const char *zName;
  const char *zLabel;         /* for the rows */
  int eKind;
  int nBytes;                 /* exact size; DOC_RECORD: REC_MAX at most */
  int nHit;                   /* keys per hit pass */
  int nMiss;                  /* stored misses per rep */
};
static const Doc g_aDoc[] = {
  { "doc_1k", "1 KB JSON text", DOC_EVENTS, 1024, 10000, 2000 },
  { "doc_64k", "64 KB JSON text", DOC_ORDERS, 65536, 1000, 300 },
  { "rec", "JSON record, 200-2000 B, dictionary", DOC_RECORD, REC_MAX,
    10000, 2000 },
};
static const char *g_azDocSuffix[] = { "", "_raw", "_m", "_raw_m" };

/* Write doc(x) into z (room for p->nBytes); returns its length. */
static int docMake(const Doc *p, int64_t x, char *z){
  Gen g;
  g.z = z; g.n = 0; g.cap = p->nBytes;
  g.rng = mix64((uint64_t)x ^ (uint64_t)p->eKind*0x9e3779b97f4a7c15ULL);
  switch( p->eKind ){
    case DOC_EVENTS: genEvents(&g, p->nBytes); break;
    case DOC_ORDERS: genOrders(&g, p->nBytes); break;
    default:         genRecord(&g, x); break;
  }
  return g.n;
}

static void docFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const Doc *p = (const Doc*)sqlite3_user_data(ctx);
  char *z = sqlite3_malloc(p->nBytes);
  (void)argc;
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, z, docMake(p, sqlite3_value_int64(argv[0]), z),
                      sqlite3_free);
}

/* ----------------------------------------------------------- results */

typedef struct Row Row;
struct Row {
  char zName[128];
  int64_t nEntries;
  double ns;
  char zFloor[96];
  double floorNs;             /* <0: no floor */
  double ratioNs;             /* >0: the ratio is ratioNs/floorNs, not ns/ */
  int eTarget;                /* 0 none, 1 ratio <= target, 2 ns <= target */
  double target;
  char zVs[64];               /* what a ratio target is of ("floor") */
  double shownRatio;          /* >0: a ratio-only row (no ns): this ratio,
                              ** of what zFloor names */
};
static Row g_aRow[MAX_ROWS];
static int g_nRow;
#define MAX_NOTES 64
static char g_azNote[MAX_NOTES][320];
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
  snprintf(r->zVs, sizeof(r->zVs), "floor");
  return r;
}

/* Give r the target "ratio <= target x zVs". */
static void ratioTarget(Row *r, double target, const char *zVs){
  r->eTarget = 1;
  r->target = target;
  snprintf(r->zVs, sizeof(r->zVs), "%s", zVs);
}

static double rowRatio(const Row *r){
  return (r->ratioNs>0 ? r->ratioNs : r->ns)/r->floorNs;
}

static void note(const char *zFmt, ...)
    __attribute__((format(printf, 1, 2)));
static void note(const char *zFmt, ...){
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

static void fmtEntries(char *z, size_t n, int64_t v){
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

/* Open g_zPath on g_db with the extension zExt and the C functions. */
static void openConn(const char *zExt){
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
    /* Not DETERMINISTIC: nothing may be factored out of the timed loops. */
    if( sqlite3_create_function(g_db, aFn[i].zName, 1, SQLITE_UTF8, 0,
                                aFn[i].x, 0, 0)!=SQLITE_OK ){
      failDb("create_function");
    }
  }
  for(i=0; i<(size_t)N_KIND; i++){
    int k;
    char zName[64];
    for(k=0; k<N_STORE; k++){
      snprintf(zName, sizeof(zName), "st_%s_%s", g_aKind[i].zKind,
               g_azStore[k]);
      if( sqlite3_create_function(g_db, zName, 1, SQLITE_UTF8, 0,
                                  g_aKind[i].xFunc, 0, 0)!=SQLITE_OK ){
        failDb("create_function");
      }
    }
    if( strcmp(g_aKind[i].zDirect, "payload")!=0
     && sqlite3_create_function(g_db, g_aKind[i].zDirect, 1, SQLITE_UTF8, 0,
                                g_aKind[i].xFunc, 0, 0)!=SQLITE_OK ){
      failDb("create_function");
    }
  }
  /* Hits are B-tree hits unless a section says otherwise: its figures
  ** are the store's (the hot tier has rows of its own). */
  exec("INSERT OR REPLACE INTO cachier_functions(name, hot_bytes)"
       " VALUES ('*', 0)");
  if( sqlite3_create_function(g_db, "st_b100_file_m", 1, SQLITE_UTF8, 0,
                              payloadFunc, 0, 0)!=SQLITE_OK
   || sqlite3_create_function(g_db, "lookup_int", 1, SQLITE_UTF8,
                              (void*)&g_pLookupInt, lookupFunc, 0, 0)
      !=SQLITE_OK
   || sqlite3_create_function(g_db, "lookup_64k", 1, SQLITE_UTF8,
                              (void*)&g_pLookup64k, lookupFunc, 0, 0)
      !=SQLITE_OK ){
    failDb("create_function");
  }
  for(i=0; i<sizeof(g_aDoc)/sizeof(g_aDoc[0]); i++){
    size_t k;
    for(k=0; k<sizeof(g_azDocSuffix)/sizeof(g_azDocSuffix[0]); k++){
      char zName[64];
      snprintf(zName, sizeof(zName), "%s%s", g_aDoc[i].zName,
               g_azDocSuffix[k]);
      if( sqlite3_create_function(g_db, zName, 1, SQLITE_UTF8,
                                  (void*)&g_aDoc[i], docFunc, 0, 0)
          !=SQLITE_OK ){
        failDb("create_function");
      }
    }
  }
}

static void prepFloorStmts(void){
  g_pLookup = prep("SELECT v FROM t WHERE k=?1");
  g_pStore = prep("INSERT OR REPLACE INTO t(k, v) VALUES(?1, ?2)");
}

static void openDb(const char *zExt, int64_t n, const char *zTag){
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-%lld%s.db",
           (long)getpid(), (long long)n, zTag);
  removeFiles();
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-%lld%s.db",
           (long)getpid(), (long long)n, zTag);
  openConn(zExt);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
       "ATTACH ':memory:' AS mem;"
       "CREATE TABLE mem.q(x INTEGER, s TEXT);"
       "CREATE TABLE t(k INTEGER PRIMARY KEY, a, v BLOB);"
       "CREATE TABLE fresh(x INTEGER);");
  prepFloorStmts();
}

/* Close g_db; the files stay. */
static void closeConn(void){
  sqlite3_finalize(g_pLookup);
  sqlite3_finalize(g_pStore);
  sqlite3_finalize(g_pLookupInt);
  sqlite3_finalize(g_pLookup64k);
  g_pLookup = g_pStore = g_pLookupInt = g_pLookup64k = 0;
  if( sqlite3_close(g_db)!=SQLITE_OK ) failDb("close");
  g_db = 0;
}

static void closeDb(void){
  closeConn();
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

static int64_t statStaleHits(void){
  return queryInt("SELECT stale_hits FROM cachier_stats WHERE fn='payload'",
                  0, 0);
}

/* payload's settings. They apply from the next statement. */
#define SET_PLAIN "DELETE FROM cachier_functions WHERE name='payload'"
#define SET_STALE_AFTER "INSERT OR REPLACE INTO cachier_functions" \
    "(name, stale_after) VALUES ('payload', '1 day')"
#define SET_NEXT_TIME "INSERT OR REPLACE INTO cachier_functions" \
    "(name, stale_after, next_time) VALUES ('payload', 0.000001, 1)"

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

/* SELECT count(zExpr) over the keys of q with lo < rowid <= hi (?1, ?2). */
static sqlite3_stmt *prepRange(const char *zExpr){
  char zSql[200];
  snprintf(zSql, sizeof(zSql),
           "SELECT count(%s) FROM mem.q WHERE rowid>?1 AND rowid<=?2", zExpr);
  return prep(zSql);
}

/* next_time stale hits of the INTEGER cache (see the header): adds the
** row of the stale hits with a refresh pending and the row of the first
** stale hits, which mark it. Leaves the first min(N, HIT_KEYS) entries
** marked and payload's settings plain. */
static void benchStaleHits(int64_t N, int nRep){
  int64_t n = N<HIT_KEYS ? N : HIT_KEYS;
  int64_t nWarm = n<WARM_KEYS ? n : WARM_KEYS;
  int64_t nMiss0 = statMisses(), nStale0 = statStaleHits(), c0;
  sqlite3_stmt *pHitR = prepRange("memoize('payload', x)");
  sqlite3_stmt *pIdentR = prepRange("ident(x)");
  Scan identX, plain, pending;
  double aMark[MAX_REPS];
  double plainNs, ns;
  int i, k;
  Row *r;

  /* The first stale hits: rep i marks the i-th chunk of the n keys. */
  for(i=0; i<nRep; i++){
    int64_t lo = n*i/nRep, hi = n*(i+1)/nRep;
    double tIdent, tMark;
    exec(SET_PLAIN);
    timeStmt(pHitR, lo, hi, hi-lo);          /* warm-up: fresh hits */
    timeStmt(pIdentR, lo, hi, hi-lo);
    tIdent = timeStmt(pIdentR, lo, hi, hi-lo);
    exec(SET_NEXT_TIME);
    c0 = sqlite3_total_changes64(g_db);
    tMark = timeStmt(pHitR, lo, hi, hi-lo);
    if( sqlite3_total_changes64(g_db)-c0!=hi-lo ){
      fail("stale hits", "a first stale hit did not mark its entry");
    }
    aMark[i] = (tMark - tIdent)/(double)(hi-lo);
  }
  sqlite3_finalize(pHitR);
  sqlite3_finalize(pIdentR);

  /* Stale hits with the refresh pending, beside plain fresh hits. */
  scanInit(&identX, "ident(x)");
  scanInit(&plain, "memoize('payload', x)");
  scanInit(&pending, "memoize('payload', x)");
  for(i=0; i<nRep; i++){
    for(k=0; k<2; k++){
      if( (k ^ (i&1))==0 ){
        exec(SET_PLAIN);
        scanRun(&plain, i, n);
      }else{
        exec(SET_NEXT_TIME);
        c0 = sqlite3_total_changes64(g_db);
        scanRun(&pending, i, n);
        if( sqlite3_total_changes64(g_db)!=c0 ){
          fail("stale hits", "a stale hit with its refresh pending wrote");
        }
      }
    }
    scanRun(&identX, i, n);
  }
  exec(SET_PLAIN);
  if( statMisses()!=nMiss0 ) fail("stale hits", "a stale hit missed");
  if( statStaleHits()-nStale0 != n + (int64_t)nRep*(nWarm+n) ){
    fail("stale hits", "not every next_time call was a stale hit");
  }

  plainNs = netPer(plain.a, identX.a, nRep, n);
  ns = netPer(pending.a, identX.a, nRep, n);
  r = addRow("stale hit, next_time (refresh already pending)", N, ns,
             "fresh hit, no stale_after, interleaved", plainNs);
  ratioTarget(r, 2.0, "fresh hit");
  addRow("first stale hit, next_time: marks the refresh (1 write, autocommit)",
         N, median(aMark, nRep), "fresh hit, no stale_after, interleaved",
         plainNs);
  scanFree(&identX); scanFree(&plain); scanFree(&pending);
}

static void benchHits(int64_t N, int nRep){
  int64_t n = N<HIT_KEYS ? N : HIT_KEYS;
  int64_t nStmt = N<STMT_KEYS ? N : STMT_KEYS;
  int64_t nMiss0;
  Scan scan, identX, identS, floorX, hitX, hitAged, floorT, hitS;
  sqlite3_stmt *pIdentStmt, *pFloorStmt, *pHitStmt;
  double aIdentStmt[MAX_REPS], aFloorStmt[MAX_REPS], aHitStmt[MAX_REPS];
  double ns, floorNs, hitNs, agedNs, t;
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
  scanInit(&hitAged, "memoize('payload', x)");
  pIdentStmt = prep("SELECT ident(?1)");
  pFloorStmt = prep("SELECT lookup(?1)");
  pHitStmt = prep("SELECT memoize('payload', ?1)");
  for(i=0; i<nRep; i++){
    scanRun(&scan, i, n);
    scanRun(&identX, i, n);
    scanRun(&floorX, i, n);
    /* The same hits with stale_after set (before or after, by turns). */
    if( i%2==0 ) scanRun(&hitX, i, n);
    exec(SET_STALE_AFTER);
    scanRun(&hitAged, i, n);
    exec(SET_PLAIN);
    if( i%2==1 ) scanRun(&hitX, i, n);
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
  hitNs = netPer(hitX.a, identX.a, nRep, n);
  r = addRow("hit, 1 INTEGER arg", N, hitNs, "point lookup (C fn)", floorNs);
  r->eTarget = 1; r->target = 1.5;
  agedNs = netPer(hitAged.a, identX.a, nRep, n);
  r = addRow("hit, fresh entry, stale_after set", N, agedNs,
             "hit, 1 INTEGER arg (no stale_after)", hitNs);
  ratioTarget(r, 1.1, "hit without stale_after");
  {
    char zE[32];
    fmtEntries(zE, sizeof(zE), N);
    note("hit, fresh entry, stale_after set, %s: %.2fx point lookup (C fn) "
         "(%.0f / %.0f ns); without stale_after %.2fx", zE, agedNs/floorNs,
         agedNs, floorNs, hitNs/floorNs);
  }

  scanFree(&scan); scanFree(&identX); scanFree(&floorX); scanFree(&hitX);
  scanFree(&hitAged);
  sqlite3_finalize(pHitStmt);

  benchStaleHits(N, nRep);

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


/* Make table fresh hold the n never-used keys base..base+n-1 (pFill is
** the recursive INSERT of those keys). */
static void refillFresh(sqlite3_stmt *pFill, int64_t base, int64_t n){
  exec("DELETE FROM fresh");
  sqlite3_bind_int64(pFill, 1, base);
  sqlite3_bind_int64(pFill, 2, base+n-1);
  if( sqlite3_step(pFill)!=SQLITE_DONE ) failDb("fill fresh");
  sqlite3_reset(pFill);
}

/* Stored misses in autocommit, each committing on its own. bScan: made
** by one SELECT over a table of fresh keys in main (the shape of "SELECT
** memoize('geocode', address) FROM customers", where the outer statement
** holds the read transaction); else one statement per miss. */
/* Time nRep reps of nMiss stored misses of memoize(zFn, x) (zFn runs
** payload()) on fresh keys in autocommit: one statement per miss, or one
** SELECT over the table fresh (bScan). Each rep: payload_m() called
** directly in the same statement shape (aBase), the misses (aMiss) and,
** unless zFloor is NULL, the floor zFloor(x) (aFloor: store, or rset for
** the Redis rows); then the misses (and store()'s rows) are dropped, so
** the cache stays at its size. */
static void timeFreshMisses(const char *zFn, int bScan, const char *zFloor,
                            int64_t nMiss, int nRep, double *aBase,
                            double *aMiss, double *aFloor){
  char zSql[128];
  sqlite3_stmt *pBase = prep(bScan ? "SELECT count(payload_m(x)) FROM fresh"
                                   : "SELECT payload_m(?1)");
  sqlite3_stmt *pMiss, *pFloor, *pFill;
  int i;
  snprintf(zSql, sizeof(zSql), bScan
      ? "SELECT count(memoize('%s', x)) FROM fresh"
      : "SELECT memoize('%s', ?1)", zFn);
  pMiss = prep(zSql);
  if( zFloor ){
    snprintf(zSql, sizeof(zSql), bScan ? "SELECT count(%s(x)) FROM fresh"
                                       : "SELECT %s(?1)", zFloor);
  }
  pFloor = zFloor ? prep(zSql) : 0;
  pFill = bScan ? prep("WITH RECURSIVE c(i) AS (SELECT ?1"
      " UNION ALL SELECT i+1 FROM c WHERE i<?2) INSERT INTO fresh"
      " SELECT i FROM c") : 0;
  snprintf(zSql, sizeof(zSql), "SELECT cachier_clear('%s')", zFn);
#define TIME_MISSES(pStmt) (bScan ? timeStmt(pStmt, 0, 0, nMiss) \
                                  : timeLoop(pStmt, 0, base, nMiss))
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh;
    g_fresh += nMiss;
    if( bScan ) refillFresh(pFill, base, nMiss);
    TIME_MISSES(pBase);                            /* warm-up */
    aBase[i] = TIME_MISSES(pBase);
    aMiss[i] = TIME_MISSES(pMiss);
    if( pFloor ){
      aFloor[i] = TIME_MISSES(pFloor);
      dropMisses(base, nMiss);
    }
    if( strcmp(zFn, "payload_m")!=0 && queryInt(zSql, 0, 0)!=nMiss ){
      fail("stored misses", "cachier_clear did not find every miss");
    }
  }
#undef TIME_MISSES
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
  sqlite3_finalize(pFill);
}

static void benchMissAutocommit(int64_t N, int nRep, int64_t nMiss, int bScan,
                                const char *zName, int eTarget){
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  timeFreshMisses("payload_m", bScan, "store", nMiss, nRep, aBase, aMiss,
                  aFloor);
  addMissRow(zName, N, aMiss, aBase, aFloor, nRep, nMiss, eTarget);
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

/* Switch this connection's in-flight marks on or off (test build). */
static void setInflight(int bOn){
  if( queryInt(bOn ? "SELECT cachier_test_inflight(1)"
                   : "SELECT cachier_test_inflight(0)", 0, 0)!=bOn ){
    fail("cachier_test_inflight", "unexpected result");
  }
}

#define INFLIGHT_BLOCK  500      /* misses per block of the same setting */
#define INFLIGHT_BLOCKS 8        /* blocks per setting per rep */

/* One block of nMiss stored misses on fresh keys with in-flight marks on
** or off: adds to *pMiss the ns of the misses and to *pBase those of
** payload_m() itself on other fresh keys, in the same statement shape. */
static void inflightBlock(sqlite3_stmt *pBase, sqlite3_stmt *pMiss,
                          sqlite3_stmt *pFill, int bScan, int bOn,
                          int64_t nMiss, double *pMissNs, double *pBaseNs){
  int64_t base = g_fresh;
  g_fresh += nMiss;
  setInflight(bOn);
  if( bScan ){
    refillFresh(pFill, base, nMiss);
    timeStmt(pBase, 0, 0, nMiss);              /* warm-up */
    *pBaseNs += timeStmt(pBase, 0, 0, nMiss);
    *pMissNs += timeStmt(pMiss, 0, 0, nMiss);
  }else{
    timeLoop(pBase, 0, base, nMiss);           /* warm-up */
    *pBaseNs += timeLoop(pBase, 0, base, nMiss);
    *pMissNs += timeLoop(pMiss, 0, base, nMiss);
  }
  dropMisses(base, nMiss);
}

/* Stored misses with in-flight marks on and off (see the header): one
** SELECT over the table fresh if bScan, else one statement per miss.
** Each rep alternates INFLIGHT_BLOCKS blocks of each setting (ABBA...,
** starting with on or off by turns), so that drift and WAL checkpoints
** hit both alike; aOn/aOff get ns per miss net of payload_m() itself. */
static void inflightPasses(int nRep, int bScan, double *aOn, double *aOff){
  sqlite3_stmt *pBase, *pMiss;
  sqlite3_stmt *pFill = prep("WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL"
      " SELECT i+1 FROM c WHERE i<?2) INSERT INTO fresh SELECT i FROM c");
  double t[2], tb[2];
  int64_t nMiss = INFLIGHT_BLOCK*INFLIGHT_BLOCKS;
  int i, k;
  if( bScan ){
    pBase = prep("SELECT count(payload_m(x)) FROM fresh");
    pMiss = prep("SELECT count(memoize('payload_m', x)) FROM fresh");
  }else{
    pBase = prep("SELECT payload_m(?1)");
    pMiss = prep("SELECT memoize('payload_m', ?1)");
  }
  /* Untimed: the side file's opening and the first statements. */
  inflightBlock(pBase, pMiss, pFill, bScan, 1, INFLIGHT_BLOCK, t, tb);
  inflightBlock(pBase, pMiss, pFill, bScan, 0, INFLIGHT_BLOCK, t, tb);
  for(i=0; i<nRep; i++){
    t[0] = t[1] = tb[0] = tb[1] = 0;
    for(k=0; k<2*INFLIGHT_BLOCKS; k++){
      int bOn = (((k+1)/2) ^ i) & 1;
      inflightBlock(pBase, pMiss, pFill, bScan, bOn, INFLIGHT_BLOCK,
                    &t[bOn], &tb[bOn]);
    }
    aOn[i] = (t[1] - tb[1])/(double)nMiss;
    aOff[i] = (t[0] - tb[0])/(double)nMiss;
  }
  setInflight(1);
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFill);
}

/* Add an in-flight row: ns is the median of (on - off), the floor the
** miss with marks off, the ratio on / off. */
static void addInflightRow(const char *zName, const char *zShape, int64_t N,
                           const double *aOn, const double *aOff, int nRep){
  double d[MAX_REPS], on = median(aOn, nRep), off = median(aOff, nRep);
  char zE[32];
  Row *r;
  int i;
  for(i=0; i<nRep; i++) d[i] = aOn[i] - aOff[i];
  r = addRow(zName, N, median(d, nRep), "stored miss, marks off (test build)",
             off);
  r->ratioNs = on;
  fmtEntries(zE, sizeof(zE), N);
  note("in-flight marks, %s, %s: on %.0f ns, off %.0f ns per stored miss "
       "(net of the function): +%.0f ns, %.2fx", zShape, zE, on, off,
       r->ns, on/off);
}

/* The cost of in-flight marks per stored miss, on the test build: reopen
** the same file with it (WAL, synchronous=NORMAL). */
static void benchInflight(const char *zTestExt, int64_t N, int nRep){
  double aOn[MAX_REPS], aOff[MAX_REPS];
  char zLocks[300];
  closeConn();
  openConn(zTestExt);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  prepFloorStmts();
  snprintf(zLocks, sizeof(zLocks), "%s-cachier-locks", g_zPath);
  unlink(zLocks);

  inflightPasses(nRep, 1, aOn, aOff);
  if( access(zLocks, F_OK)!=0 ){
    fail("in-flight marks", "no side file: the marks did not apply");
  }
  addInflightRow("in-flight marking, extra cost per miss, WAL autocommit, "
                 "one SELECT over a table", "one SELECT over a table", N,
                 aOn, aOff, nRep);
  inflightPasses(nRep, 0, aOn, aOff);
  addInflightRow("in-flight marking, extra cost per miss, WAL autocommit, "
                 "one statement per miss", "one statement per miss", N,
                 aOn, aOff, nRep);
}

static void benchSize(const char *zExt, const char *zTestExt, int64_t N){
  int nRep = MAX_REPS;
  int64_t t0 = nowNs();
  int64_t nTxn = N/5<20000 ? N/5 : 20000;
  int64_t nAuto = N/10<2000 ? N/10 : 2000;
  if( nTxn<1 ) nTxn = 1;
  if( nAuto<1 ) nAuto = 1;

  openDb(zExt, N, "");
  makeKeys(N);
  /* The floor's table: N rows, filled in the same random key order. */
  exec("BEGIN;"
       "INSERT OR REPLACE INTO t(k, a, v) SELECT bkey(x), x, payload(x)"
       " FROM mem.q;"
       "COMMIT;");

  benchHits(N, nRep);
  benchMissTxn(N, nRep, nTxn);
  benchMissAutocommit(N, nRep, nAuto, 1,
      "stored miss, WAL sync=NORMAL, autocommit, one SELECT over a table", 1);
  benchMissAutocommit(N, nRep, nAuto, 0,
      "stored miss, WAL sync=NORMAL, autocommit, one statement per miss", 0);
  exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
  benchMissAutocommit(N, 5, 40, 0,
      "stored miss, DELETE journal sync=FULL, autocommit", 0);
  if( zTestExt ) benchInflight(zTestExt, N, nRep);
  closeDb();
  note("%lld entries: %.1f s in all", (long long)N, (double)(nowNs()-t0)/1e9);
}

/* ---------------------------------------------------- zstd compression */

#define COMPRESS_ENTRIES 10000
#define COMPRESS_LEVEL   3         /* cachier's default compress_level */

/* Column 0 of the first row of zSql with ?1 bound to the text zArg. */
static int64_t queryIntText(const char *zSql, const char *zArg){
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

/* Misses of the functions zFn and zFn2 (cachier_stats reads the whole
** store: called sparingly). */
static int64_t statMissesOf2(const char *zFn, const char *zFn2){
  sqlite3_stmt *pStmt = prep("SELECT total(misses) FROM cachier_stats"
                             " WHERE fn IN (?1, ?2)");
  int64_t v;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(pStmt, 2, zFn2, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) failDb("cachier_stats");
  v = sqlite3_column_int64(pStmt, 0);
  sqlite3_finalize(pStmt);
  return v;
}

/* Totals of zFn's entries in cachier_entries. */
typedef struct EntryTotals EntryTotals;
struct EntryTotals {
  int64_t nEntry, nBytes, nStored, nCompressed;
};
static void entryTotals(const char *zFn, EntryTotals *t){
  sqlite3_stmt *pStmt = prep("SELECT count(*), total(bytes),"
      " total(stored_bytes), total(stored_bytes<bytes)"
      " FROM cachier_entries WHERE fn=?1");
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) failDb("cachier_entries totals");
  t->nEntry = sqlite3_column_int64(pStmt, 0);
  t->nBytes = sqlite3_column_int64(pStmt, 1);
  t->nStored = sqlite3_column_int64(pStmt, 2);
  t->nCompressed = sqlite3_column_int64(pStmt, 3);
  sqlite3_finalize(pStmt);
}

/* stored_bytes of zFn's entry for key x, for the keys 0..n-1 (-1 for
** none): a newly allocated array. */
static int64_t *storedBytesByKey(const char *zFn, int64_t n){
  sqlite3_stmt *pStmt = prep("SELECT args, stored_bytes FROM cachier_entries"
                             " WHERE fn=?1");
  int64_t *a = malloc(sizeof(int64_t)*(size_t)n), i;
  if( a==0 ) fail("malloc", "out of memory");
  for(i=0; i<n; i++) a[i] = -1;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    int64_t x = z && z[0]=='[' ? atoll(z+1) : -1;
    if( x>=0 && x<n ) a[x] = sqlite3_column_int64(pStmt, 1);
  }
  sqlite3_finalize(pStmt);
  return a;
}

/* Fill the cache with zFn(x) for every row of q in one transaction;
** returns the elapsed ns. */
static double fillFn(const char *zFn, int64_t N){
  char zSql[200];
  int64_t t0 = nowNs();
  snprintf(zSql, sizeof(zSql),
           "SELECT count(memoize('%s', x)) FROM mem.q", zFn);
  exec("BEGIN");
  if( queryInt(zSql, 0, 0)!=N ) fail("fill", zFn);
  exec("COMMIT");
  t0 = nowNs() - t0;
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return (double)t0;
}

/* zstd contexts, reused for every value, set up as cachier sets its own
** (compress.c): level COMPRESS_LEVEL (or the dictionary's CDict, made at
** that level), checksum flag on, content size in the frame (the default). */
typedef struct Codec Codec;
struct Codec {
  ZSTD_CCtx *pCCtx;
  ZSTD_DCtx *pDCtx;
  ZSTD_CDict *pCDict;
  ZSTD_DDict *pDDict;
};

static void codecInit(Codec *c, const void *pDict, size_t nDict){
  memset(c, 0, sizeof(*c));
  c->pCCtx = ZSTD_createCCtx();
  c->pDCtx = ZSTD_createDCtx();
  if( c->pCCtx==0 || c->pDCtx==0 ) fail("zstd", "cannot make contexts");
  ZSTD_CCtx_setParameter(c->pCCtx, ZSTD_c_checksumFlag, 1);
  if( pDict ){
    c->pCDict = ZSTD_createCDict(pDict, nDict, COMPRESS_LEVEL);
    c->pDDict = ZSTD_createDDict(pDict, nDict);
    if( c->pCDict==0 || c->pDDict==0 ) fail("zstd", "cannot load dictionary");
    ZSTD_CCtx_refCDict(c->pCCtx, c->pCDict);
  }else{
    ZSTD_CCtx_setParameter(c->pCCtx, ZSTD_c_compressionLevel, COMPRESS_LEVEL);
  }
}

static void codecFree(Codec *c){
  ZSTD_freeCCtx(c->pCCtx);
  ZSTD_freeDCtx(c->pDCtx);
  ZSTD_freeCDict(c->pCDict);
  ZSTD_freeDDict(c->pDDict);
  memset(c, 0, sizeof(*c));
}

/* n values of a Doc, their frames, and room to decompress one. */
typedef struct Corpus Corpus;
struct Corpus {
  int n;
  size_t nMax;                /* room for a value */
  char *aVal;                 /* value i at aVal + i*nMax */
  int *anVal;
  size_t nFrameMax;           /* room for a frame */
  unsigned char *aFrame;      /* frame i at aFrame + i*nFrameMax */
  size_t *anFrame;
  char *aOut;
};

/* The values of p for the keys aKey[0..n-1], or base..base+n-1. */
static void corpusMake(Corpus *c, const Doc *p, const int64_t *aKey,
                       int64_t base, int n){
  int i;
  memset(c, 0, sizeof(*c));
  c->n = n;
  c->nMax = (size_t)p->nBytes;
  c->nFrameMax = ZSTD_compressBound(c->nMax);
  c->aVal = malloc(c->nMax*(size_t)n);
  c->anVal = malloc(sizeof(int)*(size_t)n);
  c->aFrame = malloc(c->nFrameMax*(size_t)n);
  c->anFrame = malloc(sizeof(size_t)*(size_t)n);
  c->aOut = malloc(c->nMax);
  if( !c->aVal || !c->anVal || !c->aFrame || !c->anFrame || !c->aOut ){
    fail("malloc", "out of memory");
  }
  for(i=0; i<n; i++){
    c->anVal[i] = docMake(p, aKey ? aKey[i] : base+i, c->aVal + i*c->nMax);
  }
}

static void corpusFree(Corpus *c){
  free(c->aVal); free(c->anVal); free(c->aFrame); free(c->anFrame);
  free(c->aOut);
  memset(c, 0, sizeof(*c));
}

/* Compress every value of c with ZSTD_compress2 (into c's frames); returns
** the elapsed ns. */
static double corpusCompress(Corpus *c, Codec *z){
  int64_t t0 = nowNs();
  int i;
  for(i=0; i<c->n; i++){
    size_t nOut = ZSTD_compress2(z->pCCtx, c->aFrame + i*c->nFrameMax,
                                 c->nFrameMax, c->aVal + i*c->nMax,
                                 (size_t)c->anVal[i]);
    if( ZSTD_isError(nOut) ) fail("ZSTD_compress2", ZSTD_getErrorName(nOut));
    c->anFrame[i] = nOut;
  }
  return (double)(nowNs() - t0);
}

/* Decompress every frame of c with ZSTD_decompressDCtx (or, with a
** dictionary, ZSTD_decompress_usingDDict) into one reused buffer; returns
** the elapsed ns. bCheck: compare each with its value (untimed use). */
static double corpusDecompress(Corpus *c, Codec *z, int bCheck){
  int64_t t0 = nowNs();
  int i;
  for(i=0; i<c->n; i++){
    const unsigned char *pF = c->aFrame + i*c->nFrameMax;
    size_t nOut = z->pDDict
        ? ZSTD_decompress_usingDDict(z->pDCtx, c->aOut, c->nMax, pF,
                                     c->anFrame[i], z->pDDict)
        : ZSTD_decompressDCtx(z->pDCtx, c->aOut, c->nMax, pF, c->anFrame[i]);
    if( ZSTD_isError(nOut) ) fail("decompress", ZSTD_getErrorName(nOut));
    if( nOut!=(size_t)c->anVal[i]
     || (bCheck && memcmp(c->aOut, c->aVal + i*c->nMax, nOut)!=0) ){
      fail("decompress", "the value does not round-trip");
    }
  }
  return (double)(nowNs() - t0);
}

static void docName(char *z, size_t n, const Doc *p, int iSuffix){
  snprintf(z, n, "%s%s", p->zName, g_azDocSuffix[iSuffix]);
}

/* Hits of p's compressed function beside the same values stored raw, over
** the first p->nHit keys of q, and the standalone decompression of the
** same frames (made by z, checked to be the size cachier stored).
** Sets the medians per hit: *pC compressed, *pR raw, *pRef raw +
** decompression, *pD decompression alone (all net of ident(x)). */
static void compressHits(const Doc *p, int64_t N, int nRep, Codec *z,
                         double *pC, double *pR, double *pRef, double *pD){
  int64_t n = p->nHit<N ? p->nHit : N, nMiss0, *aStored, nDiff = 0, i;
  char zC[64], zR[64], zExpr[100];
  Scan identX, hitC, hitR;
  double aD[MAX_REPS], aRef[MAX_REPS];
  Corpus c;
  int k;

  docName(zC, sizeof(zC), p, 0);
  docName(zR, sizeof(zR), p, 1);
  corpusMake(&c, p, g_aPerm, 0, (int)n);
  corpusCompress(&c, z);
  corpusDecompress(&c, z, 1);
  aStored = storedBytesByKey(zC, N);
  for(i=0; i<n; i++){
    if( aStored[g_aPerm[i]]!=(int64_t)c.anFrame[i] ) nDiff++;
  }
  free(aStored);
  if( nDiff ){
    note("%s: WARNING: for %lld of %lld keys the frame the bench makes is not "
         "the size cachier stored: the decompression reference is not of the "
         "same frames", p->zLabel, (long long)nDiff, (long long)n);
  }

  nMiss0 = statMissesOf2(zC, zR);
  scanInit(&identX, "ident(x)");
  snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zC);
  scanInit(&hitC, zExpr);
  snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zR);
  scanInit(&hitR, zExpr);
  for(k=0; k<nRep; k++){
    scanRun(&identX, k, n);
    if( k&1 ){ scanRun(&hitR, k, n); scanRun(&hitC, k, n); }
    else{      scanRun(&hitC, k, n); scanRun(&hitR, k, n); }
    corpusDecompress(&c, z, 0);                     /* warm-up */
    aD[k] = corpusDecompress(&c, z, 0);
    aRef[k] = (hitR.a[k] - identX.a[k] + aD[k])/(double)n;
  }
  if( statMissesOf2(zC, zR)!=nMiss0 ){
    fail("compressed hits", "a hit measurement missed");
  }
  *pC = netPer(hitC.a, identX.a, nRep, n);
  *pR = netPer(hitR.a, identX.a, nRep, n);
  *pRef = median(aRef, nRep);
  for(k=0; k<nRep; k++) aD[k] /= (double)n;
  *pD = median(aD, nRep);
  scanFree(&identX); scanFree(&hitC); scanFree(&hitR);
  corpusFree(&c);
}

/* Stored misses of p's compressed function (NAME_m) beside the same values
** stored raw (NAME_raw_m), p->nMiss fresh keys a rep, each in one
** BEGIN..COMMIT (COMMIT timed, after an untimed TRUNCATE checkpoint, so
** each pays the checkpoint of its own pages), net of NAME_m() called
** directly; and ZSTD_compress2 alone of the same values with z. Sets the
** medians per miss as compressHits() does. */
static void compressMisses(const Doc *p, int nRep, Codec *z, double *pC,
                           double *pR, double *pRef, double *pZ){
#define FRESH "WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i+1 FROM c" \
              " WHERE i<?2) "
  int64_t n = p->nMiss;
  char zM[64], zRM[64], zSql[200];
  sqlite3_stmt *pBase, *apMiss[2];
  double aBase[MAX_REPS], aMiss[2][MAX_REPS], aZ[MAX_REPS], aRef[MAX_REPS];
  int i, k;

  docName(zM, sizeof(zM), p, 2);
  docName(zRM, sizeof(zRM), p, 3);
  snprintf(zSql, sizeof(zSql), FRESH "SELECT count(%s(i)) FROM c", zM);
  pBase = prep(zSql);
  snprintf(zSql, sizeof(zSql),
           FRESH "SELECT count(memoize('%s', i)) FROM c", zM);
  apMiss[0] = prep(zSql);
  snprintf(zSql, sizeof(zSql),
           FRESH "SELECT count(memoize('%s', i)) FROM c", zRM);
  apMiss[1] = prep(zSql);
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh, nFrames = 0;
    EntryTotals tC, tR;
    Corpus c;
    g_fresh += n;
    timeStmt(pBase, base, base+n-1, n);             /* warm-up */
    aBase[i] = timeStmt(pBase, base, base+n-1, n);
    for(k=0; k<2; k++){
      int bRaw = k ^ (i&1);
      int64_t t0;
      exec("PRAGMA wal_checkpoint(TRUNCATE)");
      t0 = nowNs();
      exec("BEGIN");
      timeStmt(apMiss[bRaw], base, base+n-1, n);
      exec("COMMIT");
      aMiss[bRaw][i] = (double)(nowNs() - t0);
    }
    corpusMake(&c, p, 0, base, (int)n);
    corpusCompress(&c, z);                          /* warm-up */
    aZ[i] = corpusCompress(&c, z);
    for(k=0; k<c.n; k++) nFrames += (int64_t)c.anFrame[k];
    corpusFree(&c);
    entryTotals(zM, &tC);
    entryTotals(zRM, &tR);
    if( tC.nEntry!=n || tR.nEntry!=n || tR.nStored!=tR.nBytes ){
      fail("compressed misses", "unexpected entries");
    }
    if( i==0 && tC.nStored!=nFrames ){
      note("%s: WARNING: the frames the bench makes of the stored misses' "
           "values total %lld bytes, cachier stored %lld", p->zLabel,
           (long long)nFrames, (long long)tC.nStored);
    }
    aRef[i] = (aMiss[1][i] - aBase[i] + aZ[i])/(double)n;
    queryIntText("SELECT cachier_clear(?1)", zM);
    queryIntText("SELECT cachier_clear(?1)", zRM);
  }
  *pC = netPer(aMiss[0], aBase, nRep, n);
  *pR = netPer(aMiss[1], aBase, nRep, n);
  *pRef = median(aRef, nRep);
  for(i=0; i<nRep; i++) aZ[i] /= (double)n;
  *pZ = median(aZ, nRep);
  sqlite3_finalize(pBase);
  sqlite3_finalize(apMiss[0]);
  sqlite3_finalize(apMiss[1]);
#undef FRESH
}

static void addRatioRow(const char *zName, int64_t N, const EntryTotals *t){
  Row *r = addRow(zName, N, -1, "sum(bytes) / sum(stored_bytes), "
                  "cachier_entries", -1);
  if( t->nStored<=0 ) fail("compression ratio", zName);
  r->shownRatio = (double)t->nBytes/(double)t->nStored;
}

/* The names of a Doc's four functions (each buffer 64 bytes; zM may be
** NULL), with compression switched off for the two raw ones. */
static void docNames(const Doc *p, char *zC, char *zR, char *zM, char *zRM){
  char zSql[300];
  docName(zC, 64, p, 0);
  docName(zR, 64, p, 1);
  if( zM ) docName(zM, 64, p, 2);
  docName(zRM, 64, p, 3);
  snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
           "(name, compress_min, compress_level) VALUES ('%s', 'none', 3),"
           " ('%s', 'none', 3)", zR, zRM);
  exec(zSql);
}

/* Compressed against raw, for a Doc without dictionary (see the header). */
static void benchCompressDoc(const Doc *p, int64_t N, int nRep){
  char zC[64], zR[64], zRM[64], zName[200];
  double hitC, hitR, hitRef, dNs, missC, missR, missRef, cNs, tC, tR;
  EntryTotals t;
  Codec z;
  Row *r;

  docNames(p, zC, zR, 0, zRM);
  tC = fillFn(zC, N);
  tR = fillFn(zR, N);
  entryTotals(zC, &t);
  if( t.nEntry!=N || t.nCompressed!=N ){
    fail("compressed fill", "not every value was stored compressed");
  }
  note("%s: fill of %lld entries in one transaction: %.2f s compressed, "
       "%.2f s raw; %lld of %lld stored compressed", p->zLabel, (long long)N,
       tC/1e9, tR/1e9, (long long)t.nCompressed, (long long)t.nEntry);
  snprintf(zName, sizeof(zName), "%s: compression ratio, compress_level 3",
           p->zLabel);
  addRatioRow(zName, N, &t);

  codecInit(&z, 0, 0);
  compressHits(p, N, nRep, &z, &hitC, &hitR, &hitRef, &dNs);
  compressMisses(p, nRep, &z, &missC, &missR, &missRef, &cNs);
  codecFree(&z);

  snprintf(zName, sizeof(zName), "%s: hit, compressed", p->zLabel);
  addRow(zName, N, hitC, "hit, same value raw (compress_min 'none')", hitR);
  r = addRow(zName, N, hitC, "hit raw + ZSTD_decompressDCtx alone (C, "
             "reused DCtx)", hitRef);
  ratioTarget(r, 1.2, "(raw hit + decompress)");
  snprintf(zName, sizeof(zName), "%s: stored miss, one BEGIN..COMMIT, "
           "compressed", p->zLabel);
  addRow(zName, N, missC, "stored miss, same value raw (compress_min 'none')",
         missR);
  r = addRow(zName, N, missC, "miss raw + ZSTD_compress2 alone (C, reused "
             "CCtx)", missRef);
  ratioTarget(r, 1.2, "(raw miss + compress)");
  note("%s: ZSTD_decompressDCtx alone %.0f ns per frame, ZSTD_compress2 "
       "(level 3, checksum) alone %.0f ns per value; hits timed over %d "
       "keys, stored misses %d a rep", p->zLabel, dNs, cNs,
       p->nHit<N ? p->nHit : (int)N, p->nMiss);
}

/* The dictionary zFn's newest: its bytes (sqlite3_malloc'd) in *ppDict. */
static size_t dictOf(const char *zFn, void **ppDict){
  sqlite3_stmt *pStmt = prep("SELECT dict FROM cachier_dict WHERE fn=?1"
                             " ORDER BY id DESC LIMIT 1");
  size_t n = 0;
  *ppDict = 0;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    n = (size_t)sqlite3_column_bytes(pStmt, 0);
    *ppDict = sqlite3_malloc64(n ? n : 1);
    if( *ppDict==0 ) fail("malloc", "out of memory");
    memcpy(*ppDict, sqlite3_column_blob(pStmt, 0), n);
  }
  sqlite3_finalize(pStmt);
  if( n==0 ) fail("dictionary", zFn);
  return n;
}

/* Dictionary compression of small JSON records (see the header). */
static void benchDictionary(const Doc *p, int64_t N, int nRep){
  char zC[64], zR[64], zM[64], zRM[64], zName[200];
  double hitC, hitR, hitRef, dNs, missC, missR, missRef, cNs, t, tTrain;
  EntryTotals t0, t1;
  void *pDict, *pDictM;
  size_t nDict, nDictM;
  Codec z, zm;

  docNames(p, zC, zR, zM, zRM);

  /* Without a dictionary (default settings), then trained. */
  fillFn(zC, N);
  entryTotals(zC, &t0);
  t = (double)nowNs();
  if( queryIntText("SELECT cachier_train(?1)", zC)<=0 ){
    fail("cachier_train", zC);
  }
  tTrain = (double)nowNs() - t;
  queryIntText("SELECT cachier_clear(?1)", zC);
  t = fillFn(zC, N);
  entryTotals(zC, &t1);
  if( t0.nEntry!=N || t1.nEntry!=N ) fail("dictionary", "unexpected entries");
  nDict = dictOf(zC, &pDict);
  note("JSON records: %lld values of %lld bytes on average; without a "
       "dictionary %lld stored compressed (the others are under compress_min "
       "512), with it %lld; cachier_train: %.2f s, a %zu-byte dictionary; "
       "refill with it: %.2f s", (long long)N, (long long)(t1.nBytes/N),
       (long long)t0.nCompressed, (long long)t1.nCompressed, tTrain/1e9,
       nDict, t/1e9);
  addRatioRow("JSON records, 200-2000 B: compression ratio, no dictionary "
              "(compress_min 512)", N, &t0);
  addRatioRow("JSON records, 200-2000 B: compression ratio, trained "
              "dictionary", N, &t1);

  /* The raw function; the miss function gets its own dictionary. */
  fillFn(zR, N);
  fillFn(zM, N);
  queryIntText("SELECT cachier_train(?1)", zM);
  queryIntText("SELECT cachier_clear(?1)", zM);
  nDictM = dictOf(zM, &pDictM);

  codecInit(&z, pDict, nDict);
  codecInit(&zm, pDictM, nDictM);
  compressHits(p, N, nRep, &z, &hitC, &hitR, &hitRef, &dNs);
  compressMisses(p, nRep, &zm, &missC, &missR, &missRef, &cNs);
  codecFree(&z);
  codecFree(&zm);
  sqlite3_free(pDict);
  sqlite3_free(pDictM);

  snprintf(zName, sizeof(zName), "%s: hit", p->zLabel);
  addRow(zName, N, hitC, "hit, same value raw (compress_min 'none')", hitR);
  addRow(zName, N, hitC, "hit raw + ZSTD_decompress_usingDDict alone (C)",
         hitRef);
  snprintf(zName, sizeof(zName), "%s: stored miss, one BEGIN..COMMIT",
           p->zLabel);
  addRow(zName, N, missC, "stored miss, same value raw (compress_min 'none')",
         missR);
  addRow(zName, N, missC, "miss raw + ZSTD_compress2 with the CDict alone (C)",
         missRef);
  note("JSON records: ZSTD_decompress_usingDDict alone %.0f ns per frame, "
       "ZSTD_compress2 with the CDict (level 3, checksum) alone %.0f ns per "
       "value; hits timed over %d keys, stored misses %d a rep", dNs, cNs,
       p->nHit<N ? p->nHit : (int)N, p->nMiss);
}

/* The zstd rows, on their own database of COMPRESS_ENTRIES keys. */
static void benchCompress(const char *zExt){
  int64_t N = COMPRESS_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS;
  openDb(zExt, N, "-zstd");
  makeKeys(N);
  /* The 64 KB values last: cachier_stats reads the whole store. */
  benchCompressDoc(&g_aDoc[0], N, nRep);
  benchDictionary(&g_aDoc[2], N, nRep);
  benchCompressDoc(&g_aDoc[1], N, nRep);
  closeDb();
  note("zstd rows (%lld entries a function): %.1f s in all", (long long)N,
       (double)(nowNs()-t0)/1e9);
}

/* ------------------------------------------------------------- stores */

#define STORE_ENTRIES  10000
#define STORE_BIG_KEYS 1000        /* keys of the 64 KB rows */
#define STORE_MISSES   2000        /* stored misses a rep */
#define STORE_HOT_BYTES (64*1024*1024)

static void removeCacheFile(void){
  static const char *azSuffix[] = { "", "-wal", "-shm", "-journal",
                                     "-cachier-locks" };
  char z[340];
  size_t i;
  if( g_zCacheFile[0]==0 ) return;
  for(i=0; i<sizeof(azSuffix)/sizeof(azSuffix[0]); i++){
    snprintf(z, sizeof(z), "%s%s", g_zCacheFile, azSuffix[i]);
    unlink(z);
  }
}

static void storeFnName(char *z, size_t n, int iKind, int iStore){
  snprintf(z, n, "st_%s_%s", g_aKind[iKind].zKind, g_azStore[iStore]);
}

/* Column zCol of cachier_stats, summed over the rows of function zFn (0
** if none). cachier_stats reads every store: called sparingly. */
static int64_t statOf(const char *zCol, const char *zFn){
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
static int statHasColumn(const char *zCol){
  char zSql[200];
  sqlite3_stmt *pStmt = 0;
  int rc;
  snprintf(zSql, sizeof(zSql), "SELECT %s FROM cachier_stats LIMIT 0", zCol);
  rc = sqlite3_prepare_v2(g_db, zSql, -1, &pStmt, 0);
  sqlite3_finalize(pStmt);
  return rc==SQLITE_OK;
}

static int64_t storeKeys(int iKind, int64_t N){
  return g_aKind[iKind].bBig && N>STORE_BIG_KEYS ? STORE_BIG_KEYS : N;
}

/* The functions' stores and settings, the floors' tables, and one fill of
** every st_ function over its keys (one BEGIN..COMMIT each). */
static void storeSetup(int64_t N){
  char zSql[300], zFn[64];
  int k, s;
  exec("INSERT OR REPLACE INTO cachier_functions(name, hot_bytes)"
       " VALUES ('*', 0)");
  for(k=0; k<N_KIND; k++){
    for(s=0; s<N_STORE; s++){
      storeFnName(zFn, sizeof(zFn), k, s);
      snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
               "(name, store, compress_min) VALUES ('%s', '%s%s', 'none')",
               zFn, s==1 ? "file:" : (s==0 ? "main" : "memory"),
               s==1 ? strrchr(g_zCacheFile, '/')+1 : "");
      exec(zSql);
    }
  }
  snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
           "(name, store, compress_min) VALUES ('st_b100_file_m', 'file:%s',"
           " 'none')", strrchr(g_zCacheFile, '/')+1);
  exec(zSql);

  /* The floors' tables, filled in the same (random) key order as q. */
  exec("CREATE TABLE t_int(k INTEGER PRIMARY KEY, a, v);"
       "CREATE TABLE t_64k(k INTEGER PRIMARY KEY, a, v BLOB);");
  for(k=0; k<N_KIND; k++){
    snprintf(zSql, sizeof(zSql), "BEGIN; INSERT INTO %s(k, a, v)"
             " SELECT bkey(x), x, %s(x) FROM mem.q WHERE rowid<=%lld; COMMIT",
             g_aKind[k].zTable, g_aKind[k].zDirect,
             (long long)storeKeys(k, N));
    exec(zSql);
  }
  g_pLookupInt = prep("SELECT v FROM t_int WHERE k=?1");
  g_pLookup64k = prep("SELECT v FROM t_64k WHERE k=?1");

  for(k=0; k<N_KIND; k++){
    int64_t n = storeKeys(k, N);
    for(s=0; s<N_STORE; s++){
      int64_t t0 = nowNs();
      storeFnName(zFn, sizeof(zFn), k, s);
      snprintf(zSql, sizeof(zSql), "SELECT count(memoize('%s', x)) FROM mem.q"
               " WHERE rowid<=?1", zFn);
      exec("BEGIN");
      if( queryInt(zSql, n, 0)!=n ) fail("store fill", zFn);
      exec("COMMIT");
      t0 = nowNs() - t0;
      if( k==1 ){
        note("stores: fill of %lld 100-byte values, %s store, in one "
             "BEGIN..COMMIT of main: %.2f s, %.2f µs each", (long long)n,
             g_azStoreLabel[s], (double)t0/1e9, (double)t0/1e3/(double)n);
      }
      if( statOf("entries", zFn)!=n ) fail("store fill", "entries");
    }
  }
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  if( statOf("entries", "st_b100_file")!=N ) fail("store fill", "file");
}

/* Hits on each store with the hot tier off (see the header). Sets
** aMainHit[kind] and aFileHit[kind] to the main and file: hits. */
static void storeHits(int64_t N, int nRep, double *aMainHit,
                      double *aFileHit){
  int64_t nBig = storeKeys(N_KIND-1, N);
  Scan identX, identB, aFloor[N_KIND], aHit[N_KIND][N_STORE];
  int64_t aMiss0[N_KIND][N_STORE];
  char zFn[64], zExpr[100], zName[200];
  int i, j, k, s;

  for(k=0; k<N_KIND; k++){
    scanInit(&aFloor[k], g_aKind[k].zLookup);
    for(s=0; s<N_STORE; s++){
      storeFnName(zFn, sizeof(zFn), k, s);
      snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zFn);
      scanInit(&aHit[k][s], zExpr);
      aMiss0[k][s] = statOf("misses", zFn);
    }
  }
  scanInit(&identX, "ident(x)");
  scanInit(&identB, "ident(x)");
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, N);
    scanRun(&identB, i, nBig);
    for(k=0; k<N_KIND; k++){
      int64_t n = storeKeys(k, N);
      scanRun(&aFloor[k], i, n);
      for(j=0; j<N_STORE; j++){                 /* the order turns by rep */
        s = (i+j)%N_STORE;
        scanRun(&aHit[k][s], i, n);
      }
    }
  }
  for(k=0; k<N_KIND; k++){
    int64_t n = storeKeys(k, N);
    double *aBase = g_aKind[k].bBig ? identB.a : identX.a;
    double floorNs = netPer(aFloor[k].a, aBase, nRep, n);
    double mainNs = netPer(aHit[k][0].a, aBase, nRep, n);
    Row *r;
    for(s=0; s<N_STORE; s++){
      storeFnName(zFn, sizeof(zFn), k, s);
      if( statOf("misses", zFn)!=aMiss0[k][s] ){
        fail("store hits", "a hit measurement missed");
      }
    }
    aMainHit[k] = mainNs;
    aFileHit[k] = netPer(aHit[k][1].a, aBase, nRep, n);
    snprintf(zName, sizeof(zName), "store main: hit, %s, hot tier off",
             g_aKind[k].zLabel);
    addRow(zName, n, mainNs, "point lookup (C fn), same values", floorNs);
    snprintf(zName, sizeof(zName), "store file: hit, %s, hot tier off",
             g_aKind[k].zLabel);
    r = addRow(zName, n, aFileHit[k], "main-store hit, same value, same reps",
               mainNs);
    ratioTarget(r, 1.5, "main-store hit");
    snprintf(zName, sizeof(zName), "store memory: hit, %s",
             g_aKind[k].zLabel);
    addRow(zName, n, netPer(aHit[k][2].a, aBase, nRep, n),
           "main-store hit, same value, same reps", mainNs);
    scanFree(&aFloor[k]);
    for(s=0; s<N_STORE; s++) scanFree(&aHit[k][s]);
  }
  scanFree(&identX);
  scanFree(&identB);
}

/* Hot-tier hits of the 100-byte value on the file: store and on main
** (WAL), hot_bytes STORE_HOT_BYTES (see the header). mainHitNs and
** fileHitNs: the same hits with the tier off. */
static void storeHot(int64_t N, int nRep, double mainHitNs,
                     double fileHitNs){
  static const int aStore[2] = { 1, 0 };        /* file:, main */
  Scan scanX, identX, aHot[2], scanOnly, identOnly;
  sqlite3_stmt *pFill;
  int64_t aHits0[2], aMiss0[2], aHot0[2], c0;
  int bHotCol = statHasColumn("hot_hits");
  char zFn[64], zExpr[100], zName[200], zSql[200], zE[32];
  double trivialNs, ns;
  int i, j;

  /* A write of main: main's tier starts empty. */
  snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
           "(name, hot_bytes) VALUES ('*', %d)", STORE_HOT_BYTES);
  exec(zSql);
  fmtEntries(zE, sizeof(zE), N);

  /* main, warmed by the scan itself: the scan of mem.q does not read main,
  ** so cachier's first read starts main's snapshot and the scan's hits
  ** fill the tier. */
  scanInit(&scanOnly, "memoize('st_b100_main', x)");
  scanInit(&identOnly, "ident(x)");
  for(i=0; i<nRep; i++){
    scanRun(&identOnly, i, N);
    scanRun(&scanOnly, i, N);
  }
  ns = netPer(scanOnly.a, identOnly.a, nRep, N);
  note("store main (WAL), hot_bytes 64 MB, warmed by the same scan of mem.q "
       "only, %s: %.0f ns a hit (hot tier off: %.0f ns): the scan of mem.q "
       "does not read main, so cachier's own first read starts main's "
       "snapshot and its hits fill the tier", zE, ns, mainHitNs);
  scanFree(&scanOnly);
  scanFree(&identOnly);

  /* The fill: one statement per key, each lookup on a fresh snapshot. */
  for(j=0; j<2; j++){
    storeFnName(zFn, sizeof(zFn), 1, aStore[j]);
    snprintf(zSql, sizeof(zSql), "SELECT memoize('%s', ?1)", zFn);
    pFill = prep(zSql);
    timeLoop(pFill, g_aPerm, 0, N);
    sqlite3_finalize(pFill);
  }

  scanInit(&scanX, "x");
  scanInit(&identX, "ident(x)");
  for(j=0; j<2; j++){
    storeFnName(zFn, sizeof(zFn), 1, aStore[j]);
    snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zFn);
    scanInit(&aHot[j], zExpr);
    aHits0[j] = statOf("hits", zFn);
    aMiss0[j] = statOf("misses", zFn);
    aHot0[j] = bHotCol ? statOf("hot_hits", zFn) : 0;
  }
  c0 = sqlite3_total_changes64(g_db);
  for(i=0; i<nRep; i++){
    scanRun(&scanX, i, N);
    scanRun(&identX, i, N);
    for(j=0; j<2; j++) scanRun(&aHot[(i+j)%2], i, N);
  }
  if( sqlite3_total_changes64(g_db)!=c0 ) fail("hot hits", "main was written");
  trivialNs = netPer(identX.a, scanX.a, nRep, N);
  addRow("hot tier: trivial C function per row (net of scan)", N, trivialNs,
         "", -1);
  for(j=0; j<2; j++){
    int64_t nCall = 2*(int64_t)nRep*N;
    double whole = netPer(aHot[j].a, scanX.a, nRep, N);
    double btree = aStore[j]==1 ? fileHitNs : mainHitNs;
    const char *zStore = aStore[j]==1 ? "file" : "main (WAL)";
    Row *r;
    ns = netPer(aHot[j].a, identX.a, nRep, N);
    storeFnName(zFn, sizeof(zFn), 1, aStore[j]);
    if( statOf("misses", zFn)!=aMiss0[j] ) fail("hot hits", "a hit missed");
    if( statOf("hits", zFn)-aHits0[j]!=nCall ){
      fail("hot hits", "not every call was a hit");
    }
    snprintf(zName, sizeof(zName), "store %s: hot-tier hit, 100-byte blob "
             "(hot_bytes 64 MB, filled one statement per key)", zStore);
    r = addRow(zName, N, ns, "trivial C function call (net of scan)",
               trivialNs);
    ratioTarget(r, 3.0, "trivial C function call");
    if( bHotCol ){
      int64_t nHot = statOf("hot_hits", zFn) - aHot0[j];
      note("store %s: hot-tier hit, %s: %lld of the %lld timed and warm-up "
           "hits served by the hot tier%s", zStore, zE, (long long)nHot,
           (long long)nCall, nHot==nCall ? "" : " WARNING: not all of them");
    }
    note("store %s: hot-tier hit, %s: %.1f ns net of ident(x) (the row), "
         "%.1f ns net of the bare scan (%.2fx the trivial C function call); "
         "with the hot tier off %.0f ns (%.1fx the hot hit)", zStore, zE, ns,
         whole, whole/trivialNs, btree, btree/ns);
  }
  if( !bHotCol ){
    note("hot-tier rows: every call was a hit (cachier_stats hits, misses) "
         "and main was not written (total_changes); cachier_stats has no "
         "hot_hits column, so that the tier served them shows in the time "
         "only, against the same hit with the tier off");
  }
  scanFree(&scanX); scanFree(&identX);
  scanFree(&aHot[0]); scanFree(&aHot[1]);
}

/* Stored misses of st_b100_file_m on fresh keys in autocommit: one
** statement per miss, or one SELECT over the table fresh (bScan), net of
** payload_m() called directly in the same statement shape. */
static void storeMisses(int64_t N, int nRep, int bScan, int bFloor,
                        const char *zName){
  int64_t nMiss = STORE_MISSES, nMiss0 = statOf("misses", "st_b100_file_m");
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  Row *r;
  timeFreshMisses("st_b100_file_m", bScan, bFloor ? "store" : 0, nMiss, nRep,
                  aBase, aMiss, aFloor);
  if( statOf("misses", "st_b100_file_m")-nMiss0!=nRep*nMiss ){
    fail("file-store misses", "not every call was a miss");
  }
  r = addRow(zName, N, netPer(aMiss, aBase, nRep, nMiss),
             "absolute target (10 µs)", 10000);
  r->eTarget = 2;
  r->target = 10000;
  if( bFloor ){
    note("%s: for scale, store(x) (the existing floor: INSERT OR REPLACE of "
         "a 100-byte row into main, in the same statement shape and "
         "autocommit) in the same reps: %.0f ns", zName,
         netPer(aFloor, aBase, nRep, nMiss));
  }
}

/* The store rows, on their own database of STORE_ENTRIES keys. */
static void benchStores(const char *zExt){
  int64_t N = STORE_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS;
  double aMainHit[N_KIND], aFileHit[N_KIND];
  openDb(zExt, N, "-stores");
  snprintf(g_zCacheFile, sizeof(g_zCacheFile), "%.*s-cache.db",
           (int)strlen(g_zPath)-3, g_zPath);
  removeCacheFile();
  makeKeys(N);
  storeSetup(N);
  storeHits(N, nRep, aMainHit, aFileHit);
  storeHot(N, nRep, aMainHit[1], aFileHit[1]);
  storeMisses(N, nRep, 0, 1, "store file: stored miss, 100-byte blob, "
              "autocommit, one statement per miss (main: WAL)");
  storeMisses(N, nRep, 1, 1, "store file: stored miss, 100-byte blob, "
              "autocommit, one SELECT over a table (main: WAL)");
  exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
  storeMisses(N, nRep, 0, 0, "store file: stored miss, 100-byte blob, "
              "autocommit, one statement per miss (main: DELETE, sync=FULL)");
  storeMisses(N, nRep, 1, 0, "store file: stored miss, 100-byte blob, "
              "autocommit, one SELECT over a table (main: DELETE, "
              "sync=FULL)");
  closeDb();
  removeCacheFile();
  g_zCacheFile[0] = 0;
  note("store rows (%lld keys; 64 KB values: %d): %.1f s in all",
       (long long)N, STORE_BIG_KEYS, (double)(nowNs()-t0)/1e9);
}

/* -------------------------------------------------------------- Redis */

#define REDIS_ENTRIES 10000
#define REDIS_MISSES  2000         /* stored misses a rep */
#define REDIS_COUNT   200          /* misses of the command count */
#define REDIS_CROSS   2000         /* raw GETs timed on another vCPU */
#define REDIS_PREFIX  "bench"      /* cachier's keys: bench:FN:... */
#define REDIS_RAW     "bench-raw"  /* the floors' keys: bench-raw:KIND:x */

static redisContext *g_pRedis;     /* the floors' own connection */

/* The memoized functions of the Redis rows: st_redis_KIND, one per size
** of value, each the C function of that value; the floor of each is
** rget_KIND(x), a raw GET of a key holding the same bytes. st_redis_m
** (payload) is the stored miss, its floor rset(x), a raw SET. */
typedef struct RedisKind RedisKind;
struct RedisKind {
  const char *zKind;          /* in the names */
  const char *zLabel;         /* for the rows */
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  int nBytes;                 /* the value's size: 8 is the INTEGER */
};
static const RedisKind g_aRedisKind[] = {
  { "int", "INTEGER value (8 B)", valIntFunc, 8 },
  { "b100", "100-byte blob", payloadFunc, PAYLOAD_BYTES },
  { "b4k", "4 KB blob", blob4kFunc, B4K_BYTES },
};
#define N_REDIS_KIND ((int)(sizeof(g_aRedisKind)/sizeof(g_aRedisKind[0])))

/* The floor's key of x for kind zKind; returns its length. */
static int rawKey(char *z, size_t n, const char *zKind, int64_t x){
  return snprintf(z, n, REDIS_RAW ":%s:%lld", zKind, (long long)x);
}

/* The bytes of k's value of x, as its C function makes them (an INTEGER
** as its 8 bytes), into a (room for B4K_BYTES); returns their size. */
static int rawValue(const RedisKind *k, int64_t x, unsigned char *a){
  if( k->nBytes==8 ){
    int64_t v = (int64_t)(mix64((uint64_t)x) >> 2);        /* val_int(x) */
    memcpy(a, &v, 8);
  }else if( k->nBytes==PAYLOAD_BYTES ){
    fillPayload((uint64_t)x, a);
  }else{
    fillBlob((uint64_t)x, a, k->nBytes);
  }
  return k->nBytes;
}

/* rget_KIND(x): a raw synchronous GET (redisCommand) of x's key on the
** bench's own hiredis connection; the value as st_redis_KIND returns it
** (an INTEGER or a BLOB). An error if it is not there. */
static void rgetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const RedisKind *k = (const RedisKind*)sqlite3_user_data(ctx);
  char zKey[64];
  int nKey = rawKey(zKey, sizeof(zKey), k->zKind,
                    sqlite3_value_int64(argv[0]));
  redisReply *pReply = redisCommand(g_pRedis, "GET %b", zKey, (size_t)nKey);
  (void)argc;
  if( pReply==0 || pReply->type!=REDIS_REPLY_STRING
   || pReply->len!=(size_t)k->nBytes ){
    sqlite3_result_error(ctx, pReply ? "rget: no such value"
                                     : g_pRedis->errstr, -1);
  }else if( k->nBytes==8 ){
    int64_t v;
    memcpy(&v, pReply->str, 8);
    sqlite3_result_int64(ctx, v);
  }else{
    sqlite3_result_blob(ctx, pReply->str, (int)pReply->len,
                        SQLITE_TRANSIENT);
  }
  if( pReply ) freeReplyObject(pReply);
}

/* rset(x): a raw synchronous SET (redisCommand) of payload(x) under x's
** key (kind "miss"); returns 1. */
static void rsetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  unsigned char a[PAYLOAD_BYTES];
  char zKey[64];
  int nKey = rawKey(zKey, sizeof(zKey), "miss", sqlite3_value_int64(argv[0]));
  redisReply *pReply;
  (void)argc;
  fillPayload(valueSeed(argv[0]), a);
  pReply = redisCommand(g_pRedis, "SET %b %b", zKey, (size_t)nKey, a,
                        (size_t)PAYLOAD_BYTES);
  if( pReply==0 || pReply->type!=REDIS_REPLY_STATUS ){
    sqlite3_result_error(ctx, pReply ? "rset: refused" : g_pRedis->errstr,
                         -1);
  }else{
    sqlite3_result_int(ctx, 1);
  }
  if( pReply ) freeReplyObject(pReply);
}

/* A reply of the bench's connection, failing on an error. */
static redisReply *redisCheck(redisReply *pReply, const char *zWhat){
  if( pReply==0 ) fail(zWhat, g_pRedis->errstr);
  if( pReply->type==REDIS_REPLY_ERROR ) fail(zWhat, pReply->str);
  return pReply;
}

/* INFO of the sections in zSections (space-separated, 4 at most), as a
** malloc'ed string. */
static char *redisInfo(const char *zSections){
  const char *azArg[5] = { "INFO" };
  size_t anArg[5] = { 4 };
  int nArg = 1;
  redisReply *pReply;
  char *z;
  while( *zSections && nArg<5 ){
    size_t n = strcspn(zSections, " ");
    azArg[nArg] = zSections;
    anArg[nArg++] = n;
    zSections += n;
    zSections += strspn(zSections, " ");
  }
  pReply = redisCheck(redisCommandArgv(g_pRedis, nArg, azArg, anArg), "INFO");
  z = strdup(pReply->type==REDIS_REPLY_STRING ? pReply->str : "");
  freeReplyObject(pReply);
  if( z==0 ) fail("malloc", "out of memory");
  return z;
}

/* The value of "zName:VALUE" in INFO text z into zOut ("?" if none). */
static void infoField(const char *z, const char *zName, char *zOut,
                      size_t nOut){
  size_t n = strlen(zName);
  snprintf(zOut, nOut, "?");
  for(; z && *z; z = strchr(z, '\n') ? strchr(z, '\n')+1 : 0){
    if( strncmp(z, zName, n)==0 && z[n]==':' ){
      snprintf(zOut, nOut, "%.*s", (int)strcspn(z+n+1, "\r\n"), z+n+1);
      return;
    }
  }
}

/* Calls of command zCmd in INFO commandstats text z; with zCmd NULL,
** of every command but INFO. */
static int64_t cmdCalls(const char *z, const char *zCmd){
  int64_t n = 0;
  for(; z && *z; z = strchr(z, '\n') ? strchr(z, '\n')+1 : 0){
    const char *zCalls;
    size_t nName;
    if( strncmp(z, "cmdstat_", 8)!=0 ) continue;
    nName = strcspn(z+8, ":");
    zCalls = strstr(z, ":calls=");
    if( zCalls==0 ) continue;
    if( zCmd ? (strlen(zCmd)==nName && strncmp(z+8, zCmd, nName)==0)
             : !(nName==4 && strncmp(z+8, "info", 4)==0) ){
      n += atoll(zCalls+7);
    }
  }
  return n;
}

/* Numeric field zName of INFO text z (0 if none). */
static double infoNum(const char *z, const char *zName){
  char zV[64];
  infoField(z, zName, zV, sizeof(zV));
  return atof(zV);
}

/* The server's CPU time in INFO text z, ns. */
static double infoCpuNs(const char *z){
  return (infoNum(z, "used_cpu_user") + infoNum(z, "used_cpu_sys"))*1e9;
}

static double processCpuNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec*1e9 + (double)ts.tv_nsec;
}

/* Run pStmt once (n calls; ?1, ?2 bound to a, b), with nothing else
** talking to the server, and note per call: round trips (reads the server
** processed: a request comes in one read), commands run (INFO
** commandstats, which counts those run by scripts too), and where the
** time went: wall, the bench process's CPU and the server's. */
static void redisCount(const char *zWhat, sqlite3_stmt *pStmt, int64_t a,
                       int64_t b, int64_t n){
  static const char *azCmd[] = { "hget", "get", "set", "evalsha", "eval" };
  char *z0, *z1, zOut[200] = "";
  double t, tCpu;
  int i, k = 0;
  int64_t nAll;
  z0 = redisInfo("stats cpu commandstats");
  tCpu = processCpuNs();
  t = timeStmt(pStmt, a, b, n);
  tCpu = processCpuNs() - tCpu;
  z1 = redisInfo("stats cpu commandstats");
  nAll = cmdCalls(z1, 0) - cmdCalls(z0, 0);
  for(i=0; i<(int)(sizeof(azCmd)/sizeof(azCmd[0])); i++){
    int64_t d = cmdCalls(z1, azCmd[i]) - cmdCalls(z0, azCmd[i]);
    if( d ){
      k += snprintf(zOut+k, sizeof(zOut)-(size_t)k, "%s%s %.2f", k ? ", " : "",
                    azCmd[i], (double)d/(double)n);
      nAll -= d;
    }
  }
  /* (Each INFO's read is counted before it runs: the second one's is in
  ** the difference.) */
  note("%s, one pass of %lld: per call %.2f round trips (server reads); "
       "commands (scripts' included): %s%s%.2f other; %.0f ns wall, %.0f "
       "client CPU, %.0f server CPU", zWhat, (long long)n,
       (infoNum(z1, "total_reads_processed")
        - infoNum(z0, "total_reads_processed") - 1)/(double)n,
       zOut, k ? ", " : "", (double)nAll/(double)n, t/(double)n,
       tCpu/(double)n, (infoCpuNs(z1) - infoCpuNs(z0))/(double)n);
  free(z0);
  free(z1);
}

/* UNLINK every key matching zPattern. */
static void redisUnlinkAll(const char *zPattern){
  char zCursor[32] = "0";
  do{
    redisReply *pReply = redisCheck(redisCommand(g_pRedis,
        "SCAN %s MATCH %s COUNT 1000", zCursor, zPattern), "SCAN");
    redisReply *pKeys;
    if( pReply->type!=REDIS_REPLY_ARRAY || pReply->elements!=2 ){
      fail("SCAN", "unexpected reply");
    }
    snprintf(zCursor, sizeof(zCursor), "%s", pReply->element[0]->str);
    pKeys = pReply->element[1];
    if( pKeys->elements>0 ){
      const char **azArg = malloc(sizeof(char*)*(pKeys->elements+1));
      size_t *anArg = malloc(sizeof(size_t)*(pKeys->elements+1));
      size_t i;
      if( azArg==0 || anArg==0 ) fail("malloc", "out of memory");
      azArg[0] = "UNLINK";
      anArg[0] = 6;
      for(i=0; i<pKeys->elements; i++){
        azArg[i+1] = pKeys->element[i]->str;
        anArg[i+1] = pKeys->element[i]->len;
      }
      freeReplyObject(redisCheck(redisCommandArgv(g_pRedis,
          (int)pKeys->elements+1, azArg, anArg), "UNLINK"));
      free(azArg);
      free(anArg);
    }
    freeReplyObject(pReply);
  }while( strcmp(zCursor, "0")!=0 );
}

/* ns of n raw GETs of kind k's keys in a bare C loop (no SQL), over the
** key sequence. */
static double rawGetLoop(const RedisKind *k, int64_t n){
  int64_t i, t0 = nowNs();
  for(i=0; i<n; i++){
    char zKey[64];
    int nKey = rawKey(zKey, sizeof(zKey), k->zKind, g_aPerm[i]);
    redisReply *pReply = redisCommand(g_pRedis, "GET %b", zKey,
                                      (size_t)nKey);
    if( pReply==0 || pReply->type!=REDIS_REPLY_STRING ){
      fail("raw GET", pReply ? "no such value" : g_pRedis->errstr);
    }
    freeReplyObject(pReply);
  }
  return (double)(nowNs() - t0);
}

static void cpuList(const cpu_set_t *pSet, char *z, size_t n){
  int i, k = 0;
  z[0] = 0;
  for(i=0; i<CPU_SETSIZE && k<(int)n; i++){
    if( CPU_ISSET(i, pSet) ){
      k += snprintf(z+k, n-(size_t)k, "%s%d", k ? "," : "", i);
    }
  }
}

static void pinTo(int iCpu){
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(iCpu, &one);
  if( sched_setaffinity(0, sizeof(one), &one) ){
    fail("sched_setaffinity", "cannot pin to the CPU given");
  }
}

/* The Redis functions, their settings, the floors' keys and one fill of
** every st_redis_ function over the N keys. */
static void redisSetup(int64_t N, int port){
  sqlite3_stmt *pSet;
  char zSpec[128], zFn[64], zSql[300];
  unsigned char *aVal = malloc(B4K_BYTES);
  int k;
  if( aVal==0 ) fail("malloc", "out of memory");
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    snprintf(zSql, sizeof(zSql), "rget_%s", g_aRedisKind[k].zKind);
    if( sqlite3_create_function(g_db, zFn, 1, SQLITE_UTF8, 0,
                                g_aRedisKind[k].xFunc, 0, 0)!=SQLITE_OK
     || sqlite3_create_function(g_db, zSql, 1, SQLITE_UTF8,
                                (void*)&g_aRedisKind[k], rgetFunc, 0, 0)
        !=SQLITE_OK ){
      failDb("create_function");
    }
  }
  if( sqlite3_create_function(g_db, "st_redis_m", 1, SQLITE_UTF8, 0,
                              payloadFunc, 0, 0)!=SQLITE_OK
   || sqlite3_create_function(g_db, "rset", 1, SQLITE_UTF8, 0, rsetFunc, 0,
                              0)!=SQLITE_OK ){
    failDb("create_function");
  }

  /* The hit rows measure Redis itself: no hot tier (redisHot() has one). */
  exec("INSERT OR REPLACE INTO cachier_functions(name, hot_bytes)"
       " VALUES ('*', 0)");
  /* The store, for each function; what an earlier run left is dropped. */
  snprintf(zSpec, sizeof(zSpec), "redis://127.0.0.1:%d/0?prefix="
           REDIS_PREFIX, port);
  pSet = prep("INSERT OR REPLACE INTO cachier_functions(name, store,"
              " compress_min) VALUES (?1, ?2, 'none')");
  for(k=0; k<=N_REDIS_KIND; k++){
    if( k<N_REDIS_KIND ){
      snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    }else{
      snprintf(zFn, sizeof(zFn), "st_redis_m");
    }
    sqlite3_bind_text(pSet, 1, zFn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pSet, 2, zSpec, -1, SQLITE_TRANSIENT);
    if( sqlite3_step(pSet)!=SQLITE_DONE ) failDb("cachier_functions");
    sqlite3_reset(pSet);
    snprintf(zSql, sizeof(zSql), "SELECT cachier_clear('%s')", zFn);
    queryInt(zSql, 0, 0);
  }
  sqlite3_finalize(pSet);
  redisUnlinkAll(REDIS_RAW ":*");

  /* The floors' keys, pipelined. */
  for(k=0; k<N_REDIS_KIND; k++){
    int64_t i, j;
    for(i=0; i<N; i+=1000){
      for(j=i; j<N && j<i+1000; j++){
        char zKey[64];
        int nKey = rawKey(zKey, sizeof(zKey), g_aRedisKind[k].zKind, j);
        int nVal = rawValue(&g_aRedisKind[k], j, aVal);
        redisAppendCommand(g_pRedis, "SET %b %b", zKey, (size_t)nKey, aVal,
                           (size_t)nVal);
      }
      for(j=i; j<N && j<i+1000; j++){
        void *pReply = 0;
        if( redisGetReply(g_pRedis, &pReply)!=REDIS_OK ){
          fail("SET", g_pRedis->errstr);
        }
        freeReplyObject(redisCheck(pReply, "SET"));
      }
    }
  }
  free(aVal);

  /* Cachier's entries: N misses each, in autocommit (main's transactions
  ** do not matter to the Redis store). */
  for(k=0; k<N_REDIS_KIND; k++){
    int64_t t0 = nowNs();
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    snprintf(zSql, sizeof(zSql), "SELECT count(memoize('%s', x)) FROM mem.q"
             " WHERE rowid<=?1", zFn);
    if( queryInt(zSql, N, 0)!=N ) fail("redis fill", zFn);
    t0 = nowNs() - t0;
    if( k==1 ){
      note("store redis: fill of %lld 100-byte values, one SELECT: %.2f s, "
           "%.1f µs a stored miss", (long long)N, (double)t0/1e9,
           (double)t0/1e3/(double)N);
    }
    if( statOf("entries", zFn)!=N ) fail("redis fill", "entries");
    /* The floor's keys hold the values cachier returns. */
    snprintf(zSql, sizeof(zSql), "SELECT count(*) FROM mem.q WHERE"
             " memoize('%s', x) IS NOT rget_%s(x)", zFn,
             g_aRedisKind[k].zKind);
    if( queryInt(zSql, 0, 0)!=0 ) fail("redis fill", "values differ");
  }
}

/* Hits of each size beside raw GETs of the same size (see the header). */
static void redisHits(int64_t N, int nRep, int iCpu, const cpu_set_t *pAll){
  Scan identX, aFloor[N_REDIS_KIND], aHit[N_REDIS_KIND];
  int64_t nMiss0[N_REDIS_KIND];
  double aLoop[MAX_REPS];
  char zFn[64], zExpr[100], zName[200];
  int i, j, k;

  scanInit(&identX, "ident(x)");
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zFn);
    scanInit(&aHit[k], zExpr);
    snprintf(zExpr, sizeof(zExpr), "rget_%s(x)", g_aRedisKind[k].zKind);
    scanInit(&aFloor[k], zExpr);
    nMiss0[k] = statOf("misses", zFn);
  }
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, N);
    for(k=0; k<N_REDIS_KIND; k++){
      for(j=0; j<2; j++){                     /* the order turns by rep */
        if( (i+k+j)%2 ) scanRun(&aFloor[k], i, N);
        else scanRun(&aHit[k], i, N);
      }
    }
    aLoop[i] = rawGetLoop(&g_aRedisKind[1], N)/(double)N;
  }
  for(k=0; k<N_REDIS_KIND; k++){
    double hitNs = netPer(aHit[k].a, identX.a, nRep, N);
    double floorNs = netPer(aFloor[k].a, identX.a, nRep, N);
    Row *r;
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    if( statOf("misses", zFn)!=nMiss0[k] ){
      fail("redis hits", "a hit measurement missed");
    }
    snprintf(zName, sizeof(zName), "store redis: hit, %s",
             g_aRedisKind[k].zLabel);
    r = addRow(zName, N, hitNs, "raw hiredis GET, same size (C fn), same "
               "reps", floorNs);
    ratioTarget(r, 1.3, "raw GET");
    if( k==1 ){
      note("store redis: raw GET of 100 B in a bare C loop (no SQL): %.0f ns"
           " (as rget_b100(x) in the scan, net of ident(x): %.0f ns)",
           median(aLoop, nRep), floorNs);
    }
  }
  redisCount("store redis: hit, 100-byte blob", aHit[1].pStmt, N, 0, N);
  redisCount("store redis: raw GET of 100 B (rget_b100)", aFloor[1].pStmt, N,
             0, N);

  /* For scale: the round trip with the client on another vCPU. */
  if( iCpu>=0 && CPU_COUNT(pAll)>1 ){
    int iOther;
    double tSame, tOther;
    for(iOther=0; iOther<CPU_SETSIZE; iOther++){
      if( iOther!=iCpu && CPU_ISSET(iOther, pAll) ) break;
    }
    tSame = rawGetLoop(&g_aRedisKind[1], REDIS_CROSS);
    pinTo(iOther);
    rawGetLoop(&g_aRedisKind[1], REDIS_CROSS/10);      /* settle */
    tOther = rawGetLoop(&g_aRedisKind[1], REDIS_CROSS);
    pinTo(iCpu);
    note("store redis: raw GET of 100 B in a bare C loop, %d calls: %.0f ns "
         "with the client on the server's vCPU %d, %.0f ns on vCPU %d",
         REDIS_CROSS, tSame/REDIS_CROSS, iCpu, tOther/REDIS_CROSS, iOther);
  }
  scanFree(&identX);
  for(k=0; k<N_REDIS_KIND; k++){
    scanFree(&aHit[k]);
    scanFree(&aFloor[k]);
  }
}

/* Stored misses of st_redis_m (payload) on fresh keys, one SELECT over the
** table fresh, beside raw SETs of the same size, net of payload_m(). */
static void redisMisses(int64_t N, int nRep){
  double aBase[MAX_REPS], aMiss[MAX_REPS], aFloor[MAX_REPS];
  int64_t nMiss0 = statOf("misses", "st_redis_m");
  sqlite3_stmt *pCount = prep("WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL"
      " SELECT i+1 FROM c WHERE i<?2) SELECT count(memoize('st_redis_m', i))"
      " FROM c");
  redisCount("store redis: stored miss, 100-byte blob", pCount, g_fresh,
             g_fresh+REDIS_COUNT-1, REDIS_COUNT);
  g_fresh += REDIS_COUNT;
  sqlite3_finalize(pCount);
  if( queryInt("SELECT cachier_clear('st_redis_m')", 0, 0)!=REDIS_COUNT ){
    fail("redis misses", "cachier_clear did not find every miss");
  }
  timeFreshMisses("st_redis_m", 1, "rset", REDIS_MISSES, nRep, aBase, aMiss,
                  aFloor);
  if( statOf("misses", "st_redis_m")-nMiss0
      !=REDIS_COUNT+(int64_t)nRep*REDIS_MISSES ){
    fail("redis misses", "not every call was a miss");
  }
  addRow("store redis: stored miss, 100-byte blob, one SELECT over a table",
         N, netPer(aMiss, aBase, nRep, REDIS_MISSES),
         "raw hiredis SET, same size (C fn), same reps",
         netPer(aFloor, aBase, nRep, REDIS_MISSES));
}

/* The hot tier in front of Redis (hot_bytes 64 MB): 100-byte hits over
** the N keys, after two passes that fill it, beside the raw GET. */
static void redisHot(int64_t N, int nRep){
  Scan identX, hot, floorGet;
  int64_t nMiss0 = statOf("misses", "st_redis_b100");
  char *z0, *z1;
  long long nGet0 = 0, nGet1 = 0;
  const char *zAt;
  Row *r;
  int i;
  exec("INSERT OR REPLACE INTO cachier_functions(name, hot_bytes)"
       " VALUES ('*', 67108864)");
  scanInit(&identX, "ident(x)");
  scanInit(&hot, "memoize('st_redis_b100', x)");
  scanInit(&floorGet, "rget_b100(x)");
  scanRun(&hot, 0, N);                  /* fills the tier */
  scanRun(&hot, 0, N);
  z0 = redisInfo("commandstats");
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, N);
    scanRun(&hot, i, N);
    scanRun(&floorGet, i, N);
  }
  z1 = redisInfo("commandstats");
  /* (The floor's GETs are not HGETs: any HGET here is a hit that went to
  ** Redis.) */
  if( (zAt = strstr(z0, "cmdstat_hget:calls="))!=0 ) nGet0 = atoll(zAt+19);
  if( (zAt = strstr(z1, "cmdstat_hget:calls="))!=0 ) nGet1 = atoll(zAt+19);
  free(z0);
  free(z1);
  if( statOf("misses", "st_redis_b100")!=nMiss0 ){
    fail("redis hot tier", "a hit measurement missed");
  }
  note("store redis: hot tier, %d passes of %lld hits: %lld went to Redis "
       "(HGET)", nRep, (long long)N, nGet1-nGet0);
  r = addRow("store redis: hot-tier hit, 100-byte blob (hot_bytes 64 MB)", N,
             netPer(hot.a, identX.a, nRep, N), "raw hiredis GET, same size "
             "(C fn), same reps", netPer(floorGet.a, identX.a, nRep, N));
  (void)r;
  exec("INSERT OR REPLACE INTO cachier_functions(name, hot_bytes)"
       " VALUES ('*', 0)");
  scanFree(&identX);
  scanFree(&hot);
  scanFree(&floorGet);
}

/* The Redis rows, on a database of their own (REDIS_ENTRIES keys in q),
** against the server on 127.0.0.1:port; this thread runs them on vCPU
** iCpu (if >=0), as the server should (make bench pins it there). */
static void benchRedis(const char *zExt, int port, int iCpu){
  int64_t N = REDIS_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS, k;
  struct timeval tv = { 10, 0 };
  cpu_set_t all, server;
  char *zInfo, zVersion[32], zPid[32], zOwn[64], zServer[64];
  char zSql[100];

  g_pRedis = redisConnectWithTimeout("127.0.0.1", port, tv);
  if( g_pRedis==0 || g_pRedis->err ){
    fail("redis", g_pRedis ? g_pRedis->errstr : "out of memory");
  }
  redisSetTimeout(g_pRedis, tv);
  zInfo = redisInfo("server");
  infoField(zInfo, "redis_version", zVersion, sizeof(zVersion));
  infoField(zInfo, "process_id", zPid, sizeof(zPid));
  free(zInfo);
  if( sched_getaffinity(0, sizeof(all), &all) ) CPU_ZERO(&all);
  if( iCpu>=0 ) pinTo(iCpu);
  snprintf(zOwn, sizeof(zOwn), "unpinned");
  if( iCpu>=0 ) snprintf(zOwn, sizeof(zOwn), "%d", iCpu);
  snprintf(zServer, sizeof(zServer), "?");
  if( isNumber(zPid) && sched_getaffinity((pid_t)atoi(zPid), sizeof(server),
                                          &server)==0 ){
    cpuList(&server, zServer, sizeof(zServer));
  }
  note("redis rows: redis-server %s on 127.0.0.1:%d (pid %s, vCPUs %s); the "
       "client on vCPU %s for these rows; %lld keys", zVersion, port, zPid,
       zServer, zOwn, (long long)N);

  openDb(zExt, N, "-redis");
  makeKeys(N);
  redisSetup(N, port);
  redisHits(N, nRep, iCpu, &all);
  redisHot(N, nRep);
  redisMisses(N, nRep);

  /* Leave the server as it was found. */
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zSql, sizeof(zSql), "SELECT cachier_clear('st_redis_%s')",
             g_aRedisKind[k].zKind);
    queryInt(zSql, 0, 0);
  }
  redisUnlinkAll(REDIS_RAW ":*");
  closeDb();
  if( CPU_COUNT(&all)>0 ) sched_setaffinity(0, sizeof(all), &all);
  redisFree(g_pRedis);
  g_pRedis = 0;
  note("redis rows: %.1f s in all", (double)(nowNs()-t0)/1e9);
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

int main(int argc, char **argv){
  const char *zExt = argc>1 ? argv[1] : "./cachier.so";
  const char *zTestExt = 0;
  int64_t aSize[8] = { 10000, 1000000 };
  int nSize = 2, i, iArg = 2;
  char zVersion[64] = "?", zTestVersion[64] = "?", zDummy[16];
  const char *zRedisPort = getenv("CACHIER_REDIS_PORT");
  const char *zRedisCpu = getenv("CACHIER_BENCH_REDIS_CPU");

  if( argc>iArg && !isNumber(argv[iArg]) ) zTestExt = argv[iArg++];
  if( argc>iArg ){
    for(nSize=0; nSize<8 && iArg<argc; nSize++, iArg++){
      aSize[nSize] = isNumber(argv[iArg]) ? atoll(argv[iArg]) : 0;
      if( aSize[nSize]<10 ){
        fail("usage", "bench EXTENSION [TEST_EXTENSION] [ENTRIES ...]");
      }
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
         "rep%s\n\n",
         zVersion, sqlite3_libversion(), ZSTD_versionString(), MAX_REPS,
         HIT_KEYS,
         zTestExt ? "; in-flight rows on the test build" : "");
  fflush(stdout);
  for(i=0; i<nSize; i++) benchSize(zExt, zTestExt, aSize[i]);
  benchCompress(zExt);
  benchStores(zExt);
  if( zRedisPort && isNumber(zRedisPort) && atoi(zRedisPort)>0 ){
    benchRedis(zExt, atoi(zRedisPort),
               zRedisCpu && isNumber(zRedisCpu) ? atoi(zRedisCpu) : -1);
  }else{
    note("Redis rows left out: no server given (CACHIER_REDIS_PORT; "
         "make bench starts one)");
  }
  if( zTestExt==0 ){
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
