/*
** redis_marks.c - the Redis store's in-flight marks: while one caller
** computes a missing value, others wait for it rather than compute it too
** (inflight.c decides; this file keeps the marks on the server).
**
** No SQL surface of its own: the store methods xMarkTry, xMarkRelease,
** xMarkIsComputing, xMarkClear and xMarkDone. A mark is key P:%lock:BASE,
** SET NX PX with the store's token, so it ends with its lease (lease_ms)
** if its holder goes away; it is released only by its holder (script
** RELEASE), or by the write that stores the value (script WRITE). The
** marks a store holds are listed in aHeld (at most REDIS_MAX_HELD).
*/
#include "redis_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drop iBase from the marks this connection holds: 1 if it was there. */
int redisForgetMark(RedisStore *s, sqlite3_int64 iBase){
  int i;
  for(i=0; i<s->nHeld; i++){
    if( s->aHeld[i]==iBase ){
      s->aHeld[i] = s->aHeld[--s->nHeld];
      return 1;
    }
  }
  return 0;
}

/* Whether this connection holds the mark of iBase. */
int redisHoldsMark(RedisStore *s, sqlite3_int64 iBase){
  int i;
  for(i=0; i<s->nHeld && i<REDIS_MAX_HELD; i++){
    if( s->aHeld[i]==iBase ) return 1;
  }
  return 0;
}

/* Take the mark of iBase: INFLIGHT_HELD, _BUSY (another holds it) or
** _NONE (no mark: compute unmarked). */
int redisMarkTry(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  char zLease[16];
  RedisCmd aCmd[2];
  redisReply *apReply[2];
  int rc, bAgain;
  if( redisHoldsMark(s, iBase) || s->nHeld>=REDIS_MAX_HELD ) return INFLIGHT_NONE;
  zLock = redisLockKey(s->config.zPrefix, iBase);
  if( zLock==0 ) return INFLIGHT_NONE;
  snprintf(zLease, sizeof(zLease), "%d", s->config.leaseMs);
  redisCmdInit(&aCmd[0]);
  redisCmdStr(&aCmd[0], "SET");
  redisCmdStr(&aCmd[0], zLock);
  redisCmdStr(&aCmd[0], s->zToken);
  redisCmdStr(&aCmd[0], "NX");
  redisCmdStr(&aCmd[0], "PX");
  redisCmdStr(&aCmd[0], zLease);
  if( s->pAgain ){
    freeReplyObject(s->pAgain);
    s->pAgain = 0;
  }
  /* After a miss of this key: look again in the same round trip. */
  bAgain = s->zMissBucket && s->iMissBase==iBase;
  if( bAgain ){
    redisCmdInit(&aCmd[1]);
    redisCmdStr(&aCmd[1], "HGET");
    redisCmdStr(&aCmd[1], s->zMissBucket);
    redisCmdArg(&aCmd[1], s->aMissField, (size_t)s->nMissField);
  }
  rc = redisRoundTrip(&s->conn, bAgain ? 2 : 1, aCmd, apReply);
  sqlite3_free(zLock);
  if( rc ) return INFLIGHT_NONE;      /* unreachable: compute unmarked */
  rc = apReply[0]->type==REDIS_REPLY_STATUS ? INFLIGHT_HELD
     : apReply[0]->type==REDIS_REPLY_NIL ? INFLIGHT_BUSY : INFLIGHT_NONE;
  freeReplyObject(apReply[0]);
  if( bAgain ){
    if( rc==INFLIGHT_HELD && (apReply[1]->type==REDIS_REPLY_STRING
                              || apReply[1]->type==REDIS_REPLY_NIL) ){
      s->pAgain = apReply[1];
    }else{
      freeReplyObject(apReply[1]);
    }
  }
  if( rc==INFLIGHT_HELD ) s->aHeld[s->nHeld++] = iBase;
  return rc;
}

void redisMarkRelease(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  RedisCmd cmd;
  redisReply *pReply = 0;
  /* (Not held any more: a guarded write released it.) */
  if( !redisForgetMark(s, iBase) ) return;
  zLock = redisLockKey(s->config.zPrefix, iBase);
  if( zLock==0 ) return;
  redisScriptInit(&cmd);
  redisCmdStr(&cmd, zLock);
  redisCmdStr(&cmd, s->zToken);
  /* (If this fails the mark ends with its lease.) */
  if( redisRunScript(s, SCRIPT_RELEASE, 1, &cmd, &pReply)==SQLITE_OK ){
    freeReplyObject(pReply);
  }
  sqlite3_free(zLock);
}

/* Add mark key pKey's key hash to the listing's snapshot of the marks. */
static int markSnapKey(RedisStore *s, const redisReply *pKey, void *pArg){
  (void)pArg;
  if( pKey->type==REDIS_REPLY_STRING && pKey->len>=REDIS_ID_HEX ){
    if( (s->nMarkSnap & 63)==0 ){
      sqlite3_int64 *aNew = sqlite3_realloc64(s->aMarkSnap,
                                  (s->nMarkSnap+64)*sizeof(sqlite3_int64));
      if( aNew==0 ) return SQLITE_NOMEM;
      s->aMarkSnap = aNew;
    }
    s->aMarkSnap[s->nMarkSnap++] = redisKeyId(pKey->str, pKey->len);
  }
  return SQLITE_OK;
}

static int cmpI64(const void *a, const void *b){
  sqlite3_int64 x = *(const sqlite3_int64*)a, y = *(const sqlite3_int64*)b;
  return x<y ? -1 : x>y;
}

int redisMarkIsComputing(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  RedisCmd cmd;
  redisReply *pReply = 0;
  int bHeld = 0;
  if( redisHoldsMark(s, iBase) ) return 1;
  if( s->nScanOpen>0 ){
    /* A listing: every mark at once, the first time it asks. */
    if( !s->bMarkSnap ){
      char *zMatch = redisLockPattern(s->config.zPrefix, -1);
      s->nMarkSnap = 0;
      s->bMarkSnap = zMatch && redisScanKeys(s, zMatch, "string", markSnapKey,
                                             0)==SQLITE_OK;
      sqlite3_free(zMatch);
      if( s->bMarkSnap && s->nMarkSnap>1 ){
        qsort(s->aMarkSnap, s->nMarkSnap, sizeof(sqlite3_int64), cmpI64);
      }
    }
    if( s->bMarkSnap ){
      return s->nMarkSnap>0 && bsearch(&iBase, s->aMarkSnap, s->nMarkSnap,
                                       sizeof(sqlite3_int64), cmpI64)!=0;
    }
  }
  zLock = redisLockKey(s->config.zPrefix, iBase);
  if( zLock==0 ) return 0;
  redisCmdInit(&cmd);
  redisCmdStr(&cmd, "EXISTS");
  redisCmdStr(&cmd, zLock);
  if( redisRun(&s->conn, &cmd, &pReply)==SQLITE_OK ){
    bHeld = pReply->type==REDIS_REPLY_INTEGER && pReply->integer>0;
    freeReplyObject(pReply);
  }
  sqlite3_free(zLock);
  return bHeld;
}

static int clearMarkKey(RedisStore *s, const redisReply *pKey, void *pArg){
  (void)s;
  if( pKey->type!=REDIS_REPLY_STRING ) return SQLITE_OK;
  return redisKeyListAdd((RedisKeyList*)pArg, pKey->str, pKey->len);
}

sqlite3_int64 redisMarkClear(CachierStore *pStore, int iFnHash){
  RedisStore *s = (RedisStore*)pStore;
  RedisKeyList marks;
  char *zMatch = redisLockPattern(s->config.zPrefix, iFnHash);
  sqlite3_int64 n = 0;
  memset(&marks, 0, sizeof(marks));
  if( zMatch && redisScanKeys(s, zMatch, "string", clearMarkKey,
                              &marks)==SQLITE_OK ){
    n = marks.n;
    redisUnlinkKeys(s, marks.az, marks.n, 0);
  }
  redisKeyListFree(&marks);
  sqlite3_free(zMatch);
  return n;
}

void redisMarkDone(CachierStore *pStore, InflightLock *pLock, int bWrote){
  (void)pStore; (void)bWrote;
  inflightRelease(pLock);
}
