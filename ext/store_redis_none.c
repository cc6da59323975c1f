/*
** store_redis_none.c - the Redis store of a build without Redis support.
**
** `make REDIS=0` compiles this file instead of store_redis.c and the
** redis_*.c files, and does not link hiredis. The registry (store.c) still
** recognises redis:// and unix: names, so naming one in cachier_functions,
** or using a row that names one (written by a build with Redis), is an
** error that says what is missing instead of "not a store".
**
** SQL surface: none (cachier_debug() says "redis none").
*/
#include "store.h"

#define REDIS_NONE_WHY "cachier was built without Redis support (make " \
  "REDIS=0): use 'main', 'memory' or 'file:PATH', or a build with hiredis"

const char *storeRedisBuild(void){
  return "none";
}

int storeRedisCheck(const char *zSpec, char **pzCanonical, char **pzWhy){
  (void)zSpec;
  if( pzCanonical ) *pzCanonical = 0;
  *pzWhy = sqlite3_mprintf("%s", REDIS_NONE_WHY);
  return SQLITE_NOTFOUND;
}

CachierStore *storeRedisOpen(Cachier *p, const char *zSpec, char **pzErr){
  (void)p;
  *pzErr = sqlite3_mprintf("'%s': %s", zSpec, REDIS_NONE_WHY);
  return 0;
}

#ifdef CACHIER_TEST
/* redis_format.c's test functions: none in this build. */
const CachierFunction cachierRedisFormatTestFunctions[] = {
  { 0, 0, 0, 0 }
};
#endif
