/*
** query.c - the bench's query area: cachier_query tables (issue 14).
**
** On a database of its own (WAL, synchronous=NORMAL): src holds
** QUERY_SRC_ROWS rows (id, grp, name, amount) in QUERY_GROUPS groups; the
** query "SELECT id, name, amount FROM src WHERE grp = ?1 ORDER BY amount
** DESC, id LIMIT ?2" sorts one group for its top N rows. The table q is a
** cachier_query table over it; plain10 and plain10k are ordinary tables
** holding exactly the rows q returns for N = 10 and N = 10,000, with the
** same columns.
**   - "cached query, N rows": one read of every row of q(1, N), served from
**     the cache (cachier's defaults: hot tier on), against reading the same
**     rows from the plain table (target <= 2x for both sizes). The read is
**     "SELECT count(*), sum(id), sum(length(name)), sum(amount) FROM ...",
**     a prepared statement reset and stepped once per read, so every
**     column of every row is read.
**   - "first read, N rows": the computing read (the entry cleared before
**     each, untimed), against running the bare query itself: what caching
**     a result costs the read that stores it. Reported, no target.
*/
#include "bench.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define QUERY_SRC_ROWS  200000
#define QUERY_GROUPS    4
#define QUERY_SQL "SELECT id, name, amount FROM src WHERE grp = ?1" \
                  " ORDER BY amount DESC, id LIMIT ?2"
#define QUERY_AGG "count(*) + sum(id) + sum(length(name)) + sum(amount)"

/* ns of one pass of pStmt (bound with 1, nLimit), the median of nRep reps
** of nLoop passes each (after one untimed pass); every pass must return
** the same first column. */
static double timeReads(sqlite3_stmt *pStmt, int64_t nLimit, int nLoop,
                        int nRep, int64_t *pnResult){
  double a[MAX_REPS];
  int64_t nExpect;
  int iRep, i;
  sqlite3_bind_int64(pStmt, 1, 1);
  sqlite3_bind_int64(pStmt, 2, nLimit);
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) failDb("query read");
  nExpect = sqlite3_column_int64(pStmt, 0);
  sqlite3_reset(pStmt);
  for(iRep=0; iRep<nRep; iRep++){
    int64_t t0 = nowNs();
    for(i=0; i<nLoop; i++) timeStmt(pStmt, 1, nLimit, nExpect);
    a[iRep] = (double)(nowNs() - t0)/nLoop;
  }
  *pnResult = nExpect;
  return median(a, nRep);
}

/* ns of the computing read of q(1, nLimit): the entry cleared (untimed)
** before each of nRep reads. */
static double timeFirstReads(sqlite3_stmt *pStmt, int64_t nLimit, int nRep,
                             int64_t nExpect){
  double a[MAX_REPS];
  int64_t nMiss0 = statOf("misses", "q");
  int iRep;
  for(iRep=0; iRep<nRep; iRep++){
    clearFn("q");
    a[iRep] = timeStmt(pStmt, 1, nLimit, nExpect);
  }
  if( statOf("misses", "q")!=nMiss0+nRep ) fail("query", "a first read hit");
  return median(a, nRep);
}

static void makeSource(void){
  sqlite3_stmt *pIns;
  int64_t i;
  exec("CREATE TABLE src(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT,"
       " amount REAL)");
  exec("BEGIN");
  pIns = prep("INSERT INTO src VALUES(?1, ?2, printf('customer %08x', ?3),"
              " ?4)");
  for(i=1; i<=QUERY_SRC_ROWS; i++){
    uint64_t r = mix64((uint64_t)i);
    sqlite3_bind_int64(pIns, 1, i);
    sqlite3_bind_int64(pIns, 2, (int64_t)(r % QUERY_GROUPS));
    sqlite3_bind_int64(pIns, 3, (int64_t)(r >> 32));
    sqlite3_bind_double(pIns, 4, (double)(r % 1000000)/100.0);
    if( sqlite3_step(pIns)!=SQLITE_DONE ) failDb("insert src");
    sqlite3_reset(pIns);
  }
  sqlite3_finalize(pIns);
  exec("CREATE TABLE plain10(id INTEGER, name TEXT, amount REAL);"
       "INSERT INTO plain10 SELECT id, name, amount FROM src WHERE grp = 1"
       " ORDER BY amount DESC, id LIMIT 10;"
       "CREATE TABLE plain10k(id INTEGER, name TEXT, amount REAL);"
       "INSERT INTO plain10k SELECT id, name, amount FROM src WHERE grp = 1"
       " ORDER BY amount DESC, id LIMIT 10000;"
       "COMMIT");
  exec("CREATE VIRTUAL TABLE q USING cachier_query('" QUERY_SQL "')");
}

void benchQuery(const char *zExt){
  static const struct { int64_t n; const char *zPlain; int nLoop; } aSize[] = {
    { 10,    "plain10",  2000 },
    { 10000, "plain10k", 20 },
  };
  const int nRep = MAX_REPS;
  sqlite3_stmt *pCached, *pPlain, *pBare;
  char zSql[300], zName[200];
  size_t k;
  snprintf(g_zPath, sizeof(g_zPath), "/tmp/cachier-bench-%ld-query.db",
           (long)getpid());
  removeDbFiles(g_zPath);
  openConn(zExt);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
       "DELETE FROM cachier_functions WHERE name='*'");
  makeSource();
  pCached = prep("SELECT " QUERY_AGG " FROM q(?1, ?2)");
  pBare = prep("SELECT " QUERY_AGG " FROM (" QUERY_SQL ")");
  for(k=0; k<sizeof(aSize)/sizeof(aSize[0]); k++){
    int64_t n = aSize[k].n, nCached, nPlain, nBare;
    double cachedNs, plainNs, firstNs, bareNs;
    Row *r;
    snprintf(zSql, sizeof(zSql), "SELECT " QUERY_AGG " FROM %s WHERE ?1+?2",
             aSize[k].zPlain);
    pPlain = prep(zSql);
    cachedNs = timeReads(pCached, n, aSize[k].nLoop, nRep, &nCached);
    plainNs = timeReads(pPlain, n, aSize[k].nLoop, nRep, &nPlain);
    if( nCached!=nPlain ) fail("query", "the cached rows differ");
    snprintf(zName, sizeof(zName), "cached query, %lld-row result: one read",
             (long long)n);
    r = addRow(zName, n, cachedNs, "the same rows from a plain table",
               plainNs);
    ratioTarget(r, 2.0, "plain table");
    bareNs = timeReads(pBare, n, aSize[k].nLoop > 100 ? 20 : 3, nRep, &nBare);
    if( nBare!=nPlain ) fail("query", "the bare query's rows differ");
    firstNs = timeFirstReads(pCached, n, nRep, nCached);
    snprintf(zName, sizeof(zName), "cached query, %lld-row result: first "
             "(computing) read", (long long)n);
    addRow(zName, n, firstNs, "the bare query", bareNs);
    sqlite3_finalize(pPlain);
  }
  note("query: the query sorts one group of %d rows of src (of %d) for its "
       "top N", QUERY_SRC_ROWS/QUERY_GROUPS, QUERY_SRC_ROWS);
  sqlite3_finalize(pCached);
  sqlite3_finalize(pBare);
  closeDb();
}
