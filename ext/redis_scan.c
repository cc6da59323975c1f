/*
** redis_scan.c - the Redis store's SCAN-driven work on many keys: listing
** entries (cachier_entries), totals (cachier_stats), eviction candidates,
** deleting entries older than a time, clearing a function or the store.
**
** No SQL surface of its own: the store methods xScanOpen/Next/Close,
** xTotals, xEvictionCandidates, xDeleteOlder and xClear. A listing reads
** the buckets SCAN finds in batches of SCAN_BATCH, each batch one
** pipelined round trip; totals and eviction have the server read only the
** entries' headers (script HEADS) so no value is fetched.
*/
#include "redis_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCAN_BATCH 64

/* ----------------------------------------------------------- key lists */

/* Append z[0..n) to l. */
int redisKeyListAdd(RedisKeyList *l, const char *z, size_t n){
  if( l->n==l->nAlloc ){
    int nNew = l->nAlloc ? l->nAlloc*2 : 64;
    char **aNew = sqlite3_realloc64(l->az, nNew*sizeof(char*));
    if( aNew==0 ) return SQLITE_NOMEM;
    l->az = aNew;
    l->nAlloc = nNew;
  }
  l->az[l->n] = sqlite3_mprintf("%.*s", (int)n, z);
  if( l->az[l->n]==0 ) return SQLITE_NOMEM;
  l->n++;
  return SQLITE_OK;
}

void redisKeyListFree(RedisKeyList *l){
  int i;
  for(i=0; i<l->n; i++) sqlite3_free(l->az[i]);
  sqlite3_free(l->az);
  memset(l, 0, sizeof(*l));
}

/* SCAN every key matching zPattern (of type zType, NULL: any), calling
** xKey on each; stops at the first error. */
int redisScanKeys(RedisStore *s, const char *zPattern, const char *zType,
                  int (*xKey)(RedisStore*, const redisReply*, void*),
                  void *pArg){
  char zCursor[32] = "0";
  int rc = SQLITE_OK;
  do{
    RedisCmd cmd;
    redisReply *pReply = 0;
    size_t i;
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "SCAN");
    redisCmdStr(&cmd, zCursor);
    redisCmdStr(&cmd, "MATCH");
    redisCmdStr(&cmd, zPattern);
    redisCmdStr(&cmd, "COUNT");
    redisCmdStr(&cmd, "1000");
    if( zType ){
      redisCmdStr(&cmd, "TYPE");
      redisCmdStr(&cmd, zType);
    }
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( rc ) break;
    if( pReply->type!=REDIS_REPLY_ARRAY || pReply->elements!=2
     || pReply->element[0]->type!=REDIS_REPLY_STRING
     || pReply->element[1]->type!=REDIS_REPLY_ARRAY ){
      freeReplyObject(pReply);
      redisSetErr(s, "%s", "unexpected SCAN reply");
      return SQLITE_ERROR;
    }
    snprintf(zCursor, sizeof(zCursor), "%s", pReply->element[0]->str);
    for(i=0; rc==SQLITE_OK && i<pReply->element[1]->elements; i++){
      rc = xKey(s, pReply->element[1]->element[i], pArg);
    }
    freeReplyObject(pReply);
  }while( rc==SQLITE_OK && strcmp(zCursor, "0")!=0 );
  return rc;
}
/* --------------------------------------------------------------- listing */

typedef struct RedisScan RedisScan;
struct RedisScan {
  RedisStore *s;
  char *zFn;                  /* only this function's entries; NULL: all */
  RedisKeyList keys;          /* bucket keys, sorted, without repeats */
  int iKey;                   /* the first not yet read */
  redisReply *apBatch[SCAN_BATCH];  /* HGETALL of the keys before iKey */
  sqlite3_int64 aBase[SCAN_BATCH];
  const char *azBatchFn[SCAN_BATCH];
  int nBatch, iBatch;
  size_t iElem;
  sqlite3_stmt *pValue;
  char *zStateFn;             /* whose refresh state is loaded */
  int bCounted;               /* counted in the store's nScanOpen */
  redisReply *pRefresh, *pAttempts;
};

static int scanAddKey(RedisStore *s, const redisReply *pKey, void *pArg){
  RedisScan *pScan = (RedisScan*)pArg;
  char *zFn;
  if( pKey->type!=REDIS_REPLY_STRING ) return SQLITE_OK;
  zFn = redisFnOfBucketKey(s->config.zPrefix, pKey->str, pKey->len);
  if( zFn==0 ) return SQLITE_OK;
  if( pScan->zFn && strcmp(zFn, pScan->zFn)!=0 ){
    sqlite3_free(zFn);
    return SQLITE_OK;
  }
  sqlite3_free(zFn);
  return redisKeyListAdd(&pScan->keys, pKey->str, pKey->len);
}

static int cmpStr(const void *a, const void *b){
  return strcmp(*(char*const*)a, *(char*const*)b);
}

static void scanBatchFree(RedisScan *pScan){
  int i;
  for(i=0; i<pScan->nBatch; i++){
    freeReplyObject(pScan->apBatch[i]);
    sqlite3_free((char*)pScan->azBatchFn[i]);
  }
  pScan->nBatch = pScan->iBatch = 0;
  pScan->iElem = 0;
}

void redisScanClose(CachierScan *p){
  RedisScan *pScan = (RedisScan*)p;
  if( pScan==0 ) return;
  if( pScan->bCounted && --pScan->s->nScanOpen==0 ){
    sqlite3_free(pScan->s->aMarkSnap);
    pScan->s->aMarkSnap = 0;
    pScan->s->nMarkSnap = 0;
    pScan->s->bMarkSnap = 0;
  }
  scanBatchFree(pScan);
  redisKeyListFree(&pScan->keys);
  sqlite3_finalize(pScan->pValue);
  if( pScan->pRefresh ) freeReplyObject(pScan->pRefresh);
  if( pScan->pAttempts ) freeReplyObject(pScan->pAttempts);
  sqlite3_free(pScan->zStateFn);
  sqlite3_free(pScan->zFn);
  sqlite3_free(pScan);
}

int redisScanOpen(CachierStore *pStore, const char *zFn,
                  CachierScan **ppScan){
  RedisStore *s = (RedisStore*)pStore;
  RedisScan *pScan = sqlite3_malloc(sizeof(*pScan));
  char *zMatch;
  int rc, i, j;
  *ppScan = 0;
  if( pScan==0 ) return SQLITE_NOMEM;
  memset(pScan, 0, sizeof(*pScan));
  pScan->s = s;
  pScan->bCounted = 1;
  s->nScanOpen++;
  if( zFn ){
    redisNoteFn(s, zFn);
    pScan->zFn = sqlite3_mprintf("%s", zFn);
  }
  zMatch = redisBucketPattern(s->config.zPrefix, zFn);
  pScan->pValue = redisValueStmt(s);
  rc = zMatch && pScan->pValue && (zFn==0 || pScan->zFn)
     ? redisScanKeys(s, zMatch, "hash", scanAddKey, pScan) : SQLITE_NOMEM;
  sqlite3_free(zMatch);
  if( rc ){
    redisScanClose((CachierScan*)pScan);
    return rc;
  }
  /* SCAN may return a key twice. */
  if( pScan->keys.n>1 ){
    qsort(pScan->keys.az, pScan->keys.n, sizeof(char*), cmpStr);
  }
  for(i=j=0; i<pScan->keys.n; i++){
    if( j>0 && strcmp(pScan->keys.az[j-1], pScan->keys.az[i])==0 ){
      sqlite3_free(pScan->keys.az[i]);
    }else{
      pScan->keys.az[j++] = pScan->keys.az[i];
    }
  }
  pScan->keys.n = j;
  *ppScan = (CachierScan*)pScan;
  return SQLITE_OK;
}

/* Read the next batch of buckets. */
static int scanLoadBatch(RedisScan *pScan){
  RedisCmd aCmd[SCAN_BATCH];
  int n = 0, rc, i;
  scanBatchFree(pScan);
  while( n<SCAN_BATCH && pScan->iKey<pScan->keys.n ){
    const char *zKey = pScan->keys.az[pScan->iKey++];
    size_t nKey = strlen(zKey);
    redisCmdInit(&aCmd[n]);
    redisCmdStr(&aCmd[n], "HGETALL");
    redisCmdStr(&aCmd[n], zKey);
    pScan->aBase[n] = redisKeyId(zKey, nKey);
    pScan->azBatchFn[n] = redisFnOfBucketKey(pScan->s->config.zPrefix, zKey, nKey);
    n++;
  }
  rc = redisRoundTrip(&pScan->s->conn, n, aCmd, pScan->apBatch);
  if( rc ){
    for(i=0; i<n; i++) sqlite3_free((char*)pScan->azBatchFn[i]);
    return rc;
  }
  pScan->nBatch = n;
  return SQLITE_OK;
}

/* Load zFn's refresh state for the entries about to be listed. */
static int scanLoadState(RedisScan *pScan, const char *zFn){
  RedisStore *s = pScan->s;
  RedisCmd aCmd[2];
  redisReply *apReply[2];
  char *zRefresh, *zAttempts;
  int rc;
  if( pScan->zStateFn && strcmp(pScan->zStateFn, zFn)==0 ) return SQLITE_OK;
  if( pScan->pRefresh ) freeReplyObject(pScan->pRefresh);
  if( pScan->pAttempts ) freeReplyObject(pScan->pAttempts);
  pScan->pRefresh = pScan->pAttempts = 0;
  sqlite3_free(pScan->zStateFn);
  pScan->zStateFn = sqlite3_mprintf("%s", zFn);
  zRefresh = redisFnKey(s->config.zPrefix, zFn, "refresh");
  zAttempts = redisFnKey(s->config.zPrefix, zFn, "attempts");
  if( pScan->zStateFn==0 || zRefresh==0 || zAttempts==0 ){
    rc = SQLITE_NOMEM;
  }else{
    redisCmdInit(&aCmd[0]);
    redisCmdStr(&aCmd[0], "ZRANGE");
    redisCmdStr(&aCmd[0], zRefresh);
    redisCmdStr(&aCmd[0], "0");
    redisCmdStr(&aCmd[0], "-1");
    redisCmdStr(&aCmd[0], "WITHSCORES");
    redisCmdInit(&aCmd[1]);
    redisCmdStr(&aCmd[1], "HGETALL");
    redisCmdStr(&aCmd[1], zAttempts);
    rc = redisRoundTrip(&s->conn, 2, aCmd, apReply);
    if( rc==SQLITE_OK ){
      pScan->pRefresh = apReply[0];
      pScan->pAttempts = apReply[1];
    }
  }
  sqlite3_free(zRefresh);
  sqlite3_free(zAttempts);
  return rc;
}

/* The value after member zId in a flat [member, value, ...] reply. */
static const redisReply *pairValue(const redisReply *pList, const char *zId){
  size_t i;
  if( pList==0 || pList->type!=REDIS_REPLY_ARRAY ) return 0;
  for(i=0; i+1<pList->elements; i+=2){
    const redisReply *pM = pList->element[i];
    if( pM->type==REDIS_REPLY_STRING && pM->len==REDIS_ID_HEX
     && memcmp(pM->str, zId, REDIS_ID_HEX)==0 ){
      return pList->element[i+1];
    }
  }
  return 0;
}

int redisScanNext(CachierScan *p, CachierEntry *e, int *pEof){
  RedisScan *pScan = (RedisScan*)p;
  for(;;){
    redisReply *pB;
    const char *zFn;
    if( pScan->iBatch>=pScan->nBatch ){
      int rc;
      if( pScan->iKey>=pScan->keys.n ){
        *pEof = 1;
        return SQLITE_OK;
      }
      rc = scanLoadBatch(pScan);
      if( rc ) return rc;
      continue;
    }
    pB = pScan->apBatch[pScan->iBatch];
    zFn = pScan->azBatchFn[pScan->iBatch];
    if( pB->type!=REDIS_REPLY_ARRAY || zFn==0
     || pScan->iElem+1>=pB->elements ){
      pScan->iBatch++;
      pScan->iElem = 0;
      continue;
    }
    pScan->iElem += 2;
    if( redisEntryDecode(pScan->pValue, pB->element[pScan->iElem-2],
                    pB->element[pScan->iElem-1], pScan->aBase[pScan->iBatch],
                    e)==SQLITE_OK
     && strcmp(e->zFn, zFn)==0 ){
      char zId[REDIS_ID_HEX+1];
      int rc = scanLoadState(pScan, zFn);
      if( rc ) return rc;
      redisHexId(zId, e->id);
      redisEntryRefreshState(e, pairValue(pScan->pRefresh, zId),
                        pairValue(pScan->pAttempts, zId));
      redisNoteFn(pScan->s, zFn);
      *pEof = 0;
      return SQLITE_OK;
    }
    /* (Not an entry of this layout, or under a foreign key: skipped.) */
  }
}

/* ------------------------------------------------ whole-store operations */

/* What totals and eviction need of an entry (script HEADS). */
typedef struct EntryHead EntryHead;
struct EntryHead {
  sqlite3_int64 id;
  const char *zFn;
  sqlite3_int64 nBytes, nStored, computeNs;
  double created;
};

static sqlite3_int64 replyInt(const redisReply *p){
  if( p->type==REDIS_REPLY_INTEGER ) return p->integer;
  if( p->type==REDIS_REPLY_STRING ) return strtoll(p->str, 0, 10);
  return 0;
}

/* Call xHead on each entry of zFn (of all functions if NULL): the server
** reads the entries' headers and sends only them (HEADS), so totals and
** eviction do not fetch the values. */
static int forEachHead(RedisStore *s, const char *zFn,
                       int (*xHead)(const EntryHead*, void*), void *pArg){
  CachierScan *p = 0;
  RedisScan *pScan;
  int rc = redisScanOpen(&s->base, zFn, &p);
  if( rc ) return rc;
  pScan = (RedisScan*)p;
  while( rc==SQLITE_OK && pScan->iKey<pScan->keys.n ){
    sqlite3_str *pKeys = sqlite3_str_new(0);
    const char *azFn[SCAN_BATCH];
    sqlite3_int64 aBase[SCAN_BATCH];
    redisReply *pReply = 0;
    RedisCmd cmd;
    char *zKeys;
    int n = 0, nKeys, i;
    while( n<SCAN_BATCH && pScan->iKey<pScan->keys.n ){
      const char *zKey = pScan->keys.az[pScan->iKey++];
      size_t nKey = strlen(zKey);
      azFn[n] = redisFnOfBucketKey(s->config.zPrefix, zKey, nKey);
      aBase[n] = redisKeyId(zKey, nKey);
      sqlite3_str_append(pKeys, zKey, (int)nKey);
      sqlite3_str_appendchar(pKeys, 1, 0);
      n++;
    }
    nKeys = sqlite3_str_length(pKeys);
    zKeys = sqlite3_str_finish(pKeys);
    if( zKeys==0 ){
      rc = SQLITE_NOMEM;
    }else{
      redisScriptInit(&cmd);
      redisCmdArg(&cmd, zKeys, (size_t)nKeys);
      rc = redisRunScript(s, SCRIPT_HEADS, 0, &cmd, &pReply);
    }
    sqlite3_free(zKeys);
    if( rc==SQLITE_OK && pReply->type==REDIS_REPLY_ARRAY ){
      size_t j;
      for(j=0; rc==SQLITE_OK && j+5<pReply->elements; j+=6){
        redisReply **a = &pReply->element[j];
        sqlite3_int64 iKey = replyInt(a[0]) - 1;
        EntryHead h;
        if( iKey<0 || iKey>=n || azFn[iKey]==0
         || a[5]->type!=REDIS_REPLY_STRING ){
          continue;
        }
        h.id = aBase[iKey] | CACHIER_ID_SLOT(replyInt(a[1]));
        h.zFn = azFn[iKey];
        h.nBytes = replyInt(a[2]);
        h.nStored = replyInt(a[3]);
        h.computeNs = replyInt(a[4]);
        h.created = atof(a[5]->str);
        rc = xHead(&h, pArg);
      }
    }
    if( pReply ) freeReplyObject(pReply);
    for(i=0; i<n; i++) sqlite3_free((char*)azFn[i]);
  }
  redisScanClose(p);
  return rc;
}

typedef struct Totals Totals;
struct Totals { StoreTotal *a; int n; double *aComputeNs; };

static int totalsEntry(const EntryHead *e, void *pArg){
  Totals *t = (Totals*)pArg;
  int i;
  for(i=0; i<t->n && strcmp(t->a[i].zFn, e->zFn)!=0; i++){}
  if( i==t->n ){
    StoreTotal *aNew = sqlite3_realloc64(t->a, (t->n+1)*sizeof(StoreTotal));
    double *aNs = sqlite3_realloc64(t->aComputeNs, (t->n+1)*sizeof(double));
    if( aNew ) t->a = aNew;
    if( aNs ) t->aComputeNs = aNs;
    if( aNew==0 || aNs==0 ) return SQLITE_NOMEM;
    memset(&aNew[i], 0, sizeof(StoreTotal));
    aNs[i] = 0.0;
    aNew[i].zFn = sqlite3_mprintf("%s", e->zFn);
    if( aNew[i].zFn==0 ) return SQLITE_NOMEM;
    t->n++;
  }
  t->a[i].nEntries++;
  t->a[i].nBytes += e->nBytes;
  t->a[i].nStoredBytes += e->nStored;
  t->aComputeNs[i] += (double)e->computeNs;
  return SQLITE_OK;
}

int redisTotals(CachierStore *pStore, const char *zFn,
                StoreTotal **paTotal, int *pnTotal){
  Totals t;
  int rc, i;
  memset(&t, 0, sizeof(t));
  rc = forEachHead((RedisStore*)pStore, zFn, totalsEntry, &t);
  for(i=0; i<t.n; i++){
    t.a[i].avgComputeSeconds = t.aComputeNs[i]*1e-9/(double)t.a[i].nEntries;
  }
  sqlite3_free(t.aComputeNs);
  if( rc ){
    storeFreeTotals(t.a, t.n);
    t.a = 0;
    t.n = 0;
  }
  *paTotal = t.a;
  *pnTotal = t.n;
  return rc;
}

/* Entries collected for eviction or deletion. */
typedef struct Picked Picked;
struct Picked {
  EvictCandidate c;
  double created;
  double costPerByte;
};
typedef struct PickList PickList;
struct PickList {
  Picked *a;
  int n, nAlloc;
  int bNames;                 /* keep each entry's function name */
  double before;              /* only entries created before (or all) */
  double staleBefore;
};

static int pickEntry(const EntryHead *e, void *pArg){
  PickList *l = (PickList*)pArg;
  Picked *pP;
  if( e->created>=l->before ) return SQLITE_OK;
  if( l->n==l->nAlloc ){
    int nNew = l->nAlloc ? l->nAlloc*2 : 64;
    Picked *aNew = sqlite3_realloc64(l->a, nNew*sizeof(Picked));
    if( aNew==0 ) return SQLITE_NOMEM;
    l->a = aNew;
    l->nAlloc = nNew;
  }
  pP = &l->a[l->n];
  memset(pP, 0, sizeof(*pP));
  pP->c.id = e->id;
  pP->c.nStored = e->nStored;
  pP->c.bStale = e->created < l->staleBefore;
  pP->created = e->created;
  pP->costPerByte = (double)e->computeNs
                  / (double)(pP->c.nStored>1 ? pP->c.nStored : 1);
  pP->c.zFn = sqlite3_mprintf("%s", e->zFn);   /* (freed unless kept) */
  if( pP->c.zFn==0 ) return SQLITE_NOMEM;
  l->n++;
  return SQLITE_OK;
}

static void pickListFree(PickList *l){
  int i;
  for(i=0; i<l->n; i++) sqlite3_free(l->a[i].c.zFn);
  sqlite3_free(l->a);
  memset(l, 0, sizeof(*l));
}

static int cmpLru(const void *pA, const void *pB){
  const Picked *a = (const Picked*)pA, *b = (const Picked*)pB;
  if( a->c.bStale!=b->c.bStale ) return b->c.bStale - a->c.bStale;
  return a->created<b->created ? -1 : a->created>b->created;
}
static int cmpCost(const void *pA, const void *pB){
  const Picked *a = (const Picked*)pA, *b = (const Picked*)pB;
  if( a->c.bStale!=b->c.bStale ) return b->c.bStale - a->c.bStale;
  if( a->costPerByte!=b->costPerByte ) return a->costPerByte<b->costPerByte ? -1 : 1;
  return a->created<b->created ? -1 : a->created>b->created;
}

int redisEvictionCandidates(CachierStore *pStore, const char *zFn,
                            int ePolicy, double staleBefore, int nMax,
                            EvictCandidate **paCand, int *pnCand){
  PickList l;
  EvictCandidate *aCand;
  int rc, i, n;
  memset(&l, 0, sizeof(l));
  l.before = 1e300;
  l.staleBefore = staleBefore;
  *paCand = 0;
  *pnCand = 0;
  rc = forEachHead((RedisStore*)pStore, zFn, pickEntry, &l);
  if( rc ){
    pickListFree(&l);
    return rc;
  }
  if( l.n>1 ){
    qsort(l.a, l.n, sizeof(Picked), ePolicy==EVICT_COST ? cmpCost : cmpLru);
  }
  n = l.n<nMax ? l.n : nMax;
  aCand = sqlite3_malloc64(sizeof(EvictCandidate)*(n>0 ? n : 1));
  if( aCand==0 ){
    pickListFree(&l);
    return SQLITE_NOMEM;
  }
  for(i=0; i<n; i++){
    aCand[i] = l.a[i].c;
    if( zFn ){
      sqlite3_free(aCand[i].zFn);
      aCand[i].zFn = 0;
    }
    l.a[i].c.zFn = 0;
  }
  pickListFree(&l);
  *paCand = aCand;
  *pnCand = n;
  return SQLITE_OK;
}

int redisDeleteOlder(CachierStore *pStore, const char *zFn,
                     double before, sqlite3_int64 *pnDeleted){
  PickList l;
  int rc, i;
  memset(&l, 0, sizeof(l));
  l.before = before;
  l.staleBefore = -1e300;
  *pnDeleted = 0;
  rc = forEachHead((RedisStore*)pStore, zFn, pickEntry, &l);
  for(i=0; rc==SQLITE_OK && i<l.n; i++){
    rc = redisDelete(pStore, l.a[i].c.id);
    if( rc==SQLITE_OK ) (*pnDeleted)++;
  }
  pickListFree(&l);
  return rc;
}

/* Keys to delete, with the entries they hold. */
typedef struct ClearList ClearList;
struct ClearList {
  RedisKeyList keys;
  const char *zFn;            /* only this function's keys (NULL: all) */
};

/* Add pKey if it is of c's function (zFn, parsed from it: NULL if the
** key is not of the kind looked for). Takes zFn. */
static int clearAddOf(ClearList *c, const redisReply *pKey, char *zFn){
  int rc = SQLITE_OK;
  if( zFn && (c->zFn==0 || strcmp(zFn, c->zFn)==0) ){
    rc = redisKeyListAdd(&c->keys, pKey->str, pKey->len);
  }
  sqlite3_free(zFn);
  return rc;
}
static int clearKey(RedisStore *s, const redisReply *pKey, void *pArg){
  if( pKey->type!=REDIS_REPLY_STRING ) return SQLITE_OK;
  return clearAddOf((ClearList*)pArg, pKey,
                    redisFnOfBucketKey(s->config.zPrefix, pKey->str, pKey->len));
}
static int clearStateKey(RedisStore *s, const redisReply *pKey, void *pArg){
  char *zFn = 0;
  if( pKey->type==REDIS_REPLY_STRING ){
    zFn = redisFnOfFnKey(s->config.zPrefix, pKey->str, pKey->len, "refresh");
    if( zFn==0 ){
      zFn = redisFnOfFnKey(s->config.zPrefix, pKey->str, pKey->len,
                           "attempts");
    }
  }
  return clearAddOf((ClearList*)pArg, pKey, zFn);
}

/* Count the entries of buckets az[] and UNLINK every key in az[]. */
int redisUnlinkKeys(RedisStore *s, char **az, int n,
                    sqlite3_int64 *pnEntries){
  /* Per round trip: an HLEN of each of (up to) UNLINK's argument slots,
  ** then the UNLINK of them all. */
  enum { BATCH = REDIS_MAX_ARGS-1 };
  int i = 0, rc = SQLITE_OK;
  while( rc==SQLITE_OK && i<n ){
    RedisCmd aCmd[BATCH+1];
    redisReply *apReply[BATCH+1];
    int k = 0, j;
    RedisCmd *pUnlink;
    while( k<BATCH && i+k<n ){
      redisCmdInit(&aCmd[k]);
      redisCmdStr(&aCmd[k], "HLEN");
      redisCmdStr(&aCmd[k], az[i+k]);
      k++;
    }
    pUnlink = &aCmd[k];
    redisCmdInit(pUnlink);
    redisCmdStr(pUnlink, "UNLINK");
    for(j=0; j<k; j++) redisCmdStr(pUnlink, az[i+j]);
    i += k;
    rc = redisRoundTrip(&s->conn, k+1, aCmd, apReply);
    if( rc ) break;
    for(j=0; j<=k; j++){
      if( j<k && pnEntries && apReply[j]->type==REDIS_REPLY_INTEGER ){
        *pnEntries += apReply[j]->integer;
      }
      freeReplyObject(apReply[j]);
    }
  }
  return rc;
}

int redisClear(CachierStore *pStore, const char *zFn,
               sqlite3_int64 *pnDeleted){
  RedisStore *s = (RedisStore*)pStore;
  const char *zPrefix = s->config.zPrefix;
  ClearList buckets, state;
  char *zMatch = redisBucketPattern(zPrefix, zFn);
  char *zStateMatch = zFn ? redisFnPattern(zPrefix, zFn, "*")
                          : redisPrefixPattern(zPrefix, "*");
  int rc;
  memset(&buckets, 0, sizeof(buckets));
  memset(&state, 0, sizeof(state));
  buckets.zFn = state.zFn = zFn;
  *pnDeleted = 0;
  hotClear(pStore);
  rc = zMatch && zStateMatch
     ? redisScanKeys(s, zMatch, "hash", clearKey, &buckets) : SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = redisScanKeys(s, zStateMatch, 0, clearStateKey, &state);
  }
  if( rc==SQLITE_OK ){
    rc = redisUnlinkKeys(s, buckets.keys.az, buckets.keys.n, pnDeleted);
  }
  if( rc==SQLITE_OK ){
    rc = redisUnlinkKeys(s, state.keys.az, state.keys.n, 0);
  }
  redisKeyListFree(&buckets.keys);
  redisKeyListFree(&state.keys);
  sqlite3_free(zMatch);
  sqlite3_free(zStateMatch);
  return rc;
}
