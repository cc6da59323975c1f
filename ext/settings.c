/*
** settings.c - per-function settings, memoize_with() options, and the
** parsing of durations, sizes and booleans.
**
** No SQL functions of its own; it defines the value syntax that
** cachier_functions and memoize_with() accept:
**   duration  a number of seconds (INTEGER or REAL), or text: '90',
**             '90 seconds', '1.5 minutes', '2 hours', '1 day', '1 week',
**             '250 ms' (units: ms, s, sec, second, m, min, minute, h, hr,
**             hour, d, day, w, week, with or without a plural s), 'never'.
**   size      a number of bytes, or text: '512', '10KB', '200 MB', '1GB'
**             (binary units: K/KB/KiB = 1024 bytes), 'none' (no limit).
**   boolean   0/1 (any integer), TRUE/FALSE; as text true/false, on/off,
**             yes/no.
*/
#include "cachier.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void settingsDefaults(FnSettings *s){
  memset(s, 0, sizeof(*s));
  s->staleAfter = CACHIER_NEVER;
  s->waitForCalcTimeout = 0.0;
  s->cleanupInterval = 86400.0;
  s->entrySizeLimit = -1;
  s->staleWhileRefresh = -1.0;
  s->staleIfError = -1.0;
  s->compressMin = CACHIER_COMPRESS_MIN;
  s->compressLevel = CACHIER_COMPRESS_LEVEL;
  s->maxEntries = s->maxBytes = -1;
  s->storeMaxEntries = s->storeMaxBytes = -1;
  s->eEviction = EVICT_LRU;
  s->hotBytes = CACHIER_HOT_BYTES;
}

void settingsClear(FnSettings *s){
  sqlite3_free(s->zHashFunc);
  sqlite3_free(s->zStore);
  settingsDefaults(s);
}

/* Copy of a text value, spaces trimmed, lower-cased; NULL on OOM. */
static char *lowerTrimmed(sqlite3_value *pVal){
  const char *z = (const char*)sqlite3_value_text(pVal);
  char *zOut;
  int n, i;
  if( z==0 ) return 0;
  while( isspace((unsigned char)*z) ) z++;
  n = (int)strlen(z);
  while( n>0 && isspace((unsigned char)z[n-1]) ) n--;
  zOut = sqlite3_malloc(n+1);
  if( zOut==0 ) return 0;
  for(i=0; i<n; i++) zOut[i] = (char)tolower((unsigned char)z[i]);
  zOut[n] = 0;
  return zOut;
}

/* Split "<number><spaces><unit>": *pNum and the unit start. 0 if no number. */
static int splitNumber(const char *z, double *pNum, const char **pzUnit){
  char *zEnd = 0;
  double r;
  if( *z==0 || isspace((unsigned char)*z) ) return 0;
  r = strtod(z, &zEnd);
  if( zEnd==z || r!=r || isinf(r) ) return 0;
  while( isspace((unsigned char)*zEnd) ) zEnd++;
  *pNum = r;
  *pzUnit = zEnd;
  return 1;
}

/* True if zUnit is one of the (up to 4) names azName, or its plural. */
static int unitIs(const char *zUnit, const char *const *azName){
  int i;
  for(i=0; i<4 && azName[i]; i++){
    size_t n = strlen(azName[i]);
    if( strcmp(zUnit, azName[i])==0 ) return 1;
    if( n>1 && strncmp(zUnit, azName[i], n)==0 && strcmp(zUnit+n, "s")==0 ){
      return 1;
    }
  }
  return 0;
}

/* A unit of a quantity: its names (with or without a plural s) and how
** many base units (seconds, bytes) it is. */
typedef struct Unit Unit;
struct Unit {
  const char *azName[4];
  double mult;
};

static const Unit aDurationUnit[] = {
  { {"", "s", "sec", "second"}, 1.0 },
  { {"ms", "msec", "millisecond", 0}, 0.001 },
  { {"m", "min", "minute", 0}, 60.0 },
  { {"h", "hr", "hour", 0}, 3600.0 },
  { {"d", "day", 0, 0}, 86400.0 },
  { {"w", "week", 0, 0}, 604800.0 },
  { {0, 0, 0, 0}, 0.0 }
};

static const Unit aSizeUnit[] = {
  { {"", "b", "byte", 0}, 1.0 },
  { {"k", "kb", "kib", 0}, 1024.0 },
  { {"m", "mb", "mib", 0}, 1024.0*1024.0 },
  { {"g", "gb", "gib", 0}, 1024.0*1024.0*1024.0 },
  { {0, 0, 0, 0}, 0.0 }
};

/* Parse the text of pVal as "<number> <unit>" with a unit of aUnit, or as
** one of the words azWord (then *piWord is its index, else -1). Returns
** SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR if it is neither. */
static int parseTextQuantity(sqlite3_value *pVal, const Unit *aUnit,
                             const char *const *azWord, double *pR,
                             int *piWord){
  char *z = lowerTrimmed(pVal);
  const char *zUnit = 0;
  int rc = SQLITE_ERROR, i;
  if( z==0 ) return SQLITE_NOMEM;
  *piWord = -1;
  for(i=0; azWord[i]; i++){
    if( strcmp(z, azWord[i])==0 ){
      *piWord = i;
      sqlite3_free(z);
      return SQLITE_OK;
    }
  }
  if( splitNumber(z, pR, &zUnit) ){
    for(; rc && aUnit->mult>0.0; aUnit++){
      if( unitIs(zUnit, aUnit->azName) ){
        *pR *= aUnit->mult;
        rc = SQLITE_OK;
      }
    }
  }
  sqlite3_free(z);
  return rc;
}

/* Parse a duration into seconds (CACHIER_NEVER for 'never'). Negative
** values are allowed only if bAllowNegative. NULL is not a duration: the
** caller decides what NULL means. */
int parseDuration(sqlite3_value *pVal, int bAllowNegative, double *pSecs,
                  char **pzErr){
  static const char *const azWord[] = {"never", 0};
  double r = 0.0;
  int iWord, rc;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      r = sqlite3_value_double(pVal);
      break;
    case SQLITE_TEXT:
      rc = parseTextQuantity(pVal, aDurationUnit, azWord, &r, &iWord);
      if( rc==SQLITE_ERROR ){
        *pzErr = sqlite3_mprintf("invalid duration '%q': use seconds or "
            "text such as '90 seconds', '30 minutes', '2 hours', '1 day' "
            "or 'never'", sqlite3_value_text(pVal));
      }
      if( rc ) return rc;
      if( iWord==0 ){
        *pSecs = CACHIER_NEVER;
        return SQLITE_OK;
      }
      break;
    default:
      *pzErr = sqlite3_mprintf("a duration must be a number of seconds or "
                               "text such as '30 minutes'");
      return SQLITE_ERROR;
  }
  if( r<0.0 && !bAllowNegative ){
    *pzErr = sqlite3_mprintf("a duration cannot be negative");
    return SQLITE_ERROR;
  }
  *pSecs = r;
  return SQLITE_OK;
}

/* Rules shared by cachier_functions and memoize_with() beyond the syntax:
** only stale_after and max_age may be 'never'; cleanup_interval must be
** positive. zKey names the setting. *pzWhy is set on a violation. */
int durationRuleCheck(const char *zKey, double r, char **pzWhy){
  int bNeverOk = strcmp(zKey, "stale_after")==0 || strcmp(zKey, "max_age")==0
      || strcmp(zKey, "stale_while_refresh")==0
      || strcmp(zKey, "stale_if_error")==0;
  if( r>=CACHIER_NEVER && !bNeverOk ){
    *pzWhy = sqlite3_mprintf("'never' is only valid for stale_after, "
                             "max_age, stale_while_refresh and "
                             "stale_if_error");
    return SQLITE_ERROR;
  }
  if( strcmp(zKey, "cleanup_interval")==0 && r<=0.0 ){
    *pzWhy = sqlite3_mprintf("must be positive");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Parse a size into bytes; 'none' (or 'unlimited') gives -1. */
int parseSize(sqlite3_value *pVal, sqlite3_int64 *pBytes, char **pzErr){
  static const char *const azWord[] = {"none", "unlimited", 0};
  double r = 0.0;
  int iWord, rc;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
      if( sqlite3_value_int64(pVal)<0 ) goto negative;
      *pBytes = sqlite3_value_int64(pVal);
      return SQLITE_OK;
    case SQLITE_FLOAT:
      r = sqlite3_value_double(pVal);
      break;
    case SQLITE_TEXT:
      rc = parseTextQuantity(pVal, aSizeUnit, azWord, &r, &iWord);
      if( rc==SQLITE_ERROR ){
        *pzErr = sqlite3_mprintf("invalid size '%q': use bytes or text such "
                 "as '10KB', '200MB' or 'none'", sqlite3_value_text(pVal));
      }
      if( rc ) return rc;
      if( iWord>=0 ){
        *pBytes = -1;
        return SQLITE_OK;
      }
      break;
    default:
      *pzErr = sqlite3_mprintf("a size must be a number of bytes or text "
                               "such as '10KB'");
      return SQLITE_ERROR;
  }
  if( r<0.0 ) goto negative;
  if( r>9.0e18 ){
    *pzErr = sqlite3_mprintf("size too large");
    return SQLITE_ERROR;
  }
  *pBytes = (sqlite3_int64)r;
  return SQLITE_OK;
negative:
  *pzErr = sqlite3_mprintf("a size cannot be negative");
  return SQLITE_ERROR;
}

/* Parse a count of entries: a non-negative integer, or 'none' (-1). */
int parseCount(sqlite3_value *pVal, sqlite3_int64 *pN, char **pzErr){
  if( sqlite3_value_type(pVal)==SQLITE_INTEGER
   && sqlite3_value_int64(pVal)>=0 ){
    *pN = sqlite3_value_int64(pVal);
    return SQLITE_OK;
  }
  if( sqlite3_value_type(pVal)==SQLITE_TEXT ){
    char *z = lowerTrimmed(pVal);
    int bNone = z && (strcmp(z, "none")==0 || strcmp(z, "unlimited")==0);
    sqlite3_free(z);
    if( bNone ){
      *pN = -1;
      return SQLITE_OK;
    }
  }
  *pzErr = sqlite3_mprintf("must be a number of entries (an integer, 0 or "
                           "more) or 'none'");
  return SQLITE_ERROR;
}

/* Parse an eviction policy: 'lru' or 'cost'. */
int parseEviction(sqlite3_value *pVal, int *pePolicy, char **pzErr){
  char *z = sqlite3_value_type(pVal)==SQLITE_TEXT ? lowerTrimmed(pVal) : 0;
  int rc = SQLITE_OK;
  if( z && strcmp(z, "lru")==0 ){
    *pePolicy = EVICT_LRU;
  }else if( z && strcmp(z, "cost")==0 ){
    *pePolicy = EVICT_COST;
  }else{
    *pzErr = sqlite3_mprintf("must be 'lru' (least recently used first) or "
        "'cost' (cheapest to recompute per stored byte first)");
    rc = SQLITE_ERROR;
  }
  sqlite3_free(z);
  return rc;
}

/* Parse a boolean. */
int parseBool(sqlite3_value *pVal, int *pOn, char **pzErr){
  if( sqlite3_value_type(pVal)==SQLITE_INTEGER ){
    *pOn = sqlite3_value_int64(pVal)!=0;
    return SQLITE_OK;
  }
  if( sqlite3_value_type(pVal)==SQLITE_TEXT ){
    char *z = lowerTrimmed(pVal);
    int rc = SQLITE_OK;
    if( z==0 ) return SQLITE_NOMEM;
    if( strcmp(z,"true")==0 || strcmp(z,"on")==0 || strcmp(z,"yes")==0 ){
      *pOn = 1;
    }else if( strcmp(z,"false")==0 || strcmp(z,"off")==0
           || strcmp(z,"no")==0 ){
      *pOn = 0;
    }else{
      rc = SQLITE_ERROR;
    }
    sqlite3_free(z);
    if( rc==SQLITE_OK ) return rc;
  }
  *pzErr = sqlite3_mprintf("must be a boolean (0, 1, true or false)");
  return SQLITE_ERROR;
}

/* Apply the non-NULL columns of one cachier_config row (columns 1..16 of
** the settings statement) over *s. Stored values were validated on write;
** a value that no longer parses is ignored rather than failing the call. */
static int settingsApplyRow(sqlite3_stmt *pStmt, FnSettings *s){
  const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
  int bStar = zName && strcmp(zName, "*")==0;
  sqlite3_value *v;
  char *zErr = 0;
  double r;
  int b;
  sqlite3_int64 n;
#define COL(i) (v = sqlite3_column_value(pStmt, i), \
                sqlite3_value_type(v)!=SQLITE_NULL)
  if( COL(1) && parseDuration(v, 0, &r, &zErr)==SQLITE_OK ) s->staleAfter = r;
  if( COL(2) && parseBool(v, &b, &zErr)==SQLITE_OK ) s->nextTime = b;
  if( COL(3) && parseBool(v, &b, &zErr)==SQLITE_OK ) s->allowNone = b;
  if( COL(4) && parseDuration(v, 0, &r, &zErr)==SQLITE_OK ){
    s->waitForCalcTimeout = r;
  }
  if( COL(5) && parseBool(v, &b, &zErr)==SQLITE_OK ) s->cleanupStale = b;
  if( COL(6) && parseDuration(v, 0, &r, &zErr)==SQLITE_OK ){
    s->cleanupInterval = r;
  }
  if( COL(7) && parseSize(v, &n, &zErr)==SQLITE_OK ) s->entrySizeLimit = n;
  if( COL(8) ){
    sqlite3_free(s->zHashFunc);
    s->zHashFunc = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 8));
    if( s->zHashFunc==0 ) return SQLITE_NOMEM;
  }
  if( COL(9) && parseDuration(v, 0, &r, &zErr)==SQLITE_OK ){
    s->staleWhileRefresh = r;
  }
  if( COL(10) && parseDuration(v, 0, &r, &zErr)==SQLITE_OK ){
    s->staleIfError = r;
  }
  if( COL(11) && parseBool(v, &b, &zErr)==SQLITE_OK ){
    s->backgroundRefresh = b;
  }
  if( COL(12) && parseSize(v, &n, &zErr)==SQLITE_OK ) s->compressMin = n;
  if( COL(13) && compressLevelCheck(v, &b, &zErr)==SQLITE_OK ){
    s->compressLevel = b;
  }
  /* The '*' row's bounds bound the whole store; a function's its own. */
  if( COL(14) && parseCount(v, &n, &zErr)==SQLITE_OK ){
    if( bStar ) s->storeMaxEntries = n; else s->maxEntries = n;
  }
  if( COL(15) && parseSize(v, &n, &zErr)==SQLITE_OK ){
    if( bStar ) s->storeMaxBytes = n; else s->maxBytes = n;
  }
  if( COL(16) && parseEviction(v, &b, &zErr)==SQLITE_OK ) s->eEviction = b;
  if( COL(17) && sqlite3_value_type(v)==SQLITE_TEXT ){
    sqlite3_free(s->zStore);
    s->zStore = sqlite3_mprintf("%s", sqlite3_value_text(v));
    if( s->zStore==0 ) return SQLITE_NOMEM;
  }
  if( bStar && COL(18) && parseSize(v, &n, &zErr)==SQLITE_OK ){
    s->hotBytes = n<0 ? 0 : n;
  }
#undef COL
  sqlite3_free(zErr);
  return SQLITE_OK;
}

#define SQL_SETTINGS \
  "SELECT name, stale_after, next_time, allow_none, wait_for_calc_timeout," \
  " cleanup_stale, cleanup_interval, entry_size_limit, hash_func," \
  " stale_while_refresh, stale_if_error, background_refresh," \
  " compress_min, compress_level, max_entries, max_bytes, eviction," \
  " store, hot_bytes" \
  " FROM main.cachier_config WHERE name IN ('*', ?1) ORDER BY name<>'*'"

/* Load the effective settings of zFn: built-in defaults, then the '*'
** row, then the function's own row. A missing or unreadable config table
** means defaults. */
int settingsLoad(Cachier *p, const char *zFn, FnSettings *s, char **pzErr){
  sqlite3_stmt *pStmt;
  int rc = SQLITE_OK;
  (void)pzErr;
  settingsClear(s);
  pStmt = cachierStmt(p, STMT_SETTINGS, SQL_SETTINGS);
  if( pStmt==0 ) return SQLITE_OK;
  sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    rc = settingsApplyRow(pStmt, s);
  }
  cachierStmtDone(p, STMT_SETTINGS, pStmt);
  return rc;
}

/* Parse the memoize_with() options object. NULL means no options. Uses
** SQLite's own JSON functions: json_each() walks the object. */
int optionsParse(sqlite3 *db, sqlite3_value *pOpts, CallOptions *o,
                 char **pzErr){
  sqlite3_stmt *pStmt = 0;
  int rc;
  memset(o, 0, sizeof(*o));
  if( sqlite3_value_type(pOpts)==SQLITE_NULL ) return SQLITE_OK;
  if( sqlite3_value_type(pOpts)!=SQLITE_TEXT ){
    *pzErr = sqlite3_mprintf("options must be a JSON object (text) or NULL");
    return SQLITE_ERROR;
  }
  rc = sqlite3_prepare_v2(db,
      "SELECT json_valid(?1) AND json_type(?1)='object'", -1, &pStmt, 0);
  if( rc ) goto sql_error;
  sqlite3_bind_value(pStmt, 1, pOpts);
  if( sqlite3_step(pStmt)!=SQLITE_ROW || sqlite3_column_int(pStmt, 0)==0 ){
    sqlite3_finalize(pStmt);
    *pzErr = sqlite3_mprintf("options are not a JSON object: %s",
                             sqlite3_value_text(pOpts));
    return SQLITE_ERROR;
  }
  sqlite3_finalize(pStmt);
  rc = sqlite3_prepare_v2(db, "SELECT key, value, type FROM json_each(?1)",
                          -1, &pStmt, 0);
  if( rc ) goto sql_error;
  sqlite3_bind_value(pStmt, 1, pOpts);
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zKey = (const char*)sqlite3_column_text(pStmt, 0);
    sqlite3_value *pVal = sqlite3_column_value(pStmt, 1);
    const char *zType = (const char*)sqlite3_column_text(pStmt, 2);
    int isBool = strcmp(zType,"true")==0 || strcmp(zType,"false")==0
              || (strcmp(zType,"integer")==0
                  && (sqlite3_value_int64(pVal)==0
                      || sqlite3_value_int64(pVal)==1));
    int isNull = strcmp(zType, "null")==0;
    int isDuration = strcmp(zType,"integer")==0 || strcmp(zType,"real")==0
                  || strcmp(zType,"text")==0;
    char *zWhy = 0;
    int *pFlag = 0, *pHas = 0;
    double *pSecs = 0;
    int bNeg = 0;
    if( zKey==0 ) zKey = "";
    if( strcmp(zKey, "skip_cache")==0 ) pFlag = &o->skipCache;
    else if( strcmp(zKey, "overwrite_cache")==0 ) pFlag = &o->overwriteCache;
    else if( strcmp(zKey, "verbose")==0 ) pFlag = &o->verbose;
    else if( strcmp(zKey, "allow_none")==0 ){
      pFlag = &o->allowNone; pHas = &o->hasAllowNone;
    }else if( strcmp(zKey, "next_time")==0 ){
      pFlag = &o->nextTime; pHas = &o->hasNextTime;
    }else if( strcmp(zKey, "cleanup_stale")==0 ){
      pFlag = &o->cleanupStale; pHas = &o->hasCleanupStale;
    }else if( strcmp(zKey, "stale_after")==0 ){
      pSecs = &o->staleAfter; pHas = &o->hasStaleAfter;
    }else if( strcmp(zKey, "max_age")==0 ){
      pSecs = &o->maxAge; pHas = &o->hasMaxAge; bNeg = 1;
    }else if( strcmp(zKey, "wait_for_calc_timeout")==0 ){
      pSecs = &o->waitForCalcTimeout; pHas = &o->hasWait;
    }else if( strcmp(zKey, "cleanup_interval")==0 ){
      pSecs = &o->cleanupInterval; pHas = &o->hasCleanupInterval;
    }else if( strcmp(zKey, "stale_while_refresh")==0 ){
      pSecs = &o->staleWhileRefresh; pHas = &o->hasStaleWhileRefresh;
    }else if( strcmp(zKey, "stale_if_error")==0 ){
      pSecs = &o->staleIfError; pHas = &o->hasStaleIfError;
    }else{
      *pzErr = sqlite3_mprintf("unknown option \"%s\"", zKey);
      sqlite3_finalize(pStmt);
      return SQLITE_ERROR;
    }
    if( pFlag ){
      if( !isBool ){
        *pzErr = sqlite3_mprintf("option \"%s\" must be true or false", zKey);
        sqlite3_finalize(pStmt);
        return SQLITE_ERROR;
      }
      *pFlag = sqlite3_value_int(pVal)!=0;
    }else if( isNull && (pSecs==&o->staleAfter
                      || pSecs==&o->staleWhileRefresh
                      || pSecs==&o->staleIfError) ){
      *pSecs = CACHIER_NEVER;       /* null means never / unbounded */
    }else if( !isDuration
           || parseDuration(pVal, bNeg, pSecs, &zWhy)!=SQLITE_OK
           || durationRuleCheck(zKey, *pSecs, &zWhy)!=SQLITE_OK ){
      *pzErr = sqlite3_mprintf("option \"%s\": %s", zKey,
          zWhy ? zWhy : "must be a number of seconds or a duration text");
      sqlite3_free(zWhy);
      sqlite3_finalize(pStmt);
      return SQLITE_ERROR;
    }
    if( pHas ) *pHas = 1;
  }
  rc = sqlite3_finalize(pStmt);
  if( rc ) goto sql_error;
  return SQLITE_OK;
sql_error:
  *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
  return rc;
}
