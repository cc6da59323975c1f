/*
** store_redis.c - a store on a Redis server, shared between machines.
**
** SQL surface: the store names redis://... and unix:... in
** cachier_functions.store (redis_conn.c documents their form), as in
**   UPDATE cachier_functions SET store = 'redis://cache:6379/0?prefix=app'
**    WHERE name = 'geocode';
**
** Keys, each beginning with the store's prefix P (default "cachier"):
**   P:FN:BASE       a hash, one per key hash (BASE: 16 hex digits, the
**                   entry id of the key's first slot). Field: the encoded
**                   key (FN, NUL, the type-exact arguments: codec.c);
**                   value: the entry (below). Colliding keys are fields of
**                   one hash, each with its own slot, so a lookup is one
**                   HGET and never a false hit.
**   P:FN:refresh    a sorted set: entries marked for a next_time refresh
**                   (member: entry id in hex; score: retry_at)
**   P:FN:attempts   a hash: failed refresh attempts per entry id
**   P:%lock:BASE    the key's in-flight mark: SET NX PX with this
**                   connection's token; it expires after lease_ms
**   P:FN:dicts      a sorted set of FN's zstd dictionary ids
**   P:%dict:ID      a dictionary's bytes; P:%dict-seq allots their ids
**   P:%format       the layout version (1), so a later release can tell
** FN is the function's name with '%' and ':' %-encoded, so no key of one
** function or prefix is ever read as another's, and the names beginning
** with '%' are cachier's own.
** An entry is a 44-byte header (format, slot, type, subtype, codec,
** created, compute time, logical size, size of the arguments kept for a
** hash_func refresh) then those arguments, then the value's bytes as
** every store keeps them (zstd-compressed past compress_min).
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
** The hot tier (hot.c) fronts the store when hot_bytes allows: the store
** then has a second connection, subscribed to __redis__:invalidate, and
** the first one runs CLIENT TRACKING ON REDIRECT to it, so Redis tells it
** of every change, by anyone else, to a key this connection read (its own
** writes drop what they change at once: NOLOOP). Before each use of the
** tier, the messages that arrived are read without waiting; each names
** the keys changed, whose entries leave the tier. The tier's version
** (xVersion) counts (re)connections: one empties the tier, and while the
** second connection is down there is no tier.
**
** Failures (server down, slow, or answering errors) never fail a query:
** a read that fails is a miss, a write that fails is skipped, each is
** counted (cachier_stats) and logged, and no operation waits longer than
** timeout_ms. The connection is opened again by a later call.
*/
#include "store.h"
#include "redis_conn.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_FORMAT   1
#define ENTRY_HEADER   44
#define LAYOUT_VERSION 1
#define GRACE_SECONDS  60.0      /* added to TTLs: clock differences */
#define MAX_HELD       128
#define SCAN_BATCH     64

/* ------------------------------------------------------------- scripts */

enum { SCRIPT_LOOKUP, SCRIPT_GET, SCRIPT_WRITE, SCRIPT_DELETE, SCRIPT_DUE,
       SCRIPT_RELEASE, SCRIPT_HEADS, SCRIPT_COUNT };

static const char *const azScript[SCRIPT_COUNT] = {
  /* LOOKUP: KEYS bucket, refresh, attempts; ARGV field, id prefix (14
  ** hex). The entry and its refresh state. */
  "local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
  "if not v then return false end\n"
  "if #v < 3 then return {v, false, false} end\n"
  "local id = ARGV[2] .. string.format('%02x', string.byte(v, 3))\n"
  "return {v, redis.call('ZSCORE', KEYS[2], id),"
  " redis.call('HGET', KEYS[3], id)}\n",

  /* GET: KEYS bucket, refresh, attempts; ARGV slot, id (hex). The entry
  ** in that slot: field, entry, retry_at, attempts. */
  "local kv = redis.call('HGETALL', KEYS[1])\n"
  "local slot = tonumber(ARGV[1])\n"
  "for i = 1, #kv, 2 do\n"
  "  if string.byte(kv[i+1], 3) == slot then\n"
  "    return {kv[i], kv[i+1], redis.call('ZSCORE', KEYS[2], ARGV[2]),"
  " redis.call('HGET', KEYS[3], ARGV[2])}\n"
  "  end\n"
  "end\n"
  "return false\n",

  /* WRITE: KEYS bucket, refresh, attempts, lock; ARGV field, entry, TTL
  ** ms (0: none), token ('': not guarded), id prefix. The slot written,
  ** -1 if the mark is no longer ours, -2 if the key hash is full. A
  ** guarded write releases the mark (one round trip less per miss). */
  "if ARGV[4] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[4] then"
  " return -1 end\n"
  "local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
  "if old and #old < 3 then old = nil end\n"
  "local slot = 0\n"
  "if old then slot = string.byte(old, 3) else\n"
  "  local used = {}\n"
  "  for _, v in ipairs(redis.call('HVALS', KEYS[1])) do"
  " if #v >= 3 then used[string.byte(v, 3)] = true end end\n"
  "  while used[slot] do slot = slot + 1 end\n"
  "  if slot > 255 then return -2 end\n"
  "end\n"
  "redis.call('HSET', KEYS[1], ARGV[1], string.sub(ARGV[2], 1, 2) .."
  " string.char(slot) .. string.sub(ARGV[2], 4))\n"
  "local ttl = tonumber(ARGV[3])\n"
  "local cur = redis.call('PTTL', KEYS[1])\n"
  "if ttl == 0 then redis.call('PERSIST', KEYS[1])\n"
  "elseif redis.call('HLEN', KEYS[1]) == 1 or (cur >= 0 and cur < ttl) then"
  " redis.call('PEXPIRE', KEYS[1], ttl) end\n"
  "local id = ARGV[5] .. string.format('%02x', slot)\n"
  "redis.call('ZREM', KEYS[2], id)\n"
  "redis.call('HDEL', KEYS[3], id)\n"
  "if ARGV[4] ~= '' then redis.call('DEL', KEYS[4]) end\n"
  "return slot\n",

  /* DELETE: KEYS bucket, refresh, attempts; ARGV slot, id. How many
  ** entries went. */
  "local kv = redis.call('HGETALL', KEYS[1])\n"
  "local slot = tonumber(ARGV[1])\n"
  "local n = 0\n"
  "for i = 1, #kv, 2 do\n"
  "  if string.byte(kv[i+1], 3) == slot then"
  " redis.call('HDEL', KEYS[1], kv[i]) n = n + 1 end\n"
  "end\n"
  "redis.call('ZREM', KEYS[2], ARGV[2])\n"
  "redis.call('HDEL', KEYS[3], ARGV[2])\n"
  "return n\n",

  /* DUE: KEYS refresh, attempts; ARGV now, bucket key prefix "P:FN:".
  ** The marked ids due at now whose entry still exists (marks of entries
  ** gone, expired or evicted, are dropped). */
  "local out = {}\n"
  "for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf',"
  " ARGV[1])) do\n"
  "  local slot = tonumber(string.sub(id, 15, 16), 16)\n"
  "  local found = false\n"
  "  for _, v in ipairs(redis.call('HVALS', ARGV[2] .. string.sub(id, 1, 14)"
  " .. '00')) do\n"
  "    if string.byte(v, 3) == slot then found = true break end\n"
  "  end\n"
  "  if found then out[#out+1] = id else\n"
  "    redis.call('ZREM', KEYS[1], id) redis.call('HDEL', KEYS[2], id) end\n"
  "end\n"
  "return out\n",

  /* RELEASE: KEYS lock; ARGV token. Deletes the mark if it is ours. */
  "if redis.call('GET', KEYS[1]) == ARGV[1] then"
  " return redis.call('DEL', KEYS[1]) end\n"
  "return 0\n",

  /* HEADS: ARGV bucket keys, each followed by a NUL. What totals and
  ** eviction need of each entry, without its value: a flat list of
  ** (bucket's index from 1, slot, logical size, stored size, compute ns,
  ** created as text). Keys not of a hash are skipped. */
  "local out = {}\n"
  "local i, pos = 0, 1\n"
  "while pos <= #ARGV[1] do\n"
  "  local e = string.find(ARGV[1], '\\0', pos, true)\n"
  "  local k = string.sub(ARGV[1], pos, e - 1)\n"
  "  pos = e + 1\n"
  "  i = i + 1\n"
  "  local vals = redis.pcall('HVALS', k)\n"
  "  if type(vals) == 'table' and not vals.err then\n"
  "    for _, v in ipairs(vals) do\n"
  "      if #v >= 44 and string.byte(v, 1) == 1 then\n"
  "        local nargs = struct.unpack('<I4', v, 41)\n"
  "        local nbytes = struct.unpack('<i8', v, 33)\n"
  "        local stored = nbytes\n"
  "        if struct.unpack('<i8', v, 9) ~= 0 then"
  " stored = #v - 44 - nargs end\n"
  "        out[#out+1] = i\n"
  "        out[#out+1] = string.byte(v, 3)\n"
  "        out[#out+1] = nbytes\n"
  "        out[#out+1] = stored\n"
  "        out[#out+1] = struct.unpack('<i8', v, 25)\n"
  "        out[#out+1] = string.format('%.17g', struct.unpack('<d', v, 17))\n"
  "      end\n"
  "    end\n"
  "  end\n"
  "end\n"
  "return out\n",
};

/* ---------------------------------------------------------------- store */

/* A function name seen by this store, to find the keys of an entry id
** (an id holds the 16-bit hash of its function's name, not the name). */
typedef struct KnownFn KnownFn;
struct KnownFn {
  char *zFn;
  sqlite3_int64 iLo;          /* keyFnRange() */
};

typedef struct RedisStore RedisStore;
struct RedisStore {
  CachierStore base;
  RedisConfig config;
  char *zName;                /* the name it was opened with, as written */
  RedisConn conn;
  int eFormat;                /* STORE_READY or STORE_NEWER */
  char aSha[SCRIPT_COUNT][41];
  char zToken[33];            /* this connection's in-flight marks */
  sqlite3 *dbScratch;         /* turns stored bytes into sqlite3_values */
  sqlite3_stmt *pValue;       /* SELECT ?1, for lookups and gets */
  redisReply *pEntryReply;    /* holds the bytes of the last entry read */
  KnownFn *aFn;
  int nFn;
  sqlite3_int64 aHeld[MAX_HELD];  /* the marks this connection holds */
  int nHeld;
  /* A miss followed by taking the key's mark is the path of every stored
  ** miss: the mark's SET NX and the look again (another machine may have
  ** stored the value in between) go in one round trip. */
  char *zMissBucket;          /* the last miss: its bucket key, */
  unsigned char *aMissField;  /* encoded key */
  sqlite3_int64 nMissField, iMissBase;
  redisReply *pAgain;         /* its look again, made with the mark */
  /* While a listing is open, which keys are being computed, read once
  ** (one SCAN) rather than asked of Redis row by row. */
  int nScanOpen;
  int bMarkSnap;
  sqlite3_int64 *aMarkSnap;   /* the marked key hashes, sorted */
  int nMarkSnap;
  sqlite3_int64 dataVersion;  /* bumped by dictionary changes */
  /* The hot tier's invalidations (see the header). */
  RedisConn sub;              /* subscribed to __redis__:invalidate */
  long long subId;            /* its CLIENT ID */
  int bTracking;              /* conn tracks its reads, redirected to sub */
  sqlite3_int64 epoch;        /* bumped when tracking starts or stops */
  sqlite3_int64 nInvalidation;  /* messages sub received */
  char zErr[300];
};

static char *hexId(char *zBuf, sqlite3_int64 id){
  snprintf(zBuf, 17, "%016llx", (unsigned long long)id);
  return zBuf;
}

/* The key of zFn's bucket of iBase, of one of its own keys (zWhat), of a
** mark: sqlite3_free() them. */
static char *globEscape(const char *z);

/* zFn as a key segment: '%' and ':' %-encoded. */
static char *fnSegment(const char *zFn){
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
static char *fnOfSegment(const char *z, size_t n){
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

static char *bucketKey(RedisStore *s, const char *zFn, sqlite3_int64 iBase){
  char *zSeg = fnSegment(zFn);
  char *z = zSeg ? sqlite3_mprintf("%s:%s:%016llx", s->config.zPrefix, zSeg,
                                   (unsigned long long)iBase) : 0;
  sqlite3_free(zSeg);
  return z;
}
static char *fnKey(RedisStore *s, const char *zFn, const char *zWhat){
  char *zSeg = fnSegment(zFn);
  char *z = zSeg ? sqlite3_mprintf("%s:%s:%s", s->config.zPrefix, zSeg, zWhat)
                 : 0;
  sqlite3_free(zSeg);
  return z;
}
static char *lockKey(RedisStore *s, sqlite3_int64 iBase){
  return sqlite3_mprintf("%s:%%lock:%016llx", s->config.zPrefix,
                         (unsigned long long)iBase);
}
/* The keys of an entry of zFn in the bucket of iBase: the bucket, and
** the function's refresh marks and attempts. */
typedef struct EntryKeys EntryKeys;
struct EntryKeys { char *zBucket, *zRefresh, *zAttempts; };
static int entryKeys(RedisStore *s, const char *zFn, sqlite3_int64 iBase,
                     EntryKeys *k){
  k->zBucket = bucketKey(s, zFn, iBase);
  k->zRefresh = fnKey(s, zFn, "refresh");
  k->zAttempts = fnKey(s, zFn, "attempts");
  return k->zBucket && k->zRefresh && k->zAttempts ? SQLITE_OK
                                                   : SQLITE_NOMEM;
}
static void entryKeysFree(EntryKeys *k){
  sqlite3_free(k->zBucket);
  sqlite3_free(k->zRefresh);
  sqlite3_free(k->zAttempts);
}

/* SCAN MATCH pattern of zFn's keys: PREFIX:FN:zTail (zTail a pattern). */
static char *fnPattern(RedisStore *s, const char *zFn, const char *zTail){
  char *zP = globEscape(s->config.zPrefix);
  char *zSeg = fnSegment(zFn);
  char *zSegP = zSeg ? globEscape(zSeg) : 0;
  char *z = zP && zSegP ? sqlite3_mprintf("%s:%s:%s", zP, zSegP, zTail) : 0;
  sqlite3_free(zP);
  sqlite3_free(zSeg);
  sqlite3_free(zSegP);
  return z;
}

/* z with the glob characters of SCAN MATCH escaped. */
static char *globEscape(const char *z){
  sqlite3_str *pStr = sqlite3_str_new(0);
  for(; *z; z++){
    if( strchr("*?[]\\", *z) ) sqlite3_str_appendchar(pStr, 1, '\\');
    sqlite3_str_appendchar(pStr, 1, *z);
  }
  return sqlite3_str_finish(pStr);
}

/* Remember zFn (see KnownFn). */
static void noteFn(RedisStore *s, const char *zFn){
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

static void setErr(RedisStore *s, const char *zFmt, const char *zArg){
  snprintf(s->zErr, sizeof(s->zErr), zFmt, zArg);
}

/* Run script iScript with the keys and arguments of pCmd (argv[0..2]
** left for EVALSHA, its sha and the key count), loading it again if the
** server lost it. */
static int runScript(RedisStore *s, int iScript, int nKey, RedisCmd *pCmd,
                     redisReply **ppReply){
  char zKeys[8];
  int rc;
  snprintf(zKeys, sizeof(zKeys), "%d", nKey);
  pCmd->argv[0] = "EVALSHA";
  pCmd->argvlen[0] = 7;
  pCmd->argv[1] = s->aSha[iScript];
  pCmd->argvlen[1] = strlen(s->aSha[iScript]);
  pCmd->argv[2] = zKeys;
  pCmd->argvlen[2] = strlen(zKeys);
  rc = redisRun(&s->conn, pCmd, ppReply);
  if( rc==SQLITE_ERROR && strncmp(s->conn.zErr, "NOSCRIPT", 8)==0 ){
    pCmd->argv[0] = "EVAL";
    pCmd->argvlen[0] = 4;
    pCmd->argv[1] = azScript[iScript];
    pCmd->argvlen[1] = strlen(azScript[iScript]);
    rc = redisRun(&s->conn, pCmd, ppReply);
  }
  if( rc==SQLITE_ERROR ) setErr(s, "Redis error: %s", s->conn.zErr);
  return rc;
}
/* Start a script command: three slots for runScript(). */
static void scriptInit(RedisCmd *pCmd){
  redisCmdInit(pCmd);
  pCmd->argc = 3;
}

/* A new connection: load the scripts and check the layout version. */
static int onConnect(RedisConn *pConn, void *pArg){
  RedisStore *s = (RedisStore*)pArg;
  RedisCmd aCmd[SCRIPT_COUNT+2];
  redisReply *apReply[SCRIPT_COUNT+2];
  char *zFormat = sqlite3_mprintf("%s:%%format", s->config.zPrefix);
  char zVersion[8];
  int i, rc;
  if( zFormat==0 ) return SQLITE_NOMEM;
  snprintf(zVersion, sizeof(zVersion), "%d", LAYOUT_VERSION);
  for(i=0; i<SCRIPT_COUNT; i++){
    redisCmdInit(&aCmd[i]);
    redisCmdStr(&aCmd[i], "SCRIPT");
    redisCmdStr(&aCmd[i], "LOAD");
    redisCmdStr(&aCmd[i], azScript[i]);
  }
  redisCmdInit(&aCmd[i]);
  redisCmdStr(&aCmd[i], "SET");
  redisCmdStr(&aCmd[i], zFormat);
  redisCmdStr(&aCmd[i], zVersion);
  redisCmdStr(&aCmd[i], "NX");
  i++;
  redisCmdInit(&aCmd[i]);
  redisCmdStr(&aCmd[i], "GET");
  redisCmdStr(&aCmd[i], zFormat);
  rc = redisRoundTrip(pConn, SCRIPT_COUNT+2, aCmd, apReply);
  sqlite3_free(zFormat);
  if( rc ) return rc;
  for(i=0; i<SCRIPT_COUNT; i++){
    if( rc==SQLITE_OK && (apReply[i]->type!=REDIS_REPLY_STRING
                          || apReply[i]->len!=40) ){
      snprintf(pConn->zErr, sizeof(pConn->zErr), "SCRIPT LOAD failed: %.200s",
               apReply[i]->type==REDIS_REPLY_ERROR ? apReply[i]->str : "?");
      rc = SQLITE_ERROR;
    }else if( rc==SQLITE_OK ){
      memcpy(s->aSha[i], apReply[i]->str, 40);
      s->aSha[i][40] = 0;
    }
  }
  s->eFormat = STORE_READY;
  s->bTracking = 0;           /* (a new connection tracks nothing yet) */
  s->epoch++;
  if( apReply[SCRIPT_COUNT+1]->type==REDIS_REPLY_STRING
   && atoi(apReply[SCRIPT_COUNT+1]->str)>LAYOUT_VERSION ){
    s->eFormat = STORE_NEWER;
  }
  for(i=0; i<SCRIPT_COUNT+2; i++) freeReplyObject(apReply[i]);
  return rc;
}

/* ------------------------------------------------------------- entries */

static void put32(unsigned char *a, uint32_t v){ memcpy(a, &v, 4); }
static void put64(unsigned char *a, uint64_t v){ memcpy(a, &v, 8); }
static uint32_t get32(const unsigned char *a){ uint32_t v; memcpy(&v, a, 4); return v; }
static uint64_t get64(const unsigned char *a){ uint64_t v; memcpy(&v, a, 8); return v; }

/* The entry w encodes to (slot left 0: the write script sets it), in
** sqlite3_malloc'ed *paOut. */
static int entryEncode(const CachierWrite *w, unsigned char **paOut,
                       sqlite3_int64 *pnOut){
  int eType = w->codec ? SQLITE_BLOB : sqlite3_value_type(w->pValue);
  const void *aVal = 0;
  sqlite3_int64 nVal = 0, n;
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
  n = ENTRY_HEADER + w->nArgs + nVal;
  a = sqlite3_malloc64(n);
  if( a==0 ) return SQLITE_NOMEM;
  a[0] = ENTRY_FORMAT;
  a[1] = 0;
  a[2] = 0;                                   /* slot */
  a[3] = (unsigned char)eType;
  put32(a+4, (uint32_t)w->subtype);
  put64(a+8, (uint64_t)(sqlite3_int64)w->codec);
  memcpy(a+16, &w->created, 8);
  put64(a+24, (uint64_t)w->computeNs);
  put64(a+32, (uint64_t)cachierValueBytes(w->pValue));
  put32(a+40, (uint32_t)w->nArgs);
  if( w->nArgs ) memcpy(a+ENTRY_HEADER, w->aArgs, (size_t)w->nArgs);
  if( nVal ) memcpy(a+ENTRY_HEADER+w->nArgs, aVal, (size_t)nVal);
  *paOut = a;
  *pnOut = n;
  return SQLITE_OK;
}

/* A statement "SELECT ?1" on the store's scratch database, to make
** sqlite3_values of stored bytes (without copying them). */
static sqlite3_stmt *valueStmt(RedisStore *s){
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
static int entryDecode(sqlite3_stmt *pStmt, const redisReply *pField,
                       const redisReply *pEntry, sqlite3_int64 iBase,
                       CachierEntry *e){
  const unsigned char *a = (const unsigned char*)pEntry->str;
  sqlite3_int64 n = (sqlite3_int64)pEntry->len, nArgs, nVal;
  const unsigned char *aVal;
  int eType;
  memset(e, 0, sizeof(*e));
  if( pField->type!=REDIS_REPLY_STRING || pEntry->type!=REDIS_REPLY_STRING
   || n<ENTRY_HEADER || a[0]!=ENTRY_FORMAT
   || memchr(pField->str, 0, pField->len)==0 ){
    return SQLITE_CORRUPT;
  }
  nArgs = get32(a+40);
  if( nArgs > n - ENTRY_HEADER ) return SQLITE_CORRUPT;
  aVal = a + ENTRY_HEADER + nArgs;
  nVal = n - ENTRY_HEADER - nArgs;
  eType = a[3];
  e->id = iBase | a[2];
  e->zFn = pField->str;
  e->aKey = (const unsigned char*)pField->str;
  e->nKey = (sqlite3_int64)pField->len;
  e->subtype = (int)get32(a+4);
  e->codec = (int)(sqlite3_int64)get64(a+8);
  memcpy(&e->created, a+16, 8);
  e->computeNs = (sqlite3_int64)get64(a+24);
  e->nBytes = (sqlite3_int64)get64(a+32);
  e->aArgs = nArgs ? a + ENTRY_HEADER : 0;
  e->nArgs = nArgs;
  sqlite3_reset(pStmt);
  switch( eType ){
    case SQLITE_INTEGER: case SQLITE_FLOAT:
      if( nVal!=8 ) return SQLITE_CORRUPT;
      if( eType==SQLITE_INTEGER ){
        sqlite3_bind_int64(pStmt, 1, (sqlite3_int64)get64(aVal));
      }else{
        double r;
        memcpy(&r, aVal, 8);
        sqlite3_bind_double(pStmt, 1, r);
      }
      break;
    case SQLITE_TEXT:
      sqlite3_bind_text64(pStmt, 1, (const char*)aVal, (sqlite3_uint64)nVal,
                          SQLITE_STATIC, SQLITE_UTF8);
      break;
    case SQLITE_BLOB:
      sqlite3_bind_blob64(pStmt, 1, nVal ? (const void*)aVal : (const void*)"",
                          (sqlite3_uint64)nVal, SQLITE_STATIC);
      break;
    case SQLITE_NULL:
      if( nVal!=0 ) return SQLITE_CORRUPT;
      sqlite3_bind_null(pStmt, 1);
      break;
    default:
      return SQLITE_CORRUPT;
  }
  if( e->codec && eType!=SQLITE_BLOB ) return SQLITE_CORRUPT;
  /* A raw value is exactly its logical size: a truncated or extended
  ** entry is not served. (A compressed one is checked when decoded.) */
  if( e->codec==0 && e->nBytes!=(eType==SQLITE_INTEGER
                                 || eType==SQLITE_FLOAT ? 8
                                 : eType==SQLITE_NULL ? 0 : nVal) ){
    return SQLITE_CORRUPT;
  }
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) return SQLITE_NOMEM;
  e->pValue = sqlite3_column_value(pStmt, 0);
  return SQLITE_OK;
}

/* The refresh state of an entry from a (score, attempts) reply pair. */
static void entryRefreshState(CachierEntry *e, const redisReply *pScore,
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
  if( s->pValue==0 && (s->pValue = valueStmt(s))==0 ) return SQLITE_NOMEM;
  memset(&field, 0, sizeof(field));
  field.type = REDIS_REPLY_STRING;
  field.str = (char*)pKey->aKey;
  field.len = (size_t)pKey->nKey;
  rc = entryDecode(s->pValue, &field, pBytes, pKey->iBase, pEntry);
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
  char *zBucket = bucketKey(s, pKey->zFn, pKey->iBase);
  char *zRefresh = 0, *zAttempts = 0;
  char zId[17];
  RedisCmd cmd;
  redisReply *pReply = 0;
  int rc;
  *pFound = 0;
  entryReplyFree(s);
  missForget(s);
  if( zBucket==0 ) return SQLITE_NOMEM;
  noteFn(s, pKey->zFn);
  if( flags & CACHIER_LOOKUP_REFRESH ){
    zRefresh = fnKey(s, pKey->zFn, "refresh");
    zAttempts = fnKey(s, pKey->zFn, "attempts");
    scriptInit(&cmd);
    redisCmdStr(&cmd, zBucket);
    redisCmdStr(&cmd, zRefresh ? zRefresh : "");
    redisCmdStr(&cmd, zAttempts ? zAttempts : "");
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    redisCmdArg(&cmd, hexId(zId, pKey->iBase), 14);
    rc = runScript(s, SCRIPT_LOOKUP, 3, &cmd, &pReply);
    /* (A script's reads may not be tracked: what it found must not stay
    ** in the hot tier.) */
    if( rc==SQLITE_OK && pReply->type!=REDIS_REPLY_NIL ) s->epoch++;
  }else{
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "HGET");
    redisCmdStr(&cmd, zBucket);
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( rc==SQLITE_ERROR ) setErr(s, "Redis error: %s", s->conn.zErr);
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
    entryRefreshState(pEntry, pReply->element[1], pReply->element[2]);
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
                     | CACHIER_LOOKUP_REFRESH, pEntry, pFound);
}

/* Drop iBase from the marks this connection holds: 1 if it was there. */
static int forgetMark(RedisStore *s, sqlite3_int64 iBase){
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
static int holdsMark(RedisStore *s, sqlite3_int64 iBase){
  int i;
  for(i=0; i<s->nHeld && i<MAX_HELD; i++){
    if( s->aHeld[i]==iBase ) return 1;
  }
  return 0;
}

static int redisWrite(CachierStore *pStore, const CachierKey *pKey,
                      const CachierWrite *w){
  RedisStore *s = (RedisStore*)pStore;
  EntryKeys k;
  char *zLock = lockKey(s, pKey->iBase);
  unsigned char *aEntry = 0;
  sqlite3_int64 nEntry = 0;
  char zTtl[24], zId[17];
  RedisCmd cmd;
  redisReply *pReply = 0;
  int bGuarded = holdsMark(s, pKey->iBase);
  int rc = entryKeys(s, pKey->zFn, pKey->iBase, &k);
  if( rc==SQLITE_OK && zLock==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = entryEncode(w, &aEntry, &nEntry);
  hotForget(pStore, pKey);
  missForget(s);
  if( rc==SQLITE_OK ){
    noteFn(s, pKey->zFn);
    snprintf(zTtl, sizeof(zTtl), "%lld", w->ttl>0.0
             ? (long long)((w->ttl + GRACE_SECONDS)*1000.0) : 0LL);
    scriptInit(&cmd);
    redisCmdStr(&cmd, k.zBucket);
    redisCmdStr(&cmd, k.zRefresh);
    redisCmdStr(&cmd, k.zAttempts);
    redisCmdStr(&cmd, zLock);
    redisCmdArg(&cmd, pKey->aKey, (size_t)pKey->nKey);
    redisCmdArg(&cmd, aEntry, (size_t)nEntry);
    redisCmdStr(&cmd, zTtl);
    redisCmdStr(&cmd, bGuarded ? s->zToken : "");
    redisCmdArg(&cmd, hexId(zId, pKey->iBase), 14);
    rc = runScript(s, SCRIPT_WRITE, 4, &cmd, &pReply);
  }
  if( rc==SQLITE_OK ){
    /* A guarded write released the mark (or found it gone); one that
    ** could not write (-2) left it. */
    if( bGuarded && !(pReply->type==REDIS_REPLY_INTEGER
                      && pReply->integer==-2) ){
      forgetMark(s, pKey->iBase);
    }
    if( pReply->type==REDIS_REPLY_INTEGER && pReply->integer==-1 ){
      /* Our mark expired or was cleared: a newer value may be there. */
      cachierLog(pStore->pCachier, "cachier: %s(): the in-flight mark's "
                 "lease ended before the value was computed; not storing it "
                 "over what may be newer", pKey->zFn);
    }else if( pReply->type==REDIS_REPLY_INTEGER && pReply->integer==-2 ){
      setErr(s, "%s", "256 keys share one key hash");
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
  char zId[17];
  hotClear(pStore);
  while( rc==SQLITE_OK && (zFn = fnOfId(s, id, &iNext))!=0 ){
    char *zKey = fnKey(s, zFn, "refresh");
    RedisCmd cmd;
    redisReply *pReply = 0;
    if( zKey==0 ) return SQLITE_NOMEM;
    redisCmdInit(&cmd);
    redisCmdStr(&cmd, "ZADD");
    redisCmdStr(&cmd, zKey);
    redisCmdStr(&cmd, "NX");
    redisCmdStr(&cmd, "0");
    redisCmdStr(&cmd, hexId(zId, id));
    rc = redisRun(&s->conn, &cmd, &pReply);
    if( pReply ) freeReplyObject(pReply);
    sqlite3_free(zKey);
  }
  return rc;
}

/* zFn's entry ids marked and due at now, appended to *paId. */
static int dueOf(RedisStore *s, const char *zFn, double now,
                 sqlite3_int64 **paId, int *pnId){
  char *zRefresh = fnKey(s, zFn, "refresh");
  char *zAttempts = fnKey(s, zFn, "attempts");
  char *zBucketPrefix = fnKey(s, zFn, "");
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
  scriptInit(&cmd);
  redisCmdStr(&cmd, zRefresh);
  redisCmdStr(&cmd, zAttempts);
  redisCmdStr(&cmd, zNow);
  redisCmdStr(&cmd, zBucketPrefix);
  rc = runScript(s, SCRIPT_DUE, 2, &cmd, &pReply);
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
        if( pId->type==REDIS_REPLY_STRING && pId->len==16 ){
          aNew[(*pnId)++] = (sqlite3_int64)strtoull(pId->str, 0, 16);
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

/* SCAN every key matching zPattern (of type zType, NULL: any), calling
** xKey on each; stops at the first error. */
static int scanKeys(RedisStore *s, const char *zPattern, const char *zType,
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
      setErr(s, "%s", "unexpected SCAN reply");
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

/* The function name in key "P:FN:refresh" (sqlite3_malloc'ed), or NULL. */
static char *fnOfFnKey(RedisStore *s, const redisReply *pKey,
                       const char *zWhat){
  size_t nP = strlen(s->config.zPrefix), nW = strlen(zWhat);
  if( pKey->type!=REDIS_REPLY_STRING || pKey->len<nP+nW+3
   || memcmp(pKey->str + pKey->len - nW, zWhat, nW)!=0
   || pKey->str[pKey->len-nW-1]!=':' ){
    return 0;
  }
  if( memcmp(pKey->str, s->config.zPrefix, nP)!=0 || pKey->str[nP]!=':' ){
    return 0;
  }
  return fnOfSegment(pKey->str + nP + 1, pKey->len - nP - nW - 2);
}

typedef struct DueScan DueScan;
struct DueScan { double now; sqlite3_int64 **paId; int *pnId; };

static int dueKey(RedisStore *s, const redisReply *pKey, void *pArg){
  DueScan *d = (DueScan*)pArg;
  char *zFn = fnOfFnKey(s, pKey, "refresh");
  int rc = SQLITE_OK;
  if( zFn ){
    noteFn(s, zFn);
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
    noteFn(s, zFn);
    rc = dueOf(s, zFn, now, paId, pnId);
  }else{
    char *zPat = globEscape(s->config.zPrefix);
    char *zMatch = zPat ? sqlite3_mprintf("%s:*:refresh", zPat) : 0;
    DueScan d;
    d.now = now;
    d.paId = paId;
    d.pnId = pnId;
    rc = zMatch ? scanKeys(s, zMatch, "zset", dueKey, &d) : SQLITE_NOMEM;
    sqlite3_free(zPat);
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
  char zSlot[8], zId[17];
  RedisCmd cmd;
  int rc = entryKeys(s, zFn, id & ~(sqlite3_int64)0xff, &k);
  *ppReply = 0;
  if( rc==SQLITE_OK ){
    snprintf(zSlot, sizeof(zSlot), "%d", (int)(id & 0xff));
    scriptInit(&cmd);
    redisCmdStr(&cmd, k.zBucket);
    redisCmdStr(&cmd, k.zRefresh);
    redisCmdStr(&cmd, k.zAttempts);
    redisCmdStr(&cmd, zSlot);
    redisCmdStr(&cmd, hexId(zId, id));
    rc = runScript(s, iScript, 3, &cmd, ppReply);
  }
  entryKeysFree(&k);
  return rc;
}

static int redisGet(CachierStore *pStore, sqlite3_int64 id, CachierEntry *e,
                    int *pFound){
  RedisStore *s = (RedisStore*)pStore;
  const char *zFn;
  int iNext = 0, rc = SQLITE_OK;
  sqlite3_int64 iBase = id & ~(sqlite3_int64)0xff;
  *pFound = 0;
  entryReplyFree(s);
  if( s->pValue==0 && (s->pValue = valueStmt(s))==0 ) return SQLITE_NOMEM;
  while( rc==SQLITE_OK && !*pFound && (zFn = fnOfId(s, id, &iNext))!=0 ){
    redisReply *pReply = 0;
    rc = runSlotScript(s, SCRIPT_GET, zFn, id, &pReply);
    if( rc==SQLITE_OK && pReply->type==REDIS_REPLY_ARRAY
     && pReply->elements==4 ){
      s->pEntryReply = pReply;
      if( entryDecode(s->pValue, pReply->element[0], pReply->element[1],
                      iBase, e)==SQLITE_OK
       && strcmp(e->zFn, zFn)==0 ){
        entryRefreshState(e, pReply->element[2], pReply->element[3]);
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
    char *zRefresh = fnKey(s, zFn, "refresh");
    char *zAttempts = fnKey(s, zFn, "attempts");
    char zId[17], zScore[64], zN[16];
    RedisCmd aCmd[2];
    redisReply *apReply[2];
    if( zRefresh && zAttempts ){
      hexId(zId, id);
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

static int redisDelete(CachierStore *pStore, sqlite3_int64 id){
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

/* ---------------------------------------------------------------- scans */

typedef struct RedisScan RedisScan;
struct RedisScan {
  RedisStore *s;
  char *zFn;                  /* only this function's entries; NULL: all */
  char **azKey;               /* bucket keys, sorted, without repeats */
  int nKey, nKeyAlloc, iKey;  /* iKey: first not yet read */
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

/* The function of bucket key pKey, or NULL if it is not one ("P:FN:" and
** 16 hex digits). */
static char *fnOfBucketKey(RedisStore *s, const char *z, size_t n){
  size_t nP = strlen(s->config.zPrefix), i;
  if( n<nP+19 || memcmp(z, s->config.zPrefix, nP)!=0 || z[nP]!=':'
   || z[n-17]!=':' ){
    return 0;
  }
  for(i=n-16; i<n; i++){
    if( !((z[i]>='0' && z[i]<='9') || (z[i]>='a' && z[i]<='f')) ) return 0;
  }
  return fnOfSegment(z+nP+1, n-17-nP-1);
}

static int scanAddKey(RedisStore *s, const redisReply *pKey, void *pArg){
  RedisScan *pScan = (RedisScan*)pArg;
  char *zFn;
  if( pKey->type!=REDIS_REPLY_STRING ) return SQLITE_OK;
  zFn = fnOfBucketKey(s, pKey->str, pKey->len);
  if( zFn==0 ) return SQLITE_OK;
  if( pScan->zFn && strcmp(zFn, pScan->zFn)!=0 ){
    sqlite3_free(zFn);
    return SQLITE_OK;
  }
  sqlite3_free(zFn);
  if( pScan->nKey==pScan->nKeyAlloc ){
    int nNew = pScan->nKeyAlloc ? pScan->nKeyAlloc*2 : 64;
    char **aNew = sqlite3_realloc64(pScan->azKey, nNew*sizeof(char*));
    if( aNew==0 ) return SQLITE_NOMEM;
    pScan->azKey = aNew;
    pScan->nKeyAlloc = nNew;
  }
  pScan->azKey[pScan->nKey] = sqlite3_mprintf("%.*s", (int)pKey->len,
                                              pKey->str);
  if( pScan->azKey[pScan->nKey]==0 ) return SQLITE_NOMEM;
  pScan->nKey++;
  return SQLITE_OK;
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

static void redisScanClose(CachierScan *p){
  RedisScan *pScan = (RedisScan*)p;
  int i;
  if( pScan==0 ) return;
  if( pScan->bCounted && --pScan->s->nScanOpen==0 ){
    sqlite3_free(pScan->s->aMarkSnap);
    pScan->s->aMarkSnap = 0;
    pScan->s->nMarkSnap = 0;
    pScan->s->bMarkSnap = 0;
  }
  scanBatchFree(pScan);
  for(i=0; i<pScan->nKey; i++) sqlite3_free(pScan->azKey[i]);
  sqlite3_free(pScan->azKey);
  sqlite3_finalize(pScan->pValue);
  if( pScan->pRefresh ) freeReplyObject(pScan->pRefresh);
  if( pScan->pAttempts ) freeReplyObject(pScan->pAttempts);
  sqlite3_free(pScan->zStateFn);
  sqlite3_free(pScan->zFn);
  sqlite3_free(pScan);
}

static int redisScanOpen(CachierStore *pStore, const char *zFn,
                         CachierScan **ppScan){
  RedisStore *s = (RedisStore*)pStore;
  RedisScan *pScan = sqlite3_malloc(sizeof(*pScan));
  char *zPrefix, *zMatch = 0;
  int rc, i, j;
  *ppScan = 0;
  if( pScan==0 ) return SQLITE_NOMEM;
  memset(pScan, 0, sizeof(*pScan));
  pScan->s = s;
  pScan->bCounted = 1;
  s->nScanOpen++;
  zPrefix = globEscape(s->config.zPrefix);
  if( zFn ){
    noteFn(s, zFn);
    pScan->zFn = sqlite3_mprintf("%s", zFn);
    zMatch = fnPattern(s, zFn, "????????????????");
  }else if( zPrefix ){
    zMatch = sqlite3_mprintf("%s:*", zPrefix);
  }
  sqlite3_free(zPrefix);
  pScan->pValue = valueStmt(s);
  rc = zMatch && pScan->pValue && (zFn==0 || pScan->zFn)
     ? scanKeys(s, zMatch, "hash", scanAddKey, pScan) : SQLITE_NOMEM;
  sqlite3_free(zMatch);
  if( rc ){
    redisScanClose((CachierScan*)pScan);
    return rc;
  }
  /* SCAN may return a key twice. */
  if( pScan->nKey>1 ) qsort(pScan->azKey, pScan->nKey, sizeof(char*), cmpStr);
  for(i=j=0; i<pScan->nKey; i++){
    if( j>0 && strcmp(pScan->azKey[j-1], pScan->azKey[i])==0 ){
      sqlite3_free(pScan->azKey[i]);
    }else{
      pScan->azKey[j++] = pScan->azKey[i];
    }
  }
  pScan->nKey = j;
  *ppScan = (CachierScan*)pScan;
  return SQLITE_OK;
}

/* Read the next batch of buckets. */
static int scanLoadBatch(RedisScan *pScan){
  RedisCmd aCmd[SCAN_BATCH];
  int n = 0, rc, i;
  scanBatchFree(pScan);
  while( n<SCAN_BATCH && pScan->iKey<pScan->nKey ){
    const char *zKey = pScan->azKey[pScan->iKey++];
    size_t nKey = strlen(zKey);
    redisCmdInit(&aCmd[n]);
    redisCmdStr(&aCmd[n], "HGETALL");
    redisCmdStr(&aCmd[n], zKey);
    pScan->aBase[n] = (sqlite3_int64)strtoull(zKey + nKey - 16, 0, 16);
    pScan->azBatchFn[n] = fnOfBucketKey(pScan->s, zKey, nKey);
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
  zRefresh = fnKey(s, zFn, "refresh");
  zAttempts = fnKey(s, zFn, "attempts");
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
    if( pM->type==REDIS_REPLY_STRING && pM->len==16
     && memcmp(pM->str, zId, 16)==0 ){
      return pList->element[i+1];
    }
  }
  return 0;
}

static int redisScanNext(CachierScan *p, CachierEntry *e, int *pEof){
  RedisScan *pScan = (RedisScan*)p;
  for(;;){
    redisReply *pB;
    const char *zFn;
    if( pScan->iBatch>=pScan->nBatch ){
      int rc;
      if( pScan->iKey>=pScan->nKey ){
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
    if( entryDecode(pScan->pValue, pB->element[pScan->iElem-2],
                    pB->element[pScan->iElem-1], pScan->aBase[pScan->iBatch],
                    e)==SQLITE_OK
     && strcmp(e->zFn, zFn)==0 ){
      char zId[17];
      int rc = scanLoadState(pScan, zFn);
      if( rc ) return rc;
      hexId(zId, e->id);
      entryRefreshState(e, pairValue(pScan->pRefresh, zId),
                        pairValue(pScan->pAttempts, zId));
      noteFn(pScan->s, zFn);
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
  while( rc==SQLITE_OK && pScan->iKey<pScan->nKey ){
    sqlite3_str *pKeys = sqlite3_str_new(0);
    const char *azFn[SCAN_BATCH];
    sqlite3_int64 aBase[SCAN_BATCH];
    redisReply *pReply = 0;
    RedisCmd cmd;
    char *zKeys;
    int n = 0, nKeys, i;
    while( n<SCAN_BATCH && pScan->iKey<pScan->nKey ){
      const char *zKey = pScan->azKey[pScan->iKey++];
      size_t nKey = strlen(zKey);
      azFn[n] = fnOfBucketKey(s, zKey, nKey);
      aBase[n] = (sqlite3_int64)strtoull(zKey + nKey - 16, 0, 16);
      sqlite3_str_append(pKeys, zKey, (int)nKey);
      sqlite3_str_appendchar(pKeys, 1, 0);
      n++;
    }
    nKeys = sqlite3_str_length(pKeys);
    zKeys = sqlite3_str_finish(pKeys);
    if( zKeys==0 ){
      rc = SQLITE_NOMEM;
    }else{
      scriptInit(&cmd);
      redisCmdArg(&cmd, zKeys, (size_t)nKeys);
      rc = runScript(s, SCRIPT_HEADS, 0, &cmd, &pReply);
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
        h.id = aBase[iKey] | (replyInt(a[1]) & 0xff);
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

static int redisTotals(CachierStore *pStore, const char *zFn,
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

static int redisEvictionCandidates(CachierStore *pStore, const char *zFn,
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

static int redisDeleteOlder(CachierStore *pStore, const char *zFn,
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
  char **az;
  int n, nAlloc;
  const char *zFn;            /* only this function's keys (NULL: all) */
};

static void clearListFree(ClearList *c){
  int i;
  for(i=0; i<c->n; i++) sqlite3_free(c->az[i]);
  sqlite3_free(c->az);
}

static int clearAdd(ClearList *c, const char *z, size_t n){
  if( c->n==c->nAlloc ){
    int nNew = c->nAlloc ? c->nAlloc*2 : 64;
    char **aNew = sqlite3_realloc64(c->az, nNew*sizeof(char*));
    if( aNew==0 ) return SQLITE_NOMEM;
    c->az = aNew;
    c->nAlloc = nNew;
  }
  c->az[c->n] = sqlite3_mprintf("%.*s", (int)n, z);
  if( c->az[c->n]==0 ) return SQLITE_NOMEM;
  c->n++;
  return SQLITE_OK;
}

/* Add pKey if it is of c's function (zFn, parsed from it: NULL if the
** key is not of the kind looked for). Takes zFn. */
static int clearAddOf(ClearList *c, const redisReply *pKey, char *zFn){
  int rc = SQLITE_OK;
  if( zFn && (c->zFn==0 || strcmp(zFn, c->zFn)==0) ){
    rc = clearAdd(c, pKey->str, pKey->len);
  }
  sqlite3_free(zFn);
  return rc;
}
static int clearKey(RedisStore *s, const redisReply *pKey, void *pArg){
  if( pKey->type!=REDIS_REPLY_STRING ) return SQLITE_OK;
  return clearAddOf((ClearList*)pArg, pKey,
                    fnOfBucketKey(s, pKey->str, pKey->len));
}
static int clearStateKey(RedisStore *s, const redisReply *pKey, void *pArg){
  char *zFn = fnOfFnKey(s, pKey, "refresh");
  if( zFn==0 ) zFn = fnOfFnKey(s, pKey, "attempts");
  return clearAddOf((ClearList*)pArg, pKey, zFn);
}

/* Count the entries of buckets az[] and UNLINK every key in az[]. */
static int unlinkKeys(RedisStore *s, char **az, int n,
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

static int redisClear(CachierStore *pStore, const char *zFn,
                      sqlite3_int64 *pnDeleted){
  RedisStore *s = (RedisStore*)pStore;
  ClearList buckets, state;
  char *zPrefix = globEscape(s->config.zPrefix), *zMatch = 0, *zStateMatch = 0;
  int rc;
  memset(&buckets, 0, sizeof(buckets));
  memset(&state, 0, sizeof(state));
  buckets.zFn = state.zFn = zFn;
  *pnDeleted = 0;
  hotClear(pStore);
  if( zFn ){
    zMatch = fnPattern(s, zFn, "????????????????");
    zStateMatch = fnPattern(s, zFn, "*");
  }else if( zPrefix ){
    zMatch = sqlite3_mprintf("%s:*", zPrefix);
    zStateMatch = sqlite3_mprintf("%s:*", zPrefix);
  }
  sqlite3_free(zPrefix);
  rc = zMatch && zStateMatch ? scanKeys(s, zMatch, "hash", clearKey, &buckets)
                             : SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = scanKeys(s, zStateMatch, 0, clearStateKey, &state);
  }
  if( rc==SQLITE_OK ) rc = unlinkKeys(s, buckets.az, buckets.n, pnDeleted);
  if( rc==SQLITE_OK ) rc = unlinkKeys(s, state.az, state.n, 0);
  clearListFree(&buckets);
  clearListFree(&state);
  sqlite3_free(zMatch);
  sqlite3_free(zStateMatch);
  return rc;
}

/* ----------------------------------------------------------- dictionaries */

static int redisDictLatest(CachierStore *pStore, const char *zFn,
                           sqlite3_int64 *piId, unsigned *pZstdId){
  RedisStore *s = (RedisStore*)pStore;
  char *zDicts = fnKey(s, zFn, "dicts"), *zDict = 0;
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
    zDict = sqlite3_mprintf("%s:%%dict:%lld", s->config.zPrefix, iId);
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

static int redisDictLoad(CachierStore *pStore, sqlite3_int64 iId,
                         void **ppDict, sqlite3_int64 *pnDict){
  RedisStore *s = (RedisStore*)pStore;
  char *zDict = sqlite3_mprintf("%s:%%dict:%lld", s->config.zPrefix, iId);
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

static int redisDictAdd(CachierStore *pStore, const char *zFn,
                        const void *aDict, sqlite3_int64 nDict, int nSample,
                        double created, sqlite3_int64 *piId){
  RedisStore *s = (RedisStore*)pStore;
  char *zSeq = sqlite3_mprintf("%s:%%dict-seq", s->config.zPrefix);
  char *zDicts = fnKey(s, zFn, "dicts"), *zDict = 0;
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
  zDict = sqlite3_mprintf("%s:%%dict:%s", s->config.zPrefix, zId);
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

static int redisDictDelete(CachierStore *pStore, sqlite3_int64 iId){
  RedisStore *s = (RedisStore*)pStore;
  char *zDict = sqlite3_mprintf("%s:%%dict:%lld", s->config.zPrefix, iId);
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
    char *zDicts = fnKey(s, s->aFn[i].zFn, "dicts");
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

/* The invalidation connection is up: note its id and subscribe. */
static int onSubConnect(RedisConn *pConn, void *pArg){
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
    zFn = fnOfBucketKey(s, pKey->str, pKey->len);
    if( zFn ){
      hotForgetBase(&s->base,
          (sqlite3_int64)strtoull(pKey->str + pKey->len - 16, 0, 16));
      sqlite3_free(zFn);
    }
  }
}

/* The hot tier's version: 0 if there can be no tier now. Reads the
** invalidations that arrived, which drop what they name from the tier. */
static int redisVersion(CachierStore *pStore, unsigned char *aVer,
                        int bRecheck){
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

static int redisMayFill(CachierStore *pStore, const unsigned char *aVer){
  RedisStore *s = (RedisStore*)pStore;
  return s->bTracking && memcmp(aVer, &s->epoch, 8)==0;
}

/* In-flight marks: SET NX PX with this connection's token. */
static int redisMarkTry(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  char zLease[16];
  RedisCmd aCmd[2];
  redisReply *apReply[2];
  int rc, bAgain;
  if( holdsMark(s, iBase) || s->nHeld>=MAX_HELD ) return INFLIGHT_NONE;
  zLock = lockKey(s, iBase);
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

static void redisMarkRelease(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  RedisCmd cmd;
  redisReply *pReply = 0;
  /* (Not held any more: a guarded write released it.) */
  if( !forgetMark(s, iBase) ) return;
  zLock = lockKey(s, iBase);
  if( zLock==0 ) return;
  scriptInit(&cmd);
  redisCmdStr(&cmd, zLock);
  redisCmdStr(&cmd, s->zToken);
  /* (If this fails the mark ends with its lease.) */
  if( runScript(s, SCRIPT_RELEASE, 1, &cmd, &pReply)==SQLITE_OK ){
    freeReplyObject(pReply);
  }
  sqlite3_free(zLock);
}

static int markSnapKey(RedisStore *s, const redisReply *pKey, void *pArg){
  (void)pArg;
  if( pKey->type==REDIS_REPLY_STRING && pKey->len>=16 ){
    if( (s->nMarkSnap & 63)==0 ){
      sqlite3_int64 *aNew = sqlite3_realloc64(s->aMarkSnap,
                                  (s->nMarkSnap+64)*sizeof(sqlite3_int64));
      if( aNew==0 ) return SQLITE_NOMEM;
      s->aMarkSnap = aNew;
    }
    s->aMarkSnap[s->nMarkSnap++] =
        (sqlite3_int64)strtoull(pKey->str + pKey->len - 16, 0, 16);
  }
  return SQLITE_OK;
}
static int cmpI64(const void *a, const void *b){
  sqlite3_int64 x = *(const sqlite3_int64*)a, y = *(const sqlite3_int64*)b;
  return x<y ? -1 : x>y;
}

static int redisMarkIsComputing(CachierStore *pStore, sqlite3_int64 iBase){
  RedisStore *s = (RedisStore*)pStore;
  char *zLock;
  RedisCmd cmd;
  redisReply *pReply = 0;
  int bHeld = 0;
  if( holdsMark(s, iBase) ) return 1;
  if( s->nScanOpen>0 ){
    /* A listing: every mark at once, the first time it asks. */
    if( !s->bMarkSnap ){
      char *zP = globEscape(s->config.zPrefix);
      char *zMatch = zP ? sqlite3_mprintf("%s:%%lock:*", zP) : 0;
      s->nMarkSnap = 0;
      s->bMarkSnap = zMatch && scanKeys(s, zMatch, "string", markSnapKey,
                                         0)==SQLITE_OK;
      sqlite3_free(zP);
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
  zLock = lockKey(s, iBase);
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
  return clearAdd((ClearList*)pArg, pKey->str, pKey->len);
}

static sqlite3_int64 redisMarkClear(CachierStore *pStore, int iFnHash){
  RedisStore *s = (RedisStore*)pStore;
  ClearList marks;
  char *zPrefix = globEscape(s->config.zPrefix), *zMatch;
  sqlite3_int64 n = 0;
  memset(&marks, 0, sizeof(marks));
  zMatch = zPrefix==0 ? 0 : iFnHash<0 ? sqlite3_mprintf("%s:%%lock:*", zPrefix)
         : sqlite3_mprintf("%s:%%lock:%04x*", zPrefix, iFnHash);
  if( zMatch && scanKeys(s, zMatch, "string", clearMarkKey,
                         &marks)==SQLITE_OK ){
    n = marks.n;
    unlinkKeys(s, marks.az, marks.n, 0);
  }
  clearListFree(&marks);
  sqlite3_free(zMatch);
  sqlite3_free(zPrefix);
  return n;
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
  s->sub.xOnConnect = onSubConnect;
  s->sub.pOnConnectArg = s;
  return &s->base;
}
