/*
** ioerr.c - I/O error sweep of cachier (fault campaign 2).
**
**   ioerr EXTENSION.so OUTDIR [STEP]
**
** Registers "faultvfs" as the default VFS: it wraps the unix VFS and
** counts the xRead, xWrite and xSync/xTruncate calls on every file
** (databases, journals, WAL files; the main database's and the file:
** store's alike), failing the Nth of one kind with SQLITE_IOERR_READ,
** _WRITE, _FSYNC or _TRUNCATE, once (transient) or also every later call
** of that kind until the faulted workload ends (persistent). For each
** journal mode (rollback "delete"
** and WAL), each kind and N = 1..(calls of that kind in the workload) in
** steps of STEP, a child runs the workload of faults.h with that fault,
** closes, and then, with the plain unix VFS:
**   - PRAGMA integrity_check is ok on the database and the file: store;
**   - no wrong value: during the faulted run a checking step returned 1
**     or failed; reopened (faults off, extension loaded), the whole
**     workload runs without error with every check true;
**   - no crash, no leak (ASan, LeakSanitizer).
** Prints one FAIL line per failed run and a summary; exits 1 on failure.
*/
#include "faults.h"
#include <time.h>

/* ---------------------------------------------------------------------
** The shim VFS.
*/
enum { K_READ, K_WRITE, K_SYNC, N_KIND };
static const char *const azKind[N_KIND] = { "read", "write", "sync" };

typedef struct FaultVfsState FaultVfsState;
struct FaultVfsState {
  sqlite3_vfs *pReal;
  int bArmed;
  int eKind;                      /* which kind fails */
  sqlite3_int64 iFail;            /* the call of that kind that fails */
  int bPersist;                   /* and every one of that kind after it */
  sqlite3_int64 aCount[N_KIND];   /* calls counted while armed */
  sqlite3_int64 nFailed;
};
static FaultVfsState g_vfs;

typedef struct FaultFile FaultFile;
struct FaultFile {
  sqlite3_file base;
  sqlite3_file *pReal;            /* follows this struct in memory */
};

static int vfsShouldFail(int eKind){
  if( !g_vfs.bArmed ) return 0;
  g_vfs.aCount[eKind]++;
  if( eKind==g_vfs.eKind && (g_vfs.aCount[eKind]==g_vfs.iFail
      || (g_vfs.bPersist && g_vfs.iFail>0 && g_vfs.aCount[eKind]>g_vfs.iFail)) ){
    g_vfs.nFailed++;
    return 1;
  }
  return 0;
}

#define REAL(pFile) (((FaultFile*)(pFile))->pReal)

static int ffClose(sqlite3_file *f){
  int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : 0;
  return rc;
}
static int ffRead(sqlite3_file *f, void *p, int n, sqlite3_int64 o){
  if( vfsShouldFail(K_READ) ) return SQLITE_IOERR_READ;
  return REAL(f)->pMethods->xRead(REAL(f), p, n, o);
}
static int ffWrite(sqlite3_file *f, const void *p, int n, sqlite3_int64 o){
  if( vfsShouldFail(K_WRITE) ) return SQLITE_IOERR_WRITE;
  return REAL(f)->pMethods->xWrite(REAL(f), p, n, o);
}
static int ffTruncate(sqlite3_file *f, sqlite3_int64 n){
  if( vfsShouldFail(K_SYNC) ) return SQLITE_IOERR_TRUNCATE;
  return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int ffSync(sqlite3_file *f, int flags){
  if( vfsShouldFail(K_SYNC) ) return SQLITE_IOERR_FSYNC;
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int ffFileSize(sqlite3_file *f, sqlite3_int64 *p){
  return REAL(f)->pMethods->xFileSize(REAL(f), p);
}
static int ffLock(sqlite3_file *f, int e){
  return REAL(f)->pMethods->xLock(REAL(f), e);
}
static int ffUnlock(sqlite3_file *f, int e){
  return REAL(f)->pMethods->xUnlock(REAL(f), e);
}
static int ffCheckReservedLock(sqlite3_file *f, int *p){
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), p);
}
static int ffFileControl(sqlite3_file *f, int op, void *p){
  return REAL(f)->pMethods->xFileControl(REAL(f), op, p);
}
static int ffSectorSize(sqlite3_file *f){
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int ffDeviceCharacteristics(sqlite3_file *f){
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int ffShmMap(sqlite3_file *f, int i, int sz, int b, void volatile **pp){
  return REAL(f)->pMethods->xShmMap(REAL(f), i, sz, b, pp);
}
static int ffShmLock(sqlite3_file *f, int o, int n, int fl){
  return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void ffShmBarrier(sqlite3_file *f){
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int ffShmUnmap(sqlite3_file *f, int d){
  return REAL(f)->pMethods->xShmUnmap(REAL(f), d);
}

/* Version 2: no memory mapping, so every read is an xRead. */
static const sqlite3_io_methods ffMethods = {
  2, ffClose, ffRead, ffWrite, ffTruncate, ffSync, ffFileSize, ffLock,
  ffUnlock, ffCheckReservedLock, ffFileControl, ffSectorSize,
  ffDeviceCharacteristics, ffShmMap, ffShmLock, ffShmBarrier, ffShmUnmap,
  0, 0
};

static int fvOpen(sqlite3_vfs *v, const char *zName, sqlite3_file *f,
                  int flags, int *pOut){
  FaultFile *p = (FaultFile*)f;
  int rc;
  (void)v;
  p->pReal = (sqlite3_file*)&p[1];
  rc = g_vfs.pReal->xOpen(g_vfs.pReal, zName, p->pReal, flags, pOut);
  p->base.pMethods = p->pReal->pMethods ? &ffMethods : 0;
  return rc;
}
static int fvDelete(sqlite3_vfs *v, const char *z, int d){
  (void)v; return g_vfs.pReal->xDelete(g_vfs.pReal, z, d);
}
static int fvAccess(sqlite3_vfs *v, const char *z, int fl, int *pOut){
  (void)v; return g_vfs.pReal->xAccess(g_vfs.pReal, z, fl, pOut);
}
static int fvFullPathname(sqlite3_vfs *v, const char *z, int n, char *zOut){
  (void)v; return g_vfs.pReal->xFullPathname(g_vfs.pReal, z, n, zOut);
}
static void *fvDlOpen(sqlite3_vfs *v, const char *z){
  (void)v; return g_vfs.pReal->xDlOpen(g_vfs.pReal, z);
}
static void fvDlError(sqlite3_vfs *v, int n, char *z){
  (void)v; g_vfs.pReal->xDlError(g_vfs.pReal, n, z);
}
static void (*fvDlSym(sqlite3_vfs *v, void *p, const char *z))(void){
  (void)v; return g_vfs.pReal->xDlSym(g_vfs.pReal, p, z);
}
static void fvDlClose(sqlite3_vfs *v, void *p){
  (void)v; g_vfs.pReal->xDlClose(g_vfs.pReal, p);
}
static int fvRandomness(sqlite3_vfs *v, int n, char *z){
  (void)v; return g_vfs.pReal->xRandomness(g_vfs.pReal, n, z);
}
static int fvSleep(sqlite3_vfs *v, int n){
  (void)v; return g_vfs.pReal->xSleep(g_vfs.pReal, n);
}
static int fvCurrentTime(sqlite3_vfs *v, double *p){
  (void)v; return g_vfs.pReal->xCurrentTime(g_vfs.pReal, p);
}
static int fvGetLastError(sqlite3_vfs *v, int n, char *z){
  (void)v; return g_vfs.pReal->xGetLastError(g_vfs.pReal, n, z);
}
static int fvCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *p){
  (void)v; return g_vfs.pReal->xCurrentTimeInt64(g_vfs.pReal, p);
}

static sqlite3_vfs g_faultVfs;

static void vfsInstall(void){
  g_vfs.pReal = sqlite3_vfs_find("unix");
  if( g_vfs.pReal==0 ) fatal("no unix vfs");
  g_faultVfs.iVersion = 2;
  g_faultVfs.szOsFile = (int)sizeof(FaultFile) + g_vfs.pReal->szOsFile;
  g_faultVfs.mxPathname = g_vfs.pReal->mxPathname;
  g_faultVfs.zName = "faultvfs";
  g_faultVfs.xOpen = fvOpen;
  g_faultVfs.xDelete = fvDelete;
  g_faultVfs.xAccess = fvAccess;
  g_faultVfs.xFullPathname = fvFullPathname;
  g_faultVfs.xDlOpen = fvDlOpen;
  g_faultVfs.xDlError = fvDlError;
  g_faultVfs.xDlSym = fvDlSym;
  g_faultVfs.xDlClose = fvDlClose;
  g_faultVfs.xRandomness = fvRandomness;
  g_faultVfs.xSleep = fvSleep;
  g_faultVfs.xCurrentTime = fvCurrentTime;
  g_faultVfs.xGetLastError = fvGetLastError;
  g_faultVfs.xCurrentTimeInt64 = fvCurrentTimeInt64;
  sqlite3_vfs_register(&g_faultVfs, 1);
}

/* ---------------------------------------------------------------------
** The runs. iRun = (((N*2 + wal)*2 + persistent)*N_KIND + kind); N = 0
** counts.
*/
#define RUN_KIND(i)    ((i) % N_KIND)
#define RUN_PERSIST(i) (((i) / N_KIND) % 2)
#define RUN_WAL(i)     (((i) / N_KIND / 2) % 2)
#define RUN_N(i)       ((i) / N_KIND / 4)
#define RUN(n, wal, persist, kind) ((((n)*2 + (wal))*2 + (persist))*N_KIND + (kind))
typedef struct IoCtx IoCtx;
struct IoCtx {
  const char *zExt;
  const char *zOut;
};

static int ioRun(const IoCtx *c, int iRun){
  int eKind = RUN_KIND(iRun);
  int bWal = RUN_WAL(iRun);
  sqlite3_int64 iFail = RUN_N(iRun);
  char zDir[1100], zDb[1200], zStore[1200];
  sqlite3 *db;
  char *zErr = 0;
  int i, rc, ret;
  vfsInstall();
  snprintf(zDir, sizeof(zDir), "%s/io-%d", c->zOut, iRun);
  rmTree(zDir);
  mkdirP(zDir);
  snprintf(zDb, sizeof(zDb), "%s/main.db", zDir);
  snprintf(zStore, sizeof(zStore), "%s/store.db", zDir);

  db = openWithExt(zDb, 0, c->zExt, &zErr);
  if( db==0 ){ fprintf(stderr, "open: %s\n", zErr); return FAULT_SETUP; }
  if( runSql(db, bWal ? "PRAGMA journal_mode=WAL" : "PRAGMA journal_mode=DELETE", 0)
   || runSql(db, "SELECT cachier_test_group_age(3600)", 0) ){
    fprintf(stderr, "setup: %s\n", sqlite3_errmsg(db));
    return FAULT_SETUP;
  }
  g_vfs.eKind = eKind;
  g_vfs.iFail = iFail;
  g_vfs.bPersist = RUN_PERSIST(iRun);
  g_vfs.bArmed = 1;
  for(i=0; i<N_WORKLOAD; i++){
    ret = runStep(db, i, zStore, &rc, 0);
    if( ret ) return ret;
  }
  g_vfs.bArmed = 0;
  if( iFail==0 ){
    char zCount[1200];
    FILE *f;
    snprintf(zCount, sizeof(zCount), "%s/count-%d", c->zOut, bWal);
    f = fopen(zCount, "w");
    if( f==0 ) return FAULT_SETUP;
    fprintf(f, "%lld %lld %lld\n", g_vfs.aCount[0], g_vfs.aCount[1],
            g_vfs.aCount[2]);
    fclose(f);
  }
  if( sqlite3_close(db)!=SQLITE_OK ){
    fprintf(stderr, "LEAK: sqlite3_close: %s (statements left)\n",
            sqlite3_errmsg(db));
    return FAULT_LEAK;
  }

  /* With the plain VFS. */
  if( !integrityOk(zDb) || !integrityOk(zStore) ) return FAULT_INTEGRITY;
  db = openWithExt(zDb, "unix", c->zExt, &zErr);
  if( db==0 ){
    fprintf(stderr, "AFTER: reopen: %s\n", zErr);
    return FAULT_AFTER;
  }
  if( runSql(db, "SELECT cachier_test_group_age(3600)", 0) ){
    return FAULT_AFTER;
  }
  ret = runWorkloadClean(db, zStore);
  if( ret ) return ret;
  if( sqlite3_close(db)!=SQLITE_OK ){
    fprintf(stderr, "LEAK: sqlite3_close: %s (statements left)\n",
            sqlite3_errmsg(db));
    return FAULT_LEAK;
  }
  if( !integrityOk(zDb) || !integrityOk(zStore) ) return FAULT_INTEGRITY;
  rmTree(zDir);
  return FAULT_OK;
}

static int ioChild(int iRun, void *pArg){
  return ioRun((const IoCtx*)pArg, iRun);
}

static void ioName(int iRun, void *pArg, char *zOut, int nOut){
  (void)pArg;
  snprintf(zOut, (size_t)nOut, "ioerr %s N=%d %s %s", azKind[RUN_KIND(iRun)],
           RUN_N(iRun), RUN_WAL(iRun) ? "wal" : "delete",
           RUN_PERSIST(iRun) ? "persistent" : "transient");
}

int main(int argc, char **argv){
  IoCtx c;
  Outcome o;
  int nStep = argc>3 ? atoi(argv[3]) : 1;
  long long aCount[2][N_KIND];
  int aZero[2*N_KIND];
  int *aRun = 0, nRun = 0, nAlloc = 0, bWal, k, i;
  time_t t0 = time(0);
  if( argc<3 ) fatal("usage: %s EXTENSION.so OUTDIR [STEP]", argv[0]);
  c.zExt = argv[1];
  c.zOut = argv[2];
  if( nStep<1 ) nStep = 1;
  mkdirP(c.zOut);

  /* The counts, from runs without faults (which must pass). */
  memset(&o, 0, sizeof(o));
  aZero[0] = RUN(0, 0, 0, 0);     /* delete */
  aZero[1] = RUN(0, 1, 0, 0);     /* wal */
  runPool(&o, c.zOut, "ioerr", 2, aZero, 2, ioChild, ioName, &c);
  if( outcomeFailures(&o) ) fatal("ioerr: the runs without faults failed");
  for(bWal=0; bWal<2; bWal++){
    char zCount[1200];
    FILE *f;
    snprintf(zCount, sizeof(zCount), "%s/count-%d", c.zOut, bWal);
    f = fopen(zCount, "r");
    if( f==0 || fscanf(f, "%lld %lld %lld", &aCount[bWal][0], &aCount[bWal][1],
                       &aCount[bWal][2])!=3 ) fatal("ioerr: no count");
    fclose(f);
    printf("ioerr: %s: the workload makes %lld reads, %lld writes, %lld"
           " syncs/truncates; failing every %d-th, transient and persistent\n", bWal ? "wal" : "delete",
           aCount[bWal][0], aCount[bWal][1], aCount[bWal][2], nStep);
    for(k=0; k<N_KIND; k++){
      for(i=1; i<=aCount[bWal][k]; i+=nStep){
        if( nRun+2>nAlloc ){
          nAlloc = nAlloc*2 + 64;
          aRun = realloc(aRun, sizeof(int)*(size_t)nAlloc);
          if( aRun==0 ) fatal("out of memory");
        }
        aRun[nRun++] = RUN(i, bWal, 0, k);
        aRun[nRun++] = RUN(i, bWal, 1, k);
      }
    }
  }
  fflush(stdout);
  memset(&o, 0, sizeof(o));
  runPool(&o, c.zOut, "ioerr", 2, aRun, nRun, ioChild, ioName, &c);
  free(aRun);
  outcomePrint("ioerr", &o, difftime(time(0), t0));
  return outcomeFailures(&o) ? 1 : 0;
}
