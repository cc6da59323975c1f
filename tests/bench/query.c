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
**     rows from the plain table (target <= 2x for both sizes). A read is
**     "SELECT * FROM ...", a prepared statement stepped through its rows,
**     every column's value fetched by its type (as an application reads a
**     result), and reset.
**   - the 10-row read again with the table's depends_on '' (no
**     invalidation): what reading the change counters adds. Reported.
**   - "first read, N rows": the computing read of every row of q(1, N)
**     (the entry cleared before each, untimed), against stepping through
**     the bare query's rows: what caching a result costs the read that
**     stores it. Reported, no target.
** Each pair is measured interleaved, rep by rep.
*/
#include "bench.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define QUERY_SRC_ROWS  200000
#define QUERY_GROUPS    4
#define QUERY_SQL "SELECT id, name, amount FROM src WHERE grp = ?1" \
                  " ORDER BY amount DESC, id LIMIT ?2"

/* ns to step pStmt (bound with 1, nLimit) through all its rows, reading
** every column's value (sqlite3_column_int64(), _double(), _text() by its
** type), as an application reads a result; fails unless it returns nExpect
** rows. */
static double timeRows(sqlite3_stmt *pStmt, int64_t nLimit, int64_t nExpect){
  int64_t t0 = nowNs(), nRow = 0, sum = 0;
  int i, nCol = sqlite3_column_count(pStmt);
  sqlite3_bind_int64(pStmt, 1, 1);
  sqlite3_bind_int64(pStmt, 2, nLimit);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    for(i=0; i<nCol; i++){
      switch( sqlite3_column_type(pStmt, i) ){
        case SQLITE_INTEGER: sum += sqlite3_column_int64(pStmt, i); break;
        case SQLITE_FLOAT: sum += (int64_t)sqlite3_column_double(pStmt, i); break;
        default: sum += sqlite3_column_text(pStmt, i)[0]; break;
      }
    }
    nRow++;
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK ) failDb("query rows");
  t0 = nowNs() - t0;
  if( nRow!=nExpect || sum<=0 ) fail("query", "the rows differ");
  return (double)t0;
}

/* ns of one read of every row and column of pA and of pB (bound with 1,
** nLimit; timeRows()): medians of nRep reps of nLoop reads each, the two
** interleaved rep by rep (in turns first) so that a loaded machine weighs
** on both alike. Both must return nLimit rows. */
static void timePair(sqlite3_stmt *pA, sqlite3_stmt *pB, int64_t nLimit,
                     int nLoop, int nRep, double *pNsA, double *pNsB){
  double a[MAX_REPS], b[MAX_REPS];
  int iRep, i, k;
  timeRows(pA, nLimit, nLimit);
  timeRows(pB, nLimit, nLimit);
  for(iRep=0; iRep<nRep; iRep++){
    for(k=0; k<2; k++){
      sqlite3_stmt *p = (k==iRep%2) ? pA : pB;
      double t = 0;
      for(i=0; i<nLoop; i++) t += timeRows(p, nLimit, nLimit);
      ((p==pA) ? a : b)[iRep] = t/nLoop;
    }
  }
  *pNsA = median(a, nRep);
  *pNsB = median(b, nRep);
}

/* ns of the computing read of every row of q(1, nLimit) (the entry
** cleared, untimed, before each) and of the bare query, interleaved rep
** by rep. */
static void timeFirstReads(sqlite3_stmt *pCached, sqlite3_stmt *pBare,
                           int64_t nLimit, int nRep, double *pNsFirst,
                           double *pNsBare){
  double a[MAX_REPS], b[MAX_REPS];
  int64_t nMiss0 = statOf("misses", "q");
  int iRep;
  for(iRep=0; iRep<nRep; iRep++){
    clearFn("q");
    a[iRep] = timeRows(pCached, nLimit, nLimit);
    b[iRep] = timeRows(pBare, nLimit, nLimit);
  }
  if( statOf("misses", "q")!=nMiss0+nRep ) fail("query", "a first read hit");
  *pNsFirst = median(a, nRep);
  *pNsBare = median(b, nRep);
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
  pCached = prep("SELECT * FROM q(?1, ?2)");
  pBare = prep(QUERY_SQL);
  for(k=0; k<sizeof(aSize)/sizeof(aSize[0]); k++){
    int64_t n = aSize[k].n;
    double cachedNs, plainNs, firstNs, bareNs;
    Row *r;
    snprintf(zSql, sizeof(zSql), "SELECT * FROM %s WHERE ?1+?2",
             aSize[k].zPlain);
    pPlain = prep(zSql);
    timePair(pCached, pPlain, n, aSize[k].nLoop, nRep, &cachedNs, &plainNs);
    snprintf(zName, sizeof(zName), "cached query, %lld-row result: one read",
             (long long)n);
    r = addRow(zName, n, cachedNs, "the same rows from a plain table",
               plainNs);
    ratioTarget(r, 2.0, "plain table");
    if( n==10 ){
      /* The same without the table's dependencies (its depends_on ''):
      ** what reading the change counters adds to each read. */
      double noDepsNs, plain2Ns;
      exec("UPDATE cachier_functions SET depends_on='' WHERE name='q'");
      timePair(pCached, pPlain, n, aSize[k].nLoop, nRep, &noDepsNs,
               &plain2Ns);
      exec("UPDATE cachier_functions SET depends_on='src' WHERE name='q'");
      snprintf(zName, sizeof(zName), "cached query, %lld-row result: one "
               "read, depends_on '' (no invalidation)", (long long)n);
      addRow(zName, n, noDepsNs, "the same rows from a plain table",
             plain2Ns);
    }
    timeFirstReads(pCached, pBare, n, nRep, &firstNs, &bareNs);
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
