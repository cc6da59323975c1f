/*
** inflight.c - in-flight marks: one computation of a key at a time, across
** connections and processes, and no mark that outlives its computation.
**
** SQL surface:
**   cachier_clear_being_calculated([FN])
**       Ends every in-flight mark of FN (of all functions without FN):
**       callers waiting for those computations stop waiting and compute
**       themselves, and new callers no longer wait for them. The
**       computations themselves go on. Returns how many computations of
**       FN were in progress, as /proc/locks shows them (0 where it cannot
**       be read); one that an earlier call ended already but that still
**       runs is counted again.
** Test builds only:
**   cachier_test_wait_marker(PATH)
**       From now on this connection creates the file PATH each time it
**       starts waiting for another's computation (NULL: no more). Lets a
**       test act exactly when a wait has begun, without sleeping.
**   cachier_test_inflight(ON)
**       Switches this connection's in-flight marks off (0) or on (1);
**       returns ON. For measuring what the marks cost (make bench).
**
** Mechanism. Next to a database file DB lives DB-cachier-locks, which
** holds no data. Computing a key takes an open-file-description (OFD)
** write lock on one byte of it, at an offset made from the key's hash.
** The kernel drops the lock when its holder closes the file or dies
** (SIGKILL included), so a crash never leaves a key "being calculated";
** a waiter notices within WAIT_MAX_NS. Each connection opens the file
** itself, and OFD locks belong to the open file, so connections in one
** process exclude each other as processes do; the file is opened
** close-on-exec so children never inherit a mark.
**
** The file's first EPOCH_BYTES are mapped shared: one 64-bit epoch per
** 16-bit function hash, and one for all functions. The epochs are mixed
** into every lock offset, so cachier_clear_being_calculated() bumps them
** (an atomic add, visible to every process at once) and so moves all
** callers to offsets nobody holds. Databases without a file (":memory:",
** temp) have one connection each and need no marks; a file whose side
** file cannot be created (read-only directory) runs without them.
**
** The marks of a key are those of the file its store keeps it in: a
** file: store's own (PATH-cachier-locks, shared by every process and
** main database that uses it), else main's (the main and memory stores).
** A store on a server (Redis) keeps its marks itself (its pMarks table,
** store.h): the waiting is the same, with polls backing off from
** 1 ms to 32 ms since each is a round trip.
** A store that commits in groups releases a mark when the value it
** guarded commits (inflightForget() now, inflightUnlockLater() then);
** a connection about to wait commits its groups first, so two waiting on
** each other's kept marks cannot happen.
*/
#define _GNU_SOURCE           /* F_OFD_SETLK, F_OFD_GETLK */
#include "store.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define EPOCH_ALL     65536                 /* slot of the all-functions epoch */
#define EPOCH_BYTES   ((EPOCH_ALL+1)*8)
#define LOCK_BASE     ((sqlite3_int64)1<<20) /* lock offsets start past them */
#define KEY_MASK      CACHIER_BITS(CACHIER_ID_KEY_B)
#define WAIT_MIN_NS   100000                /* waiting polls every 0.1 ms ... */
#define WAIT_MAX_NS   10000000              /* ... backing off to 10 ms */
#define MAX_HELD      128
#define STORE_WAIT_MIN_NS 1000000           /* a store's marks: 1 ms ... */
#define STORE_WAIT_MAX_NS 32000000          /* ... backing off to 32 ms */
/* A byte between the epochs and the marks: every connection that has the
** side file open holds a read lock on it, so the last one to close can
** tell (its write lock succeeds) and deletes the file. */
#define PRESENCE_OFF  (LOCK_BASE - 1)

struct Inflight {
  int eState;                 /* 0: not opened yet, 1: usable, -1: none */
  int fd;
  char *zPath;                /* the side file's name */
  uint64_t *aEpoch;           /* the mapped epochs */
  struct stat st;             /* of the side file, to find it in /proc/locks */
  int nHeld;                  /* marks this connection holds */
  sqlite3_int64 aHeld[MAX_HELD];
};

static int lockByte(int fd, int eCmd, short eType, sqlite3_int64 off);

/* True if zPath names the file open as fd (it was not deleted or
** replaced since it was opened). */
static int fileIsNamed(int fd, const char *zPath){
  struct stat a, b;
  return fstat(fd, &a)==0 && stat(zPath, &b)==0
      && a.st_dev==b.st_dev && a.st_ino==b.st_ino;
}

/* Open the side file of zDb (NULL: no file, no marks) into *ppQ and map
** its epochs; once per connection and file. bCreate: create it if it is
** not there (not beside a database opened read-only). */
static Inflight *inflightOpenFile(Cachier *p, Inflight **ppQ,
                                  const char *zDb, int bCreate){
  Inflight *q = *ppQ;
  char *zPath;
  struct stat stDb;
  void *pMap;
  int nTry = 0;
  if( q==0 ){
    q = sqlite3_malloc(sizeof(*q));
    if( q==0 ) return 0;
    memset(q, 0, sizeof(*q));
    q->fd = -1;
    *ppQ = q;
  }
  if( q->eState ) return q->eState>0 ? q : 0;
  q->eState = -1;
  if( zDb==0 ) return 0;
  zPath = sqlite3_mprintf("%s-cachier-locks", zDb);
  if( zPath==0 ) return 0;
  /* The side file gets the database file's permissions, as its -wal does. */
  if( stat(zDb, &stDb)!=0 ) stDb.st_mode = 0644;
again:
  /* Never through a symbolic link, and only an ordinary file with no
  ** other name: what is planted there is not chmod'ed nor extended (the
  ** computations run unmarked then). Beside a database opened read-only
  ** nothing is created: an existing file is used, if it may be. */
  q->fd = open(zPath, O_RDWR|O_CLOEXEC|O_NOFOLLOW|(bCreate ? O_CREAT : 0),
               stDb.st_mode & 0666);
  if( q->fd<0 && !bCreate && errno==ENOENT ){
    sqlite3_free(zPath);
    return 0;
  }
  if( q->fd>=0 && (fstat(q->fd, &q->st)!=0 || !S_ISREG(q->st.st_mode)
                   || q->st.st_nlink!=1) ){
    close(q->fd);
    q->fd = -1;
    errno = EPERM;
  }
  if( q->fd<0 ){
    cachierLog(p, "cachier: cannot open %s (%s); computations are not "
               "shared with other connections", zPath, strerror(errno));
    sqlite3_free(zPath);
    return 0;
  }
  /* Undo the umask, so whoever may write the database may mark too. */
  if( q->st.st_uid==geteuid()
   && (q->st.st_mode & 0666)!=(stDb.st_mode & 0666) ){
    fchmod(q->fd, stDb.st_mode & 0666);
  }
  /* Only our own file is extended; another's must be full size already. */
  if( fstat(q->fd, &q->st)!=0
   || (q->st.st_size<EPOCH_BYTES && (q->st.st_uid!=geteuid()
                                     || ftruncate(q->fd, EPOCH_BYTES)!=0)) ){
    close(q->fd);
    q->fd = -1;
    sqlite3_free(zPath);
    return 0;
  }
  /* Present until it closes (waiting out a last user deleting the file),
  ** on the file that has the name now: one deleted meanwhile is opened
  ** again (made anew). */
  if( lockByte(q->fd, F_OFD_SETLKW, F_RDLCK, PRESENCE_OFF)!=0
   || !fileIsNamed(q->fd, zPath) ){
    close(q->fd);
    q->fd = -1;
    if( ++nTry<8 ) goto again;
    sqlite3_free(zPath);
    return 0;
  }
  pMap = mmap(0, EPOCH_BYTES, PROT_READ|PROT_WRITE, MAP_SHARED, q->fd, 0);
  if( pMap==MAP_FAILED ){
    close(q->fd);
    q->fd = -1;
    sqlite3_free(zPath);
    return 0;
  }
  q->aEpoch = (uint64_t*)pMap;
  q->zPath = zPath;
  q->eState = 1;
  return q;
}

/* The marks of pStore's keys: beside its own file (file: stores), else
** beside main's (the main and memory stores). */
static Inflight *inflightOpen(Cachier *p, CachierStore *pStore){
  int bOwn = pStore && pStore->zLockDb;
  Inflight **ppQ = bOwn ? &pStore->pInflight : &p->pInflight;
  /* (Once opened, or found impossible, nothing more to look up.) */
  if( *ppQ && (*ppQ)->eState ) return (*ppQ)->eState>0 ? *ppQ : 0;
  return inflightOpenFile(p, ppQ,
                          bOwn ? pStore->zLockDb : cachierMainFile(p),
                          bOwn || sqlite3_db_readonly(p->db, "main")!=1);
}

/* How many marks this connection holds through q (NULL: none). */
int inflightHeld(const Inflight *q){
  return q ? q->nHeld : 0;
}

/* Close a side file: every mark held through it is released. The last
** connection to have it open (its presence lock can become a write
** lock: no other holds one) deletes it, so it does not outlive the
** database's last user; one opening it meanwhile waits on the presence
** lock, then finds the name gone and makes the file anew. */
void inflightClose(Inflight **ppQ){
  Inflight *q = *ppQ;
  if( q==0 ) return;
  if( q->aEpoch ) munmap(q->aEpoch, EPOCH_BYTES);
  if( q->fd>=0 ){
    if( q->zPath && lockByte(q->fd, F_OFD_SETLK, F_WRLCK, PRESENCE_OFF)==0
     && fileIsNamed(q->fd, q->zPath) ){
      unlink(q->zPath);
    }
    close(q->fd);
  }
  sqlite3_free(q->zPath);
  sqlite3_free(q);
  *ppQ = 0;
}

/* The lock offset of the key whose slot range starts at iBase, under the
** current epochs. The function hash stays in the top bits, so a
** function's marks are one offset range. */
static sqlite3_int64 lockOffset(Inflight *q, sqlite3_int64 iBase){
  uint64_t fn = CACHIER_ID_FN(iBase);
  uint64_t key = CACHIER_ID_KEY(iBase);
  uint64_t epoch = __atomic_load_n(&q->aEpoch[fn], __ATOMIC_ACQUIRE)
                 + __atomic_load_n(&q->aEpoch[EPOCH_ALL], __ATOMIC_ACQUIRE)
                   * 0x2545f4914f6cdd1dULL;
  key = (key + epoch*0x9e3779b97f4a7c15ULL) & KEY_MASK;
  return LOCK_BASE + (sqlite3_int64)((fn << CACHIER_ID_KEY_B) | key);
}

static int lockByte(int fd, int eCmd, short eType, sqlite3_int64 off){
  struct flock fl;
  memset(&fl, 0, sizeof(fl));
  fl.l_type = eType;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)off;
  fl.l_len = 1;
  return fcntl(fd, eCmd, &fl);
}

static void sleepNs(long ns){
  struct timespec ts;
  ts.tv_sec = 0;
  ts.tv_nsec = ns;
  nanosleep(&ts, 0);
}

/* Note that a wait has begun (once per wait). */
static void waitBegins(Cachier *p, int *pbWaited, sqlite3_int64 *pT0){
  *pbWaited = 1;
  *pT0 = cachierMonotonicNs();
  /* Never wait while holding marks a store keeps until its group of
  ** writes commits: the computation waited for may be waiting for one of
  ** them (store_tables.c). Committing releases them. */
  storeFlushAll(p);
#ifdef CACHIER_TEST
  if( p->zWaitMarker ){
    int fd = open(p->zWaitMarker, O_WRONLY|O_CREAT|O_CLOEXEC, 0644);
    if( fd>=0 ) close(fd);
  }
#endif
}

static int waitTimedOut(double timeoutSecs, sqlite3_int64 t0){
  return timeoutSecs>0.0
      && (double)(cachierMonotonicNs()-t0)*1e-9 >= timeoutSecs;
}

/* inflightAcquire() for a store that keeps its own marks (a network
** store): each try is a round trip, so polls back off further. */
static int storeMarkAcquire(Cachier *p, CachierStore *pStore,
                            sqlite3_int64 iBase, double timeoutSecs,
                            int bTry, InflightLock *pLock, int *pbWaited){
  sqlite3_int64 t0 = 0;
  long nsSleep = STORE_WAIT_MIN_NS;
  for(;;){
    int eMark = storeMarkTry(pStore, iBase);
    if( eMark==INFLIGHT_HELD ){
      pLock->pStore = pStore;
      pLock->off = 0;
      pLock->iBase = iBase;
      return INFLIGHT_HELD;
    }
    if( eMark!=INFLIGHT_BUSY ) return INFLIGHT_NONE;
    if( bTry ) return INFLIGHT_BUSY;
    if( !*pbWaited ) waitBegins(p, pbWaited, &t0);
    if( waitTimedOut(timeoutSecs, t0) ) return INFLIGHT_NONE;
    sleepNs(nsSleep);
    if( nsSleep<STORE_WAIT_MAX_NS ) nsSleep *= 2;
  }
}

/* Take the in-flight mark of the key whose slot range starts at iBase.
**   INFLIGHT_HELD    the mark is ours (*pbWaited: after waiting for
**                    another computation to end)
**   INFLIGHT_BUSY    bTry and someone else computes the key
**   INFLIGHT_NONE    no mark: waited timeoutSecs (> 0) in vain, the
**                    marks were cleared while waiting, or this database
**                    has no marks; the caller computes without one.
** pLock receives what inflightRelease() needs. */
int inflightAcquire(Cachier *p, CachierStore *pStore, sqlite3_int64 iBase,
                    double timeoutSecs, int bTry, InflightLock *pLock,
                    int *pbWaited){
  Inflight *q;
  sqlite3_int64 off, t0 = 0;
  long nsSleep = WAIT_MIN_NS;
  *pbWaited = 0;
  pLock->off = -1;
  pLock->q = 0;
  pLock->pStore = 0;
  if( p->noInflight ) return INFLIGHT_NONE;
  if( pStore && storeKeepsMarks(pStore) ){
    return storeMarkAcquire(p, pStore, iBase, timeoutSecs, bTry, pLock,
                            pbWaited);
  }
  q = inflightOpen(p, pStore);
  if( q==0 ) return INFLIGHT_NONE;
  off = lockOffset(q, iBase);
  for(;;){
    if( lockByte(q->fd, F_OFD_SETLK, F_WRLCK, off)==0 ) break;
    if( errno!=EAGAIN && errno!=EACCES && errno!=EINTR ) return INFLIGHT_NONE;
    if( bTry ) return INFLIGHT_BUSY;
    if( !*pbWaited ) waitBegins(p, pbWaited, &t0);
    if( waitTimedOut(timeoutSecs, t0) ) return INFLIGHT_NONE;
    sleepNs(nsSleep);
    if( nsSleep<WAIT_MAX_NS ) nsSleep *= 2;
    if( lockOffset(q, iBase)!=off ) return INFLIGHT_NONE;   /* cleared */
  }
  pLock->q = q;
  pLock->off = off;
  pLock->iBase = iBase;
  if( q->nHeld<MAX_HELD ) q->aHeld[q->nHeld] = iBase;
  q->nHeld++;
  return INFLIGHT_HELD;
}

/* Release a mark taken by inflightAcquire() (a no-op if none was). Marks
** may be released in any order (a store that groups its commits releases
** them at the commit). */
void inflightRelease(InflightLock *pLock){
  if( pLock->off<0 ) return;
  if( pLock->pStore ){
    storeMarkRelease(pLock->pStore, pLock->iBase);
    pLock->off = -1;
    return;
  }
  if( pLock->q==0 ) return;
  inflightForget(pLock);
  inflightUnlockLater(pLock);
}

/* A mark kept past its computation (a grouping store releases it when the
** value is committed): drop it from this connection's bookkeeping now,
** in the thread that took it... */
void inflightForget(InflightLock *pLock){
  Inflight *q = pLock->q;
  int i, nKept;
  if( q==0 || pLock->off<0 || pLock->pStore ) return;
  nKept = q->nHeld<MAX_HELD ? q->nHeld : MAX_HELD;
  for(i=nKept-1; i>=0; i--){
    if( q->aHeld[i]==pLock->iBase ){
      memmove(&q->aHeld[i], &q->aHeld[i+1], (nKept-i-1)*sizeof(q->aHeld[0]));
      break;
    }
  }
  if( q->nHeld>0 ) q->nHeld--;
}

/* ... and release its lock later, from any thread (one fcntl call). */
void inflightUnlockLater(InflightLock *pLock){
  if( pLock->pStore && pLock->off>=0 ){
    storeMarkRelease(pLock->pStore, pLock->iBase);
  }else if( pLock->q && pLock->off>=0 ){
    lockByte(pLock->q->fd, F_OFD_SETLK, F_UNLCK, pLock->off);
  }
  pLock->off = -1;
}

/* True if the key of pStore whose slot range starts at iBase is being
** computed now, by this connection or another. */
int inflightIsComputing(Cachier *p, CachierStore *pStore, sqlite3_int64 iBase){
  Inflight *q;
  struct flock fl;
  int i;
  if( pStore && storeKeepsMarks(pStore) ){
    return storeMarkIsComputing(pStore, iBase);
  }
  q = inflightOpen(p, pStore);
  if( q==0 ) return 0;
  for(i=0; i<q->nHeld && i<MAX_HELD; i++){
    if( q->aHeld[i]==iBase ) return 1;
  }
  memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = (off_t)lockOffset(q, iBase);
  fl.l_len = 1;
  if( fcntl(q->fd, F_OFD_GETLK, &fl)!=0 ) return 0;
  return fl.l_type!=F_UNLCK;
}

/* How many OFD write locks other file descriptions hold on the side file
** in [lo, hi], from /proc/locks. */
static sqlite3_int64 countMarks(Inflight *q, sqlite3_int64 lo,
                                sqlite3_int64 hi){
  FILE *f = fopen("/proc/locks", "re");
  char zLine[256];
  sqlite3_int64 n = 0;
  if( f==0 ) return 0;
  while( fgets(zLine, sizeof(zLine), f) ){
    char zKind[16], zMode[16];
    unsigned int maj, mnr;
    unsigned long ino;
    long long start;
    if( strstr(zLine, "->") ) continue;       /* a blocked request */
    if( sscanf(zLine, "%*d: %15s %*s %15s %*d %x:%x:%lu %lld", zKind, zMode,
               &maj, &mnr, &ino, &start)!=6 ) continue;
    if( strcmp(zKind, "OFDLCK")==0 && strcmp(zMode, "WRITE")==0
     && ino==(unsigned long)q->st.st_ino && maj==major(q->st.st_dev)
     && mnr==minor(q->st.st_dev) && start>=lo && start<=hi ){
      n++;
    }
  }
  fclose(f);
  return n;
}

/* cachier_clear_being_calculated([FN]) */
static void clearBeingCalculatedFunc(sqlite3_context *ctx, int argc,
                                     sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  Inflight *q;
  sqlite3_int64 lo = LOCK_BASE, hi = LOCK_BASE + ((sqlite3_int64)1<<56) - 1;
  uint64_t slot = EPOCH_ALL;
  sqlite3_int64 n;
  CachierStore **apStore = 0;
  int nStore = 0, i;
  if( guardDirectCall(ctx, "cachier_clear_being_calculated") ) return;
  if( argc==1 ){
    char *zFn = 0, *zErr = 0;
    sqlite3_int64 iLo, iHi;
    if( callCanonicalName("cachier_clear_being_calculated", argv[0], &zFn,
                          &zErr) ){
      sqlite3_result_error(ctx, zErr, -1);
      sqlite3_free(zErr);
      return;
    }
    keyFnRange(zFn, &iLo, &iHi);
    sqlite3_free(zFn);
    slot = CACHIER_ID_FN(iLo);
    lo = LOCK_BASE + (sqlite3_int64)(slot << CACHIER_ID_KEY_B);
    hi = lo + (sqlite3_int64)KEY_MASK;
  }
  /* Main's marks (main and memory stores) and those of each file store
  ** this connection knows. */
  n = 0;
  if( storeListAll(p, &apStore, &nStore)!=SQLITE_OK ) nStore = 0;
  for(i=-1; i<nStore; i++){
    if( i>=0 && storeKeepsMarks(apStore[i]) ){
      n += storeMarkClear(apStore[i], slot==EPOCH_ALL ? -1 : (int)slot);
      continue;
    }
    if( i>=0 && apStore[i]->zLockDb==0 ) continue;
    q = inflightOpen(p, i<0 ? 0 : apStore[i]);
    if( q==0 ) continue;
    n += countMarks(q, lo, hi);
    __atomic_fetch_add(&q->aEpoch[slot], 1, __ATOMIC_ACQ_REL);
  }
  sqlite3_free(apStore);
  sqlite3_result_int64(ctx, n);
}

#ifdef CACHIER_TEST
/* cachier_test_wait_marker(PATH) */
static void testWaitMarkerFunc(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  (void)argc;
  sqlite3_free(p->zWaitMarker);
  p->zWaitMarker = 0;
  if( sqlite3_value_type(argv[0])!=SQLITE_NULL ){
    p->zWaitMarker = sqlite3_mprintf("%s", sqlite3_value_text(argv[0]));
  }
  sqlite3_result_value(ctx, argv[0]);
}

/* cachier_test_inflight(ON) */
static void testInflightFunc(sqlite3_context *ctx, int argc,
                             sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  (void)argc;
  p->noInflight = !sqlite3_value_int(argv[0]);
  sqlite3_result_int(ctx, !p->noInflight);
}
#endif

const CachierFunction cachierInflightFunctions[] = {
  { "cachier_clear_being_calculated", 0, CACHIER_FN_WRITES,
    clearBeingCalculatedFunc },
  { "cachier_clear_being_calculated", 1, CACHIER_FN_WRITES,
    clearBeingCalculatedFunc },
#ifdef CACHIER_TEST
  { "cachier_test_wait_marker", 1, CACHIER_FN_WRITES, testWaitMarkerFunc },
  { "cachier_test_inflight",    1, CACHIER_FN_WRITES, testInflightFunc },
#endif
  { 0, 0, 0, 0 }
};
