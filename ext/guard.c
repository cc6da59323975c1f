/*
** guard.c - who may call cachier's SQLITE_DIRECTONLY functions.
**
** No SQL surface of its own. SQLite 3.40 (Debian 12's) runs a function
** named in a CHECK constraint even when it is SQLITE_DIRECTONLY, with
** trusted_schema ON or OFF (fixed in later releases): a hostile database
** file could thus make cachier compute, store, clear or switch off the
** cache for functions the user never called. (Views, triggers, DEFAULT
** clauses are enforced; index expressions, partial indexes and generated
** columns refuse non-deterministic functions.) So cachier's DIRECTONLY
** functions check their caller themselves: guardDirectCall() accepts a
** call only if one of the connection's running statements names the
** function as a call in its SQL text, which a statement the user (or the
** user's own function) prepared does, and an INSERT whose CHECK calls it
** does not. memoize() and memoize_with() check once per statement (when
** their plan is made, memoize.c), the others at each call (they are
** rare). guardScanSchema() warns, once per connection, of a schema that
** names them.
**
** cachier's own statements that call its DIRECTONLY functions (a
** cachier_query table's "SELECT memoize('q', ?1)", left on its row while
** the user's statement reads the rows; call.c's "SELECT
** cachier_query_rows(...)") start with GUARD_OWN_SQL. They vouch only for
** calls made while guardStep() runs them, and then only the innermost:
** not for a CHECK that fires in the user's INSERT ... SELECT FROM q.
**
** What it does not catch: a statement that names the function itself
** while a CHECK constraint calls it too (INSERT INTO t SELECT memoize(...)
** into a table whose CHECK calls memoize()), a statement left running (not
** reset) that names it, and statements prepared with the legacy
** sqlite3_prepare() (SQLite keeps no text for them: accepted).
*/
#include "store.h"
#include <string.h>

/* SQL identifier characters (and bytes of UTF-8 sequences). */
static int isIdChar(unsigned char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
      || c=='_' || c=='$' || c>=0x80;
}

/* z past whitespace and comments. */
static const char *skipSpace(const char *z){
  for(;;){
    if( *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' ){
      z++;
    }else if( z[0]=='-' && z[1]=='-' ){
      while( *z && *z!='\n' ) z++;
    }else if( z[0]=='/' && z[1]=='*' ){
      z += 2;
      while( *z && !(z[0]=='*' && z[1]=='/') ) z++;
      if( *z ) z += 2;
    }else{
      return z;
    }
  }
}

/* Kinds of tokens sqlToken() tells apart. */
#define TOK_OTHER  0          /* one character of punctuation */
#define TOK_WORD   1          /* a bare word */
#define TOK_QUOTED 2          /* a quoted identifier: "x", `x`, [x] */
#define TOK_STRING 3          /* a string literal */
#define TOK_SKIP   4          /* a number, whitespace or a comment */

/* The token at z (not at its end): its kind in *peKind and, for names
** and strings, its text (without quotes) in *pzName, *pnName. Returns
** the position after it. */
static const char *sqlToken(const char *z, int *peKind, const char **pzName,
                            size_t *pnName){
  unsigned char c = (unsigned char)*z;
  *pzName = z;
  *pnName = 0;
  if( c=='\'' || c=='"' || c=='`' || c=='[' ){
    char cEnd = c=='[' ? ']' : (char)c;
    *pzName = ++z;
    while( *z ){
      if( *z==cEnd ){
        if( cEnd!=']' && z[1]==cEnd ){ z += 2; continue; }  /* doubled */
        break;
      }
      z++;
    }
    *pnName = (size_t)(z - *pzName);
    if( *z ) z++;
    *peKind = c=='\'' ? TOK_STRING : TOK_QUOTED;
  }else if( (c=='-' && z[1]=='-') || (c=='/' && z[1]=='*')
         || c==' ' || c=='\t' || c=='\n' || c=='\r' || c=='\f' ){
    z = skipSpace(z);
    *peKind = TOK_SKIP;
  }else if( c>='0' && c<='9' ){
    while( isIdChar((unsigned char)*z) || *z=='.' ) z++;   /* a number */
    *peKind = TOK_SKIP;
  }else if( isIdChar(c) ){
    while( isIdChar((unsigned char)*z) ) z++;
    *pnName = (size_t)(z - *pzName);
    *peKind = TOK_WORD;
  }else{
    z++;
    *peKind = TOK_OTHER;
  }
  return z;
}

static int nameIs(const char *zName, size_t nName, const char *zWord){
  return nName==strlen(zWord)
      && sqlite3_strnicmp(zName, zWord, (int)nName)==0;
}

/*
** True if zSql has the token zWord (case-insensitive) outside string
** literals and comments. bCall: only as a call, that is followed (past
** whitespace and comments) by '('; a quoted identifier ("memoize",
** `memoize`, [memoize]) then counts as the name too. Without bCall only
** bare words count (a keyword such as CHECK).
*/
int guardSqlNames(const char *zSql, const char *zWord, int bCall){
  const char *z = zSql;
  while( *z ){
    const char *zName;
    size_t nName;
    int eKind;
    z = sqlToken(z, &eKind, &zName, &nName);
    if( eKind==TOK_WORD || (eKind==TOK_QUOTED && bCall) ){
      if( nameIs(zName, nName, zWord) && (!bCall || *skipSpace(z)=='(') ){
        return 1;
      }
    }
  }
  return 0;
}

/*
** True if zSql names the table zTable in a schema other than main
** ("aux.cachier_entries"): cachier's eponymous tables show main's cache
** whatever schema names them (SQLite 3.40 resolves an eponymous table in
** any schema to main's), so such a statement is refused rather than shown
** main's cache as aux's.
*/
int guardSqlOtherSchema(const char *zSql, const char *zTable){
  const char *z = zSql;
  const char *zPrev = 0, *zPrevDot = 0;   /* last name; name before a '.' */
  size_t nPrev = 0, nPrevDot = 0;
  int bDot = 0;                 /* the last token was a '.' after a name */
  while( *z ){
    const char *zName;
    size_t nName;
    int eKind;
    z = sqlToken(z, &eKind, &zName, &nName);
    if( eKind==TOK_SKIP ) continue;
    if( eKind==TOK_WORD || eKind==TOK_QUOTED ){
      if( bDot && nameIs(zName, nName, zTable)
       && !nameIs(zPrevDot, nPrevDot, "main") ){
        return 1;
      }
      zPrev = zName;
      nPrev = nName;
      bDot = 0;
    }else if( eKind==TOK_OTHER && zName[0]=='.' && zPrev ){
      zPrevDot = zPrev;
      nPrevDot = nPrev;
      zPrev = 0;
      bDot = 1;
    }else{
      zPrev = 0;
      bDot = 0;
    }
  }
  return 0;
}

/* 1 (and an error message in *pzErr) if a running statement of p names
** zTable in another schema than main (guardSqlOtherSchema()). */
int guardOtherSchema(Cachier *p, const char *zTable, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  while( (pStmt = sqlite3_next_stmt(p->db, pStmt))!=0 ){
    const char *zSql;
    if( !sqlite3_stmt_busy(pStmt) ) continue;
    zSql = sqlite3_sql(pStmt);
    if( zSql && guardSqlOtherSchema(zSql, zTable) ){
      *pzErr = sqlite3_mprintf("%s shows the cache of the main database "
          "only: open a connection whose main database is the other one",
          zTable);
      return 1;
    }
  }
  return 0;
}

/* The functions guardScanSchema() looks for. */
static const char *const azGuarded[] = {
  "memoize", "memoize_with", "cachier_precache", "cachier_clear",
  "cachier_enable", "cachier_refresh", "cachier_cleanup_stale",
  "cachier_train", "cachier_clear_being_calculated", "cachier_invalidate",
};

/* Log (once per connection) the tables and indexes of any attached
** database whose schema calls one of cachier's DIRECTONLY functions. */
static void guardScanSchema(Cachier *p){
  sqlite3_stmt *pDbs = 0;
  p->bSchemaScanned = 1;
  if( sqlite3_prepare_v2(p->db, "SELECT name FROM pragma_database_list",
                         -1, &pDbs, 0) ) return;
  while( sqlite3_step(pDbs)==SQLITE_ROW ){
    const char *zDb = (const char*)sqlite3_column_text(pDbs, 0);
    sqlite3_stmt *pStmt = 0;
    char *zSql = sqlite3_mprintf("SELECT name, sql FROM \"%w\".sqlite_schema"
        " WHERE type IN ('table','index') AND sql IS NOT NULL", zDb);
    if( zSql && sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0)==SQLITE_OK ){
      while( sqlite3_step(pStmt)==SQLITE_ROW ){
        const char *zName = (const char*)sqlite3_column_text(pStmt, 0);
        const char *zText = (const char*)sqlite3_column_text(pStmt, 1);
        size_t i;
        for(i=0; zText && i<sizeof(azGuarded)/sizeof(azGuarded[0]); i++){
          if( guardSqlNames(zText, azGuarded[i], 1) ){
            cachierLog(p, "cachier: warning: %s.%s calls %s() from the "
                       "database schema (a CHECK constraint?); cachier "
                       "refuses such calls", zDb, zName, azGuarded[i]);
            break;
          }
        }
      }
    }
    sqlite3_finalize(pStmt);
    sqlite3_free(zSql);
  }
  sqlite3_finalize(pDbs);
}

/*
** guardDirectCall() for the functions that only make the cache forget
** (cachier_clear(), cachier_invalidate()): also 0 when a TEMP trigger names
** zFn. The TEMP schema is this connection's own (no database file brings
** one), so such a trigger is the application's: per-connection
** invalidation (docs/invalidation.md). At worst a call from a database's
** schema gets through while the application has such a trigger, and the
** cache forgets values it recomputes: never a wrong value, no code run.
*/
int guardDirectOrTempCall(sqlite3_context *ctx, const char *zFn){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  sqlite3_stmt *pStmt = 0;
  int bTemp = 0;
  if( sqlite3_prepare_v2(p->db, "SELECT sql FROM temp.sqlite_schema"
        " WHERE type='trigger'", -1, &pStmt, 0)==SQLITE_OK ){
    while( !bTemp && sqlite3_step(pStmt)==SQLITE_ROW ){
      const char *zSql = (const char*)sqlite3_column_text(pStmt, 0);
      bTemp = zSql && guardSqlNames(zSql, zFn, 1);
    }
  }
  sqlite3_finalize(pStmt);
  return bTemp ? 0 : guardDirectCall(ctx, zFn);
}

/*
** 0 if zFn (one of cachier's SQLITE_DIRECTONLY functions, called on ctx)
** was called by a statement that names it: one the user prepared, at the
** top or inside a function of the user's, or the innermost of cachier's
** own that guardStep() is running now. Else 1, with the error on ctx: the
** call came from the schema (a CHECK constraint, which SQLite 3.40 lets
** call DIRECTONLY functions). cachier's own statements left on a row do
** not count.
*/
int guardDirectCall(sqlite3_context *ctx, const char *zFn){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  sqlite3_stmt *pStmt = 0;
  const char *zSql;
  char *zErr;
  if( !p->bSchemaScanned ) guardScanSchema(p);
  if( p->pGuardStep ){
    zSql = sqlite3_sql(p->pGuardStep->pStmt);
    if( zSql && guardSqlNames(zSql, zFn, 1) ) return 0;
  }
  while( (pStmt = sqlite3_next_stmt(p->db, pStmt))!=0 ){
    if( !sqlite3_stmt_busy(pStmt) ) continue;
    zSql = sqlite3_sql(pStmt);
    /* (No text: prepared with the legacy sqlite3_prepare(); accepted.) */
    if( zSql==0 ) return 0;
    if( strncmp(zSql, GUARD_OWN_SQL, sizeof(GUARD_OWN_SQL)-1)==0 ) continue;
    if( guardSqlNames(zSql, zFn, 1) ) return 0;
  }
  zErr = sqlite3_mprintf("cachier: %s() called from the database schema "
                         "(a CHECK constraint?) - refused; SQLite 3.40 does "
                         "not enforce SQLITE_DIRECTONLY there", zFn);
  if( zErr ){
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
  }else{
    sqlite3_result_error_nomem(ctx);
  }
  return 1;
}

/*
** sqlite3_step() on pStmt, one of cachier's own statements: while it runs,
** it is the innermost that vouches for the DIRECTONLY calls it names
** (guardDirectCall()). The frames are on the C stack, innermost first.
*/
int guardStep(Cachier *p, sqlite3_stmt *pStmt){
  GuardStep step;
  int rc;
  step.pStmt = pStmt;
  step.pOuter = p->pGuardStep;
  p->pGuardStep = &step;
  rc = sqlite3_step(pStmt);
  p->pGuardStep = step.pOuter;
  return rc;
}
