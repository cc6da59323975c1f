/*
** redis.c - the bench's redis area: the Redis store against a
** redis-server of the run's own (make bench starts one with
** tests/with_redis.sh and names it in CACHIER_REDIS_PORT).
**
** After the stores area, on a database of its own (10,000 keys in q, WAL,
** synchronous=NORMAL), against the redis-server on 127.0.0.1:PORT. A
** loopback round trip costs ~8 µs with client and server on one vCPU and
** ~10x that across two of this VM's vCPUs, so the bench runs these rows
** pinned to the server's vCPU (CACHIER_BENCH_REDIS_CPU; a note gives both
** affinities and, for scale, the raw GET from the other vCPU). The C
** functions val_int(x), payload(x) and blob4k(x) (4,096 incompressible
** bytes) are memoized as st_redis_KIND (KIND int, b100, b4k) with store
** 'redis://127.0.0.1:PORT/0?prefix=bench' and compress_min 'none'; each is
** filled with the 10,000 keys by one SELECT (what an earlier run left is
** cleared first). The floors run on a hiredis connection of the bench's
** own: rget_KIND(x), a C function doing a synchronous redisCommand GET of
** a string key "bench-raw:KIND:x" that holds the same bytes (filled
** pipelined; checked equal to what memoize returns), returning them as
** st_redis_KIND does.
**   - Hits: memoize('st_redis_KIND', x) over the 10,000 keys, net of
**     ident(x), beside rget_KIND(x) in the same reps, the order of the two
**     turning by rep (each pass after its warm-up pass). Target: <= 1.3x
**     the raw GET. A note gives the raw GET in a bare C loop (no SQL).
**   - Stored misses: st_redis_m (payload) on 2,000 fresh keys a rep, one
**     SELECT over the table fresh, autocommit, net of payload_m(); floor
**     rset(x), a raw SET of the same 100 bytes under a fresh key, same
**     statement shape and reps. The misses are cleared after each rep
**     (cachier_clear must find every one). No target.
**   - Counts: one more pass of the 100-byte hits, of rget_b100 and of 200
**     stored misses, with nothing else talking to the server, note per
**     call the round trips (reads the server processed, INFO stats),
**     the commands it ran (INFO commandstats: those run by Lua scripts
**     included) and the wall time split into the bench process's CPU
**     time and the server's (INFO cpu): on one vCPU they add up.
**   - Hot tier: hot_bytes 64 MB in front of Redis, the 100-byte hits over
**     the 10,000 keys after two passes that fill the tier, beside the raw
**     GET in the same reps; a note gives the hits that still went to
**     Redis (HGET in INFO commandstats). No target.
** The floors' keys and the functions' entries are deleted afterwards.
*/
#define _GNU_SOURCE               /* sched_setaffinity(), CPU_SET() */
#include "bench.h"
#include <hiredis/hiredis.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REDIS_ENTRIES 10000
#define REDIS_MISSES  2000         /* stored misses a rep */
#define REDIS_COUNT   200          /* misses of the command count */
#define REDIS_CROSS   2000         /* raw GETs timed on another vCPU */
#define REDIS_PREFIX  "bench"      /* cachier's keys: bench:FN:... */
#define REDIS_RAW     "bench-raw"  /* the floors' keys: bench-raw:KIND:x */

static redisContext *g_pRedis;     /* the floors' own connection */

/* The memoized functions of the Redis rows: st_redis_KIND, one per size
** of value, each the C function of that value; the floor of each is
** rget_KIND(x), a raw GET of a key holding the same bytes. st_redis_m
** (payload) is the stored miss, its floor rset(x), a raw SET. */
typedef struct RedisKind RedisKind;
struct RedisKind {
  const char *zKind;          /* in the names */
  const char *zLabel;         /* for the rows */
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  int nBytes;                 /* the value's size: 8 is the INTEGER */
};
static const RedisKind g_aRedisKind[] = {
  { "int", "INTEGER value (8 B)", valIntFunc, 8 },
  { "b100", "100-byte blob", payloadFunc, PAYLOAD_BYTES },
  { "b4k", "4 KB blob", blob4kFunc, B4K_BYTES },
};
#define N_REDIS_KIND ((int)(sizeof(g_aRedisKind)/sizeof(g_aRedisKind[0])))

/* The floor's key of x for kind zKind; returns its length. */
static int rawKey(char *z, size_t n, const char *zKind, int64_t x){
  return snprintf(z, n, REDIS_RAW ":%s:%lld", zKind, (long long)x);
}

/* The bytes of k's value of x, as its C function makes them (an INTEGER
** as its 8 bytes), into a (room for B4K_BYTES); returns their size. */
static int rawValue(const RedisKind *k, int64_t x, unsigned char *a){
  if( k->nBytes==8 ){
    int64_t v = (int64_t)(mix64((uint64_t)x) >> 2);        /* val_int(x) */
    memcpy(a, &v, 8);
  }else if( k->nBytes==PAYLOAD_BYTES ){
    fillPayload((uint64_t)x, a);
  }else{
    fillBlob((uint64_t)x, a, k->nBytes);
  }
  return k->nBytes;
}

/* rget_KIND(x): a raw synchronous GET (redisCommand) of x's key on the
** bench's own hiredis connection; the value as st_redis_KIND returns it
** (an INTEGER or a BLOB). An error if it is not there. */
static void rgetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const RedisKind *k = (const RedisKind*)sqlite3_user_data(ctx);
  char zKey[64];
  int nKey = rawKey(zKey, sizeof(zKey), k->zKind,
                    sqlite3_value_int64(argv[0]));
  redisReply *pReply = redisCommand(g_pRedis, "GET %b", zKey, (size_t)nKey);
  (void)argc;
  if( pReply==0 || pReply->type!=REDIS_REPLY_STRING
   || pReply->len!=(size_t)k->nBytes ){
    sqlite3_result_error(ctx, pReply ? "rget: no such value"
                                     : g_pRedis->errstr, -1);
  }else if( k->nBytes==8 ){
    int64_t v;
    memcpy(&v, pReply->str, 8);
    sqlite3_result_int64(ctx, v);
  }else{
    sqlite3_result_blob(ctx, pReply->str, (int)pReply->len,
                        SQLITE_TRANSIENT);
  }
  if( pReply ) freeReplyObject(pReply);
}

/* rset(x): a raw synchronous SET (redisCommand) of payload(x) under x's
** key (kind "miss"); returns 1. */
static void rsetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  unsigned char a[PAYLOAD_BYTES];
  char zKey[64];
  int nKey = rawKey(zKey, sizeof(zKey), "miss", sqlite3_value_int64(argv[0]));
  redisReply *pReply;
  (void)argc;
  fillPayload(valueSeed(argv[0]), a);
  pReply = redisCommand(g_pRedis, "SET %b %b", zKey, (size_t)nKey, a,
                        (size_t)PAYLOAD_BYTES);
  if( pReply==0 || pReply->type!=REDIS_REPLY_STATUS ){
    sqlite3_result_error(ctx, pReply ? "rset: refused" : g_pRedis->errstr,
                         -1);
  }else{
    sqlite3_result_int(ctx, 1);
  }
  if( pReply ) freeReplyObject(pReply);
}

/* A reply of the bench's connection, failing on an error. */
static redisReply *redisCheck(redisReply *pReply, const char *zWhat){
  if( pReply==0 ) fail(zWhat, g_pRedis->errstr);
  if( pReply->type==REDIS_REPLY_ERROR ) fail(zWhat, pReply->str);
  return pReply;
}

/* INFO of the sections in zSections (space-separated, 4 at most), as a
** malloc'ed string. */
static char *redisInfo(const char *zSections){
  const char *azArg[5] = { "INFO" };
  size_t anArg[5] = { 4 };
  int nArg = 1;
  redisReply *pReply;
  char *z;
  while( *zSections && nArg<5 ){
    size_t n = strcspn(zSections, " ");
    azArg[nArg] = zSections;
    anArg[nArg++] = n;
    zSections += n;
    zSections += strspn(zSections, " ");
  }
  pReply = redisCheck(redisCommandArgv(g_pRedis, nArg, azArg, anArg), "INFO");
  z = strdup(pReply->type==REDIS_REPLY_STRING ? pReply->str : "");
  freeReplyObject(pReply);
  if( z==0 ) fail("malloc", "out of memory");
  return z;
}

/* The value of "zName:VALUE" in INFO text z into zOut ("?" if none). */
static void infoField(const char *z, const char *zName, char *zOut,
                      size_t nOut){
  size_t n = strlen(zName);
  snprintf(zOut, nOut, "?");
  for(; z && *z; z = strchr(z, '\n') ? strchr(z, '\n')+1 : 0){
    if( strncmp(z, zName, n)==0 && z[n]==':' ){
      snprintf(zOut, nOut, "%.*s", (int)strcspn(z+n+1, "\r\n"), z+n+1);
      return;
    }
  }
}

/* Calls of command zCmd in INFO commandstats text z; with zCmd NULL,
** of every command but INFO. */
static int64_t cmdCalls(const char *z, const char *zCmd){
  int64_t n = 0;
  for(; z && *z; z = strchr(z, '\n') ? strchr(z, '\n')+1 : 0){
    const char *zCalls;
    size_t nName;
    if( strncmp(z, "cmdstat_", 8)!=0 ) continue;
    nName = strcspn(z+8, ":");
    zCalls = strstr(z, ":calls=");
    if( zCalls==0 ) continue;
    if( zCmd ? (strlen(zCmd)==nName && strncmp(z+8, zCmd, nName)==0)
             : !(nName==4 && strncmp(z+8, "info", 4)==0) ){
      n += atoll(zCalls+7);
    }
  }
  return n;
}

/* Numeric field zName of INFO text z (0 if none). */
static double infoNum(const char *z, const char *zName){
  char zV[64];
  infoField(z, zName, zV, sizeof(zV));
  return atof(zV);
}

/* The server's CPU time in INFO text z, ns. */
static double infoCpuNs(const char *z){
  return (infoNum(z, "used_cpu_user") + infoNum(z, "used_cpu_sys"))*1e9;
}

static double processCpuNs(void){
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec*1e9 + (double)ts.tv_nsec;
}

/* Run pStmt once (n calls; ?1, ?2 bound to a, b), with nothing else
** talking to the server, and note per call: round trips (reads the server
** processed: a request comes in one read), commands run (INFO
** commandstats, which counts those run by scripts too), and where the
** time went: wall, the bench process's CPU and the server's. */
static void redisCount(const char *zWhat, sqlite3_stmt *pStmt, int64_t a,
                       int64_t b, int64_t n){
  static const char *azCmd[] = { "hget", "get", "set", "evalsha", "eval" };
  char *z0, *z1, zOut[200] = "";
  double t, tCpu;
  int i, k = 0;
  int64_t nAll;
  z0 = redisInfo("stats cpu commandstats");
  tCpu = processCpuNs();
  t = timeStmt(pStmt, a, b, n);
  tCpu = processCpuNs() - tCpu;
  z1 = redisInfo("stats cpu commandstats");
  nAll = cmdCalls(z1, 0) - cmdCalls(z0, 0);
  for(i=0; i<(int)(sizeof(azCmd)/sizeof(azCmd[0])); i++){
    int64_t d = cmdCalls(z1, azCmd[i]) - cmdCalls(z0, azCmd[i]);
    if( d ){
      k += snprintf(zOut+k, sizeof(zOut)-(size_t)k, "%s%s %.2f", k ? ", " : "",
                    azCmd[i], (double)d/(double)n);
      nAll -= d;
    }
  }
  /* (Each INFO's read is counted before it runs: the second one's is in
  ** the difference.) */
  note("%s, one pass of %lld: per call %.2f round trips (server reads); "
       "commands (scripts' included): %s%s%.2f other; %.0f ns wall, %.0f "
       "client CPU, %.0f server CPU", zWhat, (long long)n,
       (infoNum(z1, "total_reads_processed")
        - infoNum(z0, "total_reads_processed") - 1)/(double)n,
       zOut, k ? ", " : "", (double)nAll/(double)n, t/(double)n,
       tCpu/(double)n, (infoCpuNs(z1) - infoCpuNs(z0))/(double)n);
  free(z0);
  free(z1);
}

/* UNLINK every key matching zPattern. */
static void redisUnlinkAll(const char *zPattern){
  char zCursor[32] = "0";
  do{
    redisReply *pReply = redisCheck(redisCommand(g_pRedis,
        "SCAN %s MATCH %s COUNT 1000", zCursor, zPattern), "SCAN");
    redisReply *pKeys;
    if( pReply->type!=REDIS_REPLY_ARRAY || pReply->elements!=2 ){
      fail("SCAN", "unexpected reply");
    }
    snprintf(zCursor, sizeof(zCursor), "%s", pReply->element[0]->str);
    pKeys = pReply->element[1];
    if( pKeys->elements>0 ){
      const char **azArg = malloc(sizeof(char*)*(pKeys->elements+1));
      size_t *anArg = malloc(sizeof(size_t)*(pKeys->elements+1));
      size_t i;
      if( azArg==0 || anArg==0 ) fail("malloc", "out of memory");
      azArg[0] = "UNLINK";
      anArg[0] = 6;
      for(i=0; i<pKeys->elements; i++){
        azArg[i+1] = pKeys->element[i]->str;
        anArg[i+1] = pKeys->element[i]->len;
      }
      freeReplyObject(redisCheck(redisCommandArgv(g_pRedis,
          (int)pKeys->elements+1, azArg, anArg), "UNLINK"));
      free(azArg);
      free(anArg);
    }
    freeReplyObject(pReply);
  }while( strcmp(zCursor, "0")!=0 );
}

/* ns of n raw GETs of kind k's keys in a bare C loop (no SQL), over the
** key sequence. */
static double rawGetLoop(const RedisKind *k, int64_t n){
  int64_t i, t0 = nowNs();
  for(i=0; i<n; i++){
    char zKey[64];
    int nKey = rawKey(zKey, sizeof(zKey), k->zKind, g_aPerm[i]);
    redisReply *pReply = redisCommand(g_pRedis, "GET %b", zKey,
                                      (size_t)nKey);
    if( pReply==0 || pReply->type!=REDIS_REPLY_STRING ){
      fail("raw GET", pReply ? "no such value" : g_pRedis->errstr);
    }
    freeReplyObject(pReply);
  }
  return (double)(nowNs() - t0);
}

static void cpuList(const cpu_set_t *pSet, char *z, size_t n){
  int i, k = 0;
  z[0] = 0;
  for(i=0; i<CPU_SETSIZE && k<(int)n; i++){
    if( CPU_ISSET(i, pSet) ){
      k += snprintf(z+k, n-(size_t)k, "%s%d", k ? "," : "", i);
    }
  }
}

static void pinTo(int iCpu){
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(iCpu, &one);
  if( sched_setaffinity(0, sizeof(one), &one) ){
    fail("sched_setaffinity", "cannot pin to the CPU given");
  }
}

/* The Redis functions, their settings, the floors' keys and one fill of
** every st_redis_ function over the N keys. */
static void redisSetup(int64_t N, int port){
  sqlite3_stmt *pSet;
  char zSpec[128], zFn[64], zSql[300];
  unsigned char *aVal = malloc(B4K_BYTES);
  int k;
  if( aVal==0 ) fail("malloc", "out of memory");
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    snprintf(zSql, sizeof(zSql), "rget_%s", g_aRedisKind[k].zKind);
    createFunction(zFn, 0, g_aRedisKind[k].xFunc);
    createFunction(zSql, (void*)&g_aRedisKind[k], rgetFunc);
  }
  createFunction("st_redis_m", 0, payloadFunc);
  createFunction("rset", 0, rsetFunc);

  /* The hit rows measure Redis itself: no hot tier (redisHot() has one). */
  setHotBytes(0);
  /* The store, for each function; what an earlier run left is dropped. */
  snprintf(zSpec, sizeof(zSpec), "redis://127.0.0.1:%d/0?prefix="
           REDIS_PREFIX, port);
  pSet = prep("INSERT OR REPLACE INTO cachier_functions(name, store,"
              " compress_min) VALUES (?1, ?2, 'none')");
  for(k=0; k<=N_REDIS_KIND; k++){
    if( k<N_REDIS_KIND ){
      snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    }else{
      snprintf(zFn, sizeof(zFn), "st_redis_m");
    }
    sqlite3_bind_text(pSet, 1, zFn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pSet, 2, zSpec, -1, SQLITE_TRANSIENT);
    if( sqlite3_step(pSet)!=SQLITE_DONE ) failDb("cachier_functions");
    sqlite3_reset(pSet);
    clearFn(zFn);
  }
  sqlite3_finalize(pSet);
  redisUnlinkAll(REDIS_RAW ":*");

  /* The floors' keys, pipelined. */
  for(k=0; k<N_REDIS_KIND; k++){
    int64_t i, j;
    for(i=0; i<N; i+=1000){
      for(j=i; j<N && j<i+1000; j++){
        char zKey[64];
        int nKey = rawKey(zKey, sizeof(zKey), g_aRedisKind[k].zKind, j);
        int nVal = rawValue(&g_aRedisKind[k], j, aVal);
        redisAppendCommand(g_pRedis, "SET %b %b", zKey, (size_t)nKey, aVal,
                           (size_t)nVal);
      }
      for(j=i; j<N && j<i+1000; j++){
        void *pReply = 0;
        if( redisGetReply(g_pRedis, &pReply)!=REDIS_OK ){
          fail("SET", g_pRedis->errstr);
        }
        freeReplyObject(redisCheck(pReply, "SET"));
      }
    }
  }
  free(aVal);

  /* Cachier's entries: N misses each, in autocommit (main's transactions
  ** do not matter to the Redis store). */
  for(k=0; k<N_REDIS_KIND; k++){
    double t;
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    t = fillMemo(zFn, "x", N, 0);
    if( k==1 ){
      note("store redis: fill of %lld 100-byte values, one SELECT: %.2f s, "
           "%.1f µs a stored miss", (long long)N, t/1e9, t/1e3/(double)N);
    }
    if( statOf("entries", zFn)!=N ) fail("redis fill", "entries");
    /* The floor's keys hold the values cachier returns. */
    snprintf(zSql, sizeof(zSql), "SELECT count(*) FROM mem.q WHERE"
             " memoize('%s', x) IS NOT rget_%s(x)", zFn,
             g_aRedisKind[k].zKind);
    if( queryInt(zSql, 0, 0)!=0 ) fail("redis fill", "values differ");
  }
}

/* Hits of each size beside raw GETs of the same size (see the header). */
static void redisHits(int64_t N, int nRep, int iCpu, const cpu_set_t *pAll){
  Scan identX, aFloor[N_REDIS_KIND], aHit[N_REDIS_KIND];
  int64_t nMiss0[N_REDIS_KIND];
  double aLoop[MAX_REPS];
  char zFn[64], zExpr[100], zName[200];
  int i, j, k;

  scanInit(&identX, "ident(x)");
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zFn);
    scanInit(&aHit[k], zExpr);
    snprintf(zExpr, sizeof(zExpr), "rget_%s(x)", g_aRedisKind[k].zKind);
    scanInit(&aFloor[k], zExpr);
    nMiss0[k] = statOf("misses", zFn);
  }
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, N);
    for(k=0; k<N_REDIS_KIND; k++){
      for(j=0; j<2; j++){                     /* the order turns by rep */
        if( (i+k+j)%2 ) scanRun(&aFloor[k], i, N);
        else scanRun(&aHit[k], i, N);
      }
    }
    aLoop[i] = rawGetLoop(&g_aRedisKind[1], N)/(double)N;
  }
  for(k=0; k<N_REDIS_KIND; k++){
    double hitNs = netPer(aHit[k].a, identX.a, nRep, N);
    double floorNs = netPer(aFloor[k].a, identX.a, nRep, N);
    Row *r;
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    if( statOf("misses", zFn)!=nMiss0[k] ){
      fail("redis hits", "a hit measurement missed");
    }
    snprintf(zName, sizeof(zName), "store redis: hit, %s",
             g_aRedisKind[k].zLabel);
    r = addRow(zName, N, hitNs, "raw hiredis GET, same size (C fn), same "
               "reps", floorNs);
    ratioTarget(r, 1.3, "raw GET");
    if( k==1 ){
      note("store redis: raw GET of 100 B in a bare C loop (no SQL): %.0f ns"
           " (as rget_b100(x) in the scan, net of ident(x): %.0f ns)",
           median(aLoop, nRep), floorNs);
    }
  }
  redisCount("store redis: hit, 100-byte blob", aHit[1].pStmt, N, 0, N);
  redisCount("store redis: raw GET of 100 B (rget_b100)", aFloor[1].pStmt, N,
             0, N);

  /* For scale: the round trip with the client on another vCPU. */
  if( iCpu>=0 && CPU_COUNT(pAll)>1 ){
    int iOther;
    double tSame, tOther;
    for(iOther=0; iOther<CPU_SETSIZE; iOther++){
      if( iOther!=iCpu && CPU_ISSET(iOther, pAll) ) break;
    }
    tSame = rawGetLoop(&g_aRedisKind[1], REDIS_CROSS);
    pinTo(iOther);
    rawGetLoop(&g_aRedisKind[1], REDIS_CROSS/10);      /* settle */
    tOther = rawGetLoop(&g_aRedisKind[1], REDIS_CROSS);
    pinTo(iCpu);
    note("store redis: raw GET of 100 B in a bare C loop, %d calls: %.0f ns "
         "with the client on the server's vCPU %d, %.0f ns on vCPU %d",
         REDIS_CROSS, tSame/REDIS_CROSS, iCpu, tOther/REDIS_CROSS, iOther);
  }
  scanFree(&identX);
  for(k=0; k<N_REDIS_KIND; k++){
    scanFree(&aHit[k]);
    scanFree(&aFloor[k]);
  }
}

/* Stored misses of st_redis_m (payload) on fresh keys, one SELECT over the
** table fresh, beside raw SETs of the same size, net of payload_m(). */
static void redisMisses(int64_t N, int nRep){
  MissTimes m;
  int64_t nMiss0 = statOf("misses", "st_redis_m");
  sqlite3_stmt *pCount = prep(FRESH_CTE
                              "SELECT count(memoize('st_redis_m', i)) FROM c");
  redisCount("store redis: stored miss, 100-byte blob", pCount, g_fresh,
             g_fresh+REDIS_COUNT-1, REDIS_COUNT);
  g_fresh += REDIS_COUNT;
  sqlite3_finalize(pCount);
  if( clearFn("st_redis_m")!=REDIS_COUNT ){
    fail("redis misses", "cachier_clear did not find every miss");
  }
  timeFreshMisses("st_redis_m", 1, "rset", REDIS_MISSES, nRep, &m);
  if( statOf("misses", "st_redis_m")-nMiss0
      !=REDIS_COUNT+(int64_t)nRep*REDIS_MISSES ){
    fail("redis misses", "not every call was a miss");
  }
  addRow("store redis: stored miss, 100-byte blob, one SELECT over a table",
         N, missNs(&m), "raw hiredis SET, same size (C fn), same reps",
         missFloorNs(&m));
}

/* The hot tier in front of Redis (hot_bytes 64 MB): 100-byte hits over
** the N keys, after two passes that fill it, beside the raw GET. */
static void redisHot(int64_t N, int nRep){
  Scan identX, hot, floorGet;
  int64_t nMiss0 = statOf("misses", "st_redis_b100");
  char *z0, *z1;
  long long nGet0 = 0, nGet1 = 0;
  const char *zAt;
  int i;
  setHotBytes(STORE_HOT_BYTES);
  scanInit(&identX, "ident(x)");
  scanInit(&hot, "memoize('st_redis_b100', x)");
  scanInit(&floorGet, "rget_b100(x)");
  scanRun(&hot, 0, N);                  /* fills the tier */
  scanRun(&hot, 0, N);
  z0 = redisInfo("commandstats");
  for(i=0; i<nRep; i++){
    scanRun(&identX, i, N);
    scanRun(&hot, i, N);
    scanRun(&floorGet, i, N);
  }
  z1 = redisInfo("commandstats");
  /* (The floor's GETs are not HGETs: any HGET here is a hit that went to
  ** Redis.) */
  if( (zAt = strstr(z0, "cmdstat_hget:calls="))!=0 ) nGet0 = atoll(zAt+19);
  if( (zAt = strstr(z1, "cmdstat_hget:calls="))!=0 ) nGet1 = atoll(zAt+19);
  free(z0);
  free(z1);
  if( statOf("misses", "st_redis_b100")!=nMiss0 ){
    fail("redis hot tier", "a hit measurement missed");
  }
  note("store redis: hot tier, %d passes of %lld hits: %lld went to Redis "
       "(HGET)", nRep, (long long)N, nGet1-nGet0);
  addRow("store redis: hot-tier hit, 100-byte blob (hot_bytes 64 MB)", N,
         netPer(hot.a, identX.a, nRep, N), "raw hiredis GET, same size "
         "(C fn), same reps", netPer(floorGet.a, identX.a, nRep, N));
  setHotBytes(0);
  scanFree(&identX);
  scanFree(&hot);
  scanFree(&floorGet);
}

/* The Redis rows, on a database of their own (REDIS_ENTRIES keys in q),
** against the server on 127.0.0.1:port; this thread runs them on vCPU
** iCpu (if >=0), as the server should (make bench pins it there). */
void benchRedis(const char *zExt, int port, int iCpu){
  int64_t N = REDIS_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS, k;
  struct timeval tv = { 10, 0 };
  cpu_set_t all, server;
  char *zInfo, zVersion[32], zPid[32], zOwn[64], zServer[64];
  char zFn[64];

  g_pRedis = redisConnectWithTimeout("127.0.0.1", port, tv);
  if( g_pRedis==0 || g_pRedis->err ){
    fail("redis", g_pRedis ? g_pRedis->errstr : "out of memory");
  }
  redisSetTimeout(g_pRedis, tv);
  zInfo = redisInfo("server");
  infoField(zInfo, "redis_version", zVersion, sizeof(zVersion));
  infoField(zInfo, "process_id", zPid, sizeof(zPid));
  free(zInfo);
  if( sched_getaffinity(0, sizeof(all), &all) ) CPU_ZERO(&all);
  if( iCpu>=0 ) pinTo(iCpu);
  snprintf(zOwn, sizeof(zOwn), "unpinned");
  if( iCpu>=0 ) snprintf(zOwn, sizeof(zOwn), "%d", iCpu);
  snprintf(zServer, sizeof(zServer), "?");
  if( isNumber(zPid) && sched_getaffinity((pid_t)atoi(zPid), sizeof(server),
                                          &server)==0 ){
    cpuList(&server, zServer, sizeof(zServer));
  }
  note("redis rows: redis-server %s on 127.0.0.1:%d (pid %s, vCPUs %s); the "
       "client on vCPU %s for these rows; %lld keys", zVersion, port, zPid,
       zServer, zOwn, (long long)N);

  openDb(zExt, N, "-redis");
  makeKeys(N);
  redisSetup(N, port);
  redisHits(N, nRep, iCpu, &all);
  redisHot(N, nRep);
  redisMisses(N, nRep);

  /* Leave the server as it was found. */
  for(k=0; k<N_REDIS_KIND; k++){
    snprintf(zFn, sizeof(zFn), "st_redis_%s", g_aRedisKind[k].zKind);
    clearFn(zFn);
  }
  redisUnlinkAll(REDIS_RAW ":*");
  closeDb();
  if( CPU_COUNT(&all)>0 ) sched_setaffinity(0, sizeof(all), &all);
  redisFree(g_pRedis);
  g_pRedis = 0;
  note("redis rows: %.1f s in all", (double)(nowNs()-t0)/1e9);
}

