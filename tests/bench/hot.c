/*
** hot.c - the bench's hot area: hot-tier hits on the stores area's
** database (stores.c), after its hits with the hot tier off.
**
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
**     bare scan and the same hit with the tier off (stores.c's row).
*/
#include "bench.h"
#include <stdio.h>

/* "N ns" for a tier-off hit time, or why there is none. */
static void tierOff(char *z, size_t n, double ns){
  if( ns<0 ) snprintf(z, n, "not measured (area stores)");
  else snprintf(z, n, "%.0f ns", ns);
}

/* Hot-tier hits of the 100-byte value on the file: store and on main
** (WAL), hot_bytes STORE_HOT_BYTES (see the header). mainHitNs and
** fileHitNs: the same hits with the tier off, for the notes (<0: not
** measured, the stores area did not run). */
void storeHot(int64_t N, int nRep, double mainHitNs,
                     double fileHitNs){
  static const int aStore[2] = { STORE_FILE, STORE_MAIN };
  Scan scanX, identX, aHot[2], scanOnly, identOnly;
  sqlite3_stmt *pFill;
  int64_t aHits0[2], aMiss0[2], aHot0[2], c0;
  int bHotCol = statHasColumn("hot_hits");
  char zFn[64], zExpr[100], zName[200], zSql[200], zE[32], zOff[64];
  double trivialNs, ns;
  int i, j;

  /* A write of main: main's tier starts empty. */
  setHotBytes(STORE_HOT_BYTES);
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
  tierOff(zOff, sizeof(zOff), mainHitNs);
  note("store main (WAL), hot_bytes 64 MB, warmed by the same scan of mem.q "
       "only, %s: %.0f ns a hit (hot tier off: %s): the scan of mem.q "
       "does not read main, so cachier's own first read starts main's "
       "snapshot and its hits fill the tier", zE, ns, zOff);
  scanFree(&scanOnly);
  scanFree(&identOnly);

  /* The fill: one statement per key, each lookup on a fresh snapshot. */
  for(j=0; j<2; j++){
    storeFnName(zFn, sizeof(zFn), STORE_B100, aStore[j]);
    snprintf(zSql, sizeof(zSql), "SELECT memoize('%s', ?1)", zFn);
    pFill = prep(zSql);
    timeLoop(pFill, g_aPerm, 0, N);
    sqlite3_finalize(pFill);
  }

  scanInit(&scanX, "x");
  scanInit(&identX, "ident(x)");
  for(j=0; j<2; j++){
    storeFnName(zFn, sizeof(zFn), STORE_B100, aStore[j]);
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
    double btree = aStore[j]==STORE_FILE ? fileHitNs : mainHitNs;
    const char *zStore = aStore[j]==STORE_FILE ? "file" : "main (WAL)";
    Row *r;
    ns = netPer(aHot[j].a, identX.a, nRep, N);
    storeFnName(zFn, sizeof(zFn), STORE_B100, aStore[j]);
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
    if( btree<0 ){
      snprintf(zOff, sizeof(zOff), "not measured (area stores)");
    }else{
      snprintf(zOff, sizeof(zOff), "%.0f ns (%.1fx the hot hit)", btree,
               btree/ns);
    }
    note("store %s: hot-tier hit, %s: %.1f ns net of ident(x) (the row), "
         "%.1f ns net of the bare scan (%.2fx the trivial C function call); "
         "with the hot tier off %s", zStore, zE, ns, whole, whole/trivialNs,
         zOff);
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

