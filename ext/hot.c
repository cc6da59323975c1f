/*
** hot.c - the hot tier: repeated hits served from memory.
**
** SQL surface: the hot_bytes setting of the '*' row of cachier_functions
** (bytes per store and connection, default 4 MB; 0 turns it off). Its
** hits count as hits in cachier_stats; cachier_debug() shows how many
** each store's tier served.
**
** A connection keeps the values of its latest hits on a store in a hash
** table in front of the store's B-tree: a repeated hit is a hash lookup
** and a copy, with no SQL. A value enters at its first lookup while the
** tier has room, else at its second in a short while (so a scan that
** reads each key once does not churn a full tier), as it is stored
** (compressed values are decoded when served, as from the store); when
** the tier is full, values not hit since they last reached the end of
** the recency list go first (second chance: a hit sets a bit in its
** entry instead of moving it in the list, so it writes no other entry).
** Plain hits (no
** staleness, no eviction bound, no hash_func) take memoize's fast path,
** hotServeArgs(), which needs only the encoded arguments: the tier hashes
** a key as its function's id range and its arguments.
**
** The tier never serves a value that the store no longer holds or that
** has been replaced, by this connection, another one or another process:
**   - Every value in the tier is valid for one version of the store,
**     taken from the WAL index header that SQLite keeps in shared memory
**     (the -shm file, mapped by every process that has the database open):
**     any commit, by anyone, changes it. A hit compares the header's
**     first copy with the tier's version, six words (the store's
**     xVersionIs()); the first call of each statement reads it whole,
**     where a header being rewritten (its two copies differ) counts as a
**     change. When the version is not the tier's, the tier is emptied.
**   - Values enter the tier only from a lookup whose snapshot is known to
**     be that version (the store's xMayFill(): a new snapshot, or one
**     begun at a version nobody has committed past since), never from a
**     transaction that could roll back. A statement that reads a table of
**     main itself begins its snapshot before cachier is called: the end of
**     the connection's previous statement noted the version then (the
**     store's xNoteStatementEnd()), so its lookups fill the tier while
**     nobody has committed since.
**   - This connection's own writes through cachier drop what they change.
** So the tier fronts stores in WAL mode: "file:" stores always, "main"
** when it is in WAL mode; the memory store needs none.
*/
#include "store.h"
#include <string.h>

typedef struct HotEntry HotEntry;
struct HotEntry {
  /* What a hit reads, first. */
  HotEntry *pChain;           /* next in the hash bucket */
  uint64_t h;                 /* hotHash() of its key */
  unsigned char *aKey;        /* the key (follows the struct) */
  sqlite3_int64 nKey;
  int nFn;                    /* its function name's length (in aKey) */
  int eType;                  /* sqlite3_value_type(pValue) */
  unsigned char *aShared;     /* raw text or blob: its bytes, shared with
                              ** the results served */
  sqlite3_int64 nShared;      /* their count */
  int codec;                  /* how it is stored: decoded when served */
  int bHit;                   /* hit since it last reached the list's end */
  sqlite3_value *pValue;      /* the value as stored (codec) */
  HotEntry *pPrev, *pNext;    /* the recency list (newest first) */
  sqlite3_int64 iBase;        /* the key's slot range: its hash */
  sqlite3_int64 nBytes;       /* its logical size */
  int subtype;
  int flags;                  /* CACHIER_LOOKUP_* fields that are set */
  double created;
  sqlite3_int64 id;
  int refresh;
  unsigned char *aStamp;      /* its stamp (follows the key), NULL: none */
  int nStamp;
  sqlite3_int64 nCost;        /* bytes it takes */
};

/* Admission to a full tier: a value enters at its second lookup in a
** short while (a scan that touches every key once would otherwise churn
** the tier with values never hit again, paying the copies for nothing). */
#define HOT_SEEN 4096

struct HotTier {
  uint32_t aSeen[HOT_SEEN];   /* hashes of keys looked up once lately */
  HotEntry **aHash;
  int nHash;                  /* a power of two */
  int nEntry;
  HotEntry lru;               /* sentinel of the recency list */
  sqlite3_int64 nBytes, maxBytes;
  unsigned char aVer[STORE_VERSION_BYTES];
  int bVer;                   /* aVer is the version the values are of */
  sqlite3_int64 nHit;
};

#define HOT_ENTRY_OVERHEAD 96

/* The bytes of a raw text or blob value, in a reference-counted block:
** every result served from them holds a reference (released by SQLite
** through cachierSharedRelease()), and so does the entry. A hit then hands
** SQLite the value without copying it; the bytes never change.
** The count is a plain integer, not an atomic one: a block belongs to one
** connection (its hot tier or a statement's memo), and SQLite takes and
** drops every reference (results in that connection's registers) inside
** a call on that connection, under its mutex where it has one, so two
** threads never count at once (a locked increment and decrement cost as
** much as the rest of a memo hit). */
#define SHARED_HEADER CACHIER_SHARED_HEADER
unsigned char *cachierSharedNew(const void *a, sqlite3_int64 n){
  unsigned char *pBlock = sqlite3_malloc64(SHARED_HEADER + n + 1);
  if( pBlock==0 ) return 0;
  *(sqlite3_int64*)pBlock = 1;
  if( n>0 ) memcpy(pBlock + SHARED_HEADER, a, (size_t)n);
  pBlock[SHARED_HEADER + n] = 0;       /* text is NUL-terminated */
  return pBlock + SHARED_HEADER;
}
void cachierSharedRelease(void *p){
  unsigned char *pBlock = (unsigned char*)p - SHARED_HEADER;
  if( --*(sqlite3_int64*)pBlock==0 ) sqlite3_free(pBlock);
}

/* The tier's own hash of a key: the function's id range and the encoded
** arguments, so that its fast path (hotServeArgs()) need not build the
** whole key, and takes the hash the call made of its arguments. */
static uint64_t hotHash(sqlite3_int64 iFnBase, const unsigned char *a,
                        sqlite3_int64 n){
  return keyArgsHashFn(keyArgsHash(0, a, n), iFnBase);
}

/* The first id of the function's range, from the key's (keyFnRange()). */
#define FN_BASE(iBase) CACHIER_ID_FN_BASE(iBase)

/* hotHash() of a whole key (name, NUL, arguments). */
static uint64_t hotKeyHash(const CachierKey *pKey){
  return hotHash(FN_BASE(pKey->iBase), pKey->aKey + pKey->nFn + 1,
                 pKey->nKey - pKey->nFn - 1);
}

/* Take e out of the recency list. */
static void lruUnlink(HotEntry *e){
  e->pPrev->pNext = e->pNext;
  e->pNext->pPrev = e->pPrev;
}

static void entryUnlink(HotTier *h, HotEntry *e){
  HotEntry **pp = &h->aHash[e->h & (uint64_t)(h->nHash-1)];
  while( *pp!=e ) pp = &(*pp)->pChain;
  *pp = e->pChain;
  lruUnlink(e);
  h->nBytes -= e->nCost;
  h->nEntry--;
  if( e->aShared ) cachierSharedRelease(e->aShared);
  sqlite3_value_free(e->pValue);
  sqlite3_free(e);
}

/* Drop every value. */
static void hotEmpty(HotTier *h){
  while( h->lru.pNext!=&h->lru ) entryUnlink(h, h->lru.pNext);
}

/* The tier of pStore for a connection whose hot_bytes is maxBytes: made on
** first use; NULL when off or when the store cannot tell its version. */
HotTier *hotFor(CachierStore *pStore, sqlite3_int64 maxBytes){
  HotTier *h = pStore->pHot;
  if( h ){
    if( maxBytes<=0 ){
      hotFree(pStore);
      return 0;
    }
    h->maxBytes = maxBytes;
    return h;
  }
  if( maxBytes<=0 || !storeKeepsVersions(pStore) ) return 0;
  h = sqlite3_malloc(sizeof(*h));
  if( h==0 ) return 0;
  memset(h, 0, sizeof(*h));
  h->nHash = 256;
  h->aHash = sqlite3_malloc64(sizeof(HotEntry*)*h->nHash);
  if( h->aHash==0 ){
    sqlite3_free(h);
    return 0;
  }
  memset(h->aHash, 0, sizeof(HotEntry*)*h->nHash);
  h->lru.pNext = h->lru.pPrev = &h->lru;
  h->maxBytes = maxBytes;
  pStore->pHot = h;
  return h;
}

/* Free pStore's tier (the store closes, or hot_bytes is 0 now). */
void hotFree(CachierStore *pStore){
  HotTier *h = pStore->pHot;
  if( h ){
    hotEmpty(h);
    sqlite3_free(h->aHash);
    sqlite3_free(h);
    pStore->pHot = 0;
  }
}

/* Bring the tier to the store's current version: empty it if that is
** not the one its values are of. Returns 1 if the version is known. */
static CACHIER_HOT_INLINE int hotSync(HotTier *h, CachierStore *pStore,
                                      int bRecheck){
  unsigned char aVer[STORE_VERSION_BYTES];
  if( h->bVer && !bRecheck && storeVersionIs(pStore, h->aVer) && h->bVer ){
    return 1;                 /* (a store may clear the tier as it looks) */
  }
  if( !storeVersion(pStore, aVer, bRecheck) ){
    if( h->nEntry ) hotEmpty(h);
    h->bVer = 0;
    return 0;
  }
  if( !h->bVer || memcmp(aVer, h->aVer, STORE_VERSION_BYTES)!=0 ){
    if( h->nEntry ) hotEmpty(h);
    memcpy(h->aVer, aVer, STORE_VERSION_BYTES);
    h->bVer = 1;
  }
  return 1;
}

/* Put e first in the recency list (it is in no list). */
static void lruPushFront(HotTier *h, HotEntry *e){
  e->pNext = h->lru.pNext;
  e->pPrev = &h->lru;
  h->lru.pNext->pPrev = e;
  h->lru.pNext = e;
}

/* A hit of e: it gets a second chance at the list's end. */
static CACHIER_HOT_INLINE void entryHit(HotTier *h, HotEntry *e){
  e->bHit = 1;
  h->nHit++;
}

/* A hit: entryHit(), and fill *pEntry from e. */
static CACHIER_HOT_INLINE void entryServe(HotTier *h, HotEntry *e,
                                          CachierEntry *pEntry){
  entryHit(h, e);
  pEntry->pValue = e->pValue;
  pEntry->subtype = e->subtype;
  pEntry->codec = e->codec;
  pEntry->nBytes = e->nBytes;
  pEntry->created = e->created;
  pEntry->id = e->id;
  pEntry->refresh = e->refresh;
  pEntry->aStamp = e->aStamp;
  pEntry->nStamp = e->nStamp;
}

/* The entry of the key made of the function's name (zFn, nFn bytes) and
** its encoded arguments (aArgs, nArgs bytes), whose hotHash() is hk, or
** NULL. */
static CACHIER_HOT_INLINE HotEntry *entryFind(
  HotTier *h, const char *zFn, int nFn,
  const unsigned char *aArgs, sqlite3_int64 nArgs, uint64_t hk
){
  HotEntry *e;
  for(e=h->aHash[hk & (uint64_t)(h->nHash-1)]; e; e=e->pChain){
    if( e->h==hk && e->nFn==nFn && e->nKey==nFn+1+nArgs
     && keyBytesEq(e->aKey+nFn+1, aArgs, nArgs)
     && keyBytesEq(e->aKey, (const unsigned char*)zFn, nFn) ){
      return e;
    }
  }
  return 0;
}

/* entryFind() of a whole key. */
static HotEntry *entryFindKey(HotTier *h, const CachierKey *pKey){
  return entryFind(h, pKey->zFn, pKey->nFn, pKey->aKey + pKey->nFn + 1,
                   pKey->nKey - pKey->nFn - 1, hotKeyHash(pKey));
}

/* Find pKey in the tier, once it is brought to the store's version
** (bRecheck: as storeVersion() takes it). 1 with *pEntry filled (the
** fields of flags, as storeLookup() fills them; no storeLookupDone()
** follows) if the tier holds it with those fields; else 0. */
int hotLookup(HotTier *h, CachierStore *pStore, const CachierKey *pKey,
              int flags, CachierEntry *pEntry, int bRecheck){
  HotEntry *e;
  if( !hotSync(h, pStore, bRecheck) || h->nEntry==0 ) return 0;
  e = entryFindKey(h, pKey);
  if( e==0 || (e->flags & flags)!=flags ) return 0;
  entryServe(h, e, pEntry);
  return 1;
}

/* Serve hot entry e as the result of ctx: raw text and blobs without a
** copy (a reference to the shared bytes), the rest as a copy, compressed
** values decoded. SQLITE_OK, or why not (ctx then left alone). */
static CACHIER_HOT_INLINE int entryResult(sqlite3_context *ctx,
                                          CachierStore *pStore,
                                          HotEntry *e,
                                          CachierEntry *pEntry){
  if( e->aShared ){
    cachierSharedRef(e->aShared);
    if( e->eType==SQLITE_TEXT ){
      sqlite3_result_text64(ctx, (const char*)e->aShared,
                            (sqlite3_uint64)e->nShared,
                            cachierSharedRelease, SQLITE_UTF8);
    }else{
      sqlite3_result_blob64(ctx, e->aShared, (sqlite3_uint64)e->nShared,
                            cachierSharedRelease);
    }
    if( e->subtype ) sqlite3_result_subtype(ctx, (unsigned int)e->subtype);
    return SQLITE_OK;
  }
  return valueResult(pStore, ctx, pEntry);
}

/* memoize()'s fast path: serve the entry of the key given as its
** function's (pProbe) and its encoded arguments (hArgs: their
** keyArgsHash(0, )) as the result of ctx. 1 if served (*pServed, if not
** NULL, then gives the entry's pValue, subtype and codec; pValue stays
** valid until the tier changes); 0 if not (no such entry, a NULL value
** and !bAllowNone, a value that does not decode, an entry xFresh finds
** not fresh by its stamps): the caller does the whole call. */
int hotServeArgs(HotTier *h, CachierStore *pStore, sqlite3_context *ctx,
                 const HotProbe *pProbe,
                 const unsigned char *aArgs, sqlite3_int64 nArgs,
                 uint64_t hArgs, int bRecheck, CachierEntry *pServed){
  HotEntry *e;
  CachierEntry entry;
  /* (A recheck asked for is made even when the tier is empty: the caller
  ** counts on it for the rest of its statement.) */
  if( (h->nEntry==0 && !bRecheck) || !hotSync(h, pStore, bRecheck)
   || h->nEntry==0 ){
    return 0;
  }
  e = entryFind(h, pProbe->zFn, pProbe->nFn, aArgs, nArgs,
                keyArgsHashFn(hArgs, pProbe->iFnBase));
  if( e==0 || (!pProbe->bAllowNone && e->eType==SQLITE_NULL) ){
    return 0;
  }
  if( pProbe->xFresh ){
    entry.aStamp = e->aStamp;
    entry.nStamp = e->nStamp;
    if( (e->flags & CACHIER_LOOKUP_STAMP)==0
     || !pProbe->xFresh(pProbe->pFreshArg, &entry) ){
      return 0;
    }
  }
  if( e->aShared ){
    entryHit(h, e);           /* (entryResult() does not read the entry) */
  }else{
    entryServe(h, e, &entry);
  }
  if( entryResult(ctx, pStore, e, &entry)!=SQLITE_OK ) return 0;
  if( pServed ){
    pServed->pValue = e->pValue;
    pServed->subtype = e->subtype;
    pServed->codec = e->codec;
  }
  return 1;
}

/* Before a store lookup that may fill the tier: sync the version (so the
** value found is at least as new as it). 1 if a fill may follow. */
int hotBeforeLookup(HotTier *h, CachierStore *pStore, int bRecheck){
  return hotSync(h, pStore, bRecheck);
}

/* The version the tier's values are of (after hotBeforeLookup()). */
const unsigned char *hotVersion(HotTier *h){
  return h->aVer;
}

/* Keep the entry a store lookup just found (fields of flags are set) for
** the next hits. pEntry->pValue may be compressed (codec). */
void hotInsert(HotTier *h, CachierStore *pStore, const CachierKey *pKey,
               int flags, const CachierEntry *pEntry){
  HotEntry *e;
  sqlite3_value *pValue = 0;
  sqlite3_int64 nCost;
  int iHash, nStamp;
  /* While there is room, every value enters; a full tier admits a value
  ** at its second lookup only. (Room is judged by the cost the entry will
  ** have, below: judged by less, a full tier would take, and evict for,
  ** every value a scan of distinct keys offers.) */
  if( h->nBytes + HOT_ENTRY_OVERHEAD + pKey->nKey
                + (pEntry->codec ? sqlite3_value_bytes(pEntry->pValue)
                                 : 2*cachierValueBytes(pEntry->pValue))
      > h->maxBytes ){
    uint32_t tag = (uint32_t)((uint64_t)pKey->iBase>>8) | 1;
    uint32_t *pSeen = &h->aSeen[(tag>>1) % HOT_SEEN];
    if( *pSeen!=tag ){
      *pSeen = tag;
      return;
    }
  }
  /* Kept as stored: a compressed value is decoded when served, as from
  ** the store (the tier saves the B-tree, not zstd). */
  pValue = sqlite3_value_dup(pEntry->pValue);
  if( pValue==0 ) return;
  /* (A raw text or blob is kept twice: as a value and as shared bytes.) */
  nCost = HOT_ENTRY_OVERHEAD + pKey->nKey + pEntry->nStamp
        + (pEntry->codec ? sqlite3_value_bytes(pValue)
                         : 2*cachierValueBytes(pValue));
  if( nCost>h->maxBytes/4 ){
    sqlite3_value_free(pValue);         /* too big to be worth it */
    return;
  }
  hotForget(pStore, pKey);
  while( h->nBytes + nCost > h->maxBytes && h->lru.pPrev!=&h->lru ){
    HotEntry *pOld = h->lru.pPrev;
    if( pOld->bHit ){
      /* Hit since it was last here: back to the front, unmarked. */
      pOld->bHit = 0;
      lruUnlink(pOld);
      lruPushFront(h, pOld);
      continue;
    }
    entryUnlink(h, pOld);
  }
  nStamp = (flags & CACHIER_LOOKUP_STAMP) && pEntry->aStamp
         ? pEntry->nStamp : 0;
  e = sqlite3_malloc64(sizeof(*e) + pKey->nKey + nStamp);
  if( e==0 ){
    sqlite3_value_free(pValue);
    return;
  }
  memset(e, 0, sizeof(*e));
  e->aKey = (unsigned char*)&e[1];
  memcpy(e->aKey, pKey->aKey, (size_t)pKey->nKey);
  if( nStamp ){
    e->aStamp = e->aKey + pKey->nKey;
    memcpy(e->aStamp, pEntry->aStamp, (size_t)nStamp);
    e->nStamp = nStamp;
  }
  e->nKey = pKey->nKey;
  e->nFn = pKey->nFn;
  e->iBase = pKey->iBase;
  e->h = hotKeyHash(pKey);
  e->pValue = pValue;
  if( pEntry->codec==0 && (sqlite3_value_type(pValue)==SQLITE_TEXT
                           || sqlite3_value_type(pValue)==SQLITE_BLOB) ){
    int bText = sqlite3_value_type(pValue)==SQLITE_TEXT;
    const void *a = bText ? (const void*)sqlite3_value_text(pValue)
                          : sqlite3_value_blob(pValue);
    e->nShared = sqlite3_value_bytes(pValue);
    e->aShared = cachierSharedNew(a, e->nShared);
    /* (Without it the value is served as a copy.) */
  }
  e->eType = sqlite3_value_type(pValue);
  e->codec = pEntry->codec;
  e->nBytes = pEntry->codec ? pEntry->nBytes : cachierValueBytes(pValue);
  e->subtype = pEntry->subtype;
  e->flags = flags;
  e->created = (flags & CACHIER_LOOKUP_CREATED) ? pEntry->created : 0.0;
  e->id = (flags & CACHIER_LOOKUP_REFRESH) ? pEntry->id : 0;
  e->refresh = (flags & CACHIER_LOOKUP_REFRESH) ? pEntry->refresh : 0;
  e->nCost = nCost;
  /* Grow the table past 1 entry a bucket (a hit then mostly reads one). */
  if( h->nEntry >= h->nHash ){
    int nNew = h->nHash*2, i;
    HotEntry **aNew = sqlite3_malloc64(sizeof(HotEntry*)*nNew);
    if( aNew ){
      memset(aNew, 0, sizeof(HotEntry*)*nNew);
      for(i=0; i<h->nHash; i++){
        HotEntry *p = h->aHash[i];
        while( p ){
          HotEntry *pNext = p->pChain;
          int j = (int)(p->h & (uint64_t)(nNew-1));
          p->pChain = aNew[j];
          aNew[j] = p;
          p = pNext;
        }
      }
      sqlite3_free(h->aHash);
      h->aHash = aNew;
      h->nHash = nNew;
    }
  }
  iHash = (int)(e->h & (uint64_t)(h->nHash-1));
  e->pChain = h->aHash[iHash];
  h->aHash[iHash] = e;
  lruPushFront(h, e);
  h->nBytes += nCost;
  h->nEntry++;
}

/* This connection changed pKey's entry: drop it from the tier. */
void hotForget(CachierStore *pStore, const CachierKey *pKey){
  HotTier *h = pStore->pHot;
  HotEntry *e;
  if( h==0 || h->nEntry==0 ) return;
  if( (e = entryFindKey(h, pKey))!=0 ) entryUnlink(h, e);
}

/* Another client changed the entries whose key hash is iBase (a store
** that hears of changes key by key, store_redis.c): drop them. */
void hotForgetBase(CachierStore *pStore, sqlite3_int64 iBase){
  HotTier *h = pStore->pHot;
  HotEntry *e, *pNext;
  if( h==0 || h->nEntry==0 ) return;
  for(e=h->lru.pNext; e!=&h->lru; e=pNext){
    pNext = e->pNext;
    if( e->iBase==iBase ) entryUnlink(h, e);
  }
}

/* This connection changed entries in other ways (deleted, cleared,
** marked): drop everything. */
void hotClear(CachierStore *pStore){
  if( pStore->pHot ){
    hotEmpty(pStore->pHot);
    pStore->pHot->bVer = 0;
  }
}

/* Hits served by the tier of pStore (cachier_debug()). */
sqlite3_int64 hotHits(CachierStore *pStore){
  return pStore->pHot ? pStore->pHot->nHit : 0;
}
