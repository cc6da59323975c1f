/*
** compress.c - the bench's compress area: zstd compression and trained
** dictionaries, after the sizes, on a database of its own (10,000 keys in
** q, WAL, synchronous=NORMAL). The values are docs.c's JSON text: doc_1k,
** doc_64k and rec, each a C function registered as NAME (default settings: compressed), NAME_raw
** (compress_min 'none'), and NAME_m, NAME_raw_m for the stored misses.
** NAME and NAME_raw are filled with the 10,000 keys, one transaction each.
**   - Ratio rows: sum(bytes) / sum(stored_bytes) of NAME's entries in
**     cachier_entries (no ns).
**   - Hits: memoize('NAME', x) and memoize('NAME_raw', x) over the first
**     10,000 keys of q (1,000 for 64 KB), net of ident(x), interleaved
**     rep by rep as above. The target's reference is the raw hit plus the
**     decompression alone of the same frames, timed in each rep in C:
**     ZSTD_decompressDCtx (a reused DCtx, one reused output buffer) of
**     frames the bench makes as cachier does (level 3, checksum flag, a
**     reused CCtx; checked to be the size cachier stored; noted if not).
**   - Stored misses: 2,000 fresh keys a rep (300 for 64 KB) under NAME_m
**     and under NAME_raw_m, each in one BEGIN..COMMIT (COMMIT timed; the
**     order alternates by rep; each after an untimed wal_checkpoint
**     (TRUNCATE), so each pays the checkpoints of its own pages), net of
**     NAME_m() called directly on the same keys; both are cleared after
**     each rep. The target's reference is the raw miss plus ZSTD_compress2
**     alone of the same values (level 3, checksum flag, a reused CCtx).
**   - Dictionary: rec is filled with default settings (values under
**     compress_min 512 stay raw), then cachier_train('rec'),
**     cachier_clear('rec'), and filled again (with the dictionary); rec_m
**     gets its own dictionary the same way. Hits and stored misses as
**     above; the references use a DDict / CDict (level 3) of the
**     function's dictionary, read from cachier_dict. No targets.
*/
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define COMPRESS_ENTRIES 10000
#define COMPRESS_LEVEL   3         /* cachier's default compress_level */

/* Totals of zFn's entries in cachier_entries. */
typedef struct EntryTotals EntryTotals;
struct EntryTotals {
  int64_t nEntry, nBytes, nStored, nCompressed;
};
static void entryTotals(const char *zFn, EntryTotals *t){
  sqlite3_stmt *pStmt = prep("SELECT count(*), total(bytes),"
      " total(stored_bytes), total(stored_bytes<bytes)"
      " FROM cachier_entries WHERE fn=?1");
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)!=SQLITE_ROW ) failDb("cachier_entries totals");
  t->nEntry = sqlite3_column_int64(pStmt, 0);
  t->nBytes = sqlite3_column_int64(pStmt, 1);
  t->nStored = sqlite3_column_int64(pStmt, 2);
  t->nCompressed = sqlite3_column_int64(pStmt, 3);
  sqlite3_finalize(pStmt);
}

/* stored_bytes of zFn's entry for key x, for the keys 0..n-1 (-1 for
** none): a newly allocated array. */
static int64_t *storedBytesByKey(const char *zFn, int64_t n){
  sqlite3_stmt *pStmt = prep("SELECT args, stored_bytes FROM cachier_entries"
                             " WHERE fn=?1");
  int64_t *a = malloc(sizeof(int64_t)*(size_t)n), i;
  if( a==0 ) fail("malloc", "out of memory");
  for(i=0; i<n; i++) a[i] = -1;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    int64_t x = z && z[0]=='[' ? atoll(z+1) : -1;
    if( x>=0 && x<n ) a[x] = sqlite3_column_int64(pStmt, 1);
  }
  sqlite3_finalize(pStmt);
  return a;
}

/* Fill the cache with zFn(x) for every row of q in one transaction, then
** checkpoint; returns the elapsed ns of the fill. */
static double fillFn(const char *zFn, int64_t N){
  double t = fillMemo(zFn, "x", N, 1);
  exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return t;
}

/* zstd contexts, reused for every value, set up as cachier sets its own
** (ext/compress.c): level COMPRESS_LEVEL (or the dictionary's CDict, made at
** that level), checksum flag on, content size in the frame (the default). */
typedef struct Codec Codec;
struct Codec {
  ZSTD_CCtx *pCCtx;
  ZSTD_DCtx *pDCtx;
  ZSTD_CDict *pCDict;
  ZSTD_DDict *pDDict;
};

static void codecInit(Codec *c, const void *pDict, size_t nDict){
  memset(c, 0, sizeof(*c));
  c->pCCtx = ZSTD_createCCtx();
  c->pDCtx = ZSTD_createDCtx();
  if( c->pCCtx==0 || c->pDCtx==0 ) fail("zstd", "cannot make contexts");
  ZSTD_CCtx_setParameter(c->pCCtx, ZSTD_c_checksumFlag, 1);
  if( pDict ){
    c->pCDict = ZSTD_createCDict(pDict, nDict, COMPRESS_LEVEL);
    c->pDDict = ZSTD_createDDict(pDict, nDict);
    if( c->pCDict==0 || c->pDDict==0 ) fail("zstd", "cannot load dictionary");
    ZSTD_CCtx_refCDict(c->pCCtx, c->pCDict);
  }else{
    ZSTD_CCtx_setParameter(c->pCCtx, ZSTD_c_compressionLevel, COMPRESS_LEVEL);
  }
}

static void codecFree(Codec *c){
  ZSTD_freeCCtx(c->pCCtx);
  ZSTD_freeDCtx(c->pDCtx);
  ZSTD_freeCDict(c->pCDict);
  ZSTD_freeDDict(c->pDDict);
  memset(c, 0, sizeof(*c));
}

/* n values of a Doc, their frames, and room to decompress one. */
typedef struct Corpus Corpus;
struct Corpus {
  int n;
  size_t nMax;                /* room for a value */
  char *aVal;                 /* value i at aVal + i*nMax */
  int *anVal;
  size_t nFrameMax;           /* room for a frame */
  unsigned char *aFrame;      /* frame i at aFrame + i*nFrameMax */
  size_t *anFrame;
  char *aOut;
};

/* The values of p for the keys aKey[0..n-1], or base..base+n-1. */
static void corpusMake(Corpus *c, const Doc *p, const int64_t *aKey,
                       int64_t base, int n){
  int i;
  memset(c, 0, sizeof(*c));
  c->n = n;
  c->nMax = (size_t)p->nBytes;
  c->nFrameMax = ZSTD_compressBound(c->nMax);
  c->aVal = malloc(c->nMax*(size_t)n);
  c->anVal = malloc(sizeof(int)*(size_t)n);
  c->aFrame = malloc(c->nFrameMax*(size_t)n);
  c->anFrame = malloc(sizeof(size_t)*(size_t)n);
  c->aOut = malloc(c->nMax);
  if( !c->aVal || !c->anVal || !c->aFrame || !c->anFrame || !c->aOut ){
    fail("malloc", "out of memory");
  }
  for(i=0; i<n; i++){
    c->anVal[i] = docMake(p, aKey ? aKey[i] : base+i, c->aVal + i*c->nMax);
  }
}

static void corpusFree(Corpus *c){
  free(c->aVal); free(c->anVal); free(c->aFrame); free(c->anFrame);
  free(c->aOut);
  memset(c, 0, sizeof(*c));
}

/* Compress every value of c with ZSTD_compress2 (into c's frames); returns
** the elapsed ns. */
static double corpusCompress(Corpus *c, Codec *z){
  int64_t t0 = nowNs();
  int i;
  for(i=0; i<c->n; i++){
    size_t nOut = ZSTD_compress2(z->pCCtx, c->aFrame + i*c->nFrameMax,
                                 c->nFrameMax, c->aVal + i*c->nMax,
                                 (size_t)c->anVal[i]);
    if( ZSTD_isError(nOut) ) fail("ZSTD_compress2", ZSTD_getErrorName(nOut));
    c->anFrame[i] = nOut;
  }
  return (double)(nowNs() - t0);
}

/* Decompress every frame of c with ZSTD_decompressDCtx (or, with a
** dictionary, ZSTD_decompress_usingDDict) into one reused buffer; returns
** the elapsed ns. bCheck: compare each with its value (untimed use). */
static double corpusDecompress(Corpus *c, Codec *z, int bCheck){
  int64_t t0 = nowNs();
  int i;
  for(i=0; i<c->n; i++){
    const unsigned char *pF = c->aFrame + i*c->nFrameMax;
    size_t nOut = z->pDDict
        ? ZSTD_decompress_usingDDict(z->pDCtx, c->aOut, c->nMax, pF,
                                     c->anFrame[i], z->pDDict)
        : ZSTD_decompressDCtx(z->pDCtx, c->aOut, c->nMax, pF, c->anFrame[i]);
    if( ZSTD_isError(nOut) ) fail("decompress", ZSTD_getErrorName(nOut));
    if( nOut!=(size_t)c->anVal[i]
     || (bCheck && memcmp(c->aOut, c->aVal + i*c->nMax, nOut)!=0) ){
      fail("decompress", "the value does not round-trip");
    }
  }
  return (double)(nowNs() - t0);
}

static void docName(char *z, size_t n, const Doc *p, int iSuffix){
  snprintf(z, n, "%s%s", p->zName, g_azDocSuffix[iSuffix]);
}

/* Hits of p's compressed function beside the same values stored raw, over
** the first p->nHit keys of q, and the standalone decompression of the
** same frames (made by z, checked to be the size cachier stored).
** Sets the medians per hit: *pC compressed, *pR raw, *pRef raw +
** decompression, *pD decompression alone (all net of ident(x)). */
static void compressHits(const Doc *p, int64_t N, int nRep, Codec *z,
                         double *pC, double *pR, double *pRef, double *pD){
  int64_t n = p->nHit<N ? p->nHit : N, nMiss0, *aStored, nDiff = 0, i;
  char zC[64], zR[64], zExpr[100];
  Scan identX, hitC, hitR;
  double aD[MAX_REPS], aRef[MAX_REPS];
  Corpus c;
  int k;

  docName(zC, sizeof(zC), p, 0);
  docName(zR, sizeof(zR), p, 1);
  corpusMake(&c, p, g_aPerm, 0, (int)n);
  corpusCompress(&c, z);
  corpusDecompress(&c, z, 1);
  aStored = storedBytesByKey(zC, N);
  for(i=0; i<n; i++){
    if( aStored[g_aPerm[i]]!=(int64_t)c.anFrame[i] ) nDiff++;
  }
  free(aStored);
  if( nDiff ){
    note("%s: WARNING: for %lld of %lld keys the frame the bench makes is not "
         "the size cachier stored: the decompression reference is not of the "
         "same frames", p->zLabel, (long long)nDiff, (long long)n);
  }

  nMiss0 = statOf("misses", zC) + statOf("misses", zR);
  scanInit(&identX, "ident(x)");
  snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zC);
  scanInit(&hitC, zExpr);
  snprintf(zExpr, sizeof(zExpr), "memoize('%s', x)", zR);
  scanInit(&hitR, zExpr);
  for(k=0; k<nRep; k++){
    scanRun(&identX, k, n);
    if( k&1 ){ scanRun(&hitR, k, n); scanRun(&hitC, k, n); }
    else{      scanRun(&hitC, k, n); scanRun(&hitR, k, n); }
    corpusDecompress(&c, z, 0);                     /* warm-up */
    aD[k] = corpusDecompress(&c, z, 0);
    aRef[k] = (hitR.a[k] - identX.a[k] + aD[k])/(double)n;
  }
  if( (statOf("misses", zC) + statOf("misses", zR))!=nMiss0 ){
    fail("compressed hits", "a hit measurement missed");
  }
  *pC = netPer(hitC.a, identX.a, nRep, n);
  *pR = netPer(hitR.a, identX.a, nRep, n);
  *pRef = median(aRef, nRep);
  for(k=0; k<nRep; k++) aD[k] /= (double)n;
  *pD = median(aD, nRep);
  scanFree(&identX); scanFree(&hitC); scanFree(&hitR);
  corpusFree(&c);
}

/* Stored misses of p's compressed function (NAME_m) beside the same values
** stored raw (NAME_raw_m), p->nMiss fresh keys a rep, each in one
** BEGIN..COMMIT (COMMIT timed, after an untimed TRUNCATE checkpoint, so
** each pays the checkpoint of its own pages), net of NAME_m() called
** directly; and ZSTD_compress2 alone of the same values with z. Sets the
** medians per miss as compressHits() does. */
static void compressMisses(const Doc *p, int nRep, Codec *z, double *pC,
                           double *pR, double *pRef, double *pZ){
  int64_t n = p->nMiss;
  char zM[64], zRM[64], zSql[200];
  sqlite3_stmt *pBase, *apMiss[2];
  double aBase[MAX_REPS], aMiss[2][MAX_REPS], aZ[MAX_REPS], aRef[MAX_REPS];
  int i, k;

  docName(zM, sizeof(zM), p, 2);
  docName(zRM, sizeof(zRM), p, 3);
  snprintf(zSql, sizeof(zSql), FRESH_CTE "SELECT count(%s(i)) FROM c", zM);
  pBase = prep(zSql);
  snprintf(zSql, sizeof(zSql),
           FRESH_CTE "SELECT count(memoize('%s', i)) FROM c", zM);
  apMiss[0] = prep(zSql);
  snprintf(zSql, sizeof(zSql),
           FRESH_CTE "SELECT count(memoize('%s', i)) FROM c", zRM);
  apMiss[1] = prep(zSql);
  for(i=0; i<nRep; i++){
    int64_t base = g_fresh, nFrames = 0;
    EntryTotals tC, tR;
    Corpus c;
    g_fresh += n;
    timeStmt(pBase, base, base+n-1, n);             /* warm-up */
    aBase[i] = timeStmt(pBase, base, base+n-1, n);
    for(k=0; k<2; k++){
      int bRaw = k ^ (i&1);
      exec("PRAGMA wal_checkpoint(TRUNCATE)");
      aMiss[bRaw][i] = timeTxn(apMiss[bRaw], base, base+n-1, n);
    }
    corpusMake(&c, p, 0, base, (int)n);
    corpusCompress(&c, z);                          /* warm-up */
    aZ[i] = corpusCompress(&c, z);
    for(k=0; k<c.n; k++) nFrames += (int64_t)c.anFrame[k];
    corpusFree(&c);
    entryTotals(zM, &tC);
    entryTotals(zRM, &tR);
    if( tC.nEntry!=n || tR.nEntry!=n || tR.nStored!=tR.nBytes ){
      fail("compressed misses", "unexpected entries");
    }
    if( i==0 && tC.nStored!=nFrames ){
      note("%s: WARNING: the frames the bench makes of the stored misses' "
           "values total %lld bytes, cachier stored %lld", p->zLabel,
           (long long)nFrames, (long long)tC.nStored);
    }
    aRef[i] = (aMiss[1][i] - aBase[i] + aZ[i])/(double)n;
    clearFn(zM);
    clearFn(zRM);
  }
  *pC = netPer(aMiss[0], aBase, nRep, n);
  *pR = netPer(aMiss[1], aBase, nRep, n);
  *pRef = median(aRef, nRep);
  for(i=0; i<nRep; i++) aZ[i] /= (double)n;
  *pZ = median(aZ, nRep);
  sqlite3_finalize(pBase);
  sqlite3_finalize(apMiss[0]);
  sqlite3_finalize(apMiss[1]);
}

static void addRatioRow(const char *zName, int64_t N, const EntryTotals *t){
  Row *r = addRow(zName, N, -1, "sum(bytes) / sum(stored_bytes), "
                  "cachier_entries", -1);
  if( t->nStored<=0 ) fail("compression ratio", zName);
  r->shownRatio = (double)t->nBytes/(double)t->nStored;
}

/* The names of a Doc's four functions (each buffer 64 bytes; zM may be
** NULL), with compression switched off for the two raw ones. */
static void docNames(const Doc *p, char *zC, char *zR, char *zM, char *zRM){
  char zSql[300];
  docName(zC, 64, p, 0);
  docName(zR, 64, p, 1);
  if( zM ) docName(zM, 64, p, 2);
  docName(zRM, 64, p, 3);
  snprintf(zSql, sizeof(zSql), "INSERT OR REPLACE INTO cachier_functions"
           "(name, compress_min, compress_level) VALUES ('%s', 'none', 3),"
           " ('%s', 'none', 3)", zR, zRM);
  exec(zSql);
}

/* Compressed against raw, for a Doc without dictionary (see the header). */
static void benchCompressDoc(const Doc *p, int64_t N, int nRep){
  char zC[64], zR[64], zRM[64], zName[200];
  double hitC, hitR, hitRef, dNs, missC, missR, missRef, cNs, tC, tR;
  EntryTotals t;
  Codec z;
  Row *r;

  docNames(p, zC, zR, 0, zRM);
  tC = fillFn(zC, N);
  tR = fillFn(zR, N);
  entryTotals(zC, &t);
  if( t.nEntry!=N || t.nCompressed!=N ){
    fail("compressed fill", "not every value was stored compressed");
  }
  note("%s: fill of %lld entries in one transaction: %.2f s compressed, "
       "%.2f s raw; %lld of %lld stored compressed", p->zLabel, (long long)N,
       tC/1e9, tR/1e9, (long long)t.nCompressed, (long long)t.nEntry);
  snprintf(zName, sizeof(zName), "%s: compression ratio, compress_level 3",
           p->zLabel);
  addRatioRow(zName, N, &t);

  codecInit(&z, 0, 0);
  compressHits(p, N, nRep, &z, &hitC, &hitR, &hitRef, &dNs);
  compressMisses(p, nRep, &z, &missC, &missR, &missRef, &cNs);
  codecFree(&z);

  snprintf(zName, sizeof(zName), "%s: hit, compressed", p->zLabel);
  addRow(zName, N, hitC, "hit, same value raw (compress_min 'none')", hitR);
  r = addRow(zName, N, hitC, "hit raw + ZSTD_decompressDCtx alone (C, "
             "reused DCtx)", hitRef);
  ratioTarget(r, 1.2, "(raw hit + decompress)");
  snprintf(zName, sizeof(zName), "%s: stored miss, one BEGIN..COMMIT, "
           "compressed", p->zLabel);
  addRow(zName, N, missC, "stored miss, same value raw (compress_min 'none')",
         missR);
  r = addRow(zName, N, missC, "miss raw + ZSTD_compress2 alone (C, reused "
             "CCtx)", missRef);
  ratioTarget(r, 1.2, "(raw miss + compress)");
  note("%s: ZSTD_decompressDCtx alone %.0f ns per frame, ZSTD_compress2 "
       "(level 3, checksum) alone %.0f ns per value; hits timed over %d "
       "keys, stored misses %d a rep", p->zLabel, dNs, cNs,
       p->nHit<N ? p->nHit : (int)N, p->nMiss);
}

/* The dictionary zFn's newest: its bytes (sqlite3_malloc'd) in *ppDict. */
static size_t dictOf(const char *zFn, void **ppDict){
  sqlite3_stmt *pStmt = prep("SELECT dict FROM cachier_dict WHERE fn=?1"
                             " ORDER BY id DESC LIMIT 1");
  size_t n = 0;
  *ppDict = 0;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_TRANSIENT);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    n = (size_t)sqlite3_column_bytes(pStmt, 0);
    *ppDict = sqlite3_malloc64(n ? n : 1);
    if( *ppDict==0 ) fail("malloc", "out of memory");
    memcpy(*ppDict, sqlite3_column_blob(pStmt, 0), n);
  }
  sqlite3_finalize(pStmt);
  if( n==0 ) fail("dictionary", zFn);
  return n;
}

/* Dictionary compression of small JSON records (see the header). */
static void benchDictionary(const Doc *p, int64_t N, int nRep){
  char zC[64], zR[64], zM[64], zRM[64], zName[200];
  double hitC, hitR, hitRef, dNs, missC, missR, missRef, cNs, t, tTrain;
  EntryTotals t0, t1;
  void *pDict, *pDictM;
  size_t nDict, nDictM;
  Codec z, zm;

  docNames(p, zC, zR, zM, zRM);

  /* Without a dictionary (default settings), then trained. */
  fillFn(zC, N);
  entryTotals(zC, &t0);
  t = (double)nowNs();
  if( queryIntText("SELECT cachier_train(?1)", zC)<=0 ){
    fail("cachier_train", zC);
  }
  tTrain = (double)nowNs() - t;
  clearFn(zC);
  t = fillFn(zC, N);
  entryTotals(zC, &t1);
  if( t0.nEntry!=N || t1.nEntry!=N ) fail("dictionary", "unexpected entries");
  nDict = dictOf(zC, &pDict);
  note("JSON records: %lld values of %lld bytes on average; without a "
       "dictionary %lld stored compressed (the others are under compress_min "
       "512), with it %lld; cachier_train: %.2f s, a %zu-byte dictionary; "
       "refill with it: %.2f s", (long long)N, (long long)(t1.nBytes/N),
       (long long)t0.nCompressed, (long long)t1.nCompressed, tTrain/1e9,
       nDict, t/1e9);
  addRatioRow("JSON records, 200-2000 B: compression ratio, no dictionary "
              "(compress_min 512)", N, &t0);
  addRatioRow("JSON records, 200-2000 B: compression ratio, trained "
              "dictionary", N, &t1);

  /* The raw function; the miss function gets its own dictionary. */
  fillFn(zR, N);
  fillFn(zM, N);
  queryIntText("SELECT cachier_train(?1)", zM);
  clearFn(zM);
  nDictM = dictOf(zM, &pDictM);

  codecInit(&z, pDict, nDict);
  codecInit(&zm, pDictM, nDictM);
  compressHits(p, N, nRep, &z, &hitC, &hitR, &hitRef, &dNs);
  compressMisses(p, nRep, &zm, &missC, &missR, &missRef, &cNs);
  codecFree(&z);
  codecFree(&zm);
  sqlite3_free(pDict);
  sqlite3_free(pDictM);

  snprintf(zName, sizeof(zName), "%s: hit", p->zLabel);
  addRow(zName, N, hitC, "hit, same value raw (compress_min 'none')", hitR);
  addRow(zName, N, hitC, "hit raw + ZSTD_decompress_usingDDict alone (C)",
         hitRef);
  snprintf(zName, sizeof(zName), "%s: stored miss, one BEGIN..COMMIT",
           p->zLabel);
  addRow(zName, N, missC, "stored miss, same value raw (compress_min 'none')",
         missR);
  addRow(zName, N, missC, "miss raw + ZSTD_compress2 with the CDict alone (C)",
         missRef);
  note("JSON records: ZSTD_decompress_usingDDict alone %.0f ns per frame, "
       "ZSTD_compress2 with the CDict (level 3, checksum) alone %.0f ns per "
       "value; hits timed over %d keys, stored misses %d a rep", dNs, cNs,
       p->nHit<N ? p->nHit : (int)N, p->nMiss);
}

/* The zstd rows, on their own database of COMPRESS_ENTRIES keys. */
void benchCompress(const char *zExt){
  int64_t N = COMPRESS_ENTRIES, t0 = nowNs();
  int nRep = MAX_REPS;
  size_t i, k;
  openDb(zExt, N, "-zstd");
  for(i=0; i<sizeof(g_aDoc)/sizeof(g_aDoc[0]); i++){
    for(k=0; k<sizeof(g_azDocSuffix)/sizeof(g_azDocSuffix[0]); k++){
      char zName[64];
      snprintf(zName, sizeof(zName), "%s%s", g_aDoc[i].zName,
               g_azDocSuffix[k]);
      createFunction(zName, (void*)&g_aDoc[i], docFunc);
    }
  }
  makeKeys(N);
  /* The 64 KB values last: cachier_stats reads the whole store. */
  benchCompressDoc(&g_aDoc[0], N, nRep);
  benchDictionary(&g_aDoc[2], N, nRep);
  benchCompressDoc(&g_aDoc[1], N, nRep);
  closeDb();
  note("zstd rows (%lld entries a function): %.1f s in all", (long long)N,
       (double)(nowNs()-t0)/1e9);
}
