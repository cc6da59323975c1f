/*
** value_codec.c - the value codec: zstd compression of stored values, and
** trained dictionaries.
**
** SQL surface:
**   cachier_train(FN)
**       Trains a zstd dictionary on a sample of FN's stored text and blob
**       values (up to 10,000 values, 8 MB), stores it in the cache
**       (cachier_dict), and returns its id. FN's later values are
**       compressed with it; values written with an older dictionary, or
**       none, stay readable. An error if FN has too few values to train
**       on.
**
** A TEXT or BLOB value of at least compress_min bytes (per function,
** default 512, 'none': never) is stored as a zstd frame at compress_level
** (default 3) when that makes it smaller; with a trained dictionary, any
** such value of at least DICT_MIN_BYTES is tried. Everything else is
** stored as it is. How a value is stored (its codec) rides in the high
** bits of the store's subtype column, which every hit reads anyway (a
** compressed value's logical size is read only for it):
** (the packing is defined in cachier.h, "persistent formats"), with kind
** CACHIER_KIND_TEXT or CACHIER_KIND_BLOB for a compressed value. Reading is
** checked: the frame must be whole, name its size, decompress to exactly
** the logical size recorded with it, and stay within SQLITE_LIMIT_LENGTH;
** anything else is a corrupted value, which the caller treats as a miss.
*/
#include "store.h"
#include <string.h>
#include <zdict.h>
#include <zstd.h>

#define DICT_MIN_BYTES   32         /* with a dictionary, try from here */
#define DICT_CAPACITY    (16*1024)  /* size of a trained dictionary */
#define TRAIN_MAX_VALUES 10000
#define TRAIN_MAX_BYTES  (8*1024*1024)
#define DICT_MAX_ID      (1<<CACHIER_CODEC_DICT_B) /* ids fit the codec's bits */

#define CODEC_KIND(c)    CACHIER_CODEC_KIND(c)
#define CODEC_DICT(c)    CACHIER_CODEC_DICT(c)
#define KIND_TEXT        CACHIER_KIND_TEXT
#define KIND_BLOB        CACHIER_KIND_BLOB

/* A dictionary this connection has loaded. */
typedef struct Dict Dict;
struct Dict {
  Dict *pNext;
  CachierStore *pStore;       /* the store it belongs to (ids are per store) */
  sqlite3_int64 id;
  unsigned zstdId;            /* the dictionary's own id (in its header) */
  ZSTD_DDict *pDDict;
  ZSTD_CDict *pCDict;         /* made on first compression, at cLevel */
  int cLevel;
  void *pBuf;                 /* the dictionary's bytes */
  size_t nBuf;
};

struct ZstdState {
  ZSTD_CCtx *pCCtx;
  ZSTD_DCtx *pDCtx;
  Dict *pDict;
};

static void dictFree(Dict *d){
  ZSTD_freeDDict(d->pDDict);
  ZSTD_freeCDict(d->pCDict);
  sqlite3_free(d->pBuf);
  sqlite3_free(d);
}

static ZstdState *zstdState(Cachier *p){
  if( p->pZstd==0 ){
    p->pZstd = sqlite3_malloc(sizeof(ZstdState));
    if( p->pZstd ) memset(p->pZstd, 0, sizeof(ZstdState));
  }
  return p->pZstd;
}

void compressFreeAll(Cachier *p){
  ZstdState *z = p->pZstd;
  if( z==0 ) return;
  ZSTD_freeCCtx(z->pCCtx);
  ZSTD_freeDCtx(z->pDCtx);
  while( z->pDict ){
    Dict *d = z->pDict;
    z->pDict = d->pNext;
    dictFree(d);
  }
  sqlite3_free(z);
  p->pZstd = 0;
}

/* Dictionary iId of pStore, loaded on first use, whose own (zstd) id is
** zstdId. NULL if it does not exist, cannot be loaded, is another
** dictionary than expected, or its id (from a store, so anything) does
** not fit the codec's CACHIER_CODEC_DICT_B bits. A cached one with another zstd id is out of
** date (the store was dropped, or a training rolled back, and the id
** reused), so it is loaded again. */
static Dict *dictGet(CachierStore *pStore, sqlite3_int64 iId,
                     unsigned zstdId){
  ZstdState *z = zstdState(pStore->pCachier);
  Dict *d, **pp;
  void *pBuf = 0;
  sqlite3_int64 nBuf = 0;
  if( z==0 || iId<=0 || iId>=DICT_MAX_ID ) return 0;
  for(pp=&z->pDict; (d = *pp)!=0; pp=&d->pNext){
    if( d->id==iId && d->pStore==pStore ){
      if( d->zstdId==zstdId ) return d;
      *pp = d->pNext;
      dictFree(d);
      break;
    }
  }
  if( storeDictLoad(pStore, iId, &pBuf, &nBuf)!=SQLITE_OK
   || pBuf==0 ){
    return 0;
  }
  d = sqlite3_malloc(sizeof(*d));
  if( d==0 ){
    sqlite3_free(pBuf);
    return 0;
  }
  memset(d, 0, sizeof(*d));
  d->pStore = pStore;
  d->id = iId;
  d->pBuf = pBuf;
  d->nBuf = (size_t)nBuf;
  d->pDDict = ZSTD_createDDict(d->pBuf, d->nBuf);
  if( d->pDDict ) d->zstdId = ZSTD_getDictID_fromDDict(d->pDDict);
  if( d->pDDict==0 || d->zstdId!=zstdId ){
    dictFree(d);
    return 0;
  }
  d->pNext = z->pDict;
  z->pDict = d;
  return d;
}

/* A value in its stored form: codec 0 means "as it is" (a is NULL). */
typedef struct StoredValue StoredValue;
struct StoredValue {
  int codec;
  unsigned char *a;
  sqlite3_int64 n;
};

static void storedValueFree(StoredValue *v){
  sqlite3_free(v->a);
  memset(v, 0, sizeof(*v));
}

/* The most bytes a stored value may decode to (and the biggest value
** that is compressed): 64 MiB, or SQLITE_LIMIT_LENGTH if smaller. Without
** it a small damaged or hostile row (a 28 KB frame says 256 MB) would make
** every lookup allocate that much; bigger values are stored raw. */
#define DECODE_MAX ((sqlite3_int64)64 << 20)

/* Encode pValue for storage under settings s: compressed into *pOut when
** that pays, else *pOut is left with codec 0 (store the value as it is).
** Never fails the write: a value that cannot be compressed is stored
** raw. */
static void valueEncode(Cachier *p, CachierStore *pStore, const FnSettings *s,
                        sqlite3_value *pValue, StoredValue *pOut){
  int eType = sqlite3_value_type(pValue);
  sqlite3_int64 n;
  const void *pIn;
  ZstdState *z;
  Dict *d = 0;
  size_t nCap, nOut;
  memset(pOut, 0, sizeof(*pOut));
  if( eType!=SQLITE_TEXT && eType!=SQLITE_BLOB ) return;
  if( s->compressMin<0 ) return;
  /* The bytes first, then their size (the order SQLite asks for). */
  pIn = eType==SQLITE_TEXT ? (const void*)sqlite3_value_text(pValue)
                           : sqlite3_value_blob(pValue);
  n = sqlite3_value_bytes(pValue);
  if( s->dictId>0 && n>=DICT_MIN_BYTES ){
    d = dictGet(pStore, s->dictId, s->dictZstdId);
  }
  if( d==0 && n<s->compressMin ) return;
  if( n<=0 || n>DECODE_MAX ) return;
  z = zstdState(p);
  if( pIn==0 || z==0 ) return;
  if( z->pCCtx==0 && (z->pCCtx = ZSTD_createCCtx())==0 ) return;
  nCap = ZSTD_compressBound((size_t)n);
  pOut->a = sqlite3_malloc64(nCap);
  if( pOut->a==0 ) return;
  /* Frames carry their content size and a checksum, so reading can
  ** check both. */
  ZSTD_CCtx_reset(z->pCCtx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(z->pCCtx, ZSTD_c_checksumFlag, 1);
  if( d ){
    if( d->pCDict==0 || d->cLevel!=s->compressLevel ){
      ZSTD_freeCDict(d->pCDict);
      d->cLevel = s->compressLevel;
      d->pCDict = ZSTD_createCDict(d->pBuf, d->nBuf, d->cLevel);
    }
    if( d->pCDict ) ZSTD_CCtx_refCDict(z->pCCtx, d->pCDict);
    else d = 0;
  }
  if( d==0 ){
    ZSTD_CCtx_setParameter(z->pCCtx, ZSTD_c_compressionLevel,
                           s->compressLevel);
  }
  nOut = ZSTD_compress2(z->pCCtx, pOut->a, nCap, pIn, (size_t)n);
  if( ZSTD_isError(nOut) || (sqlite3_int64)nOut>=n ){
    storedValueFree(pOut);    /* does not pay: store it raw */
    return;
  }
  pOut->n = (sqlite3_int64)nOut;
  pOut->codec = CACHIER_CODEC(eType==SQLITE_TEXT ? KIND_TEXT : KIND_BLOB,
                              (int)(d ? d->id : 0));
}

/* The version of the zstd library in use, for cachier_debug(). */
const char *compressVersion(void){
  return ZSTD_versionString();
}

/* The type of the values a codec holds. */
int codecValueType(int codec){
  return CODEC_KIND(codec)==KIND_TEXT ? SQLITE_TEXT : SQLITE_BLOB;
}

/* Parse a compress_level: an integer zstd accepts. */
int compressLevelCheck(sqlite3_value *pVal, int *pLevel, char **pzWhy){
  sqlite3_int64 v = sqlite3_value_int64(pVal);
  if( sqlite3_value_type(pVal)!=SQLITE_INTEGER
   || v<ZSTD_minCLevel() || v>ZSTD_maxCLevel() ){
    *pzWhy = sqlite3_mprintf("must be an integer from %d to %d",
                             ZSTD_minCLevel(), ZSTD_maxCLevel());
    return SQLITE_ERROR;
  }
  *pLevel = (int)v;
  return SQLITE_OK;
}

/* Decode a stored value: pStored holds a frame of codec `codec` whose
** logical size is nLogical. On success *pOut owns the bytes. Returns
** SQLITE_CORRUPT for anything that is not exactly right, SQLITE_TOOBIG
** past DECODE_MAX or SQLITE_LIMIT_LENGTH, SQLITE_NOMEM. */
int valueDecode(CachierStore *pStore, int codec, sqlite3_value *pStored,
                sqlite3_int64 nLogical, DecodedValue *pOut){
  Cachier *p = pStore->pCachier;
  const void *pIn = sqlite3_value_blob(pStored);
  int nIn = sqlite3_value_bytes(pStored);
  int kind = CODEC_KIND(codec);
  sqlite3_int64 iDict = CODEC_DICT(codec);
  unsigned long long nFrame;
  ZstdState *z;
  Dict *d = 0;
  size_t nOut;
  memset(pOut, 0, sizeof(*pOut));
  if( (kind!=KIND_TEXT && kind!=KIND_BLOB)
   || sqlite3_value_type(pStored)!=SQLITE_BLOB || pIn==0 || nIn<=0 ){
    return SQLITE_CORRUPT;
  }
  nFrame = ZSTD_getFrameContentSize(pIn, (size_t)nIn);
  if( nFrame==ZSTD_CONTENTSIZE_UNKNOWN || nFrame==ZSTD_CONTENTSIZE_ERROR
   || nFrame!=(unsigned long long)nLogical ){
    return SQLITE_CORRUPT;
  }
  if( nFrame > (unsigned long long)sqlite3_limit(p->db, SQLITE_LIMIT_LENGTH,
                                                 -1)
   || nFrame > (unsigned long long)DECODE_MAX ){
    return SQLITE_TOOBIG;
  }
  if( ZSTD_findFrameCompressedSize(pIn, (size_t)nIn)!=(size_t)nIn ){
    return SQLITE_CORRUPT;    /* truncated, or bytes after the frame */
  }
  if( iDict ){
    d = dictGet(pStore, iDict, ZSTD_getDictID_fromFrame(pIn, (size_t)nIn));
    if( d==0 ) return SQLITE_CORRUPT;
  }
  z = zstdState(p);
  if( z==0 ) return SQLITE_NOMEM;
  if( z->pDCtx==0 && (z->pDCtx = ZSTD_createDCtx())==0 ) return SQLITE_NOMEM;
  pOut->a = sqlite3_malloc64(nFrame ? nFrame : 1);
  if( pOut->a==0 ) return SQLITE_NOMEM;
  nOut = d ? ZSTD_decompress_usingDDict(z->pDCtx, pOut->a, (size_t)nFrame,
                                        pIn, (size_t)nIn, d->pDDict)
           : ZSTD_decompressDCtx(z->pDCtx, pOut->a, (size_t)nFrame,
                                 pIn, (size_t)nIn);
  if( ZSTD_isError(nOut) || nOut!=(size_t)nFrame ){
    decodedValueFree(pOut);
    return SQLITE_CORRUPT;
  }
  pOut->n = (sqlite3_int64)nFrame;
  pOut->eType = kind==KIND_TEXT ? SQLITE_TEXT : SQLITE_BLOB;
  return SQLITE_OK;
}

/* How long after it is stored an entry of a function with settings s can
** still be served, by the function's own rules (stale_after, then the
** longer of stale_while_refresh and stale_if_error); 0: for ever. */
static double servableSeconds(const FnSettings *s){
  static const CallOptions noOptions;
  CallRules r;
  double window;
  callRules(s, &noOptions, &r);
  if( r.staleAfter>=CACHIER_NEVER ) return 0.0;
  window = r.staleWhileRefresh>r.staleIfError ? r.staleWhileRefresh
                                              : r.staleIfError;
  if( window>=CACHIER_NEVER ) return 0.0;
  return r.staleAfter + window > 0.001 ? r.staleAfter + window : 0.001;
}

/* Store pValue for pKey in pStore, compressed as settings s say, with
** computeNs, (hash_func keys) the encoded arguments aArgs, and the stamp
** of pDeps (NULL: none; it holds s's version too). What every
** cache write of a value goes through. */
int valueWrite(Cachier *p, CachierStore *pStore, const CachierKey *pKey,
               const FnSettings *s, sqlite3_value *pValue,
               sqlite3_int64 computeNs, const unsigned char *aArgs,
               sqlite3_int64 nArgs, const DepsState *pDeps){
  StoredValue stored;
  CachierWrite w;
  int rc;
  valueEncode(p, pStore, s, pValue, &stored);
  w.pValue = pValue;
  w.subtype = (int)sqlite3_value_subtype(pValue);
  w.codec = stored.codec;
  w.aStored = stored.a;
  w.nStored = stored.n;
  w.created = cachierNow(p);
  w.computeNs = computeNs;
  w.aArgs = nArgs ? aArgs : 0;
  w.nArgs = nArgs;
  w.ttl = servableSeconds(s);
  /* The stamp it is fresh under (depends.c). */
  w.aStamp = pDeps && pDeps->eState!=DEPS_UNKNOWN ? pDeps->aStamp : 0;
  w.nStamp = w.aStamp ? pDeps->nStamp : 0;
  rc = storeWrite(pStore, pKey, &w);
  storedValueFree(&stored);
  return rc;
}

/* Make the value of entry e the result of ctx, decoding it if it is
** compressed. SQLITE_OK, or why it does not decode (ctx is then left
** alone). */
int valueResult(CachierStore *pStore, sqlite3_context *ctx,
                const CachierEntry *e){
  DecodedValue d;
  int rc;
  if( e->codec==0 ){
    sqlite3_result_value(ctx, e->pValue);
    if( e->subtype ) sqlite3_result_subtype(ctx, (unsigned int)e->subtype);
    return SQLITE_OK;
  }
  rc = valueDecode(pStore, e->codec, e->pValue, e->nBytes, &d);
  if( rc==SQLITE_OK ) decodedValueResult(ctx, &d, e->subtype);
  return rc;
}

/* Make a decoded value the result of ctx (handing its bytes over). */
void decodedValueResult(sqlite3_context *ctx, DecodedValue *v, int subtype){
  if( v->eType==SQLITE_TEXT ){
    sqlite3_result_text64(ctx, (const char*)v->a, (sqlite3_uint64)v->n,
                          sqlite3_free, SQLITE_UTF8);
  }else{
    sqlite3_result_blob64(ctx, v->a, (sqlite3_uint64)v->n, sqlite3_free);
  }
  v->a = 0;
  v->n = 0;
  if( subtype ) sqlite3_result_subtype(ctx, (unsigned int)subtype);
}

void decodedValueFree(DecodedValue *v){
  sqlite3_free(v->a);
  memset(v, 0, sizeof(*v));
}

/* ------------------------------------------------------------- training */

/* cachier_train(FN) */
static void trainFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  CachierStore *pStore = 0;
  CachierScan *pScan = 0;
  CachierEntry e;
  char *zFn = 0, *zErr = 0;
  unsigned char *aSample = 0, *aDict = 0;
  size_t *aSize = 0, nDict;
  sqlite3_int64 nSample = 0, iId = 0;
  int nValue = 0, bEof = 0, rc;
  (void)argc;
  if( guardDirectCall(ctx, "cachier_train") ) return;
  if( callCanonicalName("cachier_train", argv[0], &zFn, &zErr) ){
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
    return;
  }
  pStore = storeForFunction(p, zFn, &zErr);
  if( pStore==0 ){
    char *z = sqlite3_mprintf("cachier_train: %s",
                              zErr ? zErr : "out of memory");
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    sqlite3_free(zErr);
    sqlite3_free(zFn);
    return;
  }
  aSample = sqlite3_malloc64(TRAIN_MAX_BYTES);
  aSize = sqlite3_malloc64(sizeof(size_t)*TRAIN_MAX_VALUES);
  aDict = sqlite3_malloc64(DICT_CAPACITY);
  if( aSample==0 || aSize==0 || aDict==0 ){
    sqlite3_result_error_nomem(ctx);
    goto done;
  }
  rc = storeScanOpen(pStore, zFn, &pScan);
  while( rc==SQLITE_OK && nValue<TRAIN_MAX_VALUES ){
    DecodedValue dec;
    const void *pData;
    sqlite3_int64 n;
    rc = storeScanNext(pStore, pScan, &e, &bEof);
    if( rc || bEof ) break;
    memset(&dec, 0, sizeof(dec));
    if( e.codec ){
      if( valueDecode(pStore, e.codec, e.pValue, e.nBytes, &dec) ) continue;
      pData = dec.a;
      n = dec.n;
    }else{
      int t = sqlite3_value_type(e.pValue);
      if( t!=SQLITE_TEXT && t!=SQLITE_BLOB ) continue;
      pData = t==SQLITE_TEXT ? (const void*)sqlite3_value_text(e.pValue)
                             : sqlite3_value_blob(e.pValue);
      n = sqlite3_value_bytes(e.pValue);
    }
    if( pData && n>0 && nSample+n<=TRAIN_MAX_BYTES ){
      memcpy(aSample+nSample, pData, (size_t)n);
      aSize[nValue++] = (size_t)n;
      nSample += n;
    }
    decodedValueFree(&dec);
  }
  if( pScan ) storeScanClose(pStore, pScan);
  if( rc ){
    char *z = sqlite3_mprintf("cachier_train: %s",
                              storeErrmsg(pStore, rc));
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    goto done;
  }
  nDict = nValue>=8 ? ZDICT_trainFromBuffer(aDict, DICT_CAPACITY, aSample,
                                            aSize, (unsigned)nValue)
                    : (size_t)-1;
  if( nValue<8 || ZDICT_isError(nDict) ){
    char *z = sqlite3_mprintf("cachier_train: %s() has too few text or blob "
        "values to train a dictionary on (%d; %s)", zFn, nValue,
        nValue<8 ? "at least 8 are needed"
                 : ZDICT_getErrorName(nDict));
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    goto done;
  }
  rc = storeDictAdd(pStore, zFn, aDict, (sqlite3_int64)nDict, nValue,
                    cachierNow(p), &iId);
  if( rc ){
    char *z = sqlite3_mprintf("cachier_train: cannot store the dictionary: "
                              "%s", storeErrmsg(pStore, rc));
    sqlite3_result_error(ctx, z, -1);
    sqlite3_free(z);
    goto done;
  }
  if( iId<=0 || iId>=DICT_MAX_ID ){
    /* Its id would not fit in the codec bits: take it back. */
    storeDictDelete(pStore, iId);
    sqlite3_result_error(ctx, "cachier_train: too many dictionaries; "
                         "DROP TABLE cachier starts afresh", -1);
    goto done;
  }
  p->settingsGen++;           /* plans pick the new dictionary up */
  sqlite3_result_int64(ctx, iId);
done:
  sqlite3_free(aSample);
  sqlite3_free(aSize);
  sqlite3_free(aDict);
  sqlite3_free(zFn);
}

const CachierFunction cachierCompressFunctions[] = {
  { "cachier_train", 1, CACHIER_FN_WRITES, trainFunc },
  { 0, 0, 0, 0 }
};
