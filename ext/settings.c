/*
** settings.c - per-function settings, memoize_with() options, and the
** parsing of durations, sizes and booleans.
**
** The settings are written once, in aSetting[]: each row is a column of
** cachier_functions (and of cachier_config, in the same order as
** sql/schema.sql), a memoize_with() option, or both, with its kind, flags,
** fields and default. Adding a setting is one row there, its field in
** FnSettings and/or CallOptions, and its column in sql/schema.sql (plus a
** migration) - then what it means where it is used. A setting whose value
** reaches code or the outside world is SETTING_SEALED: a database from
** anyone can carry cachier_config rows, so its value is honoured only if
** its row was sealed by this user (seal.c, docs/security.md).
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

#define FN(f)         (int)offsetof(FnSettings, f), (int)offsetof(FnSettings, f)
#define FN_STAR(f, g) (int)offsetof(FnSettings, f), (int)offsetof(FnSettings, g)
#define STAR_ONLY(g)  -1, (int)offsetof(FnSettings, g)
#define NO_FN         -1, -1
#define OPT(f, has)   (int)offsetof(CallOptions, f), \
                      (int)offsetof(CallOptions, has)
#define OPT_FLAG(f)   (int)offsetof(CallOptions, f), -1
#define NO_OPT        -1, -1

/* The settings. Rows without SETTING_OPTION_ONLY are the columns of
** cachier_functions and cachier_config, in this order (which must stay
** that of sql/schema.sql: settings.test checks it). FN_STAR: the '*' row
** sets the second field (the whole store's bound). */
static const SettingDef aSetting[] = {
  /* name, kind, flags, FnSettings fields, CallOptions fields, default */
  { "name", SETTING_KIND_NAME, 0, NO_FN, NO_OPT, 0, 0 },
  { "skip_cache", SETTING_KIND_BOOL, SETTING_OPTION_ONLY,
    NO_FN, OPT_FLAG(skipCache), 0, 0 },
  { "overwrite_cache", SETTING_KIND_BOOL, SETTING_OPTION_ONLY,
    NO_FN, OPT_FLAG(overwriteCache), 0, 0 },
  { "verbose", SETTING_KIND_BOOL, SETTING_OPTION_ONLY,
    NO_FN, OPT_FLAG(verbose), 0, 0 },
  { "stale_after", SETTING_KIND_DURATION, SETTING_NEVER_OK|SETTING_NULL_NEVER,
    FN(staleAfter), OPT(staleAfter, hasStaleAfter), CACHIER_NEVER, 0 },
  { "max_age", SETTING_KIND_DURATION,
    SETTING_OPTION_ONLY|SETTING_NEVER_OK|SETTING_NEGATIVE_OK,
    NO_FN, OPT(maxAge, hasMaxAge), 0, 0 },
  { "next_time", SETTING_KIND_BOOL, 0,
    FN(nextTime), OPT(nextTime, hasNextTime), 0, 0 },
  { "allow_none", SETTING_KIND_BOOL, 0,
    FN(allowNone), OPT(allowNone, hasAllowNone), 0, 0 },
  { "wait_for_calc_timeout", SETTING_KIND_DURATION, 0,
    FN(waitForCalcTimeout), OPT(waitForCalcTimeout, hasWait), 0.0, 0 },
  { "cleanup_stale", SETTING_KIND_BOOL, 0,
    FN(cleanupStale), OPT(cleanupStale, hasCleanupStale), 0, 0 },
  { "cleanup_interval", SETTING_KIND_DURATION, SETTING_POSITIVE,
    FN(cleanupInterval), OPT(cleanupInterval, hasCleanupInterval),
    86400.0, 0 },
  { "entry_size_limit", SETTING_KIND_SIZE, 0,
    FN(entrySizeLimit), NO_OPT, -1, 0 },
  { "hash_func", SETTING_KIND_FUNCTION, SETTING_SEALED,
    FN(zHashFunc), NO_OPT, 0, 0 },
  { "stale_while_refresh", SETTING_KIND_DURATION,
    SETTING_NEVER_OK|SETTING_NULL_NEVER,
    FN(staleWhileRefresh), OPT(staleWhileRefresh, hasStaleWhileRefresh),
    -1.0, 0 },
  { "stale_if_error", SETTING_KIND_DURATION,
    SETTING_NEVER_OK|SETTING_NULL_NEVER,
    FN(staleIfError), OPT(staleIfError, hasStaleIfError), -1.0, 0 },
  { "background_refresh", SETTING_KIND_BOOL, 0,
    FN(backgroundRefresh), NO_OPT, 0, 0 },
  { "compress_min", SETTING_KIND_SIZE, 0,
    FN(compressMin), NO_OPT, CACHIER_COMPRESS_MIN, 0 },
  { "compress_level", SETTING_KIND_LEVEL, 0,
    FN(compressLevel), NO_OPT, CACHIER_COMPRESS_LEVEL, 0 },
  { "max_entries", SETTING_KIND_COUNT, 0,
    FN_STAR(maxEntries, storeMaxEntries), NO_OPT, -1, 0 },
  { "max_bytes", SETTING_KIND_SIZE, 0,
    FN_STAR(maxBytes, storeMaxBytes), NO_OPT, -1, 0 },
  { "eviction", SETTING_KIND_EVICTION, 0,
    FN(eEviction), NO_OPT, EVICT_LRU, 0 },
  { "store", SETTING_KIND_STORE, SETTING_SEALED, FN(zStore), NO_OPT, 0, 0 },
  { "hot_bytes", SETTING_KIND_SIZE, SETTING_STAR_ONLY|SETTING_NONE_OFF,
    STAR_ONLY(hotBytes), NO_OPT, CACHIER_HOT_BYTES,
    "it sizes each connection's hot tier" },
  { "statement_bytes", SETTING_KIND_SIZE,
    SETTING_OPTION_ONLY|SETTING_NONE_OFF,
    NO_FN, OPT(statementBytes, hasStatementBytes), CACHIER_STATEMENT_BYTES,
    0 },
  /* (version 5, after cachier_config's seal: depends.c) */
  { "depends_on", SETTING_KIND_DEPENDS, SETTING_SEALED,
    FN(zDependsOn), NO_OPT, 0, 0 },
  { "version", SETTING_KIND_VERSION, 0, FN(version), NO_OPT, 0, 0 },
};
#define N_SETTING ((int)(sizeof(aSetting)/sizeof(aSetting[0])))

/* Column iCol of cachier_functions (0 is name), NULL past the last. */
const SettingDef *settingColumn(int iCol){
  int i;
  for(i=0; i<N_SETTING; i++){
    if( aSetting[i].flags & SETTING_OPTION_ONLY ) continue;
    if( iCol--==0 ) return &aSetting[i];
  }
  return 0;
}

int settingColumnCount(void){
  int i, n = 0;
  for(i=0; i<N_SETTING; i++){
    if( (aSetting[i].flags & SETTING_OPTION_ONLY)==0 ) n++;
  }
  return n;
}

/* The columns, quoted and comma-separated, for SQL: "name","stale_after",...
** NULL on OOM; the caller frees it. */
char *settingColumnList(void){
  char *z = 0;
  const SettingDef *pDef;
  int iCol;
  for(iCol=0; (pDef = settingColumn(iCol))!=0; iCol++){
    z = sqlite3_mprintf("%z%s\"%w\"", z, iCol ? "," : "", pDef->zName);
    if( z==0 ) return 0;
  }
  return z;
}

/* Store the default r in the field at pField of a pDef's kind. */
static void settingPutDefault(const SettingDef *pDef, char *pField, double r){
  switch( pDef->eKind ){
    case SETTING_KIND_DURATION: *(double*)pField = r; break;
    case SETTING_KIND_BOOL:
    case SETTING_KIND_LEVEL:
    case SETTING_KIND_EVICTION: *(int*)pField = (int)r; break;
    case SETTING_KIND_SIZE:
    case SETTING_KIND_COUNT:
    case SETTING_KIND_VERSION: *(sqlite3_int64*)pField = (sqlite3_int64)r;
                               break;
    default: break;           /* text kinds: NULL */
  }
}

void settingsDefaults(FnSettings *s){
  int i;
  memset(s, 0, sizeof(*s));
  for(i=0; i<N_SETTING; i++){
    const SettingDef *pDef = &aSetting[i];
    if( pDef->iFn>=0 ){
      settingPutDefault(pDef, (char*)s + pDef->iFn, pDef->rDefault);
    }
    if( pDef->iFnStar>=0 && pDef->iFnStar!=pDef->iFn ){
      settingPutDefault(pDef, (char*)s + pDef->iFnStar, pDef->rDefault);
    }
  }
}

void settingsClear(FnSettings *s){
  sqlite3_free(s->zHashFunc);
  sqlite3_free(s->zStore);
  sqlite3_free(s->zDependsOn);
  settingsDefaults(s);
}

/* Copy of z[0..n) (n<0: all of z), spaces trimmed, lower-cased; NULL
** on OOM (or if z is, as the text of a value is on OOM). */
char *settingLowerTrimmed(const char *z, int n){
  char *zOut;
  int i;
  if( z==0 ) return 0;
  if( n<0 ) n = (int)strlen(z);
  while( n>0 && isspace((unsigned char)z[0]) ){ z++; n--; }
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

/* Parse zText as "<number> <unit>" with a unit of aUnit, or as
** one of the words azWord (then *piWord is its index, else -1). Returns
** SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR if it is neither. */
static int parseTextQuantity(const char *zText, const Unit *aUnit,
                             const char *const *azWord, double *pR,
                             int *piWord){
  char *z = settingLowerTrimmed(zText, -1);
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

/* Parse a duration given as a number r (eType SQLITE_INTEGER or
** SQLITE_FLOAT) or as text zText (SQLITE_TEXT); see parseDuration(). */
static int durationParse(int eType, double r, const char *zText,
                         int bAllowNegative, double *pSecs, char **pzErr){
  static const char *const azWord[] = {"never", 0};
  int iWord, rc;
  switch( eType ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      break;
    case SQLITE_TEXT:
      rc = parseTextQuantity(zText, aDurationUnit, azWord, &r, &iWord);
      if( rc==SQLITE_ERROR ){
        *pzErr = sqlite3_mprintf("invalid duration '%q': use seconds or "
            "text such as '90 seconds', '30 minutes', '2 hours', '1 day' "
            "or 'never'", zText);
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

/* Parse a duration into seconds (CACHIER_NEVER for 'never'). Negative
** values are allowed only if bAllowNegative. NULL is not a duration: the
** caller decides what NULL means. */
int parseDuration(sqlite3_value *pVal, int bAllowNegative, double *pSecs,
                  char **pzErr){
  int eType = sqlite3_value_type(pVal);
  if( eType==SQLITE_TEXT ){
    return durationParse(eType, 0.0, (const char*)sqlite3_value_text(pVal),
                         bAllowNegative, pSecs, pzErr);
  }
  return durationParse(eType, sqlite3_value_double(pVal), 0, bAllowNegative,
                       pSecs, pzErr);
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
      rc = parseTextQuantity((const char*)sqlite3_value_text(pVal), aSizeUnit,
                             azWord, &r, &iWord);
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
    char *z = settingLowerTrimmed((const char*)sqlite3_value_text(pVal), -1);
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
  char *z = sqlite3_value_type(pVal)==SQLITE_TEXT
          ? settingLowerTrimmed((const char*)sqlite3_value_text(pVal), -1) : 0;
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
    char *z = settingLowerTrimmed((const char*)sqlite3_value_text(pVal), -1);
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

/* Parse pVal, not NULL, by pDef's kind (the syntax; settingRuleCheck()
** has the rules beyond it). Text kinds point v->z at pVal's text. */
int settingParse(const SettingDef *pDef, sqlite3_value *pVal,
                 SettingValue *v, char **pzWhy){
  memset(v, 0, sizeof(*v));
  switch( pDef->eKind ){
    case SETTING_KIND_DURATION:
      return parseDuration(pVal, (pDef->flags & SETTING_NEGATIVE_OK)!=0,
                           &v->r, pzWhy);
    case SETTING_KIND_BOOL:     return parseBool(pVal, &v->i, pzWhy);
    case SETTING_KIND_SIZE:     return parseSize(pVal, &v->n, pzWhy);
    case SETTING_KIND_COUNT:    return parseCount(pVal, &v->n, pzWhy);
    case SETTING_KIND_LEVEL:    return compressLevelCheck(pVal, &v->i, pzWhy);
    case SETTING_KIND_EVICTION: return parseEviction(pVal, &v->i, pzWhy);
    case SETTING_KIND_STORE:
      if( sqlite3_value_type(pVal)!=SQLITE_TEXT ){
        *pzWhy = sqlite3_mprintf("a store name is text: 'main', 'memory', "
                                 "'file:PATH', 'redis://...' or 'unix:...'");
        return SQLITE_ERROR;
      }
      /* fall through */
    case SETTING_KIND_FUNCTION:
    case SETTING_KIND_DEPENDS:
      v->z = (const char*)sqlite3_value_text(pVal);
      return v->z ? SQLITE_OK : SQLITE_NOMEM;
    case SETTING_KIND_VERSION:
      return dependsVersionStamp(pVal, &v->n);
  }
  return SQLITE_ERROR;        /* SETTING_KIND_NAME is no value of its own */
}

/* The rules shared by cachier_functions and memoize_with() beyond the
** syntax: only SETTING_NEVER_OK durations may be 'never'; SETTING_POSITIVE
** ones must be more than 0. *pzWhy is set on a violation. */
int settingRuleCheck(const SettingDef *pDef, const SettingValue *v,
                     char **pzWhy){
  if( pDef->eKind!=SETTING_KIND_DURATION ) return SQLITE_OK;
  if( v->r>=CACHIER_NEVER && (pDef->flags & SETTING_NEVER_OK)==0 ){
    char *zList = 0;
    int i, n = 0, k = 0;
    for(i=0; i<N_SETTING; i++) n += (aSetting[i].flags & SETTING_NEVER_OK)!=0;
    for(i=0; i<N_SETTING; i++){
      if( (aSetting[i].flags & SETTING_NEVER_OK)==0 ) continue;
      zList = sqlite3_mprintf("%z%s%s", zList,
          k==0 ? "" : k==n-1 ? " and " : ", ", aSetting[i].zName);
      if( zList==0 ) return SQLITE_NOMEM;
      k++;
    }
    *pzWhy = sqlite3_mprintf("'never' is only valid for %z", zList);
    return SQLITE_ERROR;
  }
  if( (pDef->flags & SETTING_POSITIVE) && v->r<=0.0 ){
    *pzWhy = sqlite3_mprintf("must be positive");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Store v in the field at pField (of FnSettings or CallOptions) of pDef's
** kind. SQLITE_NOMEM if a text copy fails. */
static int settingPut(const SettingDef *pDef, char *pField,
                      const SettingValue *v){
  switch( pDef->eKind ){
    case SETTING_KIND_DURATION: *(double*)pField = v->r; break;
    case SETTING_KIND_BOOL:
    case SETTING_KIND_LEVEL:
    case SETTING_KIND_EVICTION: *(int*)pField = v->i; break;
    case SETTING_KIND_SIZE:
    case SETTING_KIND_COUNT:
      *(sqlite3_int64*)pField =
          v->n<0 && (pDef->flags & SETTING_NONE_OFF) ? 0 : v->n;
      break;
    case SETTING_KIND_VERSION: *(sqlite3_int64*)pField = v->n; break;
    case SETTING_KIND_DEPENDS:
    case SETTING_KIND_STORE:
    case SETTING_KIND_FUNCTION: {
      char **pz = (char**)pField;
      sqlite3_free(*pz);
      *pz = sqlite3_mprintf("%s", v->z);
      if( *pz==0 ) return SQLITE_NOMEM;
      break;
    }
  }
  return SQLITE_OK;
}

/* Log, once per connection, function and row, that the sealed settings
** of the cachier_config row in pStmt (named zRow) are ignored for zFn,
** naming those that have a value. */
static void logUnsealed(Cachier *p, const char *zFn, const char *zRow,
                        sqlite3_stmt *pStmt){
  char *zWhat = sqlite3_mprintf("%s\t%s", zFn, zRow);
  char *zList = 0;
  const SettingDef *pDef;
  int iCol;
  if( zWhat && sealWarnOnce(p, zWhat) ){
    for(iCol=1; (pDef = settingColumn(iCol))!=0; iCol++){
      if( (pDef->flags & SETTING_SEALED)
       && sqlite3_column_type(pStmt, iCol)!=SQLITE_NULL ){
        zList = sqlite3_mprintf("%z%s%s", zList, zList ? " and " : "",
                                pDef->zName);
      }
    }
    cachierLog(p, "cachier: %s(): ignoring the %s of cachier_config row "
        "'%s': not sealed by this user (write it through cachier_functions "
        "to trust it)", zFn, zList ? zList : "sealed settings", zRow);
  }
  sqlite3_free(zList);
  sqlite3_free(zWhat);
}

/* Apply the non-NULL columns of one cachier_config row (the columns of
** settingColumnList(), name first, then its seal) over *s. Stored values
** were validated on write; a value that no longer parses is ignored rather
** than failing the call, and so are the SETTING_SEALED ones of a row
** without a valid seal (then it is as if they were NULL). */
static int settingsApplyRow(Cachier *p, const char *zFn, sqlite3_stmt *pStmt,
                            FnSettings *s){
  const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
  int bStar = zName && strcmp(zName, "*")==0;
  int bSealBad = sealCheck(p, pStmt, 0, settingColumnCount())==SEAL_INVALID;
  const SettingDef *pDef;
  int iCol, rc = SQLITE_OK;
  if( bSealBad ) logUnsealed(p, zFn, zName ? zName : "", pStmt);
  for(iCol=1; rc==SQLITE_OK && (pDef = settingColumn(iCol))!=0; iCol++){
    sqlite3_value *pVal = sqlite3_column_value(pStmt, iCol);
    int iField = bStar ? pDef->iFnStar : pDef->iFn;
    SettingValue v;
    char *zWhy = 0;
    if( iField<0 || sqlite3_value_type(pVal)==SQLITE_NULL ) continue;
    if( bSealBad && (pDef->flags & SETTING_SEALED) ){
      /* An ignored depends_on must not leave the entries served without
      ** their dependencies checked: none are served (depends.c). */
      if( pDef->eKind==SETTING_KIND_DEPENDS ) s->bDependsUnsealed = 1;
      continue;
    }
    if( settingParse(pDef, pVal, &v, &zWhy)==SQLITE_OK ){
      rc = settingPut(pDef, (char*)s + iField, &v);
      /* (The function's own depends_on replaces an ignored '*' one.) */
      if( pDef->eKind==SETTING_KIND_DEPENDS ) s->bDependsUnsealed = 0;
    }
    sqlite3_free(zWhy);
  }
  return rc;
}

/* Load the effective settings of zFn: built-in defaults, then the '*'
** row, then the function's own row. A missing config table (or one
** without the seal column: older than version 4) means defaults; a read
** that fails is an error (the caller computes without the cache). */
int settingsLoad(Cachier *p, const char *zFn, FnSettings *s, char **pzErr){
  sqlite3_stmt *pStmt;
  char *zList, *zSql;
  int rc = SQLITE_OK;
  (void)pzErr;
  settingsClear(s);
  zList = settingColumnList();
  zSql = zList ? sqlite3_mprintf("SELECT %s, seal FROM main.cachier_config"
      " WHERE name IN ('*', ?1) ORDER BY name<>'*'", zList) : 0;
  sqlite3_free(zList);
  if( zSql==0 ) return SQLITE_NOMEM;
  pStmt = cachierStmt(p, STMT_SETTINGS, zSql);
  sqlite3_free(zSql);
  if( pStmt==0 ) return SQLITE_OK;
  /* (A copy in a UTF-16 database: failing, it must not mean defaults.) */
  rc = sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    rc = settingsApplyRow(p, zFn, pStmt, s);
  }
  /* A read that fails part-way (I/O error, a damaged page) is an error,
  ** not the defaults: a default stale_after of never would serve what the
  ** function's row says is stale. */
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  cachierStmtDone(p, STMT_SETTINGS, pStmt);
  /* A cachier_query table's entries are also of its definition. */
  if( rc==SQLITE_OK ) queryFoldSettings(p, zFn, s);
  return rc;
}

/* The stores the cachier_config rows name, for listing every store: the
** statement (NULL if there is no table, or on OOM; the caller finalizes
** it), then each store in turn from settingsStoresNext(), NULL at the
** end. Rows whose store is not sealed (settingsApplyRow()) are skipped. */
sqlite3_stmt *settingsStoresPrepare(Cachier *p){
  sqlite3_stmt *pStmt = 0;
  char *zList = settingColumnList();
  char *zSql = zList ? sqlite3_mprintf("SELECT %s, seal FROM"
      " main.cachier_config WHERE store IS NOT NULL", zList) : 0;
  sqlite3_free(zList);
  if( zSql && sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)!=SQLITE_OK ){
    sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  sqlite3_free(zSql);
  return pStmt;
}

const char *settingsStoresNext(Cachier *p, sqlite3_stmt *pStmt){
  int nCol = settingColumnCount(), iStore;
  for(iStore=1; iStore<nCol; iStore++){
    if( settingColumn(iStore)->eKind==SETTING_KIND_STORE ) break;
  }
  while( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *zSpec;
    if( sealCheck(p, pStmt, 0, nCol)==SEAL_INVALID ) continue;
    zSpec = (const char*)sqlite3_column_text(pStmt, iStore);
    if( zSpec ) return zSpec;
  }
  return 0;
}

/* The row of the memoize_with() option zKey, NULL if there is none. */
static const SettingDef *optionDef(const char *zKey){
  int i;
  for(i=0; i<N_SETTING; i++){
    if( aSetting[i].iOpt>=0 && strcmp(aSetting[i].zName, zKey)==0 ){
      return &aSetting[i];
    }
  }
  return 0;
}

/* Parse the memoize_with() options object. NULL means no options. It is
** read in C (json.c), not with json_each() on the user's connection, whose
** statements can fail where memoize() does not (an authorizer, I/O errors
** reading the schema). */
int optionsParse(sqlite3 *db, sqlite3_value *pOpts, CallOptions *o,
                 char **pzErr){
  const char *z;
  JsonTok key, val;
  int i;
  (void)db;
  memset(o, 0, sizeof(*o));
  o->bOnlyMemoBytes = 1;
  if( sqlite3_value_type(pOpts)==SQLITE_NULL ) return SQLITE_OK;
  if( sqlite3_value_type(pOpts)!=SQLITE_TEXT ){
    *pzErr = sqlite3_mprintf("options must be a JSON object (text) or NULL");
    return SQLITE_ERROR;
  }
  z = (const char*)sqlite3_value_text(pOpts);
  if( z==0 ) return SQLITE_NOMEM;
  if( jsonObjectCheck(z, &i)==0 ){
    *pzErr = sqlite3_mprintf("options are not a JSON object: %s", z);
    return SQLITE_ERROR;
  }
  while( jsonObjectNext(z, &i, &key, &val) ){
    const SettingDef *pDef;
    SettingValue v;
    char *zKey, *zText = 0, *zWhy = 0;
    sqlite3_int64 iNum = 0;
    double rNum = 0.0;
    int eNum = SQLITE_NULL, rc = SQLITE_OK;
    zKey = jsonText(&key);
    if( zKey==0 ) return SQLITE_NOMEM;
    pDef = optionDef(zKey);
    if( val.eType==JTOK_INTEGER || val.eType==JTOK_REAL ){
      eNum = jsonNumber(&val, &iNum, &rNum);
    }
    memset(&v, 0, sizeof(v));
    if( pDef==0 ){
      *pzErr = sqlite3_mprintf("unknown option \"%s\"", zKey);
      rc = SQLITE_ERROR;
    }else if( pDef->eKind==SETTING_KIND_BOOL ){
      /* true, false, or the integers 0 and 1 */
      if( val.eType==JTOK_TRUE || val.eType==JTOK_FALSE
       || (eNum==SQLITE_INTEGER && (iNum==0 || iNum==1)) ){
        v.i = val.eType==JTOK_TRUE || (eNum==SQLITE_INTEGER && iNum==1);
      }else{
        *pzErr = sqlite3_mprintf("option \"%s\" must be true or false",
                                 zKey);
        rc = SQLITE_ERROR;
      }
    }else if( val.eType==JTOK_NULL && (pDef->flags & SETTING_NULL_NEVER) ){
      v.r = CACHIER_NEVER;          /* null means never / unbounded */
    }else if( pDef->eKind==SETTING_KIND_SIZE ){
      /* A number of bytes, or a text such as '4MB' or 'none'. */
      static const char *const azWord[] = {"none", "unlimited", 0};
      double r = eNum==SQLITE_INTEGER ? (double)iNum : rNum;
      int iWord = -1;
      if( val.eType==JTOK_TEXT ){
        zText = jsonText(&val);
        if( zText==0 ) rc = SQLITE_NOMEM;
        else if( parseTextQuantity(zText, aSizeUnit, azWord, &r, &iWord) ){
          eNum = SQLITE_NULL;
        }else{
          eNum = SQLITE_TEXT;
        }
      }
      if( rc==SQLITE_OK && (eNum==SQLITE_NULL || r<0.0 || r>9.0e18) ){
        *pzErr = sqlite3_mprintf("option \"%s\" must be a number of bytes "
                                 "or a size text such as '4MB'", zKey);
        rc = SQLITE_ERROR;
      }
      v.n = iWord>=0 ? -1 : (sqlite3_int64)r;
      sqlite3_free(zText);
    }else{
      /* Options are booleans or durations: a number or a text. */
      if( val.eType==JTOK_TEXT ){
        zText = jsonText(&val);
        if( zText==0 ) rc = SQLITE_NOMEM;
        eNum = SQLITE_TEXT;
      }
      if( rc==SQLITE_OK
       && (eNum==SQLITE_NULL
           || durationParse(eNum, rNum, zText,
                            (pDef->flags & SETTING_NEGATIVE_OK)!=0, &v.r,
                            &zWhy)!=SQLITE_OK
           || settingRuleCheck(pDef, &v, &zWhy)!=SQLITE_OK) ){
        *pzErr = sqlite3_mprintf("option \"%s\": %s", zKey,
            zWhy ? zWhy : "must be a number of seconds or a duration text");
        rc = SQLITE_ERROR;
      }
      sqlite3_free(zWhy);
      sqlite3_free(zText);
    }
    sqlite3_free(zKey);
    if( rc ) return rc;
    settingPut(pDef, (char*)o + pDef->iOpt, &v);
    if( pDef->iOptHas>=0 ) *(int*)((char*)o + pDef->iOptHas) = 1;
    if( pDef->iOpt!=(int)offsetof(CallOptions, statementBytes) ){
      o->bOnlyMemoBytes = 0;
    }
  }
  return SQLITE_OK;
}
