/*
** staleness.c - the clock and freshness decisions: which entries are
** fresh, which stale ones may still be served (next_time within
** stale_while_refresh, or in place of an error within stale_if_error),
** and how refreshes back off.
**
** SQL surface (test builds only, compiled with -DCACHIER_TEST):
**   cachier_test_clock(T)   From now on this connection's clock reads T
**                           (unix seconds, INTEGER or REAL); NULL restores
**                           the real clock. Returns T. Tests drive time
**                           through it instead of sleeping. A function
**                           that moves it while it computes took what
**                           it moved (its compute time, which 'cost'
**                           eviction weighs), whatever the real clock
**                           says.
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

/* How long a computation that began at monotonic t0Ns, with this
** connection's clock reading tClock0, has taken, in nanoseconds: the
** monotonic time, unless the function moved the test clock meanwhile
** (a test's way to say how long it took, which a loaded machine cannot
** blur). */
sqlite3_int64 cachierComputeNs(Cachier *p, sqlite3_int64 t0Ns, double tClock0){
  double now = cachierNow(p);
  if( p->hasTestClock && now!=tClock0 ){
    return now>tClock0 ? (sqlite3_int64)((now - tClock0)*1e9 + 0.5) : 0;
  }
  return cachierMonotonicNs() - t0Ns;
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

/* The time rules of a call: settings s, overridden by the options o. */
void callRules(const FnSettings *s, const CallOptions *o, CallRules *r){
  r->staleAfter = o->hasStaleAfter ? o->staleAfter : s->staleAfter;
  r->maxAge = o->hasMaxAge ? o->maxAge : CACHIER_NEVER;
  r->nextTime = o->hasNextTime ? o->nextTime : s->nextTime;
  r->staleWhileRefresh = o->hasStaleWhileRefresh ? o->staleWhileRefresh
                                                 : s->staleWhileRefresh;
  r->staleIfError = o->hasStaleIfError ? o->staleIfError : s->staleIfError;
  /* As in RFC 5861, both bounds default to unbounded under next_time
  ** (cachier's behaviour) and to 0 otherwise. */
  if( r->staleWhileRefresh<0.0 ){
    r->staleWhileRefresh = r->nextTime ? CACHIER_NEVER : 0.0;
  }
  if( r->staleIfError<0.0 ){
    r->staleIfError = r->nextTime ? CACHIER_NEVER : 0.0;
  }
  r->waitForCalcTimeout = o->hasWait ? o->waitForCalcTimeout
                                     : s->waitForCalcTimeout;
}

/* True if an entry `over` seconds past stale_after is within `bound`. */
static int withinBound(double over, double bound){
  return bound>=CACHIER_NEVER || over<=bound;
}

/* What the age of an entry created at `created` allows under r. */
int entryAge(const CallRules *r, double created, double now){
  if( entryIsStale(created, now, r->maxAge) ) return AGE_TOO_OLD;
  if( !entryIsStale(created, now, r->staleAfter) ) return AGE_FRESH;
  if( r->nextTime
   && withinBound(now - created - r->staleAfter, r->staleWhileRefresh) ){
    return AGE_STALE_SERVE;
  }
  return AGE_STALE;
}

/* True if a stale entry may stand in for an error of its recomputation. */
int staleIfErrorApplies(const CallRules *r, double created, double now){
  if( r->staleIfError<=0.0 ) return 0;
  if( entryAge(r, created, now)==AGE_TOO_OLD ) return 0;
  return withinBound(now - created - r->staleAfter, r->staleIfError);
}

/* Seconds to wait before retrying a refresh that failed `attempts` times
** in a row: 5 s, doubling, at most an hour. */
double refreshBackoff(int attempts){
  double d = 5.0;
  while( attempts-- > 1 && d<3600.0 ) d *= 2.0;
  return d<3600.0 ? d : 3600.0;
}

#ifdef CACHIER_TEST
/* cachier_test_clock(T) */
static void testClockFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  (void)argc;
  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL:
      p->hasTestClock = 0;
      break;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      p->hasTestClock = 1;
      p->testClock = sqlite3_value_double(argv[0]);
      break;
    default:
      sqlite3_result_error(ctx,
          "cachier_test_clock: T must be unix seconds or NULL", -1);
      return;
  }
  sqlite3_result_value(ctx, argv[0]);
}
#endif

const CachierFunction cachierStalenessFunctions[] = {
#ifdef CACHIER_TEST
  { "cachier_test_clock", 1, CACHIER_FN_WRITES, testClockFunc },
#endif
  { 0, 0, 0, 0 }
};
