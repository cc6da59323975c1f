/*
** staleness.c - the clock and freshness decisions.
**
** SQL surface (test builds only, compiled with -DCACHIER_TEST):
**   cachier_test_clock(T)   From now on this connection's clock reads T
**                           (unix seconds, INTEGER or REAL); NULL restores
**                           the real clock. Returns T. Tests drive time
**                           through it instead of sleeping.
*/
#include "cachier.h"
#include <time.h>

/* Unix time in seconds, as this connection sees it. */
double cachierNow(Cachier *p){
  struct timespec ts;
  if( p->hasTestClock ) return p->testClock;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec*1e-9;
}

/* A monotonic timestamp for measuring how long a function ran. */
sqlite3_int64 cachierMonotonicNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (sqlite3_int64)ts.tv_sec*1000000000 + ts.tv_nsec;
}

/* True if an entry created at `created` may no longer be served when the
** caller accepts entries up to maxAge seconds old. maxAge <= 0 accepts
** nothing; CACHIER_NEVER accepts everything. An entry is stale once its
** age is strictly greater than the limit (cachier's rule). */
int entryIsStale(double created, double now, double maxAge){
  if( maxAge>=CACHIER_NEVER ) return 0;
  if( maxAge<=0.0 ) return 1;
  return now - created > maxAge;
}
