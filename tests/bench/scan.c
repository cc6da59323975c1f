/*
** scan.c - the bench's scan area: the canonical query, a scan of a table
** of the user's own in main calling memoize() on a column, as a new user
** writes it (issue 12), with cachier's defaults (hot tier, statement memo).
**
** On a database of its own (WAL with synchronous=NORMAL, then the default
** rollback journal with synchronous=FULL): probe(k) in main holds
** SCAN_ROWS rows, k = r mod D for a pseudo-random permutation r of
** 0..SCAN_ROWS-1, so each of the D distinct keys appears SCAN_ROWS/D
** times, in random order. g(k) is payload (the 100-byte blob). The cache
** holds g for every key of probe (filled in one BEGIN..COMMIT beforehand),
** so every call is a hit.
**   - "canonical scan": SELECT sum(length(memoize('g', k))) FROM probe
**     against SELECT sum(length(g(k))) FROM probe, per row, the scan
**     included, for D = 1,000 (target <= 2x), 10,000 and 200,000.
**   - The same scan with the statement memo on and off, as the
**     memoize_with() options statement_bytes '4MB' (its default) and 0 (the
**     same call path), interleaved rep by rep: for all-distinct keys the
**     memo must cost nothing (on / off <= 1.05x).
**   - Net of the scan: SELECT count(F) FROM probe minus SELECT count(k)
**     FROM probe, per row, for the trivial ident(k), for the memo hit
**     (D = 1,000: every key after its first sight served by the memo;
**     hot tier off) and for the hot-tier hit (memo off, hot_bytes 64 MB,
**     WAL only: the tier needs a version, which only WAL gives). Target
**     <= 6x the trivial call.
** hot_bytes is written to the '*' row between statements; each timed pass
** has an untimed warm-up pass.
*/
#include "bench.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SCAN_ROWS 200000
#define SCAN_HOT_BYTES (64*1024*1024)

/* hot_bytes of the '*' row (-1: the default, the column left NULL). */
static void setHot(int64_t hotBytes){
  char zSql[200];
  if( hotBytes<0 ){
    snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
             "(name, hot_bytes) VALUES ('*', NULL)");
  }else{
    snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
             "(name, hot_bytes) VALUES ('*', %lld)", (long long)hotBytes);
  }
  exec(zSql);
}

/* The statement memo on (its default bound) and off, as memoize_with()
** options: the same call path either way. */
#define MEMO_ON  "memoize_with('{\"statement_bytes\":\"4MB\"}', 'g', k)"
#define MEMO_OFF "memoize_with('{\"statement_bytes\":0}', 'g', k)"

/* A pass over probe: "SELECT zAgg FROM probe", timed after a warm-up. */
typedef struct ProbeScan ProbeScan;
struct ProbeScan {
  sqlite3_stmt *pStmt;
  int64_t nExpect;            /* its result (-1: not checked) */
  double a[MAX_REPS];
};
static void probeInit(ProbeScan *s, const char *zAgg, int64_t nExpect){
  char zSql[200];
  snprintf(zSql, sizeof(zSql), "SELECT %s FROM probe", zAgg);
  memset(s, 0, sizeof(*s));
  s->pStmt = prep(zSql);
  s->nExpect = nExpect;
}
static void probeRun(ProbeScan *s, int iRep){
  timeStmt(s->pStmt, 0, 0, s->nExpect);
  s->a[iRep] = timeStmt(s->pStmt, 0, 0, s->nExpect);
}
static void probeFree(ProbeScan *s){ sqlite3_finalize(s->pStmt); }

/* A fixed pseudo-random permutation of 0..SCAN_ROWS-1. */
static int64_t *g_aScanPerm;
static void scanPerm(void){
  uint64_t rng = 0x9e3779b97f4a7c15ULL;
  int64_t i;
  g_aScanPerm = sqlite3_malloc64(sizeof(int64_t)*SCAN_ROWS);
  if( g_aScanPerm==0 ) fail("malloc", "out of memory");
  for(i=0; i<SCAN_ROWS; i++) g_aScanPerm[i] = i;
  for(i=SCAN_ROWS-1; i>0; i--){
    int64_t j, tmp;
    rng = mix64(rng);
    j = (int64_t)(rng % (uint64_t)(i+1));
    tmp = g_aScanPerm[i]; g_aScanPerm[i] = g_aScanPerm[j]; g_aScanPerm[j] = tmp;
  }
}

/* probe with D distinct keys; the cache filled with g for each. */
static void probeFill(int64_t D){
  sqlite3_stmt *pIns;
  int64_t i;
  exec("BEGIN; DELETE FROM probe;");
  pIns = prep("INSERT INTO probe(k) VALUES(?1)");
  for(i=0; i<SCAN_ROWS; i++){
    sqlite3_bind_int64(pIns, 1, g_aScanPerm[i] % D);
    if( sqlite3_step(pIns)!=SQLITE_DONE ) failDb("insert probe");
    sqlite3_reset(pIns);
  }
  sqlite3_finalize(pIns);
  if( queryInt("SELECT count(memoize('g', k)) FROM (SELECT DISTINCT k FROM"
               " probe)", 0, 0)!=D ){
    fail("scan", "fill");
  }
  exec("COMMIT");
  if( statOf("entries", "g")!=D ) fail("scan", "the cache does not hold D");
}

/* The rows of one journal mode (zMode, its label). */
static void scanMode(const char *zExt, const char *zPragma, const char *zMode,
                     int bWal){
  static const int64_t aD[3] = { 1000, 10000, SCAN_ROWS };
  const int nRep = MAX_REPS;
  char zName[200];
  int iD, i;
  int64_t nMiss0;
  Row *r;

  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-scan-%s.db",
           (long)getpid(), bWal ? "wal" : "rollback");
  removeDbFiles(g_zPath);
  openConn(zExt);
  createFunction("g", 0, payloadFunc);
  exec(zPragma);
  exec("CREATE TABLE probe(k INTEGER)");
  for(iD=0; iD<3; iD++){
    int64_t D = aD[iD];
    ProbeScan floorS, canon, canonOn, canonOff, bare, ident, memoHit, hotHit;
    char zE[32];
    double canonNs, floorNs, onNs, offNs, bareNs, identNs;
    probeFill(D);
    nMiss0 = statOf("misses", "g");
    fmtEntries(zE, sizeof(zE), D);
    probeInit(&floorS, "sum(length(g(k)))", (int64_t)SCAN_ROWS*PAYLOAD_BYTES);
    probeInit(&canon, "sum(length(memoize('g', k)))",
              (int64_t)SCAN_ROWS*PAYLOAD_BYTES);
    probeInit(&canonOn, "sum(length(" MEMO_ON "))",
              (int64_t)SCAN_ROWS*PAYLOAD_BYTES);
    probeInit(&canonOff, "sum(length(" MEMO_OFF "))",
              (int64_t)SCAN_ROWS*PAYLOAD_BYTES);
    probeInit(&bare, "count(k)", SCAN_ROWS);
    probeInit(&ident, "count(ident(k))", SCAN_ROWS);
    probeInit(&memoHit, "count(memoize('g', k))", SCAN_ROWS);
    probeInit(&hotHit, "count(" MEMO_OFF ")", SCAN_ROWS);
    for(i=0; i<nRep; i++){
      probeRun(&floorS, i);
      /* Defaults (hot tier and memo); the memo on and off by turns. */
      setHot(-1);
      probeRun(&canon, i);
      if( i%2==0 ) probeRun(&canonOn, i);
      probeRun(&canonOff, i);
      if( i%2==1 ) probeRun(&canonOn, i);
      if( D==1000 ){
        probeRun(&bare, i);
        probeRun(&ident, i);
        setHot(0);
        probeRun(&memoHit, i);
        if( bWal ){
          setHot(SCAN_HOT_BYTES);
          probeRun(&hotHit, i);
        }
      }
    }
    setHot(-1);
    if( statOf("misses", "g")!=nMiss0 ) fail("scan", "a hit missed");
    canonNs = median(canon.a, nRep)/SCAN_ROWS;
    floorNs = median(floorS.a, nRep)/SCAN_ROWS;
    onNs = median(canonOn.a, nRep)/SCAN_ROWS;
    offNs = median(canonOff.a, nRep)/SCAN_ROWS;
    snprintf(zName, sizeof(zName), "canonical scan, %s distinct keys in "
             "200k rows of main, %s (scan included)", zE, zMode);
    r = addRow(zName, D, canonNs, "g(k) called directly", floorNs);
    if( D==1000 ) ratioTarget(r, 2.0, "floor");
    snprintf(zName, sizeof(zName), "canonical scan, %s distinct keys, %s: "
             "statement memo on / off", zE, zMode);
    r = addRow(zName, D, onNs, "the same scan, statement_bytes 0", offNs);
    if( D==SCAN_ROWS ) ratioTarget(r, 1.05, "memo off");
    if( D==1000 ){
      bareNs = median(bare.a, nRep);
      identNs = netPer(ident.a, bare.a, nRep, SCAN_ROWS);
      snprintf(zName, sizeof(zName), "trivial C function per row, %s "
               "(net of scan)", zMode);
      addRow(zName, D, identNs, "", -1);
      snprintf(zName, sizeof(zName), "statement memo hit, hot tier off, %s "
               "(net of scan)", zMode);
      r = addRow(zName, D, netPer(memoHit.a, bare.a, nRep, SCAN_ROWS),
                 "trivial C function call (net of scan)", identNs);
      ratioTarget(r, 6.0, "trivial C function call");
      if( bWal ){
        snprintf(zName, sizeof(zName), "hot-tier hit over main, memo off, "
                 "%s (net of scan)", zMode);
        r = addRow(zName, D, netPer(hotHit.a, bare.a, nRep, SCAN_ROWS),
                   "trivial C function call (net of scan)", identNs);
        ratioTarget(r, 6.0, "trivial C function call");
      }
      note("scan, %s: bare scan of probe %.1f ns a row", zMode,
           bareNs/SCAN_ROWS);
    }
    probeFree(&floorS); probeFree(&canon); probeFree(&canonOn);
    probeFree(&canonOff);
    probeFree(&bare); probeFree(&ident); probeFree(&memoHit);
    probeFree(&hotHit);
    queryInt("SELECT cachier_clear('g')", 0, 0);
  }
  closeDb();
}

void benchScan(const char *zExt){
  scanPerm();
  scanMode(zExt, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
           "WAL", 1);
  scanMode(zExt, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;",
           "rollback journal", 0);
  sqlite3_free(g_aScanPerm);
  g_aScanPerm = 0;
}
