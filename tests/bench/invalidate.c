/*
** invalidate.c - the bench's invalidate area: what depends_on costs
** (ext/depends.c, docs/invalidation.md), on a database of its own in WAL
** mode with synchronous=NORMAL (so a commit is not an fsync that would
** hide the triggers' cost).
**
**   - Hits: memoize('pd', k) of a function with depends_on = 'orders'
**     against memoize('pn', k), the same payload without, over the same
**     INV_KEYS keys in one statement, reps interleaved; with the hot tier
**     off (B-tree hits) and on (the default). Target <= 1.1x. Also one
**     statement per call (SELECT memoize(F, ?1), reset each time), where
**     each statement checks that the counters it keeps are current (two
**     kept PRAGMAs): shown, no target (the target is per hit).
**   - One-row INSERT (autocommit, a prepared statement) into orders,
**     tracked (three cachier_track triggers), against the same INSERT into
**     plain, an identical table untracked. Target <= 2x.
**   - INSERT ... SELECT of INV_BULK rows in one transaction, tracked
**     against untracked, on a table with an index and on a narrow one
**     without (SQLite runs INSERT ... SELECT through a temporary table
**     when the target has any row trigger). Target <= 1.5x.
** The tables are emptied (untimed) between reps.
*/
#include "bench.h"
#include <stdio.h>
#include <unistd.h>

#define INV_KEYS  20000
#define INV_ROWS1 2000            /* one-row INSERTs per rep */
#define INV_BULK  100000

/* Two passes over the keys, a function each, timed rep by rep. */
static void hitRows(const char *zLabel, int nRep){
  sqlite3_stmt *pD = prep("SELECT count(memoize('pd', k)) FROM keys");
  sqlite3_stmt *pN = prep("SELECT count(memoize('pn', k)) FROM keys");
  double aD[MAX_REPS], aN[MAX_REPS];
  char zName[160];
  int64_t nInv0 = statOf("invalidated", "pd");
  int i;
  Row *r;
  for(i=0; i<nRep; i++){
    timeStmt(pN, 0, 0, INV_KEYS);             /* warm-up */
    aN[i] = timeStmt(pN, 0, 0, INV_KEYS);
    timeStmt(pD, 0, 0, INV_KEYS);
    aD[i] = timeStmt(pD, 0, 0, INV_KEYS);
  }
  if( statOf("misses", "pd")!=INV_KEYS || statOf("misses", "pn")!=INV_KEYS
   || statOf("invalidated", "pd")!=nInv0 ){
    fail("invalidate", "a hit pass missed");
  }
  snprintf(zName, sizeof(zName), "hit, depends_on set (%s)", zLabel);
  r = addRow(zName, INV_KEYS, median(aD, nRep)/INV_KEYS,
             "the same hit without depends_on", median(aN, nRep)/INV_KEYS);
  ratioTarget(r, 1.1, "the hit without");
  sqlite3_finalize(pD);
  sqlite3_finalize(pN);
}

/* One statement per call: INV_ROWS1 hits of each function, reps
** interleaved. */
static void stmtRows(int nRep){
  sqlite3_stmt *pD = prep("SELECT memoize('pd', ?1)");
  sqlite3_stmt *pN = prep("SELECT memoize('pn', ?1)");
  double aD[MAX_REPS], aN[MAX_REPS];
  int i;
  Row *r;
  for(i=0; i<nRep; i++){
    timeLoop(pN, 0, 1, INV_ROWS1);
    aN[i] = timeLoop(pN, 0, 1, INV_ROWS1);
    timeLoop(pD, 0, 1, INV_ROWS1);
    aD[i] = timeLoop(pD, 0, 1, INV_ROWS1);
  }
  r = addRow("hit, depends_on set, one statement per call", INV_KEYS,
             median(aD, nRep)/INV_ROWS1, "the same hit without depends_on",
             median(aN, nRep)/INV_ROWS1);
  (void)r;
  sqlite3_finalize(pD);
  sqlite3_finalize(pN);
}

/* One-row INSERTs into zTable, each its own transaction: ns per INSERT. */
static double insertOne(sqlite3_stmt *pIns){
  int64_t t0 = nowNs();
  int i;
  for(i=0; i<INV_ROWS1; i++){
    sqlite3_bind_int64(pIns, 1, i);
    if( sqlite3_step(pIns)!=SQLITE_DONE ) failDb("insert");
    sqlite3_reset(pIns);
  }
  return (double)(nowNs() - t0)/INV_ROWS1;
}

/* The one-row and bulk INSERT rows for tables zT (tracked) and zU. */
static void insertRows(const char *zT, const char *zU, const char *zLabel,
                       int bOne, int nRep){
  char zSql[300], zName[160];
  sqlite3_stmt *pOneT, *pOneU, *pBulkT, *pBulkU;
  double aT[MAX_REPS], aU[MAX_REPS], aBT[MAX_REPS], aBU[MAX_REPS];
  int64_t n0;
  int i;
  Row *r;
  snprintf(zSql, sizeof(zSql), "INSERT INTO %s(customer, amount, note)"
           " VALUES ('customer ' || (?1 %% 1000), ?1 * 1.5, 'one row')", zT);
  pOneT = prep(zSql);
  snprintf(zSql, sizeof(zSql), "INSERT INTO %s(customer, amount, note)"
           " VALUES ('customer ' || (?1 %% 1000), ?1 * 1.5, 'one row')", zU);
  pOneU = prep(zSql);
  snprintf(zSql, sizeof(zSql), "INSERT INTO %s(customer, amount, note)"
           " SELECT 'customer ' || (v*7919 %% 1000), v*1.5,"
           " 'order number ' || v FROM src", zT);
  pBulkT = prep(zSql);
  snprintf(zSql, sizeof(zSql), "INSERT INTO %s(customer, amount, note)"
           " SELECT 'customer ' || (v*7919 %% 1000), v*1.5,"
           " 'order number ' || v FROM src", zU);
  pBulkU = prep(zSql);
  n0 = queryIntText("SELECT n FROM cachier_changes WHERE tbl=?1", zT);
  for(i=0; i<nRep; i++){
    char zDel[120];
    if( bOne ){
      aU[i] = insertOne(pOneU);
      aT[i] = insertOne(pOneT);
    }
    snprintf(zDel, sizeof(zDel), "DELETE FROM %s; DELETE FROM %s", zT, zU);
    exec(zDel);
    aBU[i] = timeTxn(pBulkU, 0, 0, -1);
    aBT[i] = timeTxn(pBulkT, 0, 0, -1);
    exec(zDel);
  }
  /* Every row of the tracked table was counted. */
  if( queryIntText("SELECT n FROM cachier_changes WHERE tbl=?1", zT) - n0
      != (int64_t)nRep*((bOne ? INV_ROWS1 : 0) + 2*INV_BULK
                        + (bOne ? INV_ROWS1 : 0)) ){
    fail("invalidate", "the triggers did not count every row");
  }
  if( bOne ){
    snprintf(zName, sizeof(zName), "1-row INSERT, tracked (%s)", zLabel);
    r = addRow(zName, 0, median(aT, nRep), "the same INSERT untracked",
               median(aU, nRep));
    ratioTarget(r, 2.0, "untracked");
  }
  snprintf(zName, sizeof(zName), "100k-row INSERT...SELECT, tracked (%s)",
           zLabel);
  r = addRow(zName, 0, median(aBT, nRep)/INV_BULK,
             "the same INSERT untracked", median(aBU, nRep)/INV_BULK);
  ratioTarget(r, 1.5, "untracked");
  sqlite3_finalize(pOneT);
  sqlite3_finalize(pOneU);
  sqlite3_finalize(pBulkT);
  sqlite3_finalize(pBulkU);
}

void benchInvalidate(const char *zExt){
  const int nRep = 5;
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-invalidate.db",
           (long)getpid());
  removeDbFiles(g_zPath);
  openConn(zExt);
  createFunction("pd", 0, payloadFunc);
  createFunction("pn", 0, payloadFunc);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  exec("CREATE TABLE orders(id INTEGER PRIMARY KEY, customer TEXT,"
       " amount REAL, note TEXT);"
       "CREATE INDEX orders_customer ON orders(customer);"
       "CREATE TABLE plain(id INTEGER PRIMARY KEY, customer TEXT,"
       " amount REAL, note TEXT);"
       "CREATE INDEX plain_customer ON plain(customer);"
       "CREATE TABLE narrow(id INTEGER PRIMARY KEY, customer TEXT,"
       " amount REAL, note TEXT);"
       "CREATE TABLE narrow_plain(id INTEGER PRIMARY KEY, customer TEXT,"
       " amount REAL, note TEXT);"
       "CREATE TABLE src AS WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL"
       " SELECT v+1 FROM c WHERE v<100000) SELECT v FROM c;"
       "CREATE TABLE keys AS WITH RECURSIVE c(k) AS (SELECT 1 UNION ALL"
       " SELECT k+1 FROM c WHERE k<20000) SELECT k FROM c;");
  exec("INSERT INTO cachier_functions(name, depends_on)"
       " VALUES ('pd', 'orders, narrow')");
  if( queryInt("SELECT count(*) FROM sqlite_schema WHERE type='trigger'"
               " AND name LIKE 'cachier_track%'", 0, 0)!=6 ){
    fail("invalidate", "no tracking triggers");
  }
  /* Fill both caches (one transaction each), then hits. */
  exec("BEGIN; SELECT count(memoize('pd', k)) FROM keys;"
       " SELECT count(memoize('pn', k)) FROM keys; COMMIT;");
  hitRows("hot tier off", nRep);
  setHotBytes(64*1024*1024);
  hitRows("hot tier on", nRep);
  stmtRows(nRep);
  setHotBytes(0);
  insertRows("orders", "plain", "with an index", 1, nRep);
  insertRows("narrow", "narrow_plain", "no index", 0, nRep);
  note("invalidate: WAL, synchronous=NORMAL; tracked = three AFTER "
       "triggers bumping a counter row (docs/invalidation.md)");
  closeDb();
}
