/*
** misses.c - the bench's misses area (stored misses: cachier's writes),
** per size N on the per-size database (bench.c), its cache at N entries.
**
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
**     And (a) with one SELECT over a table of fresh keys (the 10 µs
**     target), the shape of a memoized column in a query.
*/
#include "bench.h"

/* Add the row of a stored-miss measurement m (its floor store()). eTarget:
** the 10 µs target applies. */
static void addMissRow(const char *zName, int64_t N, const MissTimes *m,
                       int eTarget){
  Row *r = addRow(zName, N, missNs(m),
                  "INSERT OR REPLACE 100-byte row (C fn)", missFloorNs(m));
  if( eTarget ) nsTarget(r, 10000);
}

/* Stored misses in autocommit (timeFreshMisses()), floor store(x). */
static void benchMissAutocommit(int64_t N, int nRep, int64_t nMiss, int bScan,
                                const char *zName, int eTarget){
  MissTimes m;
  timeFreshMisses("payload_m", bScan, "store", nMiss, nRep, &m);
  addMissRow(zName, N, &m, eTarget);
}

/* Stored misses inside one BEGIN..COMMIT (COMMIT timed). */
static void benchMissTxn(int64_t N, int nRep, int64_t nMiss){
  sqlite3_stmt *pBase = prep(FRESH_CTE "SELECT count(payload_m(i)) FROM c");
  sqlite3_stmt *pMiss = prep(FRESH_CTE
                             "SELECT count(memoize('payload_m', i)) FROM c");
  sqlite3_stmt *pFloor = prep(FRESH_CTE "SELECT count(store(i)) FROM c");
  MissTimes m;
  int i;
  m.nRep = nRep;
  m.nMiss = nMiss;
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh;
    g_fresh += nMiss;
    timeStmt(pBase, base, base+nMiss-1, nMiss);   /* warm-up */
    m.aBase[i] = timeStmt(pBase, base, base+nMiss-1, nMiss);
    m.aMiss[i] = timeTxn(pMiss, base, base+nMiss-1, nMiss);
    m.aFloor[i] = timeTxn(pFloor, base, base+nMiss-1, nMiss);
    dropMisses(base, nMiss);
  }
  addMissRow("stored miss, one BEGIN..COMMIT (WAL)", N, &m, 0);
  sqlite3_finalize(pBase);
  sqlite3_finalize(pMiss);
  sqlite3_finalize(pFloor);
}

/* The stored-miss rows at size N: leaves main in journal_mode=DELETE,
** synchronous=FULL. */
void benchMisses(int64_t N, int nRep){
  int64_t nTxn = N/5<20000 ? N/5 : 20000;
  int64_t nAuto = N/10<2000 ? N/10 : 2000;
  if( nTxn<1 ) nTxn = 1;
  if( nAuto<1 ) nAuto = 1;
  benchMissTxn(N, nRep, nTxn);
  benchMissAutocommit(N, nRep, nAuto, 1,
      "stored miss, WAL sync=NORMAL, autocommit, one SELECT over a table", 1);
  benchMissAutocommit(N, nRep, nAuto, 0,
      "stored miss, WAL sync=NORMAL, autocommit, one statement per miss", 0);
  exec("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;");
  benchMissAutocommit(N, 5, 40, 0,
      "stored miss, DELETE journal sync=FULL, autocommit", 0);
}
