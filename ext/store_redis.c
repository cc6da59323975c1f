/*
** store_redis.c - a store on a Redis server, shared between machines.
**
** SQL surface: the store names redis://... and unix:... in
** cachier_functions.store (redis_conn.c documents their form), as in
**   UPDATE cachier_functions SET store = 'redis://cache:6379/0?prefix=app'
**    WHERE name = 'geocode';
**
** This file: opening the store, its method table, and the methods on
** one entry (lookup, write, get, delete, refresh marks). The rest is
** split by concern (redis_store.h declares what they share):
**   redis_conn.c      store names and the connection
**   redis_format.c    the keys' names and an entry's bytes
**   redis_script.c    the Lua scripts (sql/redis/NAME.lua)
**   redis_scan.c      listing, totals, eviction, clearing (SCAN)
**   redis_dict.c      zstd dictionaries
**   redis_marks.c     in-flight marks
**   redis_tracking.c  the hot tier's invalidations (CLIENT TRACKING)
**
** Each key hash's entries are the fields of one Redis hash, the bucket,
** field the encoded key and value the entry (redis_format.c documents
** the keys and the entry), so a lookup is one HGET and never a false hit.
**
** Staleness is judged from the created time in the entry, as in every
** store. A Redis TTL is set only where an entry can no longer be served:
** stale_after plus the longer of stale_while_refresh and stale_if_error,
** plus a minute for clocks that differ between machines: Redis drops
** nothing that could still be served. Entries that never go stale have
** no TTL; a Redis with maxmemory and an LRU policy bounds those.
**
** Writes run as Lua scripts, so each is atomic: it finds the key's slot,
** and a write guarded by an in-flight mark happens only while the mark
** is still this connection's (a writer whose lease expired, and was
** perhaps taken over, never overwrites a newer value).
**
** The hot tier (hot.c) fronts the store when hot_bytes allows, told of
** changes by Redis (redis_tracking.c).
**
** Failures (server down, slow, or answering errors) never fail a query:
** a read that fails is a miss, a write that fails is skipped, each is
** counted (cachier_stats) and logged, and no operation waits longer than
** timeout_ms. The connection is opened again by a later call.
*/
#include "redis_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- store */

/* The keys of an entry of zFn in the bucket of iBase: the bucket, and
** the function's refresh marks and attempts. */
typedef struct EntryKeys EntryKeys;
struct EntryKeys { char *zBucket, *zRefresh, *zAttempts; };
static int entryKeys(RedisStore *s, const char *zFn, sqlite3_int64 iBase,
                     EntryKeys *k){
  k->zBucket = redisBucketKey(s->config.zPrefix, zFn, iBase);
  k->zRefresh = redisFnKey(s->config.zPrefix, zFn, "refresh");
  k->zAttempts = redisFnKey(s->config.zPrefix, zFn, "attempts");
  return k->zBucket && k->zRefresh && k->zAttempts ? SQLITE_OK
                                                   : SQLITE_NOMEM;
}
static void entryKeysFree(EntryKeys *k){
  sqlite3_free(k->zBucket);
  sqlite3_free(k->zRefresh);
  sqlite3_free(k->zAttempts);
}

/* Remember zFn (see KnownFn). */
void redisNoteFn(RedisStore *s, const char *zFn){
  KnownFn *aNew;
  int i;
  for(i=s->nFn-1; i>=0; i--){
    if( strcmp(s->aFn[i].zFn, zFn)==0 ) return;
  }
  aNew = sqlite3_realloc64(s->aFn, (s->nFn+1)*sizeof(KnownFn));
  if( aNew==0 ) return;
  s->aFn = aNew;
  aNew[s->nFn].zFn = sqlite3_mprintf("%s", zFn);
  if( aNew[s->nFn].zFn==0 ) return;
  {
    sqlite3_int64 iHi;
    keyFnRange(zFn, &aNew[s->nFn].iLo, &iHi);
  }
  s->nFn++;
}

/* The iTh known function whose ids include id, NULL when there are no
** more. (Names sharing a 16-bit hash are tried in turn.) */
static const char *fnOfId(RedisStore *s, sqlite3_int64 id, int *piNext){
  sqlite3_int64 iLo = CACHIER_ID_FN_BASE(id);
  for(; *piNext<s->nFn; (*piNext)++){
    if( s->aFn[*piNext].iLo==iLo ) return s->aFn[(*piNext)++].zFn;
  }
  return 0;
}

void redisSetErr(RedisStore *s, const char *zFmt, const char *zArg){
  snprintf(s->zErr, sizeof(s->zErr), zFmt, zArg);
}

/* A new connection: load the scripts and check the layout version. */
static int onConnect(RedisConn *pConn, void *pArg){
  RedisStore *s = (RedisStore*)pArg;
  int eFormat = -1;
  int rc = redisScriptsLoad(pConn, s->config.zPrefix, s->aSha, &eFormat);
  if( eFormat>=0 ){
    s->eFormat = eFormat;
    s->bTracking = 0;         /* (a new connection tracks nothing yet) */
    s->epoch++;
  }
  return rc;
}

/* ------------------------------------------------------------- entries */

/* A statement "SELECT ?1" on the store's scratch database, to make
** sqlite3_values of stored bytes (without copying them). */
sqlite3_stmt *redisValueStmt(RedisStore *s){
  sqlite3_stmt *pStmt = 0;
  if( s->dbScratch==0 ){
    if( sqlite3_open_v2(":memory:", &s->dbScratch, SQLITE_OPEN_READWRITE
                        | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, 0) ){
      sqlite3_close(s->dbScratch);
      s->dbScratch = 0;
      return 0;
    }
  }
  if( sqlite3_prepare_v2(s->dbScratch, "SELECT ?1", -1, &pStmt, 0) ){
    return 0;
  }
  return pStmt;
}

/* Fill *e from a stored entry: field (the encoded key) and its bytes, in
** the bucket of iBase. pStmt makes its value (valid until it is reset).
** SQLITE_CORRUPT if it is not a well-formed entry of this format. */
int redisEntryDecode(sqlite3_stmt *pStmt, const redisReply *pField,
                     const redisReply *pEntry, sqlite3_int64 iBase,
                     CachierEntry *e){
  RedisEntryHeader h;
  int rc;
  memset(e, 0, sizeof(*e));
  if( pField->type!=REDIS_REPLY_STRING || pEntry->type!=REDIS_REPLY_STRING
   || memchr(pField->str, 0, pField->len)==0 ){
    return SQLITE_CORRUPT;
  }
  sqlite3_reset(pStmt);
  if( redisEntryParse((const unsigned char*)pEntry->str,
                      (sqlite3_int64)pEntry->len, &h) ){
    return SQLITE_CORRUPT;
  }
  e->id = iBase | h.slot;
  e->zFn = pField->str;
  e->aKey = (const unsigned char*)pField->str;
  e->nKey = (sqlite3_int64)pField->len;
  e->subtype = h.subtype;
  e->codec = h.codec;
  e->created = h.created;
  e->computeNs = h.computeNs;
  e->nBytes = h.nBytes;
  e->aArgs = h.aArgs;
  e->nArgs = h.nArgs;
  e->aStamp = h.aStamp;
  e->nStamp = h.nStamp;
  switch( h.eType ){
    case SQLITE_INTEGER: {
      sqlite3_int64 i;
      memcpy(&i, h.aVal, 8);
      rc = sqlite3_bind_int64(pStmt, 1, i);
      break;
    }
    case SQLITE_FLOAT: {
      double r;
      memcpy(&r, h.aVal, 8);
      rc = sqlite3_bind_double(pStmt, 1, r);
      break;
    }
    case SQLITE_TEXT:
      rc = sqlite3_bind_text64(pStmt, 1, (const char*)h.aVal,
                          (sqlite3_uint64)h.nVal, SQLITE_STATIC, SQLITE_UTF8);
      break;
    case SQLITE_BLOB:
      rc = sqlite3_bind_blob64(pStmt, 1,
                          h.nVal ? (const void*)h.aVal : (const void*)"",
                          (sqlite3_uint64)h.nVal, SQLITE_STATIC);
      break;
    default:
      rc = sqlite3_bind_null(pStmt, 1);
      break;
  }
  /* (Too big for the connection's limit: an error, not a NULL value.) */
  if( rc ) return rc;
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) return SQLITE_NOMEM;
  e->pValue = sqlite3_column_value(pStmt, 0);
  return SQLITE_OK;
}

/* The refresh state of an entry from a (score, attempts) reply pair. */
void redisEntryRefreshState(CachierEntry *e, const redisReply *pScore,
                            const redisReply *pAttempts){
  if( pScore && pScore->type==REDIS_REPLY_STRING ){
    e->refresh = 1;
    e->retryAt = atof(pScore->str);
  }
  if( pAttempts && pAttempts->type==REDIS_REPLY_STRING ){
    e->attempts = atoi(pAttempts->str);
  }
}

/* Forget the last miss and its look again (see RedisStore). */
static void missForget(RedisStore *s){
  sqlite3_free(s->zMissBucket);
  sqlite3_free(s->aMissField);
  s->zMissBucket = 0;
  s->aMissField = 0;
  s->nMissField = 0;
  if( s->pAgain ) freeReplyObject(s->pAgain);
  s->pAgain = 0;
}

/* Remember a miss of pKey in bucket zBucket (which it takes). */
static void missNote(RedisStore *s, const CachierKey *pKey, char *zBucket){
  missForget(s);
  s->aMissField = sqlite3_malloc64(pKey->nKey ? pKey->nKey : 1);
  if( s->aMissField==0 ){
    sqlite3_free(zBucket);
    return;
  }
  memcpy(s->aMissField, pKey->aKey, (size_t)pKey->nKey);
  s->nMissField = pKey->nKey;
  s->iMissBase = pKey->iBase;
  s->zMissBucket = zBucket;
}

static void entryReplyFree(RedisStore *s){
  if( s->pValue ){
    sqlite3_reset(s->pValue);
    sqlite3_clear_bindings(s->pValue);
  }
  if( s->pEntryReply ) freeReplyObject(s->pEntryReply);
  s->pEntryReply = 0;
}

/* ---------------------------------------------------------- the methods */

/* Decode pBytes, found under pKey's field, into *pEntry (its zFn and aKey
** point at pKey's, which outlives it); s->pEntryReply holds pBytes.
** *pFound is 0 for bytes this build cannot read: a miss, which the write
** replaces. */
static int entryOfKey(RedisStore *s, const CachierKey *pKey,
                      const redisReply *pBytes, CachierEntry *pEntry,
                      int *pFound){
  redisReply field;
  int rc;
  *pFound = 0;
  if( s->pValue==0 && (s->pValue = redisValueStmt(s))==0 ) return SQLITE_NOMEM;
  memset(&field, 0, sizeof(field));
  field.type = REDIS_REPLY_STRING;
  field.str = (char*)pKey->aKey;
  field.len = (size_t)pKey->nKey;
  rc = redisEntryDecode(s->pValue, &field, pBytes, pKey->iBase, pEntry);
  if( rc ){
    entryReplyFree(s);
    return rc==SQLITE_CORRUPT ? SQLITE_OK : rc;
  }
  *pFound = 1;
  return SQLITE_OK;
}

static int redisLookup(CachierStore *pStore, const CachierKey *pKey,
                       int flags, CachierEntry *pEntry, int *pFound){
  RedisStore *s = (RedisStore*)pStore;
  char *zBucket = redisBucketKey(s->config.zPrefix, pKey->zFn, pKey->iBase);
  char *zRefresh = 0, *zAttempts = 0;
  char zId[REDIS_ID_HEX+1];
  RedisCmd cmd;
  redisReply *pReply = 0;
  int rc;
  *pFound = 0;
  entryReplyFree(s);
  missForget(s);
  if( zBucket==0 ) return SQLITE_NOMEM;
  redisNoteFn(s, pKey->zFn);
  if( flags & CACHIER_LOOKUP_REFRESH ){
    zRefresh = redisFnKey(s->config.zPrefix, pKey->zFn, "refresh");
    zAttempts = redisFnKey(s->config.zPrefix, pKey->zFn, "attempts");
    redisScriptInit(&cmd);
    redisCmdStr(&cmd, zBucket);
    redisCmdStr(&cmd, zRefresh ? zRefresh : "");
    redisCmdStr(&cmd, zAttempts ? zAttempts : "");
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    redisCmdArg(&cmd, redisHexId(zId, pKey->iBase),
                REDIS_BASE_HEX);
    rc = redisRunScript(s, SCRIPT_LOOKUP, 3, &cmd, &pReply);
    /* (A script's reads may not be tracked: what it found must not stay
    ** in the hot tier.) */
    if( rc==SQLITE_OK && pReply->type!=REDIS_REPLY_NIL ) s->epoch++;
  }else{
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "HGET");
    redisCmdStr(&cmd, zBucket);
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( rc==SQLITE_ERROR ) redisSetErr(s, "Redis error: %s", s->conn.zErr);
  }
  sqlite3_free(zRefresh);
  sqlite3_free(zAttempts);
  if( rc ){
    sqlite3_free(zBucket);
    return rc;
  }
  s->pEntryReply = pReply;
  if( pReply->type==REDIS_REPLY_NIL ){
    missNote(s, pKey, zBucket);
    return SQLITE_OK;
  }
  sqlite3_free(zBucket);
  if( pReply->type!=REDIS_REPLY_ARRAY ){
    return entryOfKey(s, pKey, pReply, pEntry, pFound);
  }
  /* (The script's [entry, retry_at, attempts].) */
  rc = pReply->elements==3 ? entryOfKey(s, pKey, pReply->element[0], pEntry,
                                        pFound) : SQLITE_OK;
  if( *pFound ){
    redisEntryRefreshState(pEntry, pReply->element[1], pReply->element[2]);
  }
  return rc;
}

static void redisLookupDone(CachierStore *pStore){
  entryReplyFree((RedisStore*)pStore);
}

static int redisLookupLatest(CachierStore *pStore, const CachierKey *pKey,
                             CachierEntry *pEntry, int *pFound){
  RedisStore *s = (RedisStore*)pStore;
  /* (Redis has no snapshots: every read sees the latest.) The look again
  ** made with the key's mark, if it is this key's: what memoize() needs
  ** after taking a mark is the value and its time, not its refresh
  ** state. */
  if( s->pAgain && s->iMissBase==pKey->iBase && s->nMissField==pKey->nKey
   && memcmp(s->aMissField, pKey->aKey, (size_t)pKey->nKey)==0 ){
    entryReplyFree(s);
    s->pEntryReply = s->pAgain;
    s->pAgain = 0;
    return entryOfKey(s, pKey, s->pEntryReply, pEntry, pFound);
  }
  return redisLookup(pStore, pKey, CACHIER_LOOKUP_CREATED
                     | CACHIER_LOOKUP_REFRESH | CACHIER_LOOKUP_STAMP, pEntry,
                     pFound);
}

static int redisWrite(CachierStore *pStore, const CachierKey *pKey,
                      const CachierWrite *w){
  RedisStore *s = (RedisStore*)pStore;
  EntryKeys k;
  char *zLock = redisLockKey(s->config.zPrefix, pKey->iBase);
  unsigned char *aEntry = 0;
  sqlite3_int64 nEntry = 0;
  char zTtl[24], zId[REDIS_ID_HEX+1];
  RedisCmd cmd;
  redisReply *pReply = 0;
  int bGuarded = redisHoldsMark(s, pKey->iBase);
  int rc = entryKeys(s, pKey->zFn, pKey->iBase, &k);
  if( rc==SQLITE_OK && zLock==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = redisEntryEncode(w, &aEntry, &nEntry);
  hotForget(pStore, pKey);
  missForget(s);
  if( rc==SQLITE_OK ){
    redisNoteFn(s, pKey->zFn);
    snprintf(zTtl, sizeof(zTtl), "%lld", w->ttl>0.0
             ? (long long)((w->ttl + REDIS_GRACE_SECONDS)*1000.0) : 0LL);
    redisScriptInit(&cmd);
    redisCmdStr(&cmd, k.zBucket);
    redisCmdStr(&cmd, k.zRefresh);
    redisCmdStr(&cmd, k.zAttempts);
    redisCmdStr(&cmd, zLock);
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    redisCmdArg(&cmd, aEntry, (size_t)nEntry);
    redisCmdStr(&cmd, zTtl);
    redisCmdStr(&cmd, bGuarded ? s->zToken : "");
    redisCmdArg(&cmd, redisHexId(zId, pKey->iBase),
                REDIS_BASE_HEX);
    rc = redisRunScript(s, SCRIPT_WRITE, 4, &cmd, &pReply);
  }
  if( rc==SQLITE_OK ){
    /* A guarded write released the mark (or found it gone); one that
    ** could not write (-2) left it. */
    if( bGuarded && !(pReply->type==REDIS_REPLY_INTEGER
                      && pReply->integer==-2) ){
      redisForgetMark(s, pKey->iBase);
    }
    if( pReply->type==REDIS_REPLY_INTEGER && pReply->integer==-1 ){
      /* Our mark expired or was cleared: a newer value may be there. */
      cachierLog(pStore->pCachier, "cachier: %s(): the in-flight mark's "
                 "lease ended before the value was computed; not storing it "
                 "over what may be newer", pKey->zFn);
    }else if( pReply->type==REDIS_REPLY_INTEGER && pReply->integer==-2 ){
      snprintf(s->zErr, sizeof(s->zErr), "%d keys share one key hash",
               CACHIER_ID_SLOTS);
      rc = SQLITE_FULL;
    }
    freeReplyObject(pReply);
  }
  sqlite3_free(aEntry);
  entryKeysFree(&k);
  sqlite3_free(zLock);
  return rc;
}

static int redisMarkRefresh(CachierStore *pStore, sqlite3_int64 id){
  RedisStore *s = (RedisStore*)pStore;
  const char *zFn;
  int iNext = 0, rc = SQLITE_OK;
  char zId[REDIS_ID_HEX+1];
  hotClear(pStore);
  while( rc==SQLITE_OK && (zFn = fnOfId(s, id, &iNext))!=0 ){
    char *zKey = redisFnKey(s->config.zPrefix, zFn, "refresh");
    RedisCmd cmd;
    redisReply *pReply = 0;
    if( zKey==0 ) return SQLITE_NOMEM;
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "ZADD");
    redisCmdStr(&cmd, zKey);
    redisCmdStr(&cmd, "NX");
    redisCmdStr(&cmd, "0");
    redisCmdStr(&cmd, redisHexId(zId, id));
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( pReply ) freeReplyObject(pReply);
    sqlite3_free(zKey);
  }
  return rc;
}

/* zFn's entry ids marked and due at now, appended to *paId. */
static int dueOf(RedisStore *s, const char *zFn, double now,
                 sqlite3_int64 **paId, int *pnId){
  char *zRefresh = redisFnKey(s->config.zPrefix, zFn, "refresh");
  char *zAttempts = redisFnKey(s->config.zPrefix, zFn, "attempts");
  char *zBucketPrefix = redisFnKey(s->config.zPrefix, zFn, "");
  char zNow[64];
  RedisCmd cmd;
  redisReply *pReply = 0;
  size_t i;
  int rc;
  if( zRefresh==0 || zAttempts==0 || zBucketPrefix==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  snprintf(zNow, sizeof(zNow), "%.6f", now);
  redisScriptInit(&cmd);
  redisCmdStr(&cmd, zRefresh);
  redisCmdStr(&cmd, zAttempts);
  redisCmdStr(&cmd, zNow);
  redisCmdStr(&cmd, zBucketPrefix);
  rc = redisRunScript(s, SCRIPT_DUE, 2, &cmd, &pReply);
  if( rc ) goto done;
  if( pReply->type==REDIS_REPLY_ARRAY && pReply->elements>0 ){
    sqlite3_int64 *aNew = sqlite3_realloc64(*paId,
        (*pnId + pReply->elements)*sizeof(sqlite3_int64));
    if( aNew==0 ){
      rc = SQLITE_NOMEM;
    }else{
      *paId = aNew;
      for(i=0; i<pReply->elements; i++){
        redisReply *pId = pReply->element[i];
        if( pId->type==REDIS_REPLY_STRING && pId->len==REDIS_ID_HEX ){
          aNew[(*pnId)++] = redisKeyId(pId->str, pId->len);
        }
      }
    }
  }
  freeReplyObject(pReply);
done:
  sqlite3_free(zRefresh);
  sqlite3_free(zAttempts);
  sqlite3_free(zBucketPrefix);
  return rc;
}

typedef struct DueScan DueScan;
struct DueScan { double now; sqlite3_int64 **paId; int *pnId; };

static int dueKey(RedisStore *s, const redisReply *pKey, void *pArg){
  DueScan *d = (DueScan*)pArg;
  char *zFn = pKey->type!=REDIS_REPLY_STRING ? 0
      : redisFnOfFnKey(s->config.zPrefix, pKey->str, pKey->len, "refresh");
  int rc = SQLITE_OK;
  if( zFn ){
    redisNoteFn(s, zFn);
    rc = dueOf(s, zFn, d->now, d->paId, d->pnId);
    sqlite3_free(zFn);
  }
  return rc;
}

static int redisRefreshDue(CachierStore *pStore, const char *zFn, double now,
                           sqlite3_int64 **paId, int *pnId){
  RedisStore *s = (RedisStore*)pStore;
  int rc;
  *paId = 0;
  *pnId = 0;
  if( zFn ){
    redisNoteFn(s, zFn);
    rc = dueOf(s, zFn, now, paId, pnId);
  }else{
    char *zMatch = redisPrefixPattern(s->config.zPrefix, "*:refresh");
    DueScan d;
    d.now = now;
    d.paId = paId;
    d.pnId = pnId;
    rc = zMatch ? redisScanKeys(s, zMatch, "zset", dueKey, &d) : SQLITE_NOMEM;
    sqlite3_free(zMatch);
  }
  if( rc ){
    sqlite3_free(*paId);
    *paId = 0;
    *pnId = 0;
  }
  return rc;
}

/* Run script iScript (GET or DELETE: KEYS bucket, refresh, attempts; ARGV
** slot, id) on entry id of zFn. */
static int runSlotScript(RedisStore *s, int iScript, const char *zFn,
                         sqlite3_int64 id, redisReply **ppReply){
  EntryKeys k;
  char zSlot[8], zId[REDIS_ID_HEX+1];
  RedisCmd cmd;
  int rc = entryKeys(s, zFn, CACHIER_ID_BASE(id), &k);
  *ppReply = 0;
  if( rc==SQLITE_OK ){
    snprintf(zSlot, sizeof(zSlot), "%d", CACHIER_ID_SLOT(id));
    redisScriptInit(&cmd);
    redisCmdStr(&cmd, k.zBucket);
    redisCmdStr(&cmd, k.zRefresh);
    redisCmdStr(&cmd, k.zAttempts);
    redisCmdStr(&cmd, zSlot);
    redisCmdStr(&cmd, redisHexId(zId, id));
    rc = redisRunScript(s, iScript, 3, &cmd, ppReply);
  }
  entryKeysFree(&k);
  return rc;
}

static int redisGet(CachierStore *pStore, sqlite3_int64 id, CachierEntry *e,
                    int *pFound){
  RedisStore *s = (RedisStore*)pStore;
  const char *zFn;
  int iNext = 0, rc = SQLITE_OK;
  sqlite3_int64 iBase = CACHIER_ID_BASE(id);
  *pFound = 0;
  entryReplyFree(s);
  if( s->pValue==0 && (s->pValue = redisValueStmt(s))==0 ) return SQLITE_NOMEM;
  while( rc==SQLITE_OK && !*pFound && (zFn = fnOfId(s, id, &iNext))!=0 ){
    redisReply *pReply = 0;
    rc = runSlotScript(s, SCRIPT_GET, zFn, id, &pReply);
    if( rc==SQLITE_OK && pReply->type==REDIS_REPLY_ARRAY
     && pReply->elements==4 ){
      s->pEntryReply = pReply;
      if( redisEntryDecode(s->pValue, pReply->element[0], pReply->element[1],
                           iBase, e)==SQLITE_OK
       && strcmp(e->zFn, zFn)==0 ){
        redisEntryRefreshState(e, pReply->element[2], pReply->element[3]);
        *pFound = 1;
      }else{
        entryReplyFree(s);
      }
    }else if( pReply ){
      freeReplyObject(pReply);
    }
  }
  return rc;
}

static int redisRefreshFailed(CachierStore *pStore, sqlite3_int64 id,
                              int attempts, double retryAt){
  RedisStore *s = (RedisStore*)pStore;
  const char *zFn;
  int iNext = 0, rc = SQLITE_OK;
  hotClear(pStore);
  while( rc==SQLITE_OK && (zFn = fnOfId(s, id, &iNext))!=0 ){
    char *zRefresh = redisFnKey(s->config.zPrefix, zFn, "refresh");
    char *zAttempts = redisFnKey(s->config.zPrefix, zFn, "attempts");
    char zId[REDIS_ID_HEX+1], zScore[64], zN[16];
    RedisCmd aCmd[2];
    redisReply *apReply[2];
    if( zRefresh && zAttempts ){
      redisHexId(zId, id);
      snprintf(zScore, sizeof(zScore), "%.6f", retryAt);
      snprintf(zN, sizeof(zN), "%d", attempts);
      redisCmdInit(&aCmd[0]);
      redisCmdStr(&aCmd[0], "ZADD");
      redisCmdStr(&aCmd[0], zRefresh);
      redisCmdStr(&aCmd[0], "XX");
      redisCmdStr(&aCmd[0], zScore);
      redisCmdStr(&aCmd[0], zId);
      redisCmdInit(&aCmd[1]);
      redisCmdStr(&aCmd[1], "HSET");
      redisCmdStr(&aCmd[1], zAttempts);
      redisCmdStr(&aCmd[1], zId);
      redisCmdStr(&aCmd[1], zN);
      rc = redisRoundTrip(&s->conn, 2, aCmd, apReply);
      if( rc==SQLITE_OK ){
        freeReplyObject(apReply[0]);
        freeReplyObject(apReply[1]);
      }
    }else{
      rc = SQLITE_NOMEM;
    }
    sqlite3_free(zRefresh);
    sqlite3_free(zAttempts);
  }
  return rc;
}

int redisDelete(CachierStore *pStore, sqlite3_int64 id){
  RedisStore *s = (RedisStore*)pStore;
  const char *zFn;
  int iNext = 0, rc = SQLITE_OK, bGone = 0;
  hotClear(pStore);
  while( rc==SQLITE_OK && !bGone && (zFn = fnOfId(s, id, &iNext))!=0 ){
    redisReply *pReply = 0;
    rc = runSlotScript(s, SCRIPT_DELETE, zFn, id, &pReply);
    if( rc==SQLITE_OK ){
      bGone = pReply->type==REDIS_REPLY_INTEGER && pReply->integer>0;
      freeReplyObject(pReply);
    }
  }
  return rc;
}

/* ------------------------------------------------------------ the rest */

static int redisState(CachierStore *pStore, int *peState){
  RedisStore *s = (RedisStore*)pStore;
  if( !redisConnUp(&s->conn) ){
    RedisCmd cmd;
    redisReply *pReply = 0;
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "PING");
    if( redisRun(&s->conn, &cmd, &pReply)==SQLITE_OK ){
      freeReplyObject(pReply);
    }
  }
  /* A server that cannot be reached now is still the store: its reads
  ** miss and its writes are skipped until it answers again. */
  *peState = s->eFormat==STORE_NEWER ? STORE_NEWER : STORE_READY;
  return SQLITE_OK;
}

static const char *redisErrmsg(CachierStore *pStore, int rc){
  RedisStore *s = (RedisStore*)pStore;
  if( rc==SQLITE_IOERR && s->conn.zErr[0] ) return s->conn.zErr;
  if( rc==SQLITE_MISMATCH && s->eFormat==STORE_NEWER ){
    return "the Redis store has a newer layout than this build of cachier "
           "understands";
  }
  if( s->zErr[0] ) return s->zErr;
  return sqlite3_errstr(rc);
}

static const char *redisPath(CachierStore *pStore){
  (void)pStore;
  return 0;
}

static int redisDataVersion(CachierStore *pStore, sqlite3_int64 *pV){
  *pV = ((RedisStore*)pStore)->dataVersion;
  return SQLITE_OK;
}

static void redisClose(CachierStore *pStore){
  RedisStore *s = (RedisStore*)pStore;
  int i;
  entryReplyFree(s);
  missForget(s);
  sqlite3_free(s->aMarkSnap);
  /* Marks still held end now rather than at their lease. */
  while( s->nHeld>0 && redisConnUp(&s->conn) ){
    redisMarkRelease(pStore, s->aHeld[s->nHeld-1]);
  }
  redisConnClose(&s->conn);
  redisConnClose(&s->sub);
  sqlite3_free(s->zName);
  sqlite3_finalize(s->pValue);
  sqlite3_close(s->dbScratch);
  for(i=0; i<s->nFn; i++) sqlite3_free(s->aFn[i].zFn);
  sqlite3_free(s->aFn);
  redisConfigClear(&s->config);
}

/* The open store pStore is named zSpec now (the same server, db and
** prefix, as its canonical name says): if the password, timeouts or
** lease differ, use them from the next operation on. */
static void redisReconfigure(CachierStore *pStore, const char *zSpec){
  RedisStore *s = (RedisStore*)pStore;
  RedisConfig c;
  char *zWhy = 0, *zName;
  memset(&c, 0, sizeof(c));
  if( strcmp(s->zName, zSpec)==0 ) return;
  zName = sqlite3_mprintf("%s", zSpec);
  if( zName==0 || redisParseSpec(zSpec, &c, &zWhy) ){
    sqlite3_free(zName);
    sqlite3_free(zWhy);
    redisConfigClear(&c);
    return;
  }
  /* Marks held stay valid (same server and prefix); the connection is
  ** made again with the new settings. */
  redisConnClose(&s->conn);
  redisConnClose(&s->sub);
  s->conn.bDown = 0;
  s->sub.bDown = 0;
  s->bTracking = 0;
  s->epoch++;
  redisConfigClear(&s->config);
  s->config = c;
  sqlite3_free(s->zName);
  s->zName = zName;
}

/* Failed operations on this store, ever (cachier_debug()). */
static void redisStatus(CachierStore *pStore, CachierStoreStatus *pStatus){
  pStatus->nFailures = ((RedisStore*)pStore)->conn.nFailures;
}

static const CachierStoreMarks redisMarks = {
  .xMarkTry = redisMarkTry,
  .xMarkRelease = redisMarkRelease,
  .xMarkIsComputing = redisMarkIsComputing,
  .xMarkClear = redisMarkClear,
};

static const CachierStoreVersions redisVersions = {
  .xVersion = redisVersion,
  .xMayFill = redisMayFill,
  .xDataVersion = redisDataVersion,
};

static const CachierStoreMethods redisMethods = {
  .zName = "redis",
  .xLookup = redisLookup,
  .xLookupDone = redisLookupDone,
  .xLookupLatest = redisLookupLatest,
  .xWrite = redisWrite,
  .xGet = redisGet,
  .xDelete = redisDelete,
  .xMarkRefresh = redisMarkRefresh,
  .xRefreshDue = redisRefreshDue,
  .xRefreshFailed = redisRefreshFailed,
  .xScanOpen = redisScanOpen,
  .xScanNext = redisScanNext,
  .xScanClose = redisScanClose,
  .xClear = redisClear,
  .xDeleteOlder = redisDeleteOlder,
  .xEvictionCandidates = redisEvictionCandidates,
  .xTotals = redisTotals,
  .xState = redisState,
  .xErrmsg = redisErrmsg,
  .xDictLatest = redisDictLatest,
  .xDictLoad = redisDictLoad,
  .xDictAdd = redisDictAdd,
  .xDictDelete = redisDictDelete,
  .xPath = redisPath,
  .xStatus = redisStatus,
  .xReconfigure = redisReconfigure,
  .xClose = redisClose,
  .pMarks = &redisMarks,
  .pVersions = &redisVersions,
};

#define REDIS_STRINGIFY2(x) #x
#define REDIS_STRINGIFY(x) REDIS_STRINGIFY2(x)
const char *storeRedisBuild(void){
  return "hiredis " REDIS_STRINGIFY(HIREDIS_MAJOR) "."
         REDIS_STRINGIFY(HIREDIS_MINOR) "." REDIS_STRINGIFY(HIREDIS_PATCH);
}

int storeRedisCheck(const char *zSpec, char **pzCanonical, char **pzWhy){
  RedisConfig c;
  int rc = redisParseSpec(zSpec, &c, pzWhy);
  if( rc==SQLITE_OK && pzCanonical ){
    *pzCanonical = redisCanonicalName(&c);
    if( *pzCanonical==0 ) rc = SQLITE_NOMEM;
  }
  redisConfigClear(&c);
  return rc;
}

CachierStore *storeRedisOpen(Cachier *p, const char *zSpec, char **pzErr){
  RedisStore *s = sqlite3_malloc(sizeof(*s));
  unsigned char aRand[16];
  char *zWhy = 0;
  int i;
  if( s==0 ) return 0;
  memset(s, 0, sizeof(*s));
  if( redisParseSpec(zSpec, &s->config, &zWhy) ){
    *pzErr = sqlite3_mprintf("%s", zWhy ? zWhy : "out of memory");
    sqlite3_free(zWhy);
    redisConfigClear(&s->config);
    sqlite3_free(s);
    return 0;
  }
  s->base.pMethods = &redisMethods;
  s->base.pCachier = p;
  s->base.zSpec = redisCanonicalName(&s->config);
  s->zName = sqlite3_mprintf("%s", zSpec);
  if( s->base.zSpec==0 || s->zName==0 ){
    sqlite3_free(s->base.zSpec);
    sqlite3_free(s->zName);
    redisConfigClear(&s->config);
    sqlite3_free(s);
    return 0;
  }
  sqlite3_randomness(sizeof(aRand), aRand);
  for(i=0; i<16; i++) snprintf(&s->zToken[i*2], 3, "%02x", aRand[i]);
  s->eFormat = STORE_READY;
  redisConnInit(&s->conn, &s->config, p, s->base.zSpec);
  s->conn.xOnConnect = onConnect;
  s->conn.pOnConnectArg = s;
  redisConnInit(&s->sub, &s->config, p, s->base.zSpec);
  s->sub.xOnConnect = redisSubConnect;
  s->sub.pOnConnectArg = s;
  return &s->base;
}
