/*
** call.c - resolving a function name and calling the function.
**
** SQL surface: cachier_subtype(X, N), an internal helper that returns X
** with subtype N. memoize() uses it to pass an argument's subtype (JSON)
** through to the called function, which sqlite3_bind_value() would drop.
**
** A function is called through a prepared "SELECT "name"(?1,...,?N)" on the
** same connection (a cachier_query table's through "SELECT
** cachier_query_rows('name', ?1,...,?N)", vtab_query.c), so it runs on the
** caller's thread with the caller's transaction. The name is checked against PRAGMA function_list before any
** SQL is built from it, and quoted with %w: nothing but a lookup can run.
*/
#include "cachier.h"
#include <string.h>

/* Identifier characters only; bytes >= 0x80 (UTF-8 names) are allowed. */
static int nameIsValid(const char *z, int n){
  int i;
  if( n==0 || n>200 ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( !(c>=0x80 || c=='_' || c=='$' || (c>='0' && c<='9')
          || (c>='a' && c<='z') || (c>='A' && c<='Z')) ) return 0;
  }
  return 1;
}

/* Lower-case (ASCII) copy of z[0..n), from sqlite3_malloc. */
static char *lowerCopy(const char *z, int n){
  char *zOut = sqlite3_malloc(n+1);
  int i;
  if( zOut==0 ) return 0;
  for(i=0; i<n; i++){
    char c = z[i];
    zOut[i] = (c>='A' && c<='Z') ? (char)(c - 'A' + 'a') : c;
  }
  zOut[n] = 0;
  return zOut;
}

/* Validate and canonicalize a function name without checking that the
** function exists (used by cachier_clear() and cachier_functions, which
** may name functions that are not registered yet). */
int callCanonicalName(const char *zCaller, sqlite3_value *pName, char **pzFn,
                      char **pzErr){
  const char *z;
  int n;
  if( sqlite3_value_type(pName)!=SQLITE_TEXT ){
    *pzErr = sqlite3_mprintf("%s: the function name must be text, not %s",
                             zCaller, typeName(sqlite3_value_type(pName)));
    return SQLITE_ERROR;
  }
  z = (const char*)sqlite3_value_text(pName);
  n = sqlite3_value_bytes(pName);
  if( z==0 ) return SQLITE_NOMEM;
  if( (int)strlen(z)!=n ){
    *pzErr = sqlite3_mprintf("%s: invalid function name '%q': a NUL byte "
        "follows it", zCaller, z);
    return SQLITE_ERROR;
  }
  if( !nameIsValid(z, n) ){
    *pzErr = sqlite3_mprintf("%s: invalid function name '%q': a name may "
        "hold only letters, digits, '_' and '$'", zCaller, z);
    return SQLITE_ERROR;
  }
  *pzFn = lowerCopy(z, n);
  return *pzFn ? SQLITE_OK : SQLITE_NOMEM;
}

/* Check that zFn (canonical) names a scalar SQL function on this
** connection that accepts nArg arguments and is not one of cachier's own.
** The check prepares "SELECT 1 WHERE fn(?,...)": it reads no table, so it
** works on a locked database, and SQLite itself rejects unknown names,
** wrong arities and aggregate or window functions (misused in WHERE).
** nArg<0 accepts any arity (PRAGMA function_list is consulted then). */
int callCheckFunction(Cachier *p, const char *zCaller, const char *zFn,
                      int nArg, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  sqlite3_str *pSql;
  const char *zMsg;
  char *zSql;
  int rc, i;
  if( cachierIsOwnFunction(zFn) ){
    *pzErr = sqlite3_mprintf("%s: cannot memoize %s(): cachier's own "
                             "functions are not memoizable", zCaller, zFn);
    return SQLITE_ERROR;
  }
  pSql = sqlite3_str_new(p->db);
  if( nArg<0 ){
    sqlite3_str_appendf(pSql, "SELECT 1 FROM pragma_function_list"
        " WHERE lower(name)=%Q AND type='s'", zFn);
  }else{
    sqlite3_str_appendf(pSql, "SELECT 1 WHERE \"%w\"(", zFn);
    for(i=0; i<nArg; i++) sqlite3_str_appendall(pSql, i ? ",?" : "?");
    sqlite3_str_appendchar(pSql, 1, ')');
  }
  zSql = sqlite3_str_finish(pSql);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && nArg<0 ){
    rc = sqlite3_step(pStmt);
    sqlite3_finalize(pStmt);
    if( rc==SQLITE_ROW ) return SQLITE_OK;
    if( rc==SQLITE_DONE && queryTableConnect(p, zFn)>=0 ) return SQLITE_OK;
    if( rc==SQLITE_DONE ){
      *pzErr = sqlite3_mprintf("%s: no such scalar function: %s", zCaller,
                               zFn);
      return SQLITE_ERROR;
    }
    *pzErr = sqlite3_mprintf("%s: %s", zCaller, sqlite3_errmsg(p->db));
    return rc;
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) return SQLITE_OK;
  zMsg = sqlite3_errmsg(p->db);
  if( strncmp(zMsg, "no such function", 16)==0 ){
    /* A cachier_query table: callPrepare() computes it through
    ** cachier_query_rows(). (A function of the name comes first.) */
    if( queryTableConnect(p, zFn)==nArg ) return SQLITE_OK;
    *pzErr = sqlite3_mprintf("%s: no such function: %s", zCaller, zFn);
  }else if( strncmp(zMsg, "wrong number of arguments", 25)==0 ){
    *pzErr = sqlite3_mprintf("%s: %s() does not take %d argument%s",
                             zCaller, zFn, nArg, nArg==1 ? "" : "s");
  }else if( strncmp(zMsg, "misuse of", 9)==0 ){
    *pzErr = sqlite3_mprintf("%s: %s() is an aggregate or window function; "
                             "only scalar functions can be memoized",
                             zCaller, zFn);
  }else{
    *pzErr = sqlite3_mprintf("%s: %s(): %s", zCaller, zFn, zMsg);
  }
  return rc;
}

/* Flags of PRAGMA function_list (sqlite3.h's values, which 3.40.1 reports
** in its flags column). */
#define FN_LIST_DETERMINISTIC 0x000800
#define FN_LIST_DIRECTONLY    0x080000

/* The flags checks of callCheckHashFunc() and callCheckStoredFunction():
** refuse zFn if an overload of it that takes nArg arguments (nArg<0:
** any) is DIRECTONLY or, with bDeterministic, not deterministic. */
static int checkFunctionFlags(Cachier *p, const char *zCaller,
                              const char *zFn, int nArg, int bDeterministic,
                              char **pzErr){
  sqlite3_stmt *pStmt = 0;
  const char *zWhy = 0;
  int rcBind = SQLITE_OK;
  int rc = sqlite3_prepare_v2(p->db, "SELECT flags FROM pragma_function_list"
      " WHERE lower(name)=lower(?1) AND type='s' AND (?2<0 OR narg IN (?2,-1))",
      -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    /* (Text binds copy in a UTF-16 database: a failure must not pass
    ** the check by matching no function.) */
    rcBind = sqlite3_bind_text(pStmt, 1, zFn, -1, SQLITE_STATIC);
    sqlite3_bind_int(pStmt, 2, nArg);
    while( rcBind==SQLITE_OK && zWhy==0 && sqlite3_step(pStmt)==SQLITE_ROW ){
      int flags = sqlite3_column_int(pStmt, 0);
      if( flags & FN_LIST_DIRECTONLY ){
        zWhy = "it is a direct-only function (it may only run from "
               "top-level SQL)";
      }else if( bDeterministic && (flags & FN_LIST_DETERMINISTIC)==0 ){
        zWhy = "it is not deterministic (a key must depend on the "
               "arguments alone; register it as deterministic)";
      }
    }
    rc = sqlite3_finalize(pStmt);
    if( rcBind ) rc = rcBind;
  }
  if( rc ){
    *pzErr = sqlite3_mprintf("%s: %s", zCaller,
        rcBind ? sqlite3_errstr(rcBind) : sqlite3_errmsg(p->db));
    return rc;
  }
  if( zWhy ){
    *pzErr = sqlite3_mprintf("%s: %s() cannot be %s: %s", zCaller, zFn,
        bDeterministic ? "a hash_func" : "called for a stored entry", zWhy);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Check that zFn may be a hash_func, called with nArg arguments (nArg<0:
** any arity; every overload counts): callCheckFunction()'s checks, and it
** must be deterministic and not DIRECTONLY, since it runs on every call
** with the caller's arguments wherever memoize() runs. That rules out
** cachier's own functions in any letter case, load_extension(), and any
** function with side effects that says so. Checked where a hash_func is
** written (cachier_functions) and where it is used (memoize()): a value
** may have been written by an older build, or the function registered
** differently since. zFn need not be canonical. */
int callCheckHashFunc(Cachier *p, const char *zCaller, const char *zFn,
                      int nArg, char **pzErr){
  int rc;
  if( !nameIsValid(zFn, (int)strlen(zFn)) ){
    *pzErr = sqlite3_mprintf("%s: invalid function name '%q': a name may "
        "hold only letters, digits, '_' and '$'", zCaller, zFn);
    return SQLITE_ERROR;
  }
  rc = callCheckFunction(p, zCaller, zFn, nArg, pzErr);
  if( rc==SQLITE_OK ) rc = checkFunctionFlags(p, zCaller, zFn, nArg, 1, pzErr);
  return rc;
}

/* Check that zFn, named by a stored entry (a refresh: the name and the
** arguments come from the database, which may come from anyone), may be
** called with nArg arguments: callCheckFunction()'s checks, and not
** DIRECTONLY (load_extension() and the like). */
int callCheckStoredFunction(Cachier *p, const char *zCaller, const char *zFn,
                            int nArg, char **pzErr){
  int rc = callCheckFunction(p, zCaller, zFn, nArg, pzErr);
  if( rc==SQLITE_OK ) rc = checkFunctionFlags(p, zCaller, zFn, nArg, 0, pzErr);
  return rc;
}

/* callCanonicalName() and callCheckFunction() together. On success *pzFn
** is the canonical (lower-case) name, from sqlite3_malloc. */
int callResolve(Cachier *p, const char *zCaller, sqlite3_value *pName,
                int nArg, char **pzFn, char **pzErr){
  char *zFn = 0;
  int rc = callCanonicalName(zCaller, pName, &zFn, pzErr);
  if( rc==SQLITE_OK ) rc = callCheckFunction(p, zCaller, zFn, nArg, pzErr);
  if( rc ){
    sqlite3_free(zFn);
    return rc;
  }
  *pzFn = zFn;
  return SQLITE_OK;
}

/* The SQL that calls pCall's function for the argument subtypes aSub
** (0: none): "SELECT "fn"(?1,...)", or, bQuery, the rows of the
** cachier_query table of that name, "SELECT cachier_query_rows('fn', ?1,
** ...)", one of cachier's own (guard.c). Arguments with a subtype go
** through cachier_subtype() so the function sees them exactly as the
** caller passed them. */
static char *callSql(Cachier *p, FnCall *pCall, const unsigned char *aSub,
                     int bQuery){
  sqlite3_str *pSql = sqlite3_str_new(p->db);
  int i;
  if( bQuery ){
    sqlite3_str_appendf(pSql, GUARD_OWN_SQL "SELECT " QUERY_ROWS_FUNCTION
                        "(%Q", pCall->zFn);
  }else{
    sqlite3_str_appendf(pSql, "SELECT \"%w\"(", pCall->zFn);
  }
  for(i=0; i<pCall->nArg; i++){
    if( i || bQuery ) sqlite3_str_appendchar(pSql, 1, ',');
    if( aSub && aSub[i] ){
      sqlite3_str_appendf(pSql, "cachier_subtype(?%d,%d)", i+1, aSub[i]);
    }else{
      sqlite3_str_appendf(pSql, "?%d", i+1);
    }
  }
  sqlite3_str_appendchar(pSql, 1, ')');
  return sqlite3_str_finish(pSql);
}

/* Prepare pCall->pStmt for the argument subtypes aSub[0..nArg) (0: none):
** a call of the function of that name, else of the cachier_query table
** of that name (callSql()). */
int callPrepare(Cachier *p, FnCall *pCall, const unsigned char *aSub,
                char **pzErr){
  char *zSql;
  int i, rc, bQuery;
  /* aSub first: a kept statement always has its subtypes beside it. */
  if( pCall->aSub==0 && pCall->nArg>0 ){
    pCall->aSub = sqlite3_malloc(pCall->nArg);
    if( pCall->aSub==0 ) return SQLITE_NOMEM;
  }
  sqlite3_finalize(pCall->pStmt);
  pCall->pStmt = 0;
  for(bQuery=0; bQuery<2; bQuery++){
    zSql = callSql(p, pCall, aSub, bQuery);
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_prepare_v3(p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT,
                            &pCall->pStmt, 0);
    sqlite3_free(zSql);
    if( rc==SQLITE_OK || bQuery
     || strncmp(sqlite3_errmsg(p->db), "no such function", 16)!=0
     || queryTableParams(p, pCall->zFn)!=pCall->nArg ){
      break;
    }
  }
  if( rc ){
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
    return rc;
  }
  for(i=0; i<pCall->nArg; i++) pCall->aSub[i] = aSub ? aSub[i] : 0;
  return SQLITE_OK;
}

/* Run the function on apArg. On SQLITE_ROW, the result is
** sqlite3_column_value(pCall->pStmt, 0) until callReset(). On error,
** *pzErr holds the function's own message. */
int callRun(Cachier *p, FnCall *pCall, sqlite3_value **apArg, char **pzErr){
  unsigned char aSub[CACHIER_MAX_ARGS+1];
  int i, rc, bSame = pCall->pStmt!=0;
  for(i=0; i<pCall->nArg; i++){
    aSub[i] = (unsigned char)sqlite3_value_subtype(apArg[i]);
    if( bSame && aSub[i]!=pCall->aSub[i] ) bSame = 0;
  }
  /* A plan belongs to one outer statement, which SQLite never re-enters,
  ** so the call statement is idle here. Prepare it on the first call and
  ** again when the arguments' subtypes change. */
  if( !bSame ){
    rc = callPrepare(p, pCall, aSub, pzErr);
    if( rc ) return rc;
  }
  for(i=0; i<pCall->nArg; i++){
    /* (A TEXT or BLOB is copied: out of memory leaves a NULL there.) */
    rc = sqlite3_bind_value(pCall->pStmt, i+1, apArg[i]);
    if( rc ){
      sqlite3_clear_bindings(pCall->pStmt);
      return rc;
    }
  }
  rc = guardStep(p, pCall->pStmt);
  if( rc==SQLITE_ROW ) return rc;
  rc = sqlite3_reset(pCall->pStmt);
  if( rc==SQLITE_OK ) rc = SQLITE_ERROR;
  *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  return rc;
}

/* callRun() on arguments decoded from an encoded argument list (a key
** made by keyEncodeArgs(), which must stay valid until callReset()). */
int callRunEncoded(Cachier *p, FnCall *pCall, const unsigned char *aArgs,
                   sqlite3_int64 nArgs, char **pzErr){
  unsigned char aSub[CACHIER_MAX_ARGS+1];
  int i, rc, nArg = 0, bSame = pCall->pStmt!=0;
  rc = keyDecodeArgs(aArgs, nArgs, &nArg, aSub, 0);
  if( rc==SQLITE_OK && nArg!=pCall->nArg ) rc = SQLITE_CORRUPT;
  if( rc ){
    *pzErr = sqlite3_mprintf("the stored arguments of this entry are "
                             "damaged");
    return rc;
  }
  for(i=0; i<nArg && bSame; i++) bSame = aSub[i]==pCall->aSub[i];
  if( !bSame ){
    rc = callPrepare(p, pCall, aSub, pzErr);
    if( rc ) return rc;
  }
  keyDecodeArgs(aArgs, nArgs, &nArg, 0, pCall->pStmt);
  rc = guardStep(p, pCall->pStmt);
  if( rc==SQLITE_ROW ) return rc;
  rc = sqlite3_reset(pCall->pStmt);
  if( rc==SQLITE_OK ) rc = SQLITE_ERROR;
  *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  return rc;
}

void callReset(FnCall *pCall){
  if( pCall->pStmt ) sqlite3_reset(pCall->pStmt);
}

void callFinalize(FnCall *pCall){
  sqlite3_finalize(pCall->pStmt);
  sqlite3_free(pCall->aSub);
  sqlite3_free(pCall->zFn);
  memset(pCall, 0, sizeof(*pCall));
}

/* cachier_subtype(X, N): X with subtype N. */
static void cachierSubtypeFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  sqlite3_result_value(ctx, argv[0]);
  sqlite3_result_subtype(ctx, (unsigned int)sqlite3_value_int(argv[1]));
}

const CachierFunction cachierCallFunctions[] = {
  { "cachier_subtype", 2, CACHIER_FN_PURE, cachierSubtypeFunc },
  { 0, 0, 0, 0 }
};
