/*
** redis_format.c - the Redis store's formats: the names of its keys and
** the bytes of an entry. Pure functions: no server, no connection.
**
** SQL surface: none in a release build. The test build adds
** cachier_test_redis_format(OP, ...), which names keys and encodes and
** decodes entries without a server (tests/redis_format.test).
**
** Keys, each beginning with the store's prefix P (default "cachier"):
**   P:FN:BASE       a hash, one per key hash (BASE: REDIS_ID_HEX hex
**                   digits, the entry id of the key's first slot). Field:
**                   the encoded key (FN, NUL, the type-exact arguments:
**                   key_codec.c); value: the entry (below). Colliding keys are
**                   fields of one hash, each with its own slot, so a lookup
**                   is one HGET and never a false hit.
**   P:FN:refresh    a sorted set: entries marked for a next_time refresh
**                   (member: entry id in hex; score: retry_at)
**   P:FN:attempts   a hash: failed refresh attempts per entry id
**   P:%lock:BASE    the key's in-flight mark: SET NX PX with the store's
**                   token; it expires after lease_ms (redis_marks.c)
**   P:FN:dicts      a sorted set of FN's zstd dictionary ids
**   P:%dict:ID      a dictionary's bytes; P:%dict-seq allots their ids
**   P:%format       the layout version (REDIS_LAYOUT_VERSION), so a later
**                   release can tell
** FN is the function's name with '%' and ':' %-encoded, so no key of one
** function or prefix is ever read as another's, and the names beginning
** with '%' are cachier's own.
**
** An entry (the value of a bucket's field) is a header of REDIS_HDR_SIZE
** (44) bytes, then the arguments kept for a hash_func refresh, then its
** stamp (ext/depends.c), then the value's bytes as every store keeps
** them (zstd-compressed past compress_min). The header's fields, at their
** REDIS_HDR_* offsets, little-endian (the Lua scripts read them so):
**
**     offset size  field
**       0     1    format: REDIS_ENTRY_FORMAT
**       1     1    size of the stamp in 8-byte words (0: none; entries
**                  written before invalidation existed have 0 here)
**       2     1    slot: the entry id's last CACHIER_ID_SLOT_B bits (set
**                  by the write script, which finds the free slot)
**       3     1    type: SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB or _NULL
**       4     4    subtype
**       8     8    codec (value_codec.c; 0: the value as is)
**      16     8    created, unix seconds (a double)
**      24     8    compute time, ns
**      32     8    the value's logical size (cachierValueBytes)
**      40     4    size of the kept arguments
**
** The stamp, when present, is the blob cachier.h defines (big-endian, as
** every store keeps it). The value: an integer or a real as 8 bytes, text or a blob as its bytes
** (a compressed value is a blob), a NULL as nothing. An entry whose sizes
** or types do not agree is damaged: it is not served.
*/
#include "redis_store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put32(unsigned char *a, uint32_t v){ memcpy(a, &v, 4); }
static void put64(unsigned char *a, uint64_t v){ memcpy(a, &v, 8); }
static uint32_t get32(const unsigned char *a){ uint32_t v; memcpy(&v, a, 4); return v; }
static uint64_t get64(const unsigned char *a){ uint64_t v; memcpy(&v, a, 8); return v; }

/* The entry w encodes to (slot left 0: the write script sets it), in
** sqlite3_malloc'ed *paOut. */
int redisEntryEncode(const CachierWrite *w, unsigned char **paOut,
                     sqlite3_int64 *pnOut){
  int eType = w->codec ? SQLITE_BLOB : sqlite3_value_type(w->pValue);
  const void *aVal = 0;
  sqlite3_int64 nVal = 0, n, nStamp;
  unsigned char aNum[8], *a;
  double r;
  switch( eType ){
    case SQLITE_INTEGER:
      put64(aNum, (uint64_t)sqlite3_value_int64(w->pValue));
      aVal = aNum; nVal = 8;
      break;
    case SQLITE_FLOAT:
      r = sqlite3_value_double(w->pValue);
      memcpy(aNum, &r, 8);
      aVal = aNum; nVal = 8;
      break;
    case SQLITE_TEXT:
      aVal = sqlite3_value_text(w->pValue);
      nVal = sqlite3_value_bytes(w->pValue);
      break;
    case SQLITE_BLOB:
      if( w->codec ){
        aVal = w->aStored;
        nVal = w->nStored;
      }else{
        aVal = sqlite3_value_blob(w->pValue);
        nVal = sqlite3_value_bytes(w->pValue);
      }
      break;
  }
  nStamp = w->aStamp ? w->nStamp : 0;
  if( nStamp%8 || nStamp/8 > 255 ) return SQLITE_TOOBIG;
  n = REDIS_HDR_SIZE + w->nArgs + nStamp + nVal;
  a = sqlite3_malloc64(n);
  if( a==0 ) return SQLITE_NOMEM;
  memset(a, 0, REDIS_HDR_SIZE);
  a[REDIS_HDR_FORMAT] = REDIS_ENTRY_FORMAT;
  a[REDIS_HDR_STAMP] = (unsigned char)(nStamp/8);
  a[REDIS_HDR_TYPE] = (unsigned char)eType;
  put32(a+REDIS_HDR_SUBTYPE, (uint32_t)w->subtype);
  put64(a+REDIS_HDR_CODEC, (uint64_t)(sqlite3_int64)w->codec);
  memcpy(a+REDIS_HDR_CREATED, &w->created, 8);
  put64(a+REDIS_HDR_COMPUTE, (uint64_t)w->computeNs);
  put64(a+REDIS_HDR_NBYTES, (uint64_t)cachierValueBytes(w->pValue));
  put32(a+REDIS_HDR_NARGS, (uint32_t)w->nArgs);
  if( w->nArgs ) memcpy(a+REDIS_HDR_SIZE, w->aArgs, (size_t)w->nArgs);
  if( nStamp ) memcpy(a+REDIS_HDR_SIZE+w->nArgs, w->aStamp, (size_t)nStamp);
  if( nVal ) memcpy(a+REDIS_HDR_SIZE+w->nArgs+nStamp, aVal, (size_t)nVal);
  *paOut = a;
  *pnOut = n;
  return SQLITE_OK;
}

/* Read the entry a[0..n) into *h (pointing into a): SQLITE_CORRUPT if it
** is not a well-formed entry of this format. */
int redisEntryParse(const unsigned char *a, sqlite3_int64 n,
                    RedisEntryHeader *h){
  sqlite3_int64 nRaw, nStamp;
  memset(h, 0, sizeof(*h));
  if( n<REDIS_HDR_SIZE || a[REDIS_HDR_FORMAT]!=REDIS_ENTRY_FORMAT ){
    return SQLITE_CORRUPT;
  }
  h->nArgs = get32(a+REDIS_HDR_NARGS);
  if( h->nArgs > n - REDIS_HDR_SIZE ) return SQLITE_CORRUPT;
  h->aArgs = h->nArgs ? a + REDIS_HDR_SIZE : 0;
  nStamp = 8*(sqlite3_int64)a[REDIS_HDR_STAMP];
  if( nStamp > n - REDIS_HDR_SIZE - h->nArgs ) return SQLITE_CORRUPT;
  if( nStamp ){
    h->aStamp = a + REDIS_HDR_SIZE + h->nArgs;
    h->nStamp = (int)nStamp;
  }
  h->aVal = a + REDIS_HDR_SIZE + h->nArgs + nStamp;
  h->nVal = n - REDIS_HDR_SIZE - h->nArgs - nStamp;
  h->slot = a[REDIS_HDR_SLOT];
  h->eType = a[REDIS_HDR_TYPE];
  h->subtype = (int)get32(a+REDIS_HDR_SUBTYPE);
  h->codec = (int)(sqlite3_int64)get64(a+REDIS_HDR_CODEC);
  memcpy(&h->created, a+REDIS_HDR_CREATED, 8);
  h->computeNs = (sqlite3_int64)get64(a+REDIS_HDR_COMPUTE);
  h->nBytes = (sqlite3_int64)get64(a+REDIS_HDR_NBYTES);
  switch( h->eType ){
    case SQLITE_INTEGER: case SQLITE_FLOAT: nRaw = 8;        break;
    case SQLITE_NULL:                       nRaw = 0;        break;
    case SQLITE_TEXT: case SQLITE_BLOB:     nRaw = h->nVal;  break;
    default:                                return SQLITE_CORRUPT;
  }
  if( h->eType!=SQLITE_TEXT && h->eType!=SQLITE_BLOB && h->nVal!=nRaw ){
    return SQLITE_CORRUPT;
  }
  if( h->codec && h->eType!=SQLITE_BLOB ) return SQLITE_CORRUPT;
  /* A raw value is exactly its logical size: a truncated or extended
  ** entry is not served. (A compressed one is checked when decoded.) */
  if( h->codec==0 && h->nBytes!=nRaw ) return SQLITE_CORRUPT;
  return SQLITE_OK;
}

/* ---------------------------------------------------------------- keys */

/* id as REDIS_ID_HEX hex digits in zBuf (REDIS_ID_HEX+1 bytes). */
char *redisHexId(char *zBuf, sqlite3_int64 id){
  snprintf(zBuf, REDIS_ID_HEX+1, "%0*llx", REDIS_ID_HEX,
           (unsigned long long)id);
  return zBuf;
}

/* zFn as a key segment: '%' and ':' %-encoded. */
char *redisFnSegment(const char *zFn){
  sqlite3_str *pStr = sqlite3_str_new(0);
  for(; *zFn; zFn++){
    if( *zFn=='%' ) sqlite3_str_appendall(pStr, "%25");
    else if( *zFn==':' ) sqlite3_str_appendall(pStr, "%3A");
    else sqlite3_str_appendchar(pStr, 1, *zFn);
  }
  return sqlite3_str_finish(pStr);
}

/* The function a key segment z[0..n) names (sqlite3_malloc'ed), NULL if
** it is not one (a ':' or a bad escape: cachier's own names, another
** prefix's keys). */
char *redisFnOfSegment(const char *z, size_t n){
  char *zFn = sqlite3_malloc64(n+1);
  size_t i, j = 0;
  if( zFn==0 || n==0 ) goto bad;
  for(i=0; i<n; i++){
    if( z[i]==':' ) goto bad;
    if( z[i]=='%' ){
      if( i+2<n+0 && z[i+1]=='2' && z[i+2]=='5' ) zFn[j++] = '%';
      else if( i+2<n+0 && z[i+1]=='3' && z[i+2]=='A' ) zFn[j++] = ':';
      else goto bad;
      i += 2;
    }else{
      zFn[j++] = z[i];
    }
  }
  zFn[j] = 0;
  return zFn;
bad:
  sqlite3_free(zFn);
  return 0;
}

/* z with the glob characters of SCAN MATCH escaped. */
char *redisGlobEscape(const char *z){
  sqlite3_str *pStr = sqlite3_str_new(0);
  for(; *z; z++){
    if( strchr("*?[]\\", *z) ) sqlite3_str_appendchar(pStr, 1, '\\');
    sqlite3_str_appendchar(pStr, 1, *z);
  }
  return sqlite3_str_finish(pStr);
}

/* The keys below are sqlite3_malloc'ed (NULL: out of memory). */

/* zFn's key P:FN:zWhat (zWhat "" gives the prefix of its bucket keys). */
char *redisFnKey(const char *zPrefix, const char *zFn, const char *zWhat){
  char *zSeg = redisFnSegment(zFn);
  char *z = zSeg ? sqlite3_mprintf("%s:%s:%s", zPrefix, zSeg, zWhat) : 0;
  sqlite3_free(zSeg);
  return z;
}
/* The bucket of zFn's key hash iBase: P:FN:BASE. */
char *redisBucketKey(const char *zPrefix, const char *zFn,
                     sqlite3_int64 iBase){
  char zId[REDIS_ID_HEX+1];
  return redisFnKey(zPrefix, zFn, redisHexId(zId, iBase));
}
/* cachier's own key P:%zWhat. */
char *redisOwnKey(const char *zPrefix, const char *zWhat){
  return sqlite3_mprintf("%s:%%%s", zPrefix, zWhat);
}
/* The in-flight mark of key hash iBase: P:%lock:BASE. */
char *redisLockKey(const char *zPrefix, sqlite3_int64 iBase){
  char zId[REDIS_ID_HEX+1], zWhat[REDIS_ID_HEX+8];
  snprintf(zWhat, sizeof(zWhat), "lock:%s", redisHexId(zId, iBase));
  return redisOwnKey(zPrefix, zWhat);
}
/* Dictionary iId's bytes: P:%dict:ID. */
char *redisDictKey(const char *zPrefix, sqlite3_int64 iId){
  return sqlite3_mprintf("%s:%%dict:%lld", zPrefix, iId);
}

/* SCAN MATCH pattern P:zTail (zTail a pattern). */
char *redisPrefixPattern(const char *zPrefix, const char *zTail){
  char *zP = redisGlobEscape(zPrefix);
  char *z = zP ? sqlite3_mprintf("%s:%s", zP, zTail) : 0;
  sqlite3_free(zP);
  return z;
}
/* SCAN MATCH pattern of zFn's keys: P:FN:zTail (zTail a pattern). */
char *redisFnPattern(const char *zPrefix, const char *zFn,
                     const char *zTail){
  char *zSeg = redisFnSegment(zFn);
  char *zSegP = zSeg ? redisGlobEscape(zSeg) : 0;
  char *zTailP = zSegP ? sqlite3_mprintf("%s:%s", zSegP, zTail) : 0;
  char *z = zTailP ? redisPrefixPattern(zPrefix, zTailP) : 0;
  sqlite3_free(zSeg);
  sqlite3_free(zSegP);
  sqlite3_free(zTailP);
  return z;
}

/* SCAN MATCH pattern of zFn's bucket keys, of every key if zFn is NULL. */
char *redisBucketPattern(const char *zPrefix, const char *zFn){
  char zAnyId[REDIS_ID_HEX+1];
  if( zFn==0 ) return redisPrefixPattern(zPrefix, "*");
  memset(zAnyId, '?', REDIS_ID_HEX);
  zAnyId[REDIS_ID_HEX] = 0;
  return redisFnPattern(zPrefix, zFn, zAnyId);
}

/* SCAN MATCH pattern of the marks of the keys of function hash iFnHash,
** of every mark if iFnHash is negative. */
char *redisLockPattern(const char *zPrefix, int iFnHash){
  char zTail[32];
  if( iFnHash<0 ){
    snprintf(zTail, sizeof(zTail), "%%lock:*");
  }else{
    snprintf(zTail, sizeof(zTail), "%%lock:%0*x*", CACHIER_ID_FN_B/4,
             (unsigned)iFnHash);
  }
  return redisPrefixPattern(zPrefix, zTail);
}

/* The function of bucket key z[0..n), or NULL if it is not one ("P:FN:"
** and REDIS_ID_HEX lower-case hex digits). */
char *redisFnOfBucketKey(const char *zPrefix, const char *z, size_t n){
  size_t nP = strlen(zPrefix), i;
  if( n<nP+REDIS_ID_HEX+3 || memcmp(z, zPrefix, nP)!=0 || z[nP]!=':'
   || z[n-REDIS_ID_HEX-1]!=':' ){
    return 0;
  }
  for(i=n-REDIS_ID_HEX; i<n; i++){
    if( !((z[i]>='0' && z[i]<='9') || (z[i]>='a' && z[i]<='f')) ) return 0;
  }
  return redisFnOfSegment(z+nP+1, n-REDIS_ID_HEX-1-nP-1);
}

/* The function in key z[0..n) "P:FN:zWhat", or NULL if it is not one. */
char *redisFnOfFnKey(const char *zPrefix, const char *z, size_t n,
                     const char *zWhat){
  size_t nP = strlen(zPrefix), nW = strlen(zWhat);
  if( n<nP+nW+3 || memcmp(z + n - nW, zWhat, nW)!=0 || z[n-nW-1]!=':' ){
    return 0;
  }
  if( memcmp(z, zPrefix, nP)!=0 || z[nP]!=':' ) return 0;
  return redisFnOfSegment(z + nP + 1, n - nP - nW - 2);
}

/* The entry id the text z[0..n) ends with: a bucket's or a mark's base,
** or a member of P:FN:refresh. */
sqlite3_int64 redisKeyId(const char *z, size_t n){
  char zId[REDIS_ID_HEX+1];
  if( n<REDIS_ID_HEX ) return 0;
  memcpy(zId, z + n - REDIS_ID_HEX, REDIS_ID_HEX);
  zId[REDIS_ID_HEX] = 0;
  return (sqlite3_int64)strtoull(zId, 0, 16);
}

#ifdef CACHIER_TEST
/*
** cachier_test_redis_format(OP, ...): the formats above, for tests.
**   ('bucket', PREFIX, FN, BASE)   ('fnkey', PREFIX, FN, WHAT)
**   ('lock', PREFIX, BASE)         ('dict', PREFIX, ID)
**   ('own', PREFIX, WHAT)          ('pattern', PREFIX, FN, TAIL)
**   ('prefix-pattern', PREFIX, TAIL)  ('bucket-pattern', PREFIX, FN)
**   ('lock-pattern', PREFIX, FN_HASH)  ('glob', TEXT)   ('segment', FN)
**   ('fn-of-segment', SEG)         ('fn-of-bucket', PREFIX, KEY)
**   ('fn-of-fnkey', PREFIX, KEY, WHAT)  ('key-id', KEY)
**   ('encode', VALUE, SUBTYPE, CODEC, CREATED, COMPUTE_NS, ARGS): the
**       entry's bytes (a CODEC other than 0 stores VALUE, a blob, as is)
**   ('decode', ENTRY): its fields as text, NULL if it is damaged
**   ('header', NAME): the offset of header field NAME, or the size
** NULL for a key that is not one.
*/
static void testRedisFormatFunc(sqlite3_context *ctx, int argc,
                                sqlite3_value **argv){
  const char *zOp = (const char*)sqlite3_value_text(argv[0]);
  const char *z1, *z2, *z3;
  int n1, n2;
  char *zOut = 0;
  if( zOp==0 ) return;
#define NEED(N) if( argc!=(N)+1 ) goto usage
  if( strcmp(zOp, "encode")==0 ){
    CachierWrite w;
    unsigned char *a = 0;
    sqlite3_int64 n = 0;
    NEED(6);
    memset(&w, 0, sizeof(w));
    w.pValue = argv[1];
    w.subtype = sqlite3_value_int(argv[2]);
    w.codec = sqlite3_value_int(argv[3]);
    if( w.codec ){
      w.aStored = sqlite3_value_blob(argv[1]);
      w.nStored = sqlite3_value_bytes(argv[1]);
    }
    w.created = sqlite3_value_double(argv[4]);
    w.computeNs = sqlite3_value_int64(argv[5]);
    w.aArgs = sqlite3_value_blob(argv[6]);
    w.nArgs = sqlite3_value_bytes(argv[6]);
    if( redisEntryEncode(&w, &a, &n) ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    sqlite3_result_blob64(ctx, a, (sqlite3_uint64)n, sqlite3_free);
    return;
  }else if( strcmp(zOp, "decode")==0 ){
    RedisEntryHeader h;
    sqlite3_str *pStr;
    sqlite3_int64 i;
    NEED(1);
    if( redisEntryParse(sqlite3_value_blob(argv[1]),
                        sqlite3_value_bytes(argv[1]), &h) ){
      return;
    }
    pStr = sqlite3_str_new(0);
    sqlite3_str_appendf(pStr, "slot=%d type=%d subtype=%d codec=%d "
        "created=%!.15g compute_ns=%lld bytes=%lld args=", h.slot, h.eType,
        h.subtype, h.codec, h.created, h.computeNs, h.nBytes);
    for(i=0; i<h.nArgs; i++) sqlite3_str_appendf(pStr, "%02x", h.aArgs[i]);
    sqlite3_str_appendall(pStr, " value=");
    for(i=0; i<h.nVal; i++) sqlite3_str_appendf(pStr, "%02x", h.aVal[i]);
    sqlite3_result_text(ctx, sqlite3_str_finish(pStr), -1, sqlite3_free);
    return;
  }else if( strcmp(zOp, "header")==0 ){
    static const struct { const char *zName; int iOff; } aField[] = {
      { "format", REDIS_HDR_FORMAT }, { "slot", REDIS_HDR_SLOT },
      { "type", REDIS_HDR_TYPE }, { "subtype", REDIS_HDR_SUBTYPE },
      { "codec", REDIS_HDR_CODEC }, { "created", REDIS_HDR_CREATED },
      { "compute", REDIS_HDR_COMPUTE }, { "nbytes", REDIS_HDR_NBYTES },
      { "nargs", REDIS_HDR_NARGS }, { "size", REDIS_HDR_SIZE },
    };
    const char *zName;
    size_t i;
    NEED(1);
    zName = (const char*)sqlite3_value_text(argv[1]);
    for(i=0; i<sizeof(aField)/sizeof(aField[0]); i++){
      if( zName && strcmp(zName, aField[i].zName)==0 ){
        sqlite3_result_int(ctx, aField[i].iOff);
        return;
      }
    }
    goto usage;
  }
  /* (The operations below take text only: the entry operations above
  ** read their arguments' own types.) */
  z1 = argc>1 ? (const char*)sqlite3_value_text(argv[1]) : 0;
  z2 = argc>2 ? (const char*)sqlite3_value_text(argv[2]) : 0;
  z3 = argc>3 ? (const char*)sqlite3_value_text(argv[3]) : 0;
  n1 = argc>1 ? sqlite3_value_bytes(argv[1]) : 0;
  n2 = argc>2 ? sqlite3_value_bytes(argv[2]) : 0;
  if( strcmp(zOp, "bucket")==0 ){
    NEED(3);
    zOut = redisBucketKey(z1, z2, sqlite3_value_int64(argv[3]));
  }else if( strcmp(zOp, "fnkey")==0 ){
    NEED(3);
    zOut = redisFnKey(z1, z2, z3);
  }else if( strcmp(zOp, "lock")==0 ){
    NEED(2);
    zOut = redisLockKey(z1, sqlite3_value_int64(argv[2]));
  }else if( strcmp(zOp, "dict")==0 ){
    NEED(2);
    zOut = redisDictKey(z1, sqlite3_value_int64(argv[2]));
  }else if( strcmp(zOp, "own")==0 ){
    NEED(2);
    zOut = redisOwnKey(z1, z2);
  }else if( strcmp(zOp, "pattern")==0 ){
    NEED(3);
    zOut = redisFnPattern(z1, z2, z3);
  }else if( strcmp(zOp, "prefix-pattern")==0 ){
    NEED(2);
    zOut = redisPrefixPattern(z1, z2);
  }else if( strcmp(zOp, "bucket-pattern")==0 ){
    NEED(2);
    zOut = redisBucketPattern(z1, z2);
  }else if( strcmp(zOp, "lock-pattern")==0 ){
    NEED(2);
    zOut = redisLockPattern(z1, sqlite3_value_int(argv[2]));
  }else if( strcmp(zOp, "glob")==0 ){
    NEED(1);
    zOut = redisGlobEscape(z1);
  }else if( strcmp(zOp, "segment")==0 ){
    NEED(1);
    zOut = redisFnSegment(z1);
  }else if( strcmp(zOp, "fn-of-segment")==0 ){
    NEED(1);
    zOut = redisFnOfSegment(z1, (size_t)n1);
  }else if( strcmp(zOp, "fn-of-bucket")==0 ){
    NEED(2);
    zOut = redisFnOfBucketKey(z1, z2, (size_t)n2);
  }else if( strcmp(zOp, "fn-of-fnkey")==0 ){
    NEED(3);
    zOut = redisFnOfFnKey(z1, z2, (size_t)n2, z3);
  }else if( strcmp(zOp, "key-id")==0 ){
    NEED(1);
    sqlite3_result_int64(ctx, redisKeyId(z1, (size_t)n1));
    return;
  }else{
    goto usage;
  }
#undef NEED
  if( zOut ) sqlite3_result_text(ctx, zOut, -1, sqlite3_free);
  return;
usage:
  sqlite3_result_error(ctx, "cachier_test_redis_format: bad arguments", -1);
}

const CachierFunction cachierRedisFormatTestFunctions[] = {
  { "cachier_test_redis_format", -1, CACHIER_FN_WRITES, testRedisFormatFunc },
  { 0, 0, 0, 0 }
};
#endif /* CACHIER_TEST */
