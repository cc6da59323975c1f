/*
** hits.c - the bench's hits area, per size N on the per-size database
** (bench.c): a cache of N entries of payload(x), INTEGER keys, then of
** payload(s), 40-byte TEXT keys.
**
**   - Floor of a hit: lookup(x), a C function running a reused prepared
**         SELECT v FROM t WHERE k=?
**     on the same connection, over the same key sequence. Also the same
**     hit and floor with one statement per call (SELECT F(?1)); target
**     <= 1.5x, as for the other hits.
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
**
** Rows: trivial C function per row; hit, 1 INTEGER arg; hit, fresh entry,
** stale_after set; stale hit, next_time (refresh already pending); first
** stale hit, next_time; hit, 40-byte TEXT arg, and (10k entries) the same
** hit and floor with a 16 MB page cache; hit, 1 INTEGER arg, one
** statement per call. Leaves the cache as sizeFillText() does.
*/
#include "bench.h"
#include <stdio.h>

/* Sizes up to which a 16 MB page cache holds the TEXT row's tables. */
#define MAX_CACHED_N 10000

/* payload's settings. They apply from the next statement. */
#define SET_PLAIN "DELETE FROM cachier_functions WHERE name='payload'"
#define SET_STALE_AFTER "INSERT OR REPLACE INTO cachier_functions" \
    "(name, stale_after) VALUES ('payload', '1 day')"
#define SET_NEXT_TIME "INSERT OR REPLACE INTO cachier_functions" \
    "(name, stale_after, next_time) VALUES ('payload', 0.000001, 1)"

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
  int64_t nMiss0 = statOf("misses", "payload");
  int64_t nStale0 = statOf("stale_hits", "payload"), c0;
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
  if( statOf("misses", "payload")!=nMiss0 ){
    fail("stale hits", "a stale hit missed");
  }
  if( statOf("stale_hits", "payload")-nStale0 != n + (int64_t)nRep*(nWarm+n) ){
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

void benchHits(int64_t N, int nRep){
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
  nMiss0 = statOf("misses", "payload");

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
  if( statOf("misses", "payload")!=nMiss0 ){
    fail("hits", "a hit measurement missed");
  }

  addRow("trivial C function per row (net of scan)", N,
         netPer(identX.a, scan.a, nRep, n), "", -1);
  floorNs = netPer(floorX.a, identX.a, nRep, n);
  hitNs = netPer(hitX.a, identX.a, nRep, n);
  r = addRow("hit, 1 INTEGER arg", N, hitNs, "point lookup (C fn)", floorNs);
  ratioTarget(r, 1.5, "floor");
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
  sizeFillText(N);
  nMiss0 = statOf("misses", "payload");
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
  if( statOf("misses", "payload")!=nMiss0 ){
    fail("hits", "a TEXT hit measurement missed");
  }
  floorNs = netPer(floorT.a, identX.a, nRep, n);
  ns = netPer(hitS.a, identS.a, nRep, n);
  r = addRow("hit, 40-byte TEXT arg", N, ns, "point lookup (C fn)", floorNs);
  ratioTarget(r, 1.5, "floor");

  /* The same with a page cache that holds both tables at 10k entries
  ** (16 MB; the default is 2 MB): the part of the row above that is the
  ** cache's table being the larger (its rows carry the function's name
  ** and the entry's times, and its pages, filled in hash order, are less
  ** full than the floor's, filled in key order). */
  if( N<=MAX_CACHED_N ){
    int64_t nCache0 = queryInt("PRAGMA cache_size", 0, 0);
    char zSet[64];
    exec("PRAGMA cache_size=-16000");
    for(i=0; i<nRep; i++){
      scanRun(&identX, i, n);
      scanRun(&floorT, i, n);
      scanRun(&identS, i, n);
      scanRun(&hitS, i, n);
    }
    snprintf(zSet, sizeof(zSet), "PRAGMA cache_size=%lld", (long long)nCache0);
    exec(zSet);
    addRow("hit, 40-byte TEXT arg, page cache 16 MB", N,
           netPer(hitS.a, identS.a, nRep, n),
           "point lookup (C fn), page cache 16 MB",
           netPer(floorT.a, identX.a, nRep, n));
    if( statOf("misses", "payload")!=nMiss0 ){
      fail("hits", "a TEXT hit measurement missed (16 MB page cache)");
    }
  }
  scanFree(&identS); scanFree(&identX); scanFree(&floorT); scanFree(&hitS);

  r = addRow("hit, 1 INTEGER arg, one statement per call", N,
             netPer(aHitStmt, aIdentStmt, nRep, nStmt),
             "point lookup, one statement per call",
             netPer(aFloorStmt, aIdentStmt, nRep, nStmt));
  ratioTarget(r, 1.5, "floor");
  sqlite3_finalize(pIdentStmt);
  sqlite3_finalize(pFloorStmt);
}
