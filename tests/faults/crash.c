/*
** crash.c - SIGKILL crash loop of cachier (fault campaign 3).
**
**   crash EXTENSION.so OUTDIR [KILLS [SEED]]
**
** For each of three setups (a rollback-journal database, a WAL database,
** a file: store), KILLS times (default 100): a worker process opens the
** database with the extension and runs memoize misses (and a few hits)
** in a loop, checking each value; the parent kills it with SIGKILL after
** a random delay (seeded: a run reproduces). After each kill a checker
** process, bounded by an alarm, checks that:
**   - PRAGMA integrity_check is ok on the database and the file: store;
**   - no entry holds a wrong value (cachier_entries against the function);
**   - no waiter is stuck: a new caller of the key the worker was
**     computing when killed finishes within 10 s (the in-flight marks are
**     file locks, which the kernel releases with the process), with its
**     true value;
**   - no crash or leak (ASan).
** Prints one FAIL line per failed check and a summary; exits 1 on failure.
*/
#define _DEFAULT_SOURCE 1  /* MAP_ANONYMOUS */
#include "faults.h"
#include <sys/mman.h>
#include <time.h>

#define HANG_SECONDS 10

enum { M_DELETE, M_WAL, M_FILE, N_MODE };
static const char *const azMode[N_MODE] = { "delete", "wal", "file" };

static unsigned long long g_rng;
static unsigned rnd(void){
  g_rng = g_rng*6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(g_rng >> 33);
}

/* Shared with the worker: the key it is computing. */
static volatile sqlite3_int64 *g_pKey;

static void onAlarm(int sig){
  static const char z[] = "HANG: a caller did not finish within the bound\n";
  (void)sig;
  if( write(2, z, sizeof(z)-1) ){}
  _exit(FAULT_HANG);
}

static sqlite3 *openSetup(const char *zDir, const char *zExt, int eMode,
                          char *zStore, int nStore){
  char zDb[1200], zSql[1400];
  char *zErr = 0;
  sqlite3 *db;
  snprintf(zDb, sizeof(zDb), "%s/main.db", zDir);
  snprintf(zStore, (size_t)nStore, "%s/store.db", zDir);
  db = openWithExt(zDb, 0, zExt, &zErr);
  if( db==0 ){
    fprintf(stderr, "open %s: %s\n", zDb, zErr);
    return 0;
  }
  sqlite3_busy_timeout(db, 5000);
  snprintf(zSql, sizeof(zSql),
      "INSERT OR REPLACE INTO cachier_functions(name, store) VALUES ('tf', "
      "'file:%s')", zStore);
  if( runSql(db, eMode==M_WAL ? "PRAGMA journal_mode=WAL"
                              : "PRAGMA journal_mode=DELETE", 0)
   || (eMode==M_FILE && runSql(db, zSql, 0)) ){
    fprintf(stderr, "setup: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return 0;
  }
  return db;
}

/* The worker: misses of tv or tf on keys base, base+1, ..., with a hit of
** an older key now and then, until killed. */
static int worker(const char *zDir, const char *zExt, int eMode,
                  sqlite3_int64 base, int fdReady){
  char zStore[1200];
  const char *zFn = eMode==M_FILE ? "tf" : "tv";
  sqlite3 *db = openSetup(zDir, zExt, eMode, zStore, sizeof(zStore));
  sqlite3_stmt *pStmt = 0;
  char zSql[200];
  sqlite3_int64 i;
  if( db==0 ) return FAULT_SETUP;
  signal(SIGPIPE, SIG_IGN);     /* the parent may not be reading */
  snprintf(zSql, sizeof(zSql), "SELECT memoize('%s', ?1) IS %s(?1)", zFn, zFn);
  if( sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) ) return FAULT_SETUP;
  if( write(fdReady, "r", 1) ){}
  close(fdReady);
  for(i=0; ; i++){
    sqlite3_int64 key = (i%7==6) ? base + i/2 : base + i;
    int rc;
    *g_pKey = key;
    sqlite3_bind_int64(pStmt, 1, key);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW && sqlite3_column_int(pStmt, 0)!=1 ){
      fprintf(stderr, "WRONG: worker: %s(%lld)\n", zFn, key);
      return FAULT_WRONG;
    }
    sqlite3_reset(pStmt);
  }
}

/* The checker, after a kill. */
static int checker(const char *zDir, const char *zExt, int eMode,
                   sqlite3_int64 key){
  char zDb[1200], zStore[1200], *zOut = 0;
  sqlite3 *db;
  int rc;
  signal(SIGALRM, onAlarm);
  alarm(HANG_SECONDS);
  snprintf(zDb, sizeof(zDb), "%s/main.db", zDir);
  snprintf(zStore, sizeof(zStore), "%s/store.db", zDir);
  if( !integrityOk(zDb) || !integrityOk(zStore) ) return FAULT_INTEGRITY;
  db = openSetup(zDir, zExt, eMode, zStore, sizeof(zStore));
  if( db==0 ) return FAULT_AFTER;
  rc = runSql(db, "SELECT count(*) FROM cachier_entries WHERE fn IN"
              " ('tv','tf') AND value IS NOT tv(json_extract(args, '$[0]'))",
              &zOut);
  if( rc || zOut==0 || strcmp(zOut, "0")!=0 ){
    fprintf(stderr, "WRONG: %s wrong entries (rc %d: %s)\n",
            zOut ? zOut : "?", rc, sqlite3_errmsg(db));
    return rc ? FAULT_AFTER : FAULT_WRONG;
  }
  sqlite3_free(zOut);
  if( key>=0 ){
    char zSql[200];
    snprintf(zSql, sizeof(zSql), "SELECT memoize('%s', %lld) IS tv(%lld)",
             eMode==M_FILE ? "tf" : "tv", key, key);
    rc = runSql(db, zSql, &zOut);
    if( rc || zOut==0 || strcmp(zOut, "1")!=0 ){
      fprintf(stderr, "%s: the key being computed, %lld: %s (%s)\n",
              rc ? "AFTER" : "WRONG", key, zOut ? zOut : "NULL",
              sqlite3_errmsg(db));
      return rc ? FAULT_AFTER : FAULT_WRONG;
    }
    sqlite3_free(zOut);
  }
  if( sqlite3_close(db)!=SQLITE_OK ){
    fprintf(stderr, "LEAK: sqlite3_close: statements left\n");
    return FAULT_LEAK;
  }
  alarm(0);
  return FAULT_OK;
}

static void sleepUs(long us){
  struct timespec ts;
  ts.tv_sec = us/1000000;
  ts.tv_nsec = (us%1000000)*1000;
  while( nanosleep(&ts, &ts)!=0 ){}
}

static pid_t spawn(const char *zLog){
  pid_t pid;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if( pid<0 ) fatal("fork failed");
  if( pid==0 ){
    if( freopen(zLog, "w", stderr)==0 ) _exit(2);
    setvbuf(stderr, 0, _IONBF, 0);
  }
  return pid;
}

int main(int argc, char **argv){
  const char *zExt, *zOut;
  int nKill = argc>3 ? atoi(argv[3]) : 100;
  unsigned long long seed = argc>4 ? strtoull(argv[4], 0, 10) : 20261204;
  int eMode, k;
  Outcome o;
  time_t t0 = time(0);
  if( argc<3 ) fatal("usage: %s EXTENSION.so OUTDIR [KILLS [SEED]]", argv[0]);
  zExt = argv[1];
  zOut = argv[2];
  mkdirP(zOut);
  g_pKey = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  if( g_pKey==MAP_FAILED ) fatal("mmap failed");
  memset(&o, 0, sizeof(o));
  g_rng = seed;
  printf("crash: %d kills per setup, seed %llu\n", nKill, seed);
  fflush(stdout);
  for(eMode=0; eMode<N_MODE; eMode++){
    char zDir[1100];
    snprintf(zDir, sizeof(zDir), "%s/crash-%s", zOut, azMode[eMode]);
    rmTree(zDir);
    mkdirP(zDir);
    for(k=0; k<nKill; k++){
      char zLog[1200], zWhat[200];
      int aPipe[2], status;
      unsigned r = rnd();
      long delayUs = (long)(r % 40000);
      int bWaitReady = (r>>20) % 8 != 0;
      sqlite3_int64 key;
      char c;
      pid_t pid;
      snprintf(zWhat, sizeof(zWhat), "crash %s kill %d (seed %llu)",
               azMode[eMode], k, seed);
      snprintf(zLog, sizeof(zLog), "%s/crash-%s-%d-worker.log", zOut,
               azMode[eMode], k);
      *g_pKey = -1;
      if( pipe(aPipe) ) fatal("pipe failed");
      pid = spawn(zLog);
      if( pid==0 ){
        close(aPipe[0]);
        exit(worker(zDir, zExt, eMode, (sqlite3_int64)k*1000000, aPipe[1]));
      }
      close(aPipe[1]);
      if( bWaitReady && read(aPipe[0], &c, 1)!=1 ){
        /* The worker died before it was ready. */
        waitpid(pid, &status, 0);
        close(aPipe[0]);
        recordOutcome(&o, status ? status : (FAULT_SETUP<<8), zWhat, zLog);
        continue;
      }
      close(aPipe[0]);
      sleepUs(delayUs);
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      if( !(WIFSIGNALED(status) && WTERMSIG(status)==SIGKILL) ){
        recordOutcome(&o, status ? status : (FAULT_SETUP<<8), zWhat, zLog);
        continue;
      }
      unlink(zLog);
      key = *g_pKey;
      snprintf(zLog, sizeof(zLog), "%s/crash-%s-%d.log", zOut,
               azMode[eMode], k);
      snprintf(zWhat, sizeof(zWhat), "crash %s kill %d after %ld us%s, key"
               " %lld (seed %llu)", azMode[eMode], k, delayUs,
               bWaitReady ? "" : " from start", key, seed);
      pid = spawn(zLog);
      if( pid==0 ) exit(checker(zDir, zExt, eMode, key));
      waitpid(pid, &status, 0);
      recordOutcome(&o, status, zWhat, zLog);
    }
  }
  outcomePrint("crash", &o, difftime(time(0), t0));
  return outcomeFailures(&o) ? 1 : 0;
}
