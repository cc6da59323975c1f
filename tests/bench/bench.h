/*
** bench.h - the interface of the bench's harness (bench.c) to its areas,
** and of each area to the harness.
**
** The harness owns the connection, the key sequence, the timing loops,
** the medians, the rows and notes and their table, the command line and
** the per-size database that the hits, misses and inflight areas share.
** Each area file (hits.c, misses.c, inflight.c, compress.c with docs.c,
** stores.c with hot.c, redis.c) owns its rows: their setup, measurements
** and row text.
*/
#ifndef CACHIER_BENCH_H
#define CACHIER_BENCH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_REPS      7
#define MAX_ROWS      128
#define PAYLOAD_BYTES 100
#define TEXT_BYTES    40
#define WARM_KEYS     20000     /* keys in a warm-up pass, at most */
#define HIT_KEYS      200000    /* keys in a timed hit pass, at most */
#define STMT_KEYS     2000      /* one-statement-per-call passes */
#define BIG_BYTES     65536     /* blob64k(x) */
#define B4K_BYTES     4096      /* blob4k(x) */

/* The never-used keys base+0..?2 as table c(i): ?1 = base, ?2 = last. */
#define FRESH_CTE "WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL" \
                  " SELECT i+1 FROM c WHERE i<?2) "

/**************************************************************************
** Interface to code in bench.c (the harness)
*/

/* The run's state. */
extern sqlite3 *g_db;
extern char g_zPath[256];           /* current database file, or "" */
extern char g_zCacheFile[300];      /* a second database file, or "" */
extern sqlite3_stmt *g_pLookup;     /* SELECT v FROM t WHERE k=?1 */
extern sqlite3_stmt *g_pStore;      /* INSERT OR REPLACE INTO t ... */
extern int64_t g_fresh;             /* next never-used key */
extern int64_t *g_aPerm;            /* the key sequence, q's x column */

/* Areas: one bit each; areaOn() says whether the run includes it. */
#define AREA_HITS     0x01
#define AREA_MISSES   0x02
#define AREA_INFLIGHT 0x04
#define AREA_COMPRESS 0x08
#define AREA_STORES   0x10
#define AREA_HOT      0x20
#define AREA_REDIS    0x40
#define AREA_SCAN     0x80
#define AREA_INVALIDATE 0x100
#define AREA_QUERY    0x200
int areaOn(int eArea);

/* Errors end the run (exit 1) after removing the database files. */
void fail(const char *zWhat, const char *zMsg);
void failDb(const char *zWhat);
void removeDbFiles(const char *zPath);

/* SQL on g_db. */
void exec(const char *zSql);
sqlite3_stmt *prep(const char *zSql);
int64_t queryInt(const char *zSql, int64_t a, int64_t b);
int64_t queryIntText(const char *zSql, const char *zArg);
int64_t clearFn(const char *zFn);
int64_t statOf(const char *zCol, const char *zFn);
int statHasColumn(const char *zCol);
void setHotBytes(int64_t nBytes);
void createFunction(const char *zName, void *pArg,
                    void (*xFunc)(sqlite3_context*, int, sqlite3_value**));

/* Timing. */
int64_t nowNs(void);
double timeStmt(sqlite3_stmt *pStmt, int64_t a, int64_t b, int64_t nExpect);
double timeTxn(sqlite3_stmt *pStmt, int64_t a, int64_t b, int64_t nExpect);
double timeMisses(sqlite3_stmt *pStmt, int bScan, int64_t base, int64_t n);
double timeLoop(sqlite3_stmt *pStmt, const int64_t *aKey, int64_t base,
                int64_t n);
double median(const double *a, int n);
double netPer(const double *a, const double *b, int nRep, int64_t n);
int isNumber(const char *z);

/* A scan measurement: "SELECT count(EXPR) FROM mem.q WHERE rowid<=?1". */
typedef struct Scan Scan;
struct Scan {
  sqlite3_stmt *pStmt;
  double a[MAX_REPS];
};
void scanInit(Scan *s, const char *zExpr);
void scanRun(Scan *s, int iRep, int64_t n);
void scanFree(Scan *s);

/* Stored misses on fresh keys in autocommit (timeFreshMisses()). */
typedef struct MissTimes MissTimes;
struct MissTimes {
  int nRep;
  int64_t nMiss;                    /* misses a rep */
  double aBase[MAX_REPS];           /* the function called directly */
  double aMiss[MAX_REPS];
  double aFloor[MAX_REPS];
};
void timeFreshMisses(const char *zFn, int bScan, const char *zFloor,
                     int64_t nMiss, int nRep, MissTimes *m);
double missNs(const MissTimes *m);
double missFloorNs(const MissTimes *m);
sqlite3_stmt *prepFreshFill(void);
void refillFresh(sqlite3_stmt *pFill, int64_t base, int64_t n);
void dropMisses(int64_t base, int64_t n);

/* Rows and notes. */
typedef struct Row Row;
struct Row {
  char zName[128];
  int64_t nEntries;
  double ns;
  char zFloor[96];
  double floorNs;             /* <0: no floor */
  double ratioNs;             /* >0: the ratio is ratioNs/floorNs, not ns/ */
  int eTarget;                /* 0 none, 1 ratio <= target, 2 ns <= target */
  double target;
  char zVs[64];               /* what a ratio target is of ("floor") */
  double shownRatio;          /* >0: a ratio-only row (no ns): this ratio,
                              ** of what zFloor names */
};
Row *addRow(const char *zName, int64_t nEntries, double ns,
            const char *zFloor, double floorNs);
void ratioTarget(Row *r, double target, const char *zVs);
void nsTarget(Row *r, double targetNs);
void note(const char *zFmt, ...) __attribute__((format(printf, 1, 2)));
void fmtEntries(char *z, size_t n, int64_t v);

/* The C functions every connection has (and their values). */
uint64_t mix64(uint64_t z);
uint64_t valueSeed(sqlite3_value *v);
void fillPayload(uint64_t seed, unsigned char *a);
void fillBlob(uint64_t seed, unsigned char *a, int n);
void payloadFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void lookupFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void valIntFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void blob64kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void blob4kFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* Databases: a fresh file of its own, with q (the keys) and t. */
void openConn(const char *zExt);
void prepFloorStmts(void);
void openDb(const char *zExt, int64_t n, const char *zTag);
void closeConn(void);
void closeDb(void);
void makeKeys(int64_t n);
double fillMemo(const char *zFn, const char *zArg, int64_t n, int bTxn);
double populate(const char *zCol, int64_t N);
void sizeFillText(int64_t N);

/**************************************************************************
** Interface to code in hits.c
*/
void benchHits(int64_t N, int nRep);

/**************************************************************************
** Interface to code in misses.c
*/
void benchMisses(int64_t N, int nRep);

/**************************************************************************
** Interface to code in inflight.c
*/
void benchInflight(const char *zTestExt, int64_t N, int nRep);

/**************************************************************************
** Interface to code in docs.c (the values of the zstd rows)
*/
#define REC_MAX 2000
typedef struct Doc Doc;
struct Doc {
  const char *zName;
  const char *zLabel;         /* for the rows */
  int eKind;
  int nBytes;                 /* exact size; DOC_RECORD: REC_MAX at most */
  int nHit;                   /* keys per hit pass */
  int nMiss;                  /* stored misses per rep */
};
extern const Doc g_aDoc[3];
extern const char *g_azDocSuffix[4];
int docMake(const Doc *p, int64_t x, char *z);
void docFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/**************************************************************************
** Interface to code in compress.c
*/
void benchCompress(const char *zExt);

/**************************************************************************
** Interface to code in stores.c
*/
#define STORE_BIG_KEYS 1000        /* keys of the 64 KB rows */
#define STORE_HOT_BYTES (64*1024*1024)
#define STORE_B100     1           /* the 100-byte kind */
#define STORE_MAIN     0
#define STORE_FILE     1
void storeFnName(char *z, size_t n, int iKind, int iStore);
void benchStores(const char *zExt);

/**************************************************************************
** Interface to code in hot.c
*/
void storeHot(int64_t N, int nRep, double mainHitNs, double fileHitNs);

/**************************************************************************
** Interface to code in redis.c
*/
void benchRedis(const char *zExt, int port, int iCpu);

/**************************************************************************
** Interface to code in scan.c
*/
void benchScan(const char *zExt);

/**************************************************************************
** Interface to code in invalidate.c
*/
void benchInvalidate(const char *zExt);

/*
** Interface to code in query.c
*/
void benchQuery(const char *zExt);

#endif /* CACHIER_BENCH_H */
