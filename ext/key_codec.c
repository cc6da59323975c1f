/*
** key_codec.c - type-exact key encoding, the key hash, and keys as JSON.
**
** No SQL surface of its own. A key is the function name, a NUL, and the
** encoded argument list
**
**     fn NUL varint(nArg) { tag [subtype] payload }*
**
** (the name is part of the key so one comparison decides a hit), where
** tag is the SQLite type (1 INTEGER, 2 REAL, 3 TEXT, 4 BLOB, 5 NULL),
** or'ed with 0x80 when the argument carries a subtype (then one subtype
** byte follows). INTEGER and REAL are 8 big-endian bytes (REAL by its bit
** pattern, so 1 and 1.0 and -0.0 differ), TEXT and BLOB are varint(length)
** and the bytes. The encoding is prefix-free, so ('a','bc') and ('ab','c')
** differ, and arity is part of it. A key made by a hash_func has 0xFF after
** the NUL, which no argument count encodes to, so the two never collide.
*/
#include "cachier.h"
#include <string.h>

#define KEY_HASHFUNC_MARK 0xFF

void keyBufInit(KeyBuf *p){
  p->a = p->aStatic;
  p->n = 0;
  p->nAlloc = sizeof(p->aStatic);
}

void keyBufFree(KeyBuf *p){
  if( p->a!=p->aStatic ) sqlite3_free(p->a);
  keyBufInit(p);
}

/* Make room for n more bytes, keeping the first p->n (the buffer never
** shrinks). SQLITE_NOMEM or SQLITE_TOOBIG on failure. */
int keyBufReserve(KeyBuf *p, sqlite3_int64 n){
  sqlite3_int64 nNew;
  unsigned char *aNew;
  if( p->n + n <= p->nAlloc ) return SQLITE_OK;
  if( p->n + n > 0x7fffffff ) return SQLITE_TOOBIG;
  nNew = p->nAlloc*2;
  while( nNew < p->n + n ) nNew *= 2;
  if( p->a==p->aStatic ){
    aNew = sqlite3_malloc64(nNew);
    if( aNew ) memcpy(aNew, p->a, p->n);
  }else{
    aNew = sqlite3_realloc64(p->a, nNew);
  }
  if( aNew==0 ) return SQLITE_NOMEM;
  p->a = aNew;
  p->nAlloc = nNew;
  return SQLITE_OK;
}

static void putVarint(KeyBuf *p, uint64_t v){
  while( v>=0x80 ){
    p->a[p->n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p->a[p->n++] = (unsigned char)v;
}

static void putU64(KeyBuf *p, uint64_t v){
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__==__ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);             /* big-endian, in one store */
  memcpy(&p->a[p->n], &v, 8);
  p->n += 8;
#else
  int i;
  for(i=7; i>=0; i--) p->a[p->n++] = (unsigned char)(v >> (i*8));
#endif
}

/* Append one value: tag, optional subtype, payload (also the values of a
** row set, rowset_codec.c). */
int keyEncodeValue(KeyBuf *p, sqlite3_value *pVal){
  int eType = sqlite3_value_type(pVal);
  unsigned int subtype = sqlite3_value_subtype(pVal);
  const unsigned char *z = 0;
  sqlite3_int64 n = 0;
  int rc;
  /* The commonest argument first: an INTEGER without a subtype, in room
  ** the buffer has. */
  if( eType==SQLITE_INTEGER && subtype==0 && p->n + 9 <= p->nAlloc ){
    p->a[p->n++] = SQLITE_INTEGER;
    putU64(p, (uint64_t)sqlite3_value_int64(pVal));
    return SQLITE_OK;
  }
  if( eType==SQLITE_TEXT ){
    z = sqlite3_value_text(pVal);
    n = sqlite3_value_bytes(pVal);
    if( z==0 ) return SQLITE_NOMEM;
  }else if( eType==SQLITE_BLOB ){
    z = sqlite3_value_blob(pVal);
    n = sqlite3_value_bytes(pVal);
  }
  rc = keyBufReserve(p, 2 + 10 + 8 + n);
  if( rc ) return rc;
  p->a[p->n++] = (unsigned char)(eType | (subtype ? 0x80 : 0));
  if( subtype ) p->a[p->n++] = (unsigned char)subtype;
  switch( eType ){
    case SQLITE_INTEGER:
      putU64(p, (uint64_t)sqlite3_value_int64(pVal));
      break;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      uint64_t u;
      memcpy(&u, &r, 8);
      putU64(p, u);
      break;
    }
    case SQLITE_TEXT:
    case SQLITE_BLOB:
      putVarint(p, (uint64_t)n);
      if( n ) memcpy(&p->a[p->n], z, n);
      p->n += n;
      break;
    default:
      break;
  }
  return SQLITE_OK;
}

/* Start a key for function zFn: the name and its NUL, with room after
** them for the arguments of a one-INTEGER key at least (memoize.c writes
** those in place). */
static int keyStart(KeyBuf *p, const char *zFn, int nFn){
  int rc;
  p->n = 0;
  rc = keyBufReserve(p, nFn + 1 + KEY_ONE_INT_BYTES);
  if( rc ) return rc;
  memcpy(p->a, zFn, nFn);
  p->a[nFn] = 0;
  p->n = nFn + 1;
  return SQLITE_OK;
}

/* Append the arguments part of a key: their count, then each value. */
static int keyAppendArgs(KeyBuf *p, int nArg, sqlite3_value **apArg){
  int i, rc = keyBufReserve(p, 10);
  if( rc ) return rc;
  putVarint(p, (uint64_t)nArg);
  for(i=0; i<nArg; i++){
    rc = keyEncodeValue(p, apArg[i]);
    if( rc ) return rc;
  }
  return SQLITE_OK;
}

/* The key of zFn(apArg[0..nArg)) into p (replacing its contents). */
int keyEncodeArgs(KeyBuf *p, const char *zFn, int nFn, int nArg,
                  sqlite3_value **apArg){
  int rc = keyStart(p, zFn, nFn);
  return rc ? rc : keyAppendArgs(p, nArg, apArg);
}

/* The key of apArg[0..nArg) for the function whose name and NUL are
** already the first nFn+1 bytes of p (a key of that function made
** before: keyBufReserve() never drops them), replacing the rest. */
int keyEncodeArgsAfterName(KeyBuf *p, int nFn, int nArg,
                           sqlite3_value **apArg){
  p->n = nFn + 1;
  return keyAppendArgs(p, nArg, apArg);
}

/* The arguments part of a key alone (what follows the name and its NUL),
** replacing p. */
int keyEncodeArgsOnly(KeyBuf *p, int nArg, sqlite3_value **apArg){
  p->n = 0;
  return keyAppendArgs(p, nArg, apArg);
}

/* The arguments part of a key of one INTEGER argument without a subtype
** (the commonest), into a[KEY_ONE_INT_BYTES]: the same bytes as
** keyEncodeArgsOnly() makes, without a buffer to manage. */
void keyEncodeOneInt(unsigned char *a, sqlite3_int64 v){
  KeyBuf b;
  b.a = a;
  b.n = 0;
  b.nAlloc = KEY_ONE_INT_BYTES;
  putVarint(&b, 1);
  b.a[b.n++] = SQLITE_INTEGER;
  putU64(&b, (uint64_t)v);
}

/* The key of zFn made from what its hash_func returned (replacing p). */
int keyEncodeHashFuncKey(KeyBuf *p, const char *zFn, int nFn,
                         sqlite3_value *pKey){
  int rc = keyStart(p, zFn, nFn);
  if( rc ) return rc;
  p->a[p->n++] = KEY_HASHFUNC_MARK;
  return keyEncodeValue(p, pKey);
}

/* 64-bit multiply-xorshift hash over 8-byte words (Murmur64A style). */
static uint64_t hashMix(uint64_t h, const unsigned char *a, sqlite3_int64 n){
  const uint64_t m = 0xc6a4a7935bd1e995ULL;
  sqlite3_int64 i = 0;
  h ^= (uint64_t)n * m;
  for(; i+8<=n; i+=8){
    uint64_t k;
    memcpy(&k, a+i, 8);
    k *= m; k ^= k >> 47; k *= m;
    h ^= k; h *= m;
  }
  if( i<n ){
    uint64_t k = 0;
    memcpy(&k, a+i, (size_t)(n-i));
    h ^= k; h *= m;
  }
  h ^= h >> 47; h *= m; h ^= h >> 47;
  return h;
}

static uint64_t keyHash(const unsigned char *a, sqlite3_int64 n){
  return hashMix(0x9e3779b97f4a7c15ULL, a, n);
}

/* The top 16 bits of every entry id of function zFn. */
static uint64_t fnPrefix(const char *zFn, int nFn){
  return hashMix(0x2545f4914f6cdd1dULL, (const unsigned char*)zFn, nFn)
           >> (64 - CACHIER_ID_FN_B);
}

/* Fill pKey->iBase, the first id of the key's slot range, given iFnBase,
** the first id of the function's range (keyFnRange()); the id layout is
** defined in cachier.h ("persistent formats"). Test builds may weaken key_hash to p->hashBits bits so collisions happen. */
void keySetHash(Cachier *p, CachierKey *pKey, sqlite3_int64 iFnBase){
  uint64_t h = keyHash(pKey->aKey, pKey->nKey);
  if( p->hashBits>0 && p->hashBits<CACHIER_ID_KEY_B ){
    h &= CACHIER_BITS(p->hashBits);
  }
  pKey->iBase = CACHIER_ID(CACHIER_ID_FN(iFnBase), h, 0);
}

/* The id range [*piLo, *piHi] that holds every entry of zFn (and, rarely,
** of other functions whose names share the 16-bit prefix). */
void keyFnRange(const char *zFn, sqlite3_int64 *piLo, sqlite3_int64 *piHi){
  uint64_t fn = fnPrefix(zFn, (int)strlen(zFn));
  *piLo = CACHIER_ID(fn, 0, 0);
  *piHi = CACHIER_ID(fn, CACHIER_BITS(CACHIER_ID_KEY_B), CACHIER_ID_LAST_SLOT);
}

/* Logical size of a value: 8 for numbers, 0 for NULL, else its bytes. This
** is what entry_size_limit, cachier_entries.bytes and the stats count. */
sqlite3_int64 cachierValueBytes(sqlite3_value *pVal){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER: case SQLITE_FLOAT: return 8;
    case SQLITE_NULL: return 0;
    default: return sqlite3_value_bytes(pVal);
  }
}

const char *typeName(int eType){
  switch( eType ){
    case SQLITE_INTEGER: return "integer";
    case SQLITE_FLOAT:   return "real";
    case SQLITE_TEXT:    return "text";
    case SQLITE_BLOB:    return "blob";
    default:             return "null";
  }
}

static int getVarint(const unsigned char *a, sqlite3_int64 n, sqlite3_int64 *pi,
                     uint64_t *pv){
  uint64_t v = 0;
  int shift = 0;
  while( *pi<n && shift<64 ){
    unsigned char c = a[(*pi)++];
    v |= ((uint64_t)(c & 0x7f)) << shift;
    if( (c & 0x80)==0 ){ *pv = v; return 1; }
    shift += 7;
  }
  return 0;
}

static uint64_t getU64(const unsigned char *a){
  uint64_t v = 0;
  int i;
  for(i=0; i<8; i++) v = (v<<8) | a[i];
  return v;
}

/* Append one encoded value at a[*pi] to pStr as JSON. 0 if malformed. */
static int valueToJson(sqlite3_str *pStr, const unsigned char *a,
                       sqlite3_int64 n, sqlite3_int64 *pi){
  int tag, eType, subtype = 0;
  uint64_t len;
  if( *pi>=n ) return 0;
  tag = a[(*pi)++];
  eType = tag & 0x7f;
  if( tag & 0x80 ){
    if( *pi>=n ) return 0;
    subtype = a[(*pi)++];
  }
  if( eType==SQLITE_TEXT && subtype==CACHIER_JSON_SUBTYPE ){
    /* A JSON argument (from json(), json_object(), ...) shows as JSON, so
    ** it differs from the same text passed as a plain string. */
    if( !getVarint(a, n, pi, &len) || len>(uint64_t)(n-*pi) ) return 0;
    sqlite3_str_append(pStr, (const char*)&a[*pi], (int)len);
    *pi += len;
    return 1;
  }
  switch( eType ){
    case SQLITE_INTEGER:
      if( *pi+8>n ) return 0;
      sqlite3_str_appendf(pStr, "%lld", (sqlite3_int64)getU64(&a[*pi]));
      *pi += 8;
      return 1;
    case SQLITE_FLOAT: {
      uint64_t u;
      double r;
      if( *pi+8>n ) return 0;
      u = getU64(&a[*pi]);
      memcpy(&r, &u, 8);
      *pi += 8;
      if( r!=r || r>1.7976931348623157e308 || r<-1.7976931348623157e308 ){
        sqlite3_str_appendf(pStr, "\"%s\"", r>0 ? "Infinity" : "-Infinity");
      }else{
        char zBuf[40];
        sqlite3_snprintf(sizeof(zBuf), zBuf, "%!.17g", r);
        if( r==0.0 && (u>>63) ) sqlite3_snprintf(sizeof(zBuf), zBuf, "-0.0");
        /* Keep REALs recognisable as such: 1.0, not 1. */
        sqlite3_str_appendall(pStr, zBuf);
        if( strpbrk(zBuf, ".eE")==0 ) sqlite3_str_appendall(pStr, ".0");
      }
      return 1;
    }
    case SQLITE_TEXT:
      if( !getVarint(a, n, pi, &len) || len>(uint64_t)(n-*pi) ) return 0;
      sqlite3_str_appendchar(pStr, 1, '"');
      {
        sqlite3_int64 j;
        for(j=0; j<(sqlite3_int64)len; j++){
          unsigned char c = a[*pi+j];
          if( c=='"' || c=='\\' ){
            sqlite3_str_appendchar(pStr, 1, '\\');
            sqlite3_str_appendchar(pStr, 1, (char)c);
          }else if( c<0x20 ){
            sqlite3_str_appendf(pStr, "\\u%04x", c);
          }else{
            sqlite3_str_appendchar(pStr, 1, (char)c);
          }
        }
      }
      sqlite3_str_appendchar(pStr, 1, '"');
      *pi += len;
      return 1;
    case SQLITE_BLOB: {
      sqlite3_int64 j;
      if( !getVarint(a, n, pi, &len) || len>(uint64_t)(n-*pi) ) return 0;
      sqlite3_str_appendall(pStr, "\"x'");
      for(j=0; j<(sqlite3_int64)len; j++){
        sqlite3_str_appendf(pStr, "%02x", a[*pi+j]);
      }
      sqlite3_str_appendall(pStr, "'\"");
      *pi += len;
      return 1;
    }
    case SQLITE_NULL:
      sqlite3_str_appendall(pStr, "null");
      return 1;
    default:
      return 0;
  }
}

/* The key a[0..n) as a JSON array of its arguments (blobs as "x'hex'"
** strings). A hash_func key shows as {"hash_func_key": value}.
** Returns a string from sqlite3_malloc, or NULL if malformed or (*pRc is
** then SQLITE_NOMEM) out of memory. */
char *keyToJson(const unsigned char *a, sqlite3_int64 n, int *pRc){
  char *z;
  sqlite3_str *pStr;
  sqlite3_int64 i = 0;
  int ok = 1;
  *pRc = SQLITE_OK;
  while( i<n && a[i] ) i++;          /* skip the function name */
  if( i>=n ) return 0;
  i++;
  pStr = sqlite3_str_new(0);
  if( i<n && a[i]==KEY_HASHFUNC_MARK ){
    i++;
    sqlite3_str_appendall(pStr, "{\"hash_func_key\":");
    ok = valueToJson(pStr, a, n, &i);
    sqlite3_str_appendchar(pStr, 1, '}');
  }else{
    uint64_t nArg, j;
    ok = getVarint(a, n, &i, &nArg);
    sqlite3_str_appendchar(pStr, 1, '[');
    for(j=0; ok && j<nArg; j++){
      if( j ) sqlite3_str_appendchar(pStr, 1, ',');
      ok = valueToJson(pStr, a, n, &i);
    }
    sqlite3_str_appendchar(pStr, 1, ']');
  }
  *pRc = SQLITE_OK;
  if( !ok || i!=n ){
    sqlite3_free(sqlite3_str_finish(pStr));
    return 0;
  }
  z = sqlite3_str_finish(pStr);
  if( z==0 ) *pRc = SQLITE_NOMEM;
  return z;
}

/* Decode the argument list of a key made by keyEncodeArgs() (a[0..n),
** function name included). Without pStmt: *pnArg gets the argument count
** and aSub[0..*pnArg) their subtypes (aSub has room for CACHIER_MAX_ARGS).
** With pStmt: the arguments are bound to its parameters 1..nArg (the
** bytes of a must outlive the binding). SQLITE_CORRUPT if malformed or a
** hash_func key (which does not hold the arguments). */
int keyDecodeArgs(const unsigned char *a, sqlite3_int64 n, int *pnArg,
                  unsigned char *aSub, sqlite3_stmt *pStmt){
  const unsigned char *pNul = a ? memchr(a, 0, (size_t)n) : 0;
  sqlite3_int64 i;
  uint64_t nArg, len;
  int iArg;
  if( pNul==0 ) return SQLITE_CORRUPT;
  i = (pNul - a) + 1;
  if( i<n && a[i]==KEY_HASHFUNC_MARK ) return SQLITE_CORRUPT;
  if( !getVarint(a, n, &i, &nArg) || nArg>CACHIER_MAX_ARGS ){
    return SQLITE_CORRUPT;
  }
  for(iArg=0; iArg<(int)nArg; iArg++){
    int tag, eType, subtype = 0;
    if( i>=n ) return SQLITE_CORRUPT;
    tag = a[i++];
    eType = tag & 0x7f;
    if( tag & 0x80 ){
      if( i>=n ) return SQLITE_CORRUPT;
      subtype = a[i++];
    }
    if( aSub ) aSub[iArg] = (unsigned char)subtype;
    switch( eType ){
      case SQLITE_INTEGER:
      case SQLITE_FLOAT: {
        uint64_t u;
        if( i+8>n ) return SQLITE_CORRUPT;
        u = getU64(&a[i]);
        i += 8;
        if( pStmt==0 ) break;
        if( eType==SQLITE_INTEGER ){
          sqlite3_bind_int64(pStmt, iArg+1, (sqlite3_int64)u);
        }else{
          double r;
          memcpy(&r, &u, 8);
          sqlite3_bind_double(pStmt, iArg+1, r);
        }
        break;
      }
      case SQLITE_TEXT:
      case SQLITE_BLOB:
        if( !getVarint(a, n, &i, &len) || len>(uint64_t)(n-i) ){
          return SQLITE_CORRUPT;
        }
        /* (A bind fails past SQLITE_LIMIT_LENGTH, or converting to a
        ** UTF-16 database: the call must not get a NULL instead.) */
        if( pStmt ){
          int rc = eType==SQLITE_TEXT
            ? sqlite3_bind_text64(pStmt, iArg+1, (const char*)&a[i], len,
                                  SQLITE_STATIC, SQLITE_UTF8)
            : sqlite3_bind_blob64(pStmt, iArg+1, &a[i], len, SQLITE_STATIC);
          if( rc ) return rc;
        }
        i += len;
        break;
      case SQLITE_NULL:
        if( pStmt ) sqlite3_bind_null(pStmt, iArg+1);
        break;
      default:
        return SQLITE_CORRUPT;
    }
  }
  if( i!=n ) return SQLITE_CORRUPT;
  *pnArg = (int)nArg;
  return SQLITE_OK;
}

/* True if a[0..n) is a key made by keyEncodeHashFuncKey(). */
int keyIsHashFuncKey(const unsigned char *a, sqlite3_int64 n){
  const unsigned char *pNul = a ? memchr(a, 0, (size_t)n) : 0;
  return pNul && pNul+1<a+n && pNul[1]==KEY_HASHFUNC_MARK;
}

