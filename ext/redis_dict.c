/*
** redis_dict.c - the Redis store's zstd dictionaries (value_codec.c trains
** them; this file keeps them).
**
** No SQL surface of its own: the store methods xDictLatest, xDictLoad,
** xDictAdd and xDictDelete. A dictionary's bytes are key P:%dict:ID,
** P:%dict-seq allots the ids, and P:FN:dicts lists FN's (redis_format.c).
*/
#include "redis_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int redisDictLatest(CachierStore *pStore, const char *zFn,
                    sqlite3_int64 *piId, unsigned *pZstdId){
  RedisStore *s = (RedisStore*)pStore;
  char *zDicts = redisFnKey(s->config.zPrefix, zFn, "dicts"), *zDict = 0;
  RedisCmd cmd;
  redisReply *pReply = 0;
  int rc;
  *piId = 0;
  *pZstdId = 0;
  if( zDicts==0 ) return SQLITE_NOMEM;
  redisCmdInit(&cmd);
  redisCmdStr(&cmd, "ZREVRANGE");
  redisCmdStr(&cmd, zDicts);
  redisCmdStr(&cmd, "0");
  redisCmdStr(&cmd, "0");
  rc = redisRun(&s->conn, &cmd, &pReply);
  sqlite3_free(zDicts);
  if( rc ) return SQLITE_OK;          /* unreachable: no dictionary */
  if( pReply->type==REDIS_REPLY_ARRAY && pReply->elements==1
   && pReply->element[0]->type==REDIS_REPLY_STRING ){
    sqlite3_int64 iId = strtoll(pReply->element[0]->str, 0, 10);
    zDict = redisDictKey(s->config.zPrefix, iId);
    freeReplyObject(pReply);
    pReply = 0;
    if( zDict==0 ) return SQLITE_NOMEM;
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "GETRANGE");
    redisCmdStr(&cmd, zDict);
    redisCmdStr(&cmd, "4");
    redisCmdStr(&cmd, "7");
    if( redisRun(&s->conn, &cmd, &pReply)==SQLITE_OK
     && pReply->type==REDIS_REPLY_STRING && pReply->len==4 ){
      const unsigned char *a = (const unsigned char*)pReply->str;
      *piId = iId;
      *pZstdId = (unsigned)a[0] | (unsigned)a[1]<<8 | (unsigned)a[2]<<16
               | (unsigned)a[3]<<24;
    }
    sqlite3_free(zDict);
  }
  if( pReply ) freeReplyObject(pReply);
  return SQLITE_OK;
}

int redisDictLoad(CachierStore *pStore, sqlite3_int64 iId,
                  void **ppDict, sqlite3_int64 *pnDict){
  RedisStore *s = (RedisStore*)pStore;
  char *zDict = redisDictKey(s->config.zPrefix, iId);
  RedisCmd cmd;
  redisReply *pReply = 0;
  int rc;
  *ppDict = 0;
  *pnDict = 0;
  if( zDict==0 ) return SQLITE_NOMEM;
  redisCmdInit(&cmd);
  redisCmdStr(&cmd, "GET");
  redisCmdStr(&cmd, zDict);
  rc = redisRun(&s->conn, &cmd, &pReply);
  sqlite3_free(zDict);
  if( rc ) return rc;
  if( pReply->type==REDIS_REPLY_STRING && pReply->len>0 ){
    void *a = sqlite3_malloc64(pReply->len);
    if( a ){
      memcpy(a, pReply->str, pReply->len);
      *ppDict = a;
      *pnDict = (sqlite3_int64)pReply->len;
    }else{
      rc = SQLITE_NOMEM;
    }
  }
  freeReplyObject(pReply);
  return rc;
}

int redisDictAdd(CachierStore *pStore, const char *zFn,
                 const void *aDict, sqlite3_int64 nDict, int nSample,
                 double created, sqlite3_int64 *piId){
  RedisStore *s = (RedisStore*)pStore;
  char *zSeq = redisOwnKey(s->config.zPrefix, "dict-seq");
  char *zDicts = redisFnKey(s->config.zPrefix, zFn, "dicts"), *zDict = 0;
  char zId[24];
  RedisCmd aCmd[2];
  redisReply *pReply = 0, *apReply[2];
  int rc;
  (void)nSample; (void)created;
  *piId = 0;
  if( zSeq==0 || zDicts==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  redisCmdInit(&aCmd[0]);
  redisCmdStr(&aCmd[0], "INCR");
  redisCmdStr(&aCmd[0], zSeq);
  rc = redisRun(&s->conn, &aCmd[0], &pReply);
  if( rc ) goto done;
  if( pReply->type!=REDIS_REPLY_INTEGER ){
    rc = SQLITE_ERROR;
    goto done;
  }
  snprintf(zId, sizeof(zId), "%lld", pReply->integer);
  zDict = redisDictKey(s->config.zPrefix, pReply->integer);
  if( zDict==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  redisCmdInit(&aCmd[0]);
  redisCmdStr(&aCmd[0], "SET");
  redisCmdStr(&aCmd[0], zDict);
  redisCmdArg(&aCmd[0], aDict, (size_t)nDict);
  redisCmdInit(&aCmd[1]);
  redisCmdStr(&aCmd[1], "ZADD");
  redisCmdStr(&aCmd[1], zDicts);
  redisCmdStr(&aCmd[1], zId);
  redisCmdStr(&aCmd[1], zId);
  rc = redisRoundTrip(&s->conn, 2, aCmd, apReply);
  if( rc==SQLITE_OK ){
    if( apReply[0]->type==REDIS_REPLY_ERROR
     || apReply[1]->type==REDIS_REPLY_ERROR ){
      rc = SQLITE_ERROR;
    }else{
      *piId = pReply->integer;
      s->dataVersion++;
    }
    freeReplyObject(apReply[0]);
    freeReplyObject(apReply[1]);
  }
done:
  if( pReply ) freeReplyObject(pReply);
  sqlite3_free(zSeq);
  sqlite3_free(zDicts);
  sqlite3_free(zDict);
  return rc;
}

int redisDictDelete(CachierStore *pStore, sqlite3_int64 iId){
RedisStore *s = (RedisStore*)pStore;
  char *zDict = redisDictKey(s->config.zPrefix, iId);
  RedisCmd cmd;
  redisReply *pReply = 0;
  int rc, i;
  if( zDict==0 ) return SQLITE_NOMEM;
  redisCmdInit(&cmd);
  redisCmdStr(&cmd, "UNLINK");
  redisCmdStr(&cmd, zDict);
  rc = redisRun(&s->conn, &cmd, &pReply);
  if( pReply ) freeReplyObject(pReply);
  sqlite3_free(zDict);
  /* And from the list of each function it may be listed for. */
  for(i=0; rc==SQLITE_OK && i<s->nFn; i++){
    char *zDicts = redisFnKey(s->config.zPrefix, s->aFn[i].zFn, "dicts");
    char zId[24];
    if( zDicts==0 ) return SQLITE_NOMEM;
    snprintf(zId, sizeof(zId), "%lld", iId);
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "ZREM");
    redisCmdStr(&cmd, zDicts);
    redisCmdStr(&cmd, zId);
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( pReply ) freeReplyObject(pReply);
    sqlite3_free(zDicts);
  }
  s->dataVersion++;
  return rc;
}
