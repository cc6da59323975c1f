/*
** stores.c - the bench's stores area: the main, file: and memory stores
** side by side, and the database the hot area (hot.c) shares with it.
**
** After the compress area, on a database of its own (10,000 keys in q,
** WAL, synchronous=NORMAL). The C functions val_int(x) (an 8-byte INTEGER),
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
**   - The hot area's rows (hot.c), when it runs.
**   - Stored misses on the file: store: st_b100_file_m (payload), 2,000
**     fresh keys a rep, autocommit, one statement per miss, and one SELECT
**     over the table fresh (the store groups its writes across statements:
**     a group commits after 256 writes or 10 ms, on its flusher thread);
**     net of payload_m() called directly in the same statement shape, cleared
**     after each rep (cachier_clear must find every miss). Both with main
**     in WAL (synchronous=NORMAL), then in journal_mode=DELETE,
**     synchronous=FULL. The floor is the absolute target, 10 µs per miss;
**     in WAL a note gives store(x) (the floor of the stored misses above)
**     in the same reps, for scale.
*/
#include "bench.h"
#include <stdio.h>
#include <string.h>

#define STORE_ENTRIES  10000
#define STORE_MISSES   2000        /* stored misses a rep */

static sqlite3_stmt *g_pLookupInt;    /* SELECT v FROM t_int WHERE k=?1 */
static sqlite3_stmt *g_pLookup64k;    /* the same on t_64k */

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


void storeFnName(char *z, size_t n, int iKind, int iStore){
  snprintf(z, n, "st_%s_%s", g_aKind[iKind].zKind, g_azStore[iStore]);
}

static int64_t storeKeys(int iKind, int64_t N){
  return g_aKind[iKind].bBig && N>STORE_BIG_KEYS ? STORE_BIG_KEYS : N;
}

/* The functions' stores and settings, the floors' tables, and one fill of
** every st_ function over its keys (one BEGIN..COMMIT each). */
static void storeSetup(int64_t N){
  char zSql[300], zFn[64];
  int k, s;
  for(k=0; k<N_KIND; k++){
    for(s=0; s<N_STORE; s++){
      storeFnName(zFn, sizeof(zFn), k, s);
      createFunction(zFn, 0, g_aKind[k].xFunc);
    }
    if( strcmp(g_aKind[k].zDirect, "payload")!=0 ){
      createFunction(g_aKind[k].zDirect, 0, g_aKind[k].xFunc);
    }
  }
  createFunction("st_b100_file_m", 0, payloadFunc);
  createFunction("lookup_int", (void*)&g_pLookupInt, lookupFunc);
  createFunction("lookup_64k", (void*)&g_pLookup64k, lookupFunc);

  setHotBytes(0);
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
      double t;
      storeFnName(zFn, sizeof(zFn), k, s);
      t = fillMemo(zFn, "x", n, 1);
      if( k==STORE_B100 ){
        note("stores: fill of %lld 100-byte values, %s store, in one "
             "BEGIN..COMMIT of main: %.2f s, %.2f µs each", (long long)n,
             g_azStoreLabel[s], t/1e9, t/1e3/(double)n);
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

/* Stored misses of st_b100_file_m on fresh keys in autocommit: one
** statement per miss, or one SELECT over the table fresh (bScan), net of
** payload_m() called directly in the same statement shape. */
static void storeMisses(int64_t N, int nRep, int bScan, int bFloor,
                        const char *zName){
  int64_t nMiss = STORE_MISSES, nMiss0 = statOf("misses", "st_b100_file_m");
  MissTimes m;
  Row *r;
  timeFreshMisses("st_b100_file_m", bScan, bFloor ? "store" : 0, nMiss, nRep,
                  &m);
  if( statOf("misses", "st_b100_file_m")-nMiss0!=nRep*nMiss ){
    fail("file-store misses", "not every call was a miss");
  }
  r = addRow(zName, N, missNs(&m), "absolute target (10 µs)", 10000);
  nsTarget(r, 10000);
  if( bFloor ){
    note("%s: for scale, store(x) (the existing floor: INSERT OR REPLACE of "
         "a 100-byte row into main, in the same statement shape and "
         "autocommit) in the same reps: %.0f ns", zName,
         missFloorNs(&m));
  }
}

/* The stores and hot areas (those asked for), on their own database of
** STORE_ENTRIES keys: the hits with the hot tier off, the hot-tier hits,
** then the file: store's stored misses. */
void benchStores(const char *zExt){
  int64_t N = STORE_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS;
  double aMainHit[N_KIND], aFileHit[N_KIND];
  openDb(zExt, N, "-stores");
  snprintf(g_zCacheFile, sizeof(g_zCacheFile), "%.*s-cache.db",
           (int)strlen(g_zPath)-3, g_zPath);
  removeDbFiles(g_zCacheFile);
  makeKeys(N);
  storeSetup(N);
  if( areaOn(AREA_STORES) ){
    storeHits(N, nRep, aMainHit, aFileHit);
  }else{
    aMainHit[STORE_B100] = aFileHit[STORE_B100] = -1;
  }
  if( areaOn(AREA_HOT) ){
    storeHot(N, nRep, aMainHit[STORE_B100], aFileHit[STORE_B100]);
  }
  if( areaOn(AREA_STORES) ){
    storeMisses(N, nRep, 0, 1, "store file: stored miss, 100-byte blob, "
                "autocommit, one statement per miss (main: WAL)");
    storeMisses(N, nRep, 1, 1, "store file: stored miss, 100-byte blob, "
                "autocommit, one SELECT over a table (main: WAL)");
    exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
    storeMisses(N, nRep, 0, 0, "store file: stored miss, 100-byte blob, "
                "autocommit, one statement per miss (main: DELETE, "
                "sync=FULL)");
    storeMisses(N, nRep, 1, 0, "store file: stored miss, 100-byte blob, "
                "autocommit, one SELECT over a table (main: DELETE, "
                "sync=FULL)");
  }
  sqlite3_finalize(g_pLookupInt);
  sqlite3_finalize(g_pLookup64k);
  g_pLookupInt = g_pLookup64k = 0;
  closeDb();
  removeDbFiles(g_zCacheFile);
  g_zCacheFile[0] = 0;
  note("store rows (%lld keys; 64 KB values: %d): %.1f s in all",
       (long long)N, STORE_BIG_KEYS, (double)(nowNs()-t0)/1e9);
}
