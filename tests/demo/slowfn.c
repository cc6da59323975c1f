/*
** slowfn.c - a tiny SQLite extension with deliberately slow functions, for
** the cachier demo (make demo). Not part of cachier.so.
**
** SQL surface:
**   slow_square(X)   Sleeps 200 ms, then returns X*X: an INTEGER if X is an
**                    INTEGER, a REAL otherwise (NULL stays NULL).
**   slow_upper(T)    Sleeps 200 ms, then returns T with ASCII letters
**                    upper-cased (NULL stays NULL).
**
** Build: cc -O2 -fPIC -shared -o tests/demo/slowfn.so tests/demo/slowfn.c
** Load:  .load tests/demo/slowfn   (entry point sqlite3_slowfn_init)
*/
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include <time.h>

#define SLOW_MS 200

static void slowSleep(void){
  struct timespec ts;
  ts.tv_sec = SLOW_MS / 1000;
  ts.tv_nsec = (long)(SLOW_MS % 1000) * 1000000L;
  while( nanosleep(&ts, &ts)!=0 ){}   /* resume after a signal */
}

/* slow_square(X) */
static void slowSquareFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv){
  (void)argc;
  slowSleep();
  switch( sqlite3_value_type(argv[0]) ){
    case SQLITE_NULL:
      sqlite3_result_null(ctx);
      break;
    case SQLITE_INTEGER: {
      sqlite3_int64 x = sqlite3_value_int64(argv[0]);
      /* Fall back to REAL when the square does not fit in 64 bits. */
      if( x >= -3037000499LL && x <= 3037000499LL ){
        sqlite3_result_int64(ctx, x*x);
      }else{
        sqlite3_result_double(ctx, (double)x*(double)x);
      }
      break;
    }
    default: {
      double r = sqlite3_value_double(argv[0]);
      sqlite3_result_double(ctx, r*r);
      break;
    }
  }
}

/* slow_upper(T) */
static void slowUpperFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  const unsigned char *z;
  char *zOut;
  int n, i;
  (void)argc;
  slowSleep();
  if( sqlite3_value_type(argv[0])==SQLITE_NULL ){
    sqlite3_result_null(ctx);
    return;
  }
  z = sqlite3_value_text(argv[0]);
  n = sqlite3_value_bytes(argv[0]);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  zOut = sqlite3_malloc(n+1);
  if( zOut==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  for(i=0; i<n; i++){
    unsigned char c = z[i];
    zOut[i] = (char)((c>='a' && c<='z') ? c - 'a' + 'A' : c);
  }
  zOut[n] = 0;
  sqlite3_result_text(ctx, zOut, n, sqlite3_free);
}

#ifdef _WIN32
__declspec(dllexport)
#else
__attribute__((visibility("default")))
#endif
int sqlite3_slowfn_init(sqlite3 *db, char **pzErrMsg,
                        const sqlite3_api_routines *pApi){
  int rc;
  SQLITE_EXTENSION_INIT2(pApi);
  (void)pzErrMsg;
  /* Deterministic: same input, same output. Not SQLITE_INNOCUOUS (they
  ** stall the caller), so views and triggers of an untrusted schema
  ** cannot call them when trusted_schema is off. */
  rc = sqlite3_create_function(db, "slow_square", 1,
                               SQLITE_UTF8 | SQLITE_DETERMINISTIC, 0,
                               slowSquareFunc, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "slow_upper", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC, 0,
                                 slowUpperFunc, 0, 0);
  }
  return rc;
}
