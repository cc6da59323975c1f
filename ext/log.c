/*
** log.c - cachier's messages: sqlite3_log(), and the cachier_log table
** that every client can read.
**
** SQL surface (eponymous, read-only):
**   SELECT time, level, function, message FROM cachier_log;
** The latest LOG_LINES messages cachier wrote on this connection, oldest
** first: time (unix seconds, the test clock in tests), level ('notice',
** 'warning' or 'verbose': a memoize_with() call with "verbose": true),
** function (the memoized function it is about, NULL if none) and the
** message, exactly as sqlite3_log() received it. Every message also goes
** to sqlite3_log() as before (SQLITE_NOTICE; SQLITE_WARNING for
** warnings), which only C programs and the sqlite3 shell can read.
**
** The lines are kept per connection (in the connection's state), not per
** process: the extension keeps no mutable process-wide state, and what a
** connection shows is then exactly what happened on it. A line logged by
** the background refresh thread of a connection is that connection's.
*/
#include "cachier.h"
#include <stdarg.h>
#include <string.h>

#define LOG_LINES 256         /* lines kept per connection */

typedef struct LogLine LogLine;
struct LogLine {
  double t;
  int eLevel;                 /* CACHIER_LOG_* */
  char *zFn;                  /* NULL: not about one function */
  char *zMsg;
};

/* The ring of a connection's latest lines. Threads of cachier's (the
** background refresh, a file: store's flusher) log too, on connections
** that may have no mutex of their own: the ring has its own. */
struct LogRing {
  sqlite3_mutex *mutex;       /* NULL in a single-threaded SQLite */
  LogLine a[LOG_LINES];
  int iNext;                  /* slot of the next line */
  int n;                      /* lines held (at most LOG_LINES) */
};

static const char *const azLevel[] = { "notice", "warning", "verbose" };

/* The function a message "cachier: NAME(): ..." is about, as a copy;
** NULL if it names none. */
static char *fnOfMessage(const char *zMsg){
  const char *z = zMsg;
  int n = 0;
  if( strncmp(z, "cachier: ", 9)!=0 ) return 0;
  z += 9;
  while( z[n] && z[n]!='(' && z[n]!=' ' && z[n]!=':' ) n++;
  if( n==0 || strncmp(z+n, "(): ", 4)!=0 ) return 0;
  return sqlite3_mprintf("%.*s", n, z);
}

/* p's ring, made on first use (by whichever thread logs first). NULL
** on OOM. */
static LogRing *ringOf(Cachier *p){
  LogRing *r = __atomic_load_n(&p->pLog, __ATOMIC_ACQUIRE), *pNull = 0;
  if( r ) return r;
  r = sqlite3_malloc(sizeof(LogRing));
  if( r==0 ) return 0;
  memset(r, 0, sizeof(*r));
  r->mutex = sqlite3_mutex_alloc(SQLITE_MUTEX_FAST);
  if( !__atomic_compare_exchange_n(&p->pLog, &pNull, r, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE) ){
    sqlite3_mutex_free(r->mutex);           /* another thread's won */
    sqlite3_free(r);
    r = pNull;
  }
  return r;
}

/* Add a line (zMsg is taken over) to p's ring. */
static void ringAdd(Cachier *p, int eLevel, const char *zFn, char *zMsg){
  LogRing *r = ringOf(p);
  LogLine *pLine;
  if( r==0 ){
    sqlite3_free(zMsg);
  }else{
    sqlite3_mutex_enter(r->mutex);
    pLine = &r->a[r->iNext];
    sqlite3_free(pLine->zFn);
    sqlite3_free(pLine->zMsg);
    pLine->t = cachierNow(p);
    pLine->eLevel = eLevel;
    pLine->zFn = zFn ? sqlite3_mprintf("%s", zFn) : fnOfMessage(zMsg);
    pLine->zMsg = zMsg;
    r->iNext = (r->iNext+1) % LOG_LINES;
    if( r->n<LOG_LINES ) r->n++;
    sqlite3_mutex_leave(r->mutex);
  }
}

/* Log a message about function zFn (NULL: none or as the message says)
** at level eLevel: to sqlite3_log() and to the connection's cachier_log. */
void cachierLogV(Cachier *p, int eLevel, const char *zFn, const char *zFmt,
                 va_list ap){
  char *z = sqlite3_vmprintf(zFmt, ap);
  if( z==0 ) return;
  sqlite3_log(eLevel==CACHIER_LOG_WARNING ? SQLITE_WARNING : SQLITE_NOTICE,
              "%s", z);
#ifdef CACHIER_TEST
  /* Test builds keep the last line for cachier_test_last_log(). */
  sqlite3_free(p->zLastLog);
  p->zLastLog = sqlite3_mprintf("%s", z);
#endif
  ringAdd(p, eLevel, zFn, z);
}

void cachierLogFn(Cachier *p, int eLevel, const char *zFn,
                  const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  cachierLogV(p, eLevel, zFn, zFmt, ap);
  va_end(ap);
}

void cachierLogFree(Cachier *p){
  int i;
#ifdef CACHIER_TEST
  sqlite3_free(p->zLastLog);
  p->zLastLog = 0;
#endif
  if( p->pLog==0 ) return;
  for(i=0; i<LOG_LINES; i++){
    sqlite3_free(p->pLog->a[i].zFn);
    sqlite3_free(p->pLog->a[i].zMsg);
  }
  sqlite3_mutex_free(p->pLog->mutex);
  sqlite3_free(p->pLog);
  p->pLog = 0;
}

/* ------------------------------------------------------------ cachier_log */

/* A cursor holds a copy of the lines, so logging while it is read (a
** memoize() in the same statement) changes nothing under it. */
typedef struct LogCursor LogCursor;
struct LogCursor {
  sqlite3_vtab_cursor base;
  LogLine *aLine;
  int nLine, iLine;
};

static int logConnect(sqlite3 *db, void *pAux, int argc,
                      const char *const *argv, sqlite3_vtab **ppVtab,
                      char **pzErr){
  (void)argc; (void)argv; (void)pzErr;
  return cachierVtabConnect(db, pAux, "CREATE TABLE x(time REAL,"
      " level TEXT, function TEXT, message TEXT)", 1, ppVtab);
}

static int logBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->estimatedCost = (double)LOG_LINES;
  pInfo->estimatedRows = LOG_LINES;
  return SQLITE_OK;
}

static void logCursorClear(LogCursor *pCur){
  int i;
  for(i=0; i<pCur->nLine; i++){
    sqlite3_free(pCur->aLine[i].zFn);
    sqlite3_free(pCur->aLine[i].zMsg);
  }
  sqlite3_free(pCur->aLine);
  pCur->aLine = 0;
  pCur->nLine = pCur->iLine = 0;
}

static int logOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  LogCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int logClose(sqlite3_vtab_cursor *pCursor){
  logCursorClear((LogCursor*)pCursor);
  sqlite3_free(pCursor);
  return SQLITE_OK;
}

static int logFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                     const char *idxStr, int argc, sqlite3_value **argv){
  LogCursor *pCur = (LogCursor*)pCursor;
  Cachier *p = ((CachierVtab*)pCursor->pVtab)->p;
  LogRing *r = __atomic_load_n(&p->pLog, __ATOMIC_ACQUIRE);
  int i, rc = SQLITE_OK;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  logCursorClear(pCur);
  if( r==0 ) return SQLITE_OK;
  sqlite3_mutex_enter(r->mutex);
  if( r->n ){
    pCur->aLine = sqlite3_malloc64(sizeof(LogLine)*r->n);
    if( pCur->aLine==0 ) rc = SQLITE_NOMEM;
    for(i=0; rc==SQLITE_OK && i<r->n; i++){
      const LogLine *pFrom = &r->a[(r->iNext - r->n + i + LOG_LINES)
                                   % LOG_LINES];
      LogLine *pTo = &pCur->aLine[i];
      *pTo = *pFrom;
      pTo->zFn = pFrom->zFn ? sqlite3_mprintf("%s", pFrom->zFn) : 0;
      pTo->zMsg = sqlite3_mprintf("%s", pFrom->zMsg);
      pCur->nLine++;
      if( pTo->zMsg==0 || (pFrom->zFn && pTo->zFn==0) ) rc = SQLITE_NOMEM;
    }
  }
  sqlite3_mutex_leave(r->mutex);
  return rc;
}

static int logNext(sqlite3_vtab_cursor *pCursor){
  ((LogCursor*)pCursor)->iLine++;
  return SQLITE_OK;
}

static int logEof(sqlite3_vtab_cursor *pCursor){
  LogCursor *pCur = (LogCursor*)pCursor;
  return pCur->iLine>=pCur->nLine;
}

static int logColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                     int i){
  LogCursor *pCur = (LogCursor*)pCursor;
  const LogLine *pLine = &pCur->aLine[pCur->iLine];
  switch( i ){
    case 0: sqlite3_result_double(ctx, pLine->t); break;
    case 1: sqlite3_result_text(ctx, azLevel[pLine->eLevel], -1,
                                SQLITE_STATIC); break;
    case 2: if( pLine->zFn ){
              sqlite3_result_text(ctx, pLine->zFn, -1, SQLITE_TRANSIENT);
            }
            break;
    default: sqlite3_result_text(ctx, pLine->zMsg, -1, SQLITE_TRANSIENT);
  }
  return SQLITE_OK;
}

static int logRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = ((LogCursor*)pCursor)->iLine + 1;
  return SQLITE_OK;
}

const sqlite3_module cachierLogModule = {
  0,
  0, logConnect, logBestIndex, cachierVtabDisconnect, 0, /* eponymous only */
  logOpen, logClose, logFilter, logNext, logEof, logColumn, logRowid,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};
