/*
** inflight.c - the bench's inflight area: the cost of in-flight marks per
** stored miss, per size N on the per-size database (bench.c), after the
** misses area (if it runs).
**
**   - In-flight marks (with TEST.so only): after the other rows of the
**     size, the connection is reopened on the same file with the test
**     build, in WAL with synchronous=NORMAL, and the autocommit stored
**     misses of one SELECT over a table and of one statement per miss
**     (misses.c) are timed with cachier_test_inflight(1) and (0):
**     each rep alternates blocks of 500 misses of each setting (on, off,
**     off, on, ... or the reverse, by turns), each block on its own fresh
**     keys and net of payload_m() itself, after one untimed block of each
**     (the side file's opening). The row gives the median over reps of
**     (on - off) per miss; its floor is the miss with marks off, its
**     ratio is on / off.
*/
#include "bench.h"
#include <stdio.h>
#include <unistd.h>

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
  if( bScan ) refillFresh(pFill, base, nMiss);
  timeMisses(pBase, bScan, base, nMiss);        /* warm-up */
  *pBaseNs += timeMisses(pBase, bScan, base, nMiss);
  *pMissNs += timeMisses(pMiss, bScan, base, nMiss);
  dropMisses(base, nMiss);
}

/* Stored misses with in-flight marks on and off (see the header): one
** SELECT over the table fresh if bScan, else one statement per miss.
** Each rep alternates INFLIGHT_BLOCKS blocks of each setting (ABBA...,
** starting with on or off by turns), so that drift and WAL checkpoints
** hit both alike; aOn/aOff get ns per miss net of payload_m() itself. */
static void inflightPasses(int nRep, int bScan, double *aOn, double *aOff){
  sqlite3_stmt *pBase, *pMiss;
  sqlite3_stmt *pFill = prepFreshFill();
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
void benchInflight(const char *zTestExt, int64_t N, int nRep){
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

