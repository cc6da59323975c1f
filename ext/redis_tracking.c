/*
** redis_tracking.c - the Redis store's hot tier support: which entries
** the hot tier (hot.c) may keep, told by Redis's CLIENT TRACKING.
**
** No SQL surface of its own: the store methods xVersion and xMayFill.
** When hot_bytes allows a tier, the store has a second connection,
** subscribed to __redis__:invalidate, and the first one runs CLIENT
** TRACKING ON REDIRECT to it, so Redis tells it of every change, by anyone
** else, to a key the first one read (its own writes drop what they change
** at once: NOLOOP). Before each use of the tier, the messages that arrived
** are read without waiting; each names the keys changed, whose entries
** leave the tier. The tier's version (xVersion) counts (re)connections:
** one empties the tier, and while the second connection is down there is
** no tier.
*/
#include "redis_store.h"
#include <stdio.h>
#include <string.h>

/* The invalidation connection is up: note its id and subscribe. */
int redisSubConnect(RedisConn *pConn, void *pArg){
  RedisStore *s = (RedisStore*)pArg;
  RedisCmd aCmd[2];
  redisReply *apReply[2];
  int rc;
  redisCmdInit(&aCmd[0]);
  redisCmdStr(&aCmd[0], "CLIENT");
  redisCmdStr(&aCmd[0], "ID");
  redisCmdInit(&aCmd[1]);
  redisCmdStr(&aCmd[1], "SUBSCRIBE");
  redisCmdStr(&aCmd[1], "__redis__:invalidate");
  rc = redisRoundTrip(pConn, 2, aCmd, apReply);
  if( rc ) return rc;
  if( apReply[0]->type==REDIS_REPLY_INTEGER
   && apReply[1]->type==REDIS_REPLY_ARRAY ){
    s->subId = apReply[0]->integer;
  }else{
    snprintf(pConn->zErr, sizeof(pConn->zErr), "cannot subscribe to "
             "invalidations");
    rc = SQLITE_ERROR;
  }
  freeReplyObject(apReply[0]);
  freeReplyObject(apReply[1]);
  return rc;
}

/* Make sure the main connection's reads are tracked, with invalidations
** going to the subscribed connection: 1 if they are. */
static int trackingOn(RedisStore *s){
  RedisCmd cmd;
  redisReply *pReply = 0;
  char zId[24];
  if( s->bTracking && redisConnUp(&s->sub) && redisConnUp(&s->conn) ){
    return 1;
  }
  s->bTracking = 0;
  if( !redisConnUp(&s->sub) ){
    s->epoch++;
    if( redisRoundTrip(&s->sub, 0, 0, 0) ) return 0;
  }
  snprintf(zId, sizeof(zId), "%lld", s->subId);
  redisCmdInit(&cmd);
  redisCmdStr(&cmd, "CLIENT");
  redisCmdStr(&cmd, "TRACKING");
  redisCmdStr(&cmd, "ON");
  redisCmdStr(&cmd, "REDIRECT");
  redisCmdStr(&cmd, zId);
  /* (This connection's own writes drop what they change themselves: a
  ** message for each would empty the tier at every stored miss.) */
  redisCmdStr(&cmd, "NOLOOP");
  if( redisRun(&s->conn, &cmd, &pReply) ){
    /* The server does not know that id: the subscriber's connection was
    ** dropped without our noticing yet. Make it again next time. */
    redisConnClose(&s->sub);
    return 0;
  }
  freeReplyObject(pReply);
  s->bTracking = 1;
  s->epoch++;
  return 1;
}

/* One message of the invalidation channel: ["message", channel, keys]
** (keys NULL: the whole database was flushed). The hot tier drops the
** entries of each bucket key named; anything else empties it. */
static void onInvalidation(void *pArg, const redisReply *pMsg){
  RedisStore *s = (RedisStore*)pArg;
  const redisReply *pKeys;
  size_t i;
  s->nInvalidation++;
  if( pMsg->type!=REDIS_REPLY_ARRAY || pMsg->elements!=3
   || (pKeys = pMsg->element[2])->type!=REDIS_REPLY_ARRAY ){
    hotClear(&s->base);
    return;
  }
  for(i=0; i<pKeys->elements; i++){
    const redisReply *pKey = pKeys->element[i];
    char *zFn;
    if( pKey->type!=REDIS_REPLY_STRING ) continue;
    /* (Only the entries' own keys matter: the tier keeps nothing else,
    ** and what it keeps from a script's read leaves it at once.) */
    zFn = redisFnOfBucketKey(s->config.zPrefix, pKey->str, pKey->len);
    if( zFn ){
      hotForgetBase(&s->base, redisKeyId(pKey->str, pKey->len));
      sqlite3_free(zFn);
    }
  }
}

/* The hot tier's version: 0 if there can be no tier now. Reads the
** invalidations that arrived, which drop what they name from the tier. */
int redisVersion(CachierStore *pStore, unsigned char *aVer, int bRecheck){
  RedisStore *s = (RedisStore*)pStore;
  (void)bRecheck;
  if( !trackingOn(s) ) return 0;
  if( redisReadPushed(&s->sub, onInvalidation, s) ){
    s->bTracking = 0;         /* messages may be lost: no tier for now */
    s->epoch++;
    return 0;
  }
  memset(aVer, 0, STORE_VERSION_BYTES);
  memcpy(aVer, &s->epoch, 8);
  return 1;
}

int redisMayFill(CachierStore *pStore, const unsigned char *aVer){
  RedisStore *s = (RedisStore*)pStore;
  return s->bTracking && memcmp(aVer, &s->epoch, 8)==0;
}
