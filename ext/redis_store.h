/*
** redis_store.h - private header of the Redis store: the RedisStore
** object and the functions the redis_*.c files and store_redis.c share.
**
** No SQL surface of its own (store_redis.c documents the store, its keys
** and its SQL names; redis_format.c the keys' names and the entry format).
** Sectioned like fts5Int.h: "Interface to code in X.c".
*/
#ifndef CACHIER_REDIS_STORE_H
#define CACHIER_REDIS_STORE_H

#include "store.h"
#include "redis_conn.h"

#define REDIS_LAYOUT_VERSION 1    /* the value of key P:%format */
#define REDIS_GRACE_SECONDS  60.0 /* added to TTLs: clock differences */
#define REDIS_MAX_HELD       128  /* in-flight marks one store may hold */

/* The Lua scripts (sql/redis/NAME.lua, redis_script.c). */
enum { SCRIPT_LOOKUP, SCRIPT_GET, SCRIPT_WRITE, SCRIPT_DELETE, SCRIPT_DUE,
       SCRIPT_RELEASE, SCRIPT_HEADS, SCRIPT_COUNT };

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
  sqlite3_int64 aHeld[REDIS_MAX_HELD];  /* the marks this connection holds */
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
  /* The hot tier's invalidations (redis_tracking.c). */
  RedisConn sub;              /* subscribed to __redis__:invalidate */
  long long subId;            /* its CLIENT ID */
  int bTracking;              /* conn tracks its reads, redirected to sub */
  sqlite3_int64 epoch;        /* bumped when tracking starts or stops */
  sqlite3_int64 nInvalidation;  /* messages sub received */
  char zErr[300];
};

/**************************************************************************
** Interface to code in redis_format.c (pure: no server, no RedisStore).
*/

/* The entry header (redis_format.c documents it): offset of each field,
** little-endian, and its size. */
#define REDIS_ENTRY_FORMAT   1    /* the value of the format byte */
#define REDIS_HDR_FORMAT     0    /* 1 byte: REDIS_ENTRY_FORMAT */
#define REDIS_HDR_STAMP      1    /* 1 byte: 8-byte words of the stamp */
#define REDIS_HDR_SLOT       2    /* 1 byte: the entry id's slot */
#define REDIS_HDR_TYPE       3    /* 1 byte: SQLITE_INTEGER .. SQLITE_NULL */
#define REDIS_HDR_SUBTYPE    4    /* 4 bytes: unsigned */
#define REDIS_HDR_CODEC      8    /* 8 bytes: signed */
#define REDIS_HDR_CREATED    16   /* 8 bytes: a double, unix seconds */
#define REDIS_HDR_COMPUTE    24   /* 8 bytes: compute time, ns */
#define REDIS_HDR_NBYTES     32   /* 8 bytes: the value's logical size */
#define REDIS_HDR_NARGS      40   /* 4 bytes: size of the kept arguments */
#define REDIS_HDR_SIZE       44
/* An entry id as text: 16 hex digits, the last REDIS_SLOT_HEX the slot. */
#define REDIS_ID_HEX         16
#define REDIS_SLOT_HEX       (CACHIER_ID_SLOT_B/4)
#define REDIS_BASE_HEX       (REDIS_ID_HEX - REDIS_SLOT_HEX)

/* An entry's header, and where its arguments and value are. */
typedef struct RedisEntryHeader RedisEntryHeader;
struct RedisEntryHeader {
  int slot;
  int eType;
  int subtype;
  int codec;
  double created;
  sqlite3_int64 computeNs;
  sqlite3_int64 nBytes;
  const unsigned char *aArgs;   /* NULL when nArgs is 0 */
  sqlite3_int64 nArgs;
  const unsigned char *aVal;
  sqlite3_int64 nVal;
  const unsigned char *aStamp;  /* the stamp (cachier.h), NULL: none */
  int nStamp;
};

int redisEntryEncode(const CachierWrite*, unsigned char **paOut,
                     sqlite3_int64 *pnOut);
int redisEntryParse(const unsigned char *a, sqlite3_int64 n,
                    RedisEntryHeader*);

char *redisHexId(char *zBuf, sqlite3_int64 id);
char *redisFnSegment(const char *zFn);
char *redisFnOfSegment(const char *z, size_t n);
char *redisGlobEscape(const char *z);
char *redisBucketKey(const char *zPrefix, const char *zFn,
                     sqlite3_int64 iBase);
char *redisFnKey(const char *zPrefix, const char *zFn, const char *zWhat);
char *redisLockKey(const char *zPrefix, sqlite3_int64 iBase);
char *redisDictKey(const char *zPrefix, sqlite3_int64 iId);
char *redisOwnKey(const char *zPrefix, const char *zWhat);
char *redisFnPattern(const char *zPrefix, const char *zFn,
                     const char *zTail);
char *redisPrefixPattern(const char *zPrefix, const char *zTail);
char *redisBucketPattern(const char *zPrefix, const char *zFn);
char *redisLockPattern(const char *zPrefix, int iFnHash);
char *redisFnOfBucketKey(const char *zPrefix, const char *z, size_t n);
char *redisFnOfFnKey(const char *zPrefix, const char *z, size_t n,
                     const char *zWhat);
sqlite3_int64 redisKeyId(const char *z, size_t n);

/**************************************************************************
** Interface to code in redis_script.c.
*/
int redisScriptsLoad(RedisConn*, const char *zPrefix, char (*aSha)[41],
                     int *peFormat);
void redisScriptInit(RedisCmd*);
int redisRunScript(RedisStore*, int iScript, int nKey, RedisCmd*,
                   redisReply **ppReply);

/**************************************************************************
** Interface to code in store_redis.c.
*/
void redisSetErr(RedisStore*, const char *zFmt, const char *zArg);
void redisNoteFn(RedisStore*, const char *zFn);
sqlite3_stmt *redisValueStmt(RedisStore*);
int redisEntryDecode(sqlite3_stmt*, const redisReply *pField,
                     const redisReply *pEntry, sqlite3_int64 iBase,
                     CachierEntry*);
void redisEntryRefreshState(CachierEntry*, const redisReply *pScore,
                            const redisReply *pAttempts);
int redisDelete(CachierStore*, sqlite3_int64 id);

/**************************************************************************
** Interface to code in redis_scan.c.
*/

/* A list of keys (sqlite3_malloc'ed). */
typedef struct RedisKeyList RedisKeyList;
struct RedisKeyList {
  char **az;
  int n, nAlloc;
};
int redisKeyListAdd(RedisKeyList*, const char *z, size_t n);
void redisKeyListFree(RedisKeyList*);
int redisScanKeys(RedisStore*, const char *zPattern, const char *zType,
                  int (*xKey)(RedisStore*, const redisReply*, void*),
                  void *pArg);
int redisUnlinkKeys(RedisStore*, char **az, int n, sqlite3_int64 *pnEntries);

int redisScanOpen(CachierStore*, const char *zFn, CachierScan**);
int redisScanNext(CachierScan*, CachierEntry*, int *pEof);
void redisScanClose(CachierScan*);
int redisTotals(CachierStore*, const char *zFn, StoreTotal **paTotal,
                int *pnTotal);
int redisEvictionCandidates(CachierStore*, const char *zFn, int ePolicy,
                            double staleBefore, int nMax,
                            EvictCandidate **paCand, int *pnCand);
int redisDeleteOlder(CachierStore*, const char *zFn, double before,
                     sqlite3_int64 *pnDeleted);
int redisClear(CachierStore*, const char *zFn, sqlite3_int64 *pnDeleted);

/**************************************************************************
** Interface to code in redis_dict.c.
*/
int redisDictLatest(CachierStore*, const char *zFn, sqlite3_int64 *piId,
                    unsigned *pZstdId);
int redisDictLoad(CachierStore*, sqlite3_int64 iId, void **ppDict,
                  sqlite3_int64 *pnDict);
int redisDictAdd(CachierStore*, const char *zFn, const void *aDict,
                 sqlite3_int64 nDict, int nSample, double created,
                 sqlite3_int64 *piId);
int redisDictDelete(CachierStore*, sqlite3_int64 iId);

/**************************************************************************
** Interface to code in redis_marks.c.
*/
int redisHoldsMark(RedisStore*, sqlite3_int64 iBase);
int redisForgetMark(RedisStore*, sqlite3_int64 iBase);
int redisMarkTry(CachierStore*, sqlite3_int64 iBase);
void redisMarkRelease(CachierStore*, sqlite3_int64 iBase);
int redisMarkIsComputing(CachierStore*, sqlite3_int64 iBase);
sqlite3_int64 redisMarkClear(CachierStore*, int iFnHash);
void redisMarkDone(CachierStore*, InflightLock*, int bWrote);

/**************************************************************************
** Interface to code in redis_tracking.c.
*/
int redisSubConnect(RedisConn*, void *pArg);
int redisVersion(CachierStore*, unsigned char *aVer, int bRecheck);
int redisMayFill(CachierStore*, const unsigned char *aVer);

#endif /* CACHIER_REDIS_STORE_H */
