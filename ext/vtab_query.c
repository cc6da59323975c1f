/*
** vtab_query.c - cachier_query: a whole SELECT's result memoized like a
** function.
**
** SQL surface:
**   CREATE VIRTUAL TABLE top_customers USING cachier_query(
**     'SELECT customer, sum(total) AS spent FROM orders
**       WHERE region = ?1 GROUP BY customer ORDER BY spent DESC LIMIT 10');
**   SELECT * FROM top_customers('EU');
**   SELECT customer FROM top_customers WHERE param1 = 'US';
**       The table's columns are the query's result columns (names and
**       declared types as the query gives them), then one hidden column
**       per parameter: param1, param2, ... or NAME for :NAME, @NAME and
**       $NAME. A parameter without an equality constraint is bound NULL.
**   cachier_query_rows(TABLE, PARAM, ...)
**       Runs TABLE's query with the parameters and returns its rows as one
**       row set (rowset_codec.c). How the cache computes an entry; not
**       cached itself.
**   cachier_query_tables(TABLE)
**       The tables TABLE's query reads, as SQLite itself opens them (views
**       expanded): 'main.orders,main.rates'.
**   cachier_query_seal(TABLE)
**       Trusts TABLE's query as it is now (see below); returns 1.
**
** A read of the table is "SELECT memoize('top_customers', ?1, ...)" on the
** same connection: the whole result set for one parameter list is one
** entry of the function named after the table (lower case), keyed by the
** parameters, with everything memoize() does (settings in
** cachier_functions, stores, staleness, next_time, in-flight marks,
** compression, bounds, cachier_entries, cachier_stats, cachier_clear()).
** call.c computes that function through cachier_query_rows(), which runs
** the query prepared when the table was connected. DROP TABLE deletes the
** function's entries and settings.
**
** Redefinitions. A view or table the query reads may be redefined by any
** connection. The table's definition (queryDefine(): the query and the
** SQL of the tables and views it reads) has a stamp, folded into its
** function's version wherever settings are loaded (queryFoldSettings(),
** from settings.c): a result computed under another definition is
** outdated, never served. Each read first compares the schema_version of
** the schemas the definition lies in; if one moved, the definition is
** read again, and the automatic depends_on kept in step
** (querySyncDependencies(): the shadow table NAME_seal(seal, depends_on)
** records the list last set automatically, so one the user wrote stays).
**
** Trust. The query text is in the database schema, which may come from
** anyone, and it runs as top-level SQL with the user's functions. So the
** table is DIRECTONLY (no view or trigger of a file can read it), the
** query must be one read-only statement, and it runs only if it carries a
** seal made by this user (seal.c sealQuery(): HMAC under the user's key of
** the table name and the query text) in the table's shadow table
** NAME_seal: CREATE makes it; a table from elsewhere gets one through
** cachier_query_seal(). Connecting a table (any statement that names it)
** only prepares the query, which runs nothing.
*/
#include "cachier.h"
#include <string.h>

typedef struct QueryWatch QueryWatch;

struct QueryTab {
  sqlite3_vtab base;
  Cachier *p;
  QueryTab *pNext;            /* p->pQueryTabs, newest first */
  char *zDb;                  /* its schema */
  char *zName;                /* canonical (lower-case) name: its function */
  char *zQuery;               /* the query text */
  sqlite3_stmt *pQuery;       /* the query, prepared */
  int nCol;                   /* its result columns */
  int nParam;                 /* its parameters (hidden columns) */
  char *zTables;              /* the tables it reads (comma-separated) */
  sqlite3_stmt *pServe;       /* SELECT memoize('name', ?1, ...) */
  sqlite3_stmt *pRecompute;   /* the same, overwrite_cache */
  int bSealed;                /* its seal was found valid */
  sqlite3_int64 defStamp;     /* its definition's stamp (queryDefine()) */
  int nWatch;                 /* the schemas its definition lies in */
  QueryWatch *aWatch;
  int bRedefined;             /* read again, another definition, and its
                              ** depends_on not yet synced: nothing is
                              ** served or stored (queryFoldSettings()) */
  int bSynced;                /* depends_on checked since the definition
                              ** was last read (querySyncDependencies()) */
  int bJustChecked;           /* a read checked its definition and runs its
                              ** memoize() now: queryRefresh() need not
                              ** look again */
};

/* A schema the definition of a table lies in, and its schema_version when
** the definition was read: a read first checks that none moved. */
struct QueryWatch {
  char *zSchema;
  sqlite3_stmt *pVersion;     /* PRAGMA "schema".schema_version */
  sqlite3_int64 iVersion;
};

typedef struct QueryCursor QueryCursor;
struct QueryCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *pServe;       /* the read, left on its row while the */
  int bOwnServe;              /* cursor reads it; 1: finalize it after */
  const unsigned char *a;     /* the row set: the read's result */
  sqlite3_int64 n;
  sqlite3_int64 nRow, iRow;
  sqlite3_int64 iNext;        /* offset of the next row's first value */
  sqlite3_int64 *aOff;        /* offsets of the current row's values */
  sqlite3_value **apParam;    /* the parameters bound (NULL: NULL) */
};

/* Most parameters a query may have (xBestIndex keeps a bit mask of them
** in idxNum). */
#define QUERY_MAX_PARAMS 30

/* The number of parameters of zFn (canonical) if it is a cachier_query
** table connected on this connection, else -1. */
int queryTableParams(Cachier *p, const char *zFn){
  QueryTab *t;
  for(t=p->pQueryTabs; t; t=t->pNext){
    if( strcmp(t->zName, zFn)==0 ) return t->nParam;
  }
  return -1;
}

/* queryTableParams(), connecting the table first if the schema has one
** of that name that this connection has not used yet (preparing a
** statement that names it connects it; nothing runs). */
int queryTableConnect(Cachier *p, const char *zFn){
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int n = queryTableParams(p, zFn);
  if( n>=0 ) return n;
  zSql = sqlite3_mprintf("SELECT 0 FROM \"%w\" WHERE 0", zFn);
  if( zSql ) sqlite3_prepare_v2(p->db, zSql, -1, &pStmt, 0);
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return queryTableParams(p, zFn);
}

static QueryTab *queryFind(Cachier *p, const char *zName);
static int queryRedefine(QueryTab*, char **pzErr);
static int querySchemaMoved(QueryTab*);

/* Fold into settings s of function zFn the stamp of the definition of the
** cachier_query table zFn (connecting it first if the schema has one this
** connection has not used yet), into its version: results computed under
** another definition are outdated, never served. A table whose definition
** cannot be read now gets a version no entry has. Right after a
** redefinition, until a read of the table brings its automatic depends_on
** in step, the dependencies are unknown: nothing served, nothing stored. */
void queryFoldSettings(Cachier *p, const char *zFn, FnSettings *s){
  QueryTab *t = queryFind(p, zFn);
  uint64_t v;
  if( t==0 ){
    /* (A cheap look first: most functions name no table.) */
    if( sqlite3_table_column_metadata(p->db, 0, zFn, 0, 0, 0, 0, 0, 0) ){
      return;
    }
    queryTableConnect(p, zFn);
    if( (t = queryFind(p, zFn))==0 ) return;
  }
  if( querySchemaMoved(t) ){
    char *zErr = 0;
    if( queryRedefine(t, &zErr) ) t->defStamp = 1;
    sqlite3_free(zErr);
  }
  v = (uint64_t)s->version ^ (uint64_t)t->defStamp;
  s->version = v ? (sqlite3_int64)v : 1;
  if( t->bRedefined && !t->bSynced ){
    sqlite3_free(s->zDependsOn);
    s->zDependsOn = 0;
    s->bDependsUnsealed = 1;
  }
}

/* Before the settings of function zFn are used again: if it is a
** cachier_query table of this connection and a schema its definition lies
** in moved (this connection's own DROP VIEW / CREATE VIEW moves no
** data_version), read the definition again; another one reloads every
** function's settings (settingsGen), so the new stamp is folded in. */
void queryRefresh(Cachier *p, const char *zFn){
  QueryTab *t;
  if( p->pQueryTabs==0 || (t = queryFind(p, zFn))==0 ) return;
  if( t->bJustChecked ) return;
  if( querySchemaMoved(t) ){
    char *zErr = 0;
    if( queryRedefine(t, &zErr) ){
      t->defStamp = 1;
      p->settingsGen++;
    }
    sqlite3_free(zErr);
  }
}

static QueryTab *queryFind(Cachier *p, const char *zName){
  QueryTab *t;
  if( zName==0 ) return 0;
  for(t=p->pQueryTabs; t; t=t->pNext){
    if( sqlite3_stricmp(t->zName, zName)==0 ) return t;
  }
  return 0;
}

/* Lower-case copy of a table name that may name a function, or NULL
** (*pzErr set unless out of memory). */
static char *queryFunctionName(const char *zName, char **pzErr){
  size_t n = strlen(zName), i;
  char *z;
  int bOk = n>0 && n<=200;
  for(i=0; bOk && i<n; i++){
    unsigned char c = (unsigned char)zName[i];
    bOk = c>=0x80 || c=='_' || c=='$' || (c>='0' && c<='9')
       || (c>='a' && c<='z') || (c>='A' && c<='Z');
  }
  if( !bOk ){
    *pzErr = sqlite3_mprintf("cachier_query: invalid table name \"%s\": it "
        "names the table's cache function, so it may hold only letters, "
        "digits, '_' and '$'", zName);
    return 0;
  }
  z = sqlite3_mprintf("%s", zName);
  if( z ){
    for(i=0; i<n; i++) if( z[i]>='A' && z[i]<='Z' ) z[i] += 'a' - 'A';
  }
  return z;
}

/* The query from the module argument zArg, a string literal ('...' or
** "..."), unquoted. NULL with *pzErr set if it is not one. */
static char *queryDequote(const char *zArg, char **pzErr){
  size_t n = strlen(zArg), i, j;
  char q = n>=2 ? zArg[0] : 0;
  char *z;
  if( (q!='\'' && q!='"') || zArg[n-1]!=q ){
    *pzErr = sqlite3_mprintf("cachier_query: the argument must be the "
        "query as a string: USING cachier_query('SELECT ...')");
    return 0;
  }
  z = sqlite3_malloc64(n);
  if( z==0 ) return 0;
  for(i=1, j=0; i<n-1; i++){
    z[j++] = zArg[i];
    if( zArg[i]==q && zArg[i+1]==q ) i++;
  }
  z[j] = 0;
  return z;
}

/* True if z holds nothing but whitespace, comments and semicolons. */
static int queryTailIsEmpty(const char *z){
  while( *(z = guardSkipSpace(z))==';' ) z++;
  return *z==0;
}

/* The tables pTab's query reads, found by SQLite itself: the b-trees its
** bytecode opens (OpenRead, ReopenIdx: root page p2 of database p3),
** mapped to their tables through each database's sqlite_schema. Views
** are expanded in the bytecode; tables read through virtual tables are
** not seen. A temp table is refused: its contents belong to one
** connection, the cache to all. OUT: *pzList. */
static int queryFindTables(sqlite3 *db, QueryTab *pTab, char **pzList,
                           char **pzErr){
  sqlite3_stmt *pExplain = 0, *pMap = 0;
  sqlite3_str *pList = sqlite3_str_new(db);
  char *zSql = sqlite3_mprintf("EXPLAIN %s", pTab->zQuery);
  char *zList;
  int bEmpty;
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pExplain, 0)
                : SQLITE_NOMEM;
  sqlite3_free(zSql);
  while( rc==SQLITE_OK && sqlite3_step(pExplain)==SQLITE_ROW ){
    const char *zOp = (const char*)sqlite3_column_text(pExplain, 1);
    int iRoot = sqlite3_column_int(pExplain, 3);
    int iDb = sqlite3_column_int(pExplain, 4);
    const char *zDb;
    if( zOp==0 || (strcmp(zOp, "OpenRead")!=0 && strcmp(zOp, "ReopenIdx")!=0)
     || iRoot<=1 ){
      continue;
    }
    zDb = sqlite3_db_name(db, iDb);
    if( zDb==0 ) continue;
    if( iDb==1 ){
      rc = SQLITE_ERROR;
      *pzErr = sqlite3_mprintf("cachier_query: %s: the query reads a temp "
          "table, which belongs to one connection while the cache is "
          "shared: refused", pTab->zName);
      break;
    }
    zSql = sqlite3_mprintf("SELECT tbl_name FROM \"%w\".sqlite_schema"
                           " WHERE rootpage=?1", zDb);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pMap, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc ) break;
    sqlite3_bind_int(pMap, 1, iRoot);
    if( sqlite3_step(pMap)==SQLITE_ROW ){
      char *zItem = sqlite3_mprintf("%s.%s", zDb,
                                    sqlite3_column_text(pMap, 0));
      const char *zSoFar = sqlite3_str_value(pList);
      if( zItem==0 ){
        rc = SQLITE_NOMEM;
      }else{
        /* Once each (the list is short: a linear search will do). */
        size_t nItem = strlen(zItem);
        const char *z = zSoFar;
        int bSeen = 0;
        while( z && *z && !bSeen ){
          const char *zEnd = strchr(z, ',');
          size_t nz = zEnd ? (size_t)(zEnd - z) : strlen(z);
          bSeen = nz==nItem && memcmp(z, zItem, nItem)==0;
          z = zEnd ? zEnd+1 : 0;
        }
        if( !bSeen ){
          if( sqlite3_str_length(pList) ) sqlite3_str_appendchar(pList, 1, ',');
          sqlite3_str_appendall(pList, zItem);
        }
        sqlite3_free(zItem);
      }
    }
    rc = sqlite3_finalize(pMap) ? rc ? rc : SQLITE_ERROR : rc;
    pMap = 0;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pExplain);
  else sqlite3_finalize(pExplain);
  /* (NULL from sqlite3_str_finish() is "no tables" only when empty.) */
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(pList);
  bEmpty = sqlite3_str_length(pList)==0;
  zList = sqlite3_str_finish(pList);
  if( rc==SQLITE_OK && zList==0 && bEmpty ) zList = sqlite3_mprintf("");
  if( rc==SQLITE_OK && zList==0 ) rc = SQLITE_NOMEM;
  if( rc && *pzErr==0 && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: the query does not "
        "prepare: %s", pTab->zName, sqlite3_errmsg(db));
  }
  if( rc ){
    sqlite3_free(zList);
    return rc;
  }
  *pzList = zList;
  return SQLITE_OK;
}

/*
** The definition of a table is its query and what the query reads as it
** prepares now: the SQL text (sqlite_schema.sql) of each table it reads
** and of each view it may read. Views are expanded in the bytecode, so
** the views are found by name: every view, in any attached schema, named
** by a word of the query's text or of a view found so far (a word that
** only looks like a view's name adds that view: a needless change of
** stamp, never a missed one). queryDefine() reads it again when a schema
** it lies in changed (schema_version, by any connection or process);
** its stamp, folded into the version of the table's function
** (queryFoldSettings()), makes results computed under another definition
** outdated: never served, even under next_time.
*/

/* Append to pSet ("\001word\001word...\001") the words of zSql in lower
** case: identifiers bare or quoted ("", [], ``), not string literals or
** comments. */
static void queryWords(sqlite3_str *pSet, const char *zSql){
  const unsigned char *z = (const unsigned char*)zSql;
  while( *z ){
    unsigned char c = *z;
    if( c=='\'' ){
      for(z++; *z && !(z[0]=='\'' && z[1]!='\''); z += (z[0]=='\'') ? 2 : 1){}
      if( *z ) z++;
    }else if( c=='-' && z[1]=='-' ){
      while( *z && *z!='\n' ) z++;
    }else if( c=='/' && z[1]=='*' ){
      for(z+=2; *z && !(z[0]=='*' && z[1]=='/'); z++){}
      if( *z ) z += 2;
    }else if( c=='"' || c=='`' || c=='[' ){
      unsigned char q = c=='[' ? ']' : c;
      for(z++; *z && !(z[0]==q && (q==']' || z[1]!=q)); z++){
        if( z[0]==q ) z++;            /* a doubled quote: one */
        sqlite3_str_appendchar(pSet, 1,
            (char)(*z>='A' && *z<='Z' ? *z + ('a'-'A') : *z));
      }
      if( *z ) z++;
      sqlite3_str_appendchar(pSet, 1, '\001');
    }else if( c>=0x80 || c=='_' || c=='$' || (c>='0' && c<='9')
           || (c>='a' && c<='z') || (c>='A' && c<='Z') ){
      while( *z>=0x80 || *z=='_' || *z=='$' || (*z>='0' && *z<='9')
          || (*z>='a' && *z<='z') || (*z>='A' && *z<='Z') ){
        sqlite3_str_appendchar(pSet, 1,
            (char)(*z>='A' && *z<='Z' ? *z + ('a'-'A') : *z));
        z++;
      }
      sqlite3_str_appendchar(pSet, 1, '\001');
    }else{
      z++;
    }
  }
}

/* True if pSet (queryWords()) holds zWord (any case). */
static int queryHasWord(sqlite3_str *pSet, const char *zWord){
  const char *zSet = sqlite3_str_value(pSet);
  char *zNeedle = sqlite3_mprintf("\001%s\001", zWord);
  int i, bFound = 0;
  if( zSet && zNeedle ){
    for(i=0; zNeedle[i]; i++){
      if( zNeedle[i]>='A' && zNeedle[i]<='Z' ) zNeedle[i] += 'a' - 'A';
    }
    bFound = strstr(zSet, zNeedle)!=0;
  }
  sqlite3_free(zNeedle);
  return bFound;
}

static void queryWatchFree(QueryWatch *aWatch, int nWatch){
  int i;
  for(i=0; i<nWatch; i++){
    sqlite3_free(aWatch[i].zSchema);
    sqlite3_finalize(aWatch[i].pVersion);
  }
  sqlite3_free(aWatch);
}

/* Add schema zSchema to the watch list *paWatch (once), with its
** schema_version now. */
static int queryWatchAdd(sqlite3 *db, QueryWatch **paWatch, int *pnWatch,
                         const char *zSchema){
  QueryWatch *a, *w;
  char *zSql;
  int i, rc;
  for(i=0; i<*pnWatch; i++){
    if( sqlite3_stricmp((*paWatch)[i].zSchema, zSchema)==0 ) return SQLITE_OK;
  }
  a = sqlite3_realloc64(*paWatch, sizeof(QueryWatch)*(*pnWatch+1));
  if( a==0 ) return SQLITE_NOMEM;
  *paWatch = a;
  w = &a[(*pnWatch)++];
  memset(w, 0, sizeof(*w));
  w->zSchema = sqlite3_mprintf("%s", zSchema);
  zSql = sqlite3_mprintf(GUARD_OWN_SQL "PRAGMA \"%w\".schema_version",
                         zSchema);
  if( w->zSchema==0 || zSql==0 ){
    sqlite3_free(zSql);
    return SQLITE_NOMEM;
  }
  rc = sqlite3_prepare_v3(db, zSql, -1, SQLITE_PREPARE_PERSISTENT,
                          &w->pVersion, 0);
  sqlite3_free(zSql);
  if( rc ) return rc;
  if( sqlite3_step(w->pVersion)==SQLITE_ROW ){
    w->iVersion = sqlite3_column_int64(w->pVersion, 0);
  }
  return sqlite3_reset(w->pVersion);
}

/* True if a schema pTab's definition lies in changed since it was read
** (or its version cannot be read). The cost of a read that finds none: a
** PRAGMA schema_version step a schema, mostly main's alone. */
static int querySchemaMoved(QueryTab *pTab){
  int i, bMoved = pTab->nWatch==0;
  for(i=0; !bMoved && i<pTab->nWatch; i++){
    sqlite3_stmt *pStmt = pTab->aWatch[i].pVersion;
    bMoved = sqlite3_step(pStmt)!=SQLITE_ROW
          || sqlite3_column_int64(pStmt, 0)!=pTab->aWatch[i].iVersion;
    sqlite3_reset(pStmt);
  }
  return bMoved;
}

/* Hash into h the SQL of the views of every attached schema that pWords
** names, adding their words, until no more are found; watch their
** schemas. */
static int queryHashViews(sqlite3 *db, Sha256 *h, sqlite3_str *pWords,
                          QueryWatch **paWatch, int *pnWatch){
  sqlite3_str *pSeen = sqlite3_str_new(db);
  sqlite3_stmt *pDbs = 0;
  int rc, bMore = 1;
  sqlite3_str_appendchar(pSeen, 1, '\001');
  rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list"
                          " ORDER BY seq", -1, &pDbs, 0);
  while( rc==SQLITE_OK && bMore ){
    bMore = 0;
    while( rc==SQLITE_OK && sqlite3_step(pDbs)==SQLITE_ROW ){
      const char *zDb = (const char*)sqlite3_column_text(pDbs, 0);
      sqlite3_stmt *pViews = 0;
      char *zSql = zDb ? sqlite3_mprintf("SELECT name, sql FROM \"%w\"."
          "sqlite_schema WHERE type='view' ORDER BY name", zDb) : 0;
      if( zSql==0 ){
        rc = SQLITE_NOMEM;
        break;
      }
      rc = sqlite3_prepare_v2(db, zSql, -1, &pViews, 0);
      sqlite3_free(zSql);
      while( rc==SQLITE_OK && sqlite3_step(pViews)==SQLITE_ROW ){
        const char *zView = (const char*)sqlite3_column_text(pViews, 0);
        const char *zText = (const char*)sqlite3_column_text(pViews, 1);
        char *zKey;
        if( zView==0 || zText==0 || !queryHasWord(pWords, zView) ) continue;
        zKey = sqlite3_mprintf("%s.%s", zDb, zView);
        if( zKey ){
          /* (In lower case, as queryHasWord() looks it up: "main.MyView"
          ** would never be seen, and would be added again for ever.) */
          char *z;
          for(z=zKey; *z; z++){
            if( *z>='A' && *z<='Z' ) *z += 'a' - 'A';
          }
        }
        if( zKey==0 ){
          rc = SQLITE_NOMEM;
        }else if( !queryHasWord(pSeen, zKey) ){
          sqlite3_str_appendf(pSeen, "%s\001", zKey);
          sha256Update(h, "V", 2);
          sha256Update(h, zKey, strlen(zKey)+1);
          sha256Update(h, zText, strlen(zText)+1);
          queryWords(pWords, zText);
          rc = queryWatchAdd(db, paWatch, pnWatch, zDb);
          bMore = 1;
        }
        sqlite3_free(zKey);
      }
      if( rc==SQLITE_OK ) rc = sqlite3_finalize(pViews);
      else sqlite3_finalize(pViews);
    }
    /* (A step of the list that failed: its error, not fewer views.) */
    if( rc==SQLITE_OK ) rc = sqlite3_reset(pDbs);
    else sqlite3_reset(pDbs);
  }
  sqlite3_finalize(pDbs);
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(pSeen);
  if( rc==SQLITE_OK ) rc = sqlite3_str_errcode(pWords);
  sqlite3_free(sqlite3_str_finish(pSeen));
  return rc;
}

/* Read pTab's definition as the schema has it now: the tables its query
** reads (pTab->zTables), its stamp (pTab->defStamp) and the schemas it
** lies in, watched from now on. *pbChanged: the stamp is another than
** before. On error pTab is left as it was (*pzErr set but on OOM). */
static int queryDefine(sqlite3 *db, QueryTab *pTab, int *pbChanged,
                       char **pzErr){
  QueryWatch *aWatch = 0;
  int nWatch = 0, rc, i;
  char *zTables = 0;
  Sha256 h;
  unsigned char aHash[SHA256_BYTES];
  uint64_t v = 0;
  sqlite3_str *pWords = sqlite3_str_new(db);
  *pbChanged = 0;
  /* Versions first (a change after them is seen by the next read), of
  ** every schema: a table or view created later in temp or an attached
  ** database may shadow a name the query reads. */
  {
    sqlite3_stmt *pDbs = 0;
    rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list"
                            " ORDER BY seq", -1, &pDbs, 0);
    while( rc==SQLITE_OK && sqlite3_step(pDbs)==SQLITE_ROW ){
      const char *zDb = (const char*)sqlite3_column_text(pDbs, 0);
      rc = zDb ? queryWatchAdd(db, &aWatch, &nWatch, zDb) : SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK ) rc = sqlite3_finalize(pDbs);
    else sqlite3_finalize(pDbs);
  }
  if( rc==SQLITE_OK ) rc = queryFindTables(db, pTab, &zTables, pzErr);
  sha256Init(&h);
  sha256Update(&h, pTab->zQuery, strlen(pTab->zQuery)+1);
  /* The tables: "schema.table,..." */
  if( rc==SQLITE_OK && zTables[0] ){
    char *zList = sqlite3_mprintf("%s", zTables), *zItem, *zNext;
    if( zList==0 ) rc = SQLITE_NOMEM;
    for(zItem=zList; rc==SQLITE_OK && zItem; zItem=zNext){
      char *zDot = strchr(zItem, '.'), *zSql;
      sqlite3_stmt *pStmt = 0;
      zNext = strchr(zItem, ',');
      if( zNext ) *zNext++ = 0;
      if( zDot==0 ) continue;
      *zDot = 0;
      rc = queryWatchAdd(db, &aWatch, &nWatch, zItem);
      zSql = sqlite3_mprintf("SELECT sql FROM \"%w\".sqlite_schema"
                             " WHERE type='table' AND name=%Q", zItem, zDot+1);
      if( rc==SQLITE_OK ){
        rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
      }
      sqlite3_free(zSql);
      if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW
       && sqlite3_column_text(pStmt, 0) ){
        const char *zText = (const char*)sqlite3_column_text(pStmt, 0);
        *zDot = '.';
        sha256Update(&h, "T", 2);
        sha256Update(&h, zItem, strlen(zItem)+1);
        sha256Update(&h, zText, strlen(zText)+1);
      }
      if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
      else sqlite3_finalize(pStmt);
    }
    sqlite3_free(zList);
  }
  if( rc==SQLITE_OK ){
    queryWords(pWords, pTab->zQuery);
    rc = queryHashViews(db, &h, pWords, &aWatch, &nWatch);
  }
  sqlite3_free(sqlite3_str_finish(pWords));
  if( rc ){
    if( *pzErr==0 && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("cachier_query: %s: cannot read its "
          "definition: %s", pTab->zName, sqlite3_errmsg(db));
    }
    sqlite3_free(zTables);
    queryWatchFree(aWatch, nWatch);
    return rc;
  }
  sha256Final(&h, aHash);
  for(i=0; i<8; i++) v = (v<<8) | aHash[i];
  if( v==0 ) v = 1;
  *pbChanged = (sqlite3_int64)v!=pTab->defStamp;
  pTab->defStamp = (sqlite3_int64)v;
  sqlite3_free(pTab->zTables);
  pTab->zTables = zTables;
  queryWatchFree(pTab->aWatch, pTab->nWatch);
  pTab->aWatch = aWatch;
  pTab->nWatch = nWatch;
  return SQLITE_OK;
}

/* A schema pTab's definition lies in moved: read the definition again.
** Another stamp makes the connection load its function's settings again
** (p->settingsGen), with the new version; depends_on is checked again
** before the next read. */
static int queryRedefine(QueryTab *pTab, char **pzErr){
  int bChanged = 0;
  int rc = queryDefine(pTab->p->db, pTab, &bChanged, pzErr);
  if( rc ) return rc;
  if( bChanged ){
    pTab->p->settingsGen++;
    pTab->bRedefined = 1;
  }
  pTab->bSynced = 0;
  return SQLITE_OK;
}

/* Words that start a column constraint, not part of a type name. */
static const char *const azNotType[] = {
  "constraint", "primary", "not", "null", "unique", "check", "default",
  "collate", "references", "generated", "as", "hidden",
};

/* The declared type of result column i as far as it is safe to repeat in
** the table's declaration: its leading words (letters, digits and '_',
** each starting with a letter or '_'), up to anything else (a size such
** as "(10)", a ',' of a crafted type) or a word that starts a column
** constraint. SQLite's affinity rules read the words alone. Its length in
** *pn (0: none). */
static const char *queryColumnType(sqlite3_stmt *pStmt, int i, int *pn){
  const char *z = sqlite3_column_decltype(pStmt, i);
  const char *c = z;
  *pn = 0;
  if( z==0 ) return "";
  for(;;){
    const char *zWord;
    size_t k;
    while( *c==' ' ) c++;
    if( !((*c>='a' && *c<='z') || (*c>='A' && *c<='Z') || *c=='_') ) break;
    zWord = c;
    while( (*c>='a' && *c<='z') || (*c>='A' && *c<='Z') || *c=='_'
        || (*c>='0' && *c<='9') ){
      c++;
    }
    for(k=0; k<sizeof(azNotType)/sizeof(azNotType[0]); k++){
      if( strlen(azNotType[k])==(size_t)(c - zWord)
       && sqlite3_strnicmp(zWord, azNotType[k], (int)(c - zWord))==0 ){
        return z;
      }
    }
    *pn = (int)(c - z);
  }
  return z;
}

/* Append column name zName to the declaration in pDecl, made unique among
** the nSeen names in azSeen (which it joins) by a ":N" suffix, as SQLite
** names a view's duplicate columns. */
static int queryDeclareName(sqlite3_str *pDecl, char **azSeen, int nSeen,
                            const char *zName){
  char *z = sqlite3_mprintf("%s", zName);
  int i, k = 0;
  while( z ){
    for(i=0; i<nSeen && sqlite3_stricmp(azSeen[i], z); i++){}
    if( i==nSeen ) break;
    sqlite3_free(z);
    z = sqlite3_mprintf("%s:%d", zName, ++k);
  }
  if( z==0 ) return SQLITE_NOMEM;
  azSeen[nSeen] = z;
  sqlite3_str_appendf(pDecl, "%s\"%w\"", nSeen ? ", " : "", z);
  return SQLITE_OK;
}

/* The table's declaration: the query's result columns, then one hidden
** column per parameter. */
static char *queryDeclaration(QueryTab *pTab){
  sqlite3_str *pDecl = sqlite3_str_new(0);
  int nName = pTab->nCol + pTab->nParam, nMade = 0, i, rc = SQLITE_OK;
  char **azSeen = sqlite3_malloc64(sizeof(char*)*(nName+1));
  if( azSeen==0 ){
    sqlite3_free(sqlite3_str_finish(pDecl));
    return 0;
  }
  sqlite3_str_appendall(pDecl, "CREATE TABLE x(");
  for(i=0; rc==SQLITE_OK && i<pTab->nCol; i++){
    const char *zName = sqlite3_column_name(pTab->pQuery, i);
    rc = queryDeclareName(pDecl, azSeen, nMade, zName ? zName : "column");
    if( rc==SQLITE_OK ){
      int nType;
      const char *zType = queryColumnType(pTab->pQuery, i, &nType);
      nMade++;
      if( nType ) sqlite3_str_appendf(pDecl, " %.*s", nType, zType);
    }
  }
  for(i=0; rc==SQLITE_OK && i<pTab->nParam; i++){
    const char *zParam = sqlite3_bind_parameter_name(pTab->pQuery, i+1);
    char *zName = zParam && zParam[0]!='?'
                ? sqlite3_mprintf("%s", zParam+1)
                : sqlite3_mprintf("param%d", i+1);
    rc = zName ? queryDeclareName(pDecl, azSeen, nMade, zName) : SQLITE_NOMEM;
    sqlite3_free(zName);
    if( rc==SQLITE_OK ){
      nMade++;
      sqlite3_str_appendall(pDecl, " HIDDEN");
    }
  }
  sqlite3_str_appendchar(pDecl, 1, ')');
  for(i=0; i<nMade; i++) sqlite3_free(azSeen[i]);
  sqlite3_free(azSeen);
  if( rc ){
    sqlite3_free(sqlite3_str_finish(pDecl));
    return 0;
  }
  return sqlite3_str_finish(pDecl);
}

static void queryFree(QueryTab *pTab){
  if( pTab ){
    sqlite3_finalize(pTab->pQuery);
    sqlite3_finalize(pTab->pServe);
    sqlite3_finalize(pTab->pRecompute);
    sqlite3_free(pTab->zDb);
    sqlite3_free(pTab->zName);
    sqlite3_free(pTab->zQuery);
    sqlite3_free(pTab->zTables);
    queryWatchFree(pTab->aWatch, pTab->nWatch);
    sqlite3_free(pTab);
  }
}

/* Unlink pTab from its connection's list and free it. */
static int queryDisconnect(sqlite3_vtab *pVtab){
  QueryTab *pTab = (QueryTab*)pVtab;
  QueryTab **pp;
  for(pp=&pTab->p->pQueryTabs; *pp; pp=&(*pp)->pNext){
    if( *pp==pTab ){
      *pp = pTab->pNext;
      break;
    }
  }
  queryFree(pTab);
  return SQLITE_OK;
}

/* *pbFound: zName (canonical) names an SQL function of the connection, of
** any arity: the table's entries would be that function's. */
static int queryNameIsFunction(sqlite3 *db, const char *zName, int *pbFound){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_function_list"
                              " WHERE lower(name)=?1", -1, &pStmt, 0);
  *pbFound = 0;
  /* (Unbound, ?1 would find nothing.) */
  if( rc==SQLITE_OK ) rc = sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_STATIC);
  if( rc==SQLITE_OK ) *pbFound = sqlite3_step(pStmt)==SQLITE_ROW;
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  return rc;
}

/* Write the seal of pTab's query as it is now into its shadow table
** (bCreate: create that table first). */
static int querySeal(sqlite3 *db, QueryTab *pTab, int bCreate, char **pzErr){
  unsigned char aMac[SHA256_BYTES];
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int rc = sealQuery(pTab->p, pTab->zName, pTab->zQuery, 1, aMac);
  if( rc ) return rc;
  if( bCreate ){
    zSql = sqlite3_mprintf("CREATE TABLE \"%w\".\"%w_seal\"(seal BLOB,"
                           " depends_on TEXT)", pTab->zDb, pTab->zName);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("DELETE FROM \"%w\".\"%w_seal\"",
                           pTab->zDb, pTab->zName);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("INSERT INTO \"%w\".\"%w_seal\"(seal)"
                           " VALUES(?1)", pTab->zDb, pTab->zName);
    rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_blob(pStmt, 1, aMac, SHA256_BYTES, SQLITE_STATIC);
    sqlite3_step(pStmt);
    rc = sqlite3_finalize(pStmt);
    pStmt = 0;
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ){
    pTab->bSealed = 1;
  }else if( rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: cannot seal its query: %s",
                             pTab->zName, sqlite3_errmsg(db));
  }
  return rc;
}

/* The canonical form of a list of tables as pTab->zTables has it
** ("main.orders,aux.rates"): "orders, aux.rates", as cachier_functions
** writes depends_on (depends.c dependsCanonical()). */
static char *queryCanonicalTables(const char *zTables){
  sqlite3_str *pOut = sqlite3_str_new(0);
  const char *z = zTables;
  char *zOut;
  int i, bEmpty;
  while( z && *z ){
    const char *zEnd = strchr(z, ',');
    int n = zEnd ? (int)(zEnd - z) : (int)strlen(z);
    char *zItem = sqlite3_mprintf("%.*s", n, z);
    if( zItem ){
      for(i=0; zItem[i]; i++){
        if( zItem[i]>='A' && zItem[i]<='Z' ) zItem[i] += 'a' - 'A';
      }
      if( sqlite3_str_length(pOut) ) sqlite3_str_appendall(pOut, ", ");
      sqlite3_str_appendall(pOut,
          strncmp(zItem, "main.", 5)==0 ? zItem+5 : zItem);
    }
    sqlite3_free(zItem);
    if( zItem==0 ) sqlite3_str_appendall(pOut, "\001");  /* (fails below) */
    z = zEnd ? zEnd+1 : 0;
  }
  bEmpty = sqlite3_str_length(pOut)==0;
  zOut = sqlite3_str_finish(pOut);
  if( zOut==0 && bEmpty ) zOut = sqlite3_mprintf("");
  if( zOut && strchr(zOut, '\001') ){
    sqlite3_free(zOut);
    zOut = 0;
  }
  return zOut;
}

/* Step one-row query zSql (sqlite3_free'd) binding zBind (if not NULL)
** to ?1; its first column in *pzOut (NULL: NULL or no row; *pbRow: a
** row). QUERY_NO_SUCH if zSql does not prepare (a table or column that
** is not there). */
#define QUERY_NO_SUCH (-1)
static int queryReadText(sqlite3 *db, char *zSql, const char *zBind,
                         char **pzOut, int *pbRow){
  sqlite3_stmt *pStmt = 0;
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  *pzOut = 0;
  if( pbRow ) *pbRow = 0;
  if( rc==SQLITE_ERROR ) return QUERY_NO_SUCH;
  if( rc==SQLITE_OK && zBind ){
    rc = sqlite3_bind_text(pStmt, 1, zBind, -1, SQLITE_STATIC);
  }
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    if( pbRow ) *pbRow = 1;
    if( z && (*pzOut = sqlite3_mprintf("%s", z))==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  else sqlite3_finalize(pStmt);
  return rc;
}

static int queryTextDiffers(const char *a, const char *b){
  return (a==0)!=(b==0) || (a && strcmp(a, b)!=0);
}

/*
** Keep the function's depends_on (table-change invalidation) the list of
** tables the query reads (pTab->zTables), automatically: the shadow table
** NAME_seal records, in its depends_on column, the list last written so.
** A depends_on that is not that list was written by the user and stays
** (bForce, CREATE and cachier_query_seal(): written whatever it is). A
** NAME_seal of an older build, without the column, gets it, recording
** depends_on as it is. Then change tracking is set up again if a table
** was dropped and created again (dependsSync()). Written through
** cachier_functions, so the row is sealed as the user's. A build whose
** cachier_functions has no depends_on column sets nothing.
**
** An error leaves the automatic depends_on stale only if it returns one:
** the caller must then not use the cache (the entries' stamps would be
** those of the old tables).
*/
static int querySyncDependencies(sqlite3 *db, QueryTab *pTab, int bForce,
                                 char **pzErr){
  char *zRecorded = 0, *zCurrent = 0, *zWant = 0, *zSql;
  int rc, bRow = 0, bColumn = 1, bAuto;
  zSql = sqlite3_mprintf("SELECT depends_on FROM \"%w\".\"%w_seal\"",
                         pTab->zDb, pTab->zName);
  rc = queryReadText(db, zSql, 0, &zRecorded, 0);
  if( rc==QUERY_NO_SUCH ){
    bColumn = 0;                        /* an older build's NAME_seal */
    rc = SQLITE_OK;
  }
  if( rc ) goto done;
  rc = queryReadText(db, sqlite3_mprintf("SELECT depends_on FROM "
      "cachier_functions WHERE name=?1"), pTab->zName, &zCurrent, &bRow);
  if( rc==QUERY_NO_SUCH ){
    rc = SQLITE_OK;                     /* no depends_on here */
    goto done;
  }
  if( rc ) goto done;
  zWant = queryCanonicalTables(pTab->zTables);
  if( zWant==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  bAuto = bForce || (bColumn && bRow && !queryTextDiffers(zCurrent, zRecorded));
  if( bAuto && (!bRow || queryTextDiffers(zCurrent, zWant)) ){
    /* A missing row is inserted (an INSERT that finds the row as it
    ** should be ignores it). */
    zSql = sqlite3_mprintf(bRow
        ? "UPDATE cachier_functions SET depends_on=%Q WHERE name=%Q"
        : "INSERT OR IGNORE INTO cachier_functions(depends_on, name)"
          " VALUES(%Q, %Q)", pTab->zTables, pTab->zName);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    sqlite3_free(zCurrent);
    zCurrent = 0;
    if( rc==SQLITE_OK ){
      rc = queryReadText(db, sqlite3_mprintf("SELECT depends_on FROM "
          "cachier_functions WHERE name=?1"), pTab->zName, &zCurrent, &bRow);
      if( rc==QUERY_NO_SUCH ) rc = SQLITE_ERROR;
    }
  }else if( !bForce && zCurrent && zCurrent[0] ){
    /* (A table dropped and created again lost its tracking triggers.) */
    char *zErr = 0;
    if( dependsSync(pTab->p, &zErr) ){
      cachierLog(pTab->p, "cachier: %s: %s", pTab->zName,
                 zErr ? zErr : "out of memory");
    }
    sqlite3_free(zErr);
  }
  if( rc==SQLITE_OK && !bColumn ){
    zSql = sqlite3_mprintf("ALTER TABLE \"%w\".\"%w_seal\" ADD COLUMN"
                           " depends_on TEXT", pTab->zDb, pTab->zName);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    bAuto = 1;                          /* as it is: recorded below */
    sqlite3_free(zRecorded);
    zRecorded = 0;
  }
  if( rc==SQLITE_OK && bAuto && (!bColumn || queryTextDiffers(zCurrent, zRecorded)) ){
    zSql = sqlite3_mprintf("UPDATE \"%w\".\"%w_seal\" SET depends_on=%Q",
                           pTab->zDb, pTab->zName, zCurrent);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: cannot make it depend on "
        "the tables it reads (%s): %s", pTab->zName, pTab->zTables,
        sqlite3_errmsg(db));
  }
  /* Stale only if the automatic list could not be written (at CREATE,
  ** the list must also be recorded as automatic). */
  if( rc && !bForce && bAuto && !queryTextDiffers(zCurrent, zWant) ){
    sqlite3_free(*pzErr);
    *pzErr = 0;
    rc = SQLITE_OK;
  }
done:
  sqlite3_free(zRecorded);
  sqlite3_free(zCurrent);
  sqlite3_free(zWant);
  return rc;
}

/* True if pTab's query carries this user's seal (checked once while it is
** valid). */
static int querySealed(sqlite3 *db, QueryTab *pTab){
  unsigned char aMac[SHA256_BYTES];
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  if( pTab->bSealed ) return 1;
  zSql = sqlite3_mprintf("SELECT seal FROM \"%w\".\"%w_seal\"",
                         pTab->zDb, pTab->zName);
  if( zSql && sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0)==SQLITE_OK
   && sqlite3_step(pStmt)==SQLITE_ROW
   && sqlite3_column_bytes(pStmt, 0)==SHA256_BYTES
   && sealQuery(pTab->p, pTab->zName, pTab->zQuery, 0, aMac)==SQLITE_OK ){
    const unsigned char *a = sqlite3_column_blob(pStmt, 0);
    int i, diff = 0;
    for(i=0; a && i<SHA256_BYTES; i++) diff |= a[i] ^ aMac[i];
    pTab->bSealed = a && diff==0;
  }
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return pTab->bSealed;
}

/*
** xCreate (bCreate: the user's CREATE VIRTUAL TABLE) and xConnect (the
** schema names the table). argv[1] is the schema, argv[2] the table's
** name, argv[3] the query as a string literal. The query is prepared (it
** must be one read-only statement returning columns, on tables that
** exist, no temp table), its columns declared; CREATE also refuses a
** name that is an SQL function's and seals the query.
*/
static int queryInit(sqlite3 *db, void *pAux, int argc,
                     const char *const *argv, sqlite3_vtab **ppVtab,
                     char **pzErr, int bCreate){
  Cachier *p = (Cachier*)pAux;
  QueryTab *pTab, *pOther;
  const char *zTail = 0;
  char *zDecl = 0;
  int rc;
  /* (The CREATE's transaction, whose loss is told below.) */
  int eTxn0 = argc>1 ? sqlite3_txn_state(db, argv[1]) : SQLITE_TXN_NONE;
  *ppVtab = 0;
  if( argc!=4 ){
    *pzErr = sqlite3_mprintf("cachier_query: expects one argument, the "
        "query as a string: USING cachier_query('SELECT ...')");
    return SQLITE_ERROR;
  }
  pTab = sqlite3_malloc(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->p = p;
  pTab->zDb = sqlite3_mprintf("%s", argv[1]);
  pTab->zName = queryFunctionName(argv[2], pzErr);
  if( pTab->zName ) pTab->zQuery = queryDequote(argv[3], pzErr);
  if( pTab->zDb==0 || pTab->zName==0 || pTab->zQuery==0 ){
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    goto failed;
  }
  pOther = queryFind(p, pTab->zName);
  if( pOther && sqlite3_stricmp(pOther->zDb, pTab->zDb)!=0 ){
    *pzErr = sqlite3_mprintf("cachier_query: a table named %s is already "
        "in schema %s: the name of a cachier_query table names its cache "
        "entries, so it must be unique across attached databases",
        pTab->zName, pOther->zDb);
    rc = SQLITE_ERROR;
    goto failed;
  }
  if( bCreate ){
    int bFunction;
    rc = queryNameIsFunction(db, pTab->zName, &bFunction);
    if( rc ) goto failed;
    if( bFunction ){
      *pzErr = sqlite3_mprintf("cachier_query: %s is the name of an SQL "
          "function, whose cache entries the table's would be: choose "
          "another name", pTab->zName);
      rc = SQLITE_ERROR;
      goto failed;
    }
  }
  rc = sqlite3_prepare_v3(db, pTab->zQuery, -1, SQLITE_PREPARE_PERSISTENT,
                          &pTab->pQuery, &zTail);
  if( rc==SQLITE_OK && pTab->pQuery==0 ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: the query is empty",
                             pTab->zName);
    rc = SQLITE_ERROR;
  }else if( rc ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: the query does not "
        "prepare: %s", pTab->zName, sqlite3_errmsg(db));
  }else if( !queryTailIsEmpty(zTail) ){
    while( *zTail==' ' || *zTail=='\n' || *zTail=='\t' || *zTail=='\r' ){
      zTail++;
    }
    *pzErr = sqlite3_mprintf("cachier_query: %s: the query must be one "
        "statement (more follows: \"%s\")", pTab->zName, zTail);
    rc = SQLITE_ERROR;
  }else if( !sqlite3_stmt_readonly(pTab->pQuery)
         || sqlite3_stmt_isexplain(pTab->pQuery) ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: only read-only queries "
        "are accepted (this one writes)", pTab->zName);
    rc = SQLITE_ERROR;
  }else if( sqlite3_column_count(pTab->pQuery)==0 ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: the statement returns no "
        "columns (a SELECT is expected)", pTab->zName);
    rc = SQLITE_ERROR;
  }else if( sqlite3_bind_parameter_count(pTab->pQuery)>QUERY_MAX_PARAMS ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: the query has more than "
        "%d parameters", pTab->zName, QUERY_MAX_PARAMS);
    rc = SQLITE_ERROR;
  }
  if( rc ) goto failed;
  pTab->nCol = sqlite3_column_count(pTab->pQuery);
  pTab->nParam = sqlite3_bind_parameter_count(pTab->pQuery);
  {
    int bChanged;
    rc = queryDefine(db, pTab, &bChanged, pzErr);
    if( rc ) goto failed;
  }
  zDecl = queryDeclaration(pTab);
  if( zDecl==0 ){
    rc = SQLITE_NOMEM;
    goto failed;
  }
  rc = sqlite3_declare_vtab(db, zDecl);
  sqlite3_free(zDecl);
  if( rc ){
    *pzErr = sqlite3_mprintf("cachier_query: %s: %s", pTab->zName,
                             sqlite3_errmsg(db));
    goto failed;
  }
  /* It computes and writes: not from a view or trigger of a file. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  /* Known before the seal and depends_on are written: the row written to
  ** cachier_functions names it, and a lookup of that name must find this
  ** table, not try to connect it again while it is being created. */
  pTab->pNext = p->pQueryTabs;
  p->pQueryTabs = pTab;
  if( bCreate ){
    rc = querySeal(db, pTab, 1, pzErr);
    if( rc==SQLITE_OK ) rc = querySyncDependencies(db, pTab, 1, pzErr);
    if( rc==SQLITE_OK ) pTab->bSynced = 1;
  }
  /* A statement run in here that ran out of memory, even one whose error
  ** was handled (a warning's lookup), leaves the connection's
  ** malloc-failed state set (SQLite clears it only once no statement
  ** runs), which sqlite3_errcode() reports, or, failing with SQLITE_NOMEM
  ** without a statement journal, rolled back the whole transaction, the
  ** CREATE's own schema row with it (sqlite3VdbeHalt()), and the CREATE
  ** would go on to "succeed". Either way the table must not be returned:
  ** SQLite would lose it, never disconnected (sqlite3_close fails). (The
  ** rollback also freed argv: the schema was reset.) */
  if( rc==SQLITE_OK && (sqlite3_errcode(db)==SQLITE_NOMEM
       || (eTxn0==SQLITE_TXN_WRITE
           && sqlite3_txn_state(db, pTab->zDb)!=SQLITE_TXN_WRITE)) ){
    rc = SQLITE_NOMEM;
  }
  if( rc ){
    queryDisconnect(&pTab->base);       /* unlinks and frees it */
    return rc;
  }
  /* (Connected again after another connection changed the schema: the
  ** definition, and so the version, may be another.) */
  p->settingsGen++;
  *ppVtab = &pTab->base;
  return SQLITE_OK;
failed:
  queryFree(pTab);
  return rc;
}

static int queryCreate(sqlite3 *db, void *pAux, int argc,
                       const char *const *argv, sqlite3_vtab **ppVtab,
                       char **pzErr){
  return queryInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int queryConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  return queryInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

/* DROP TABLE: the function's entries (in every store) and settings go,
** and the shadow table. A store that cannot be cleared now (a Redis
** server down) is logged, not an error: the table is dropped anyway. */
static int queryDestroy(sqlite3_vtab *pVtab){
  QueryTab *pTab = (QueryTab*)pVtab;
  sqlite3 *db = pTab->p->db;
  sqlite3_stmt *pClear = 0;
  char *zSql = sqlite3_mprintf(GUARD_OWN_SQL "SELECT cachier_clear(%Q)",
                               pTab->zName);
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pClear, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    guardStep(pTab->p, pClear);
    rc = sqlite3_finalize(pClear);
  }
  if( rc ){
    cachierLog(pTab->p, "cachier: %s: dropped, but its entries could not "
               "all be deleted: %s", pTab->zName, sqlite3_errmsg(db));
  }
  zSql = sqlite3_mprintf("DELETE FROM cachier_functions WHERE name=%Q",
                         pTab->zName);
  if( zSql ) sqlite3_exec(db, zSql, 0, 0, 0);
  sqlite3_free(zSql);
  zSql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\".\"%w_seal\"",
                         pTab->zDb, pTab->zName);
  rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc ) return rc;
  return queryDisconnect(pVtab);
}

/* A cachier_query table's name names its entries: renaming would orphan
** them and void its seal. */
static int queryRename(sqlite3_vtab *pVtab, const char *zNew){
  (void)zNew;
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = sqlite3_mprintf("cachier_query: a cachier_query table "
      "cannot be renamed (its name names its cache entries): drop it and "
      "create it under the new name");
  return SQLITE_ERROR;
}

/* The hidden parameter columns with an equality constraint become
** xFilter's arguments, in parameter order; idxNum is their bit mask. A
** parameter with no equality constraint is bound NULL. A plan that could
** not use a parameter's constraint (a join whose other side must give
** it) is refused, so SQLite orders the join to supply it. */
static int queryBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  QueryTab *pTab = (QueryTab*)pVtab;
  int aUse[QUERY_MAX_PARAMS];
  int mask = 0, maskUnusable = 0, i, j, nArgv = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    j = c->iColumn - pTab->nCol;
    if( c->op!=SQLITE_INDEX_CONSTRAINT_EQ || j<0 || j>=pTab->nParam ){
      continue;
    }
    if( !c->usable ){
      maskUnusable |= 1<<j;
    }else if( (mask & (1<<j))==0 ){
      mask |= 1<<j;
      aUse[j] = i;
    }
  }
  if( maskUnusable & ~mask ) return SQLITE_CONSTRAINT;
  for(j=0; j<pTab->nParam; j++){
    if( mask & (1<<j) ){
      pInfo->aConstraintUsage[aUse[j]].argvIndex = ++nArgv;
      pInfo->aConstraintUsage[aUse[j]].omit = 1;
    }
  }
  pInfo->idxNum = mask;
  pInfo->estimatedCost = nArgv==pTab->nParam ? 10.0
                       : 1e9 * (pTab->nParam - nArgv);
  pInfo->estimatedRows = 100;
  return SQLITE_OK;
}

static int queryOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor){
  QueryCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

/* End the cursor's read: its statement is reset (or finalized, if its
** own), the row set it held gone. */
static void queryCursorEndRead(QueryCursor *pCur){
  if( pCur->pServe ){
    sqlite3_reset(pCur->pServe);
    sqlite3_clear_bindings(pCur->pServe);
    if( pCur->bOwnServe ) sqlite3_finalize(pCur->pServe);
    pCur->pServe = 0;
  }
  pCur->a = 0;
  pCur->n = pCur->nRow = pCur->iRow = 0;
}

static void queryCursorReset(QueryCursor *pCur, int nParam){
  int i;
  queryCursorEndRead(pCur);
  if( pCur->apParam ){
    for(i=0; i<nParam; i++) sqlite3_value_free(pCur->apParam[i]);
  }
  sqlite3_free(pCur->apParam);
  sqlite3_free(pCur->aOff);
  pCur->apParam = 0;
  pCur->a = 0;
  pCur->aOff = 0;
  pCur->n = pCur->nRow = pCur->iRow = 0;
}

static int queryClose(sqlite3_vtab_cursor *pCursor){
  QueryCursor *pCur = (QueryCursor*)pCursor;
  queryCursorReset(pCur, ((QueryTab*)pCursor->pVtab)->nParam);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* How queryRead() reads. */
#define QUERY_READ_SERVE     0  /* from the cache, or computed and stored */
#define QUERY_READ_RECOMPUTE 1  /* computed and stored again */
#define QUERY_READ_DIRECT    2  /* computed, the cache left alone */

/* The statement that reads pTab (eRead): "SELECT memoize('name', ?1,
** ...)", the same computing and storing again ("memoize_with(
** '{"overwrite_cache":true}', ...)"), or the query alone
** ("cachier_query_rows('name', ?1, ...)"). The kept one if it is idle,
** else (*pbOwn) one of the caller's own. */
static sqlite3_stmt *queryServeStmt(QueryTab *pTab, int eRead, int *pbOwn){
  sqlite3_stmt *pNone = 0;
  sqlite3_stmt **ppKept = eRead==QUERY_READ_RECOMPUTE ? &pTab->pRecompute
                        : eRead==QUERY_READ_SERVE ? &pTab->pServe : &pNone;
  sqlite3_str *pSql;
  sqlite3_stmt *pStmt = 0;
  char *zSql;
  int i;
  *pbOwn = 0;
  if( *ppKept && !sqlite3_stmt_busy(*ppKept) ) return *ppKept;
  pSql = sqlite3_str_new(pTab->p->db);
  if( eRead==QUERY_READ_DIRECT ){
    sqlite3_str_appendf(pSql, GUARD_OWN_SQL "SELECT " QUERY_ROWS_FUNCTION
                        "(%Q", pTab->zName);
  }else if( eRead==QUERY_READ_RECOMPUTE ){
    sqlite3_str_appendf(pSql, GUARD_OWN_SQL "SELECT memoize_with("
                        "'{\"overwrite_cache\":true}', %Q", pTab->zName);
  }else{
    sqlite3_str_appendf(pSql, GUARD_OWN_SQL "SELECT memoize(%Q", pTab->zName);
  }
  for(i=0; i<pTab->nParam; i++) sqlite3_str_appendf(pSql, ",?%d", i+1);
  sqlite3_str_appendchar(pSql, 1, ')');
  zSql = sqlite3_str_finish(pSql);
  if( zSql==0 ) return 0;
  sqlite3_prepare_v3(pTab->p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT,
                     &pStmt, 0);
  sqlite3_free(zSql);
  if( pStmt && *ppKept==0 && ppKept!=&pNone ){
    *ppKept = pStmt;
  }else{
    *pbOwn = 1;
  }
  return pStmt;
}

static int queryError(QueryTab *pTab, const char *zMsg){
  sqlite3_free(pTab->base.zErrMsg);
  pTab->base.zErrMsg = sqlite3_mprintf("%s", zMsg);
  return SQLITE_ERROR;
}

/* The error of a read whose row set is not one (the store's value was
** damaged, or the query's columns changed). */
static int queryDamaged(QueryTab *pTab){
  char *z = sqlite3_mprintf("cachier_query: %s: its cached result is not a "
      "row set of its %d columns (damaged, or the query changed); SELECT "
      "cachier_clear('%s') deletes it", pTab->zName, pTab->nCol, pTab->zName);
  int rc = queryError(pTab, z ? z : "out of memory");
  sqlite3_free(z);
  return rc;
}

static int queryNext(sqlite3_vtab_cursor*);

/* Before a read: if a schema pTab's definition lies in changed (a view
** redefined, a table dropped and created again, by any connection), read
** the definition again (queryRedefine()). Then keep the automatic
** depends_on in step; if it cannot be (a read-only
** database, a lock), *peRead says to compute without the cache. An error
** if the query no longer prepares (a view it reads dropped). */
static int queryCheckDefinition(QueryTab *pTab, int *peRead){
  sqlite3 *db = pTab->p->db;
  char *zErr = 0;
  int rc;
  if( querySchemaMoved(pTab) && (rc = queryRedefine(pTab, &zErr))!=0 ){
    if( zErr ){
      rc = queryError(pTab, zErr);
      sqlite3_free(zErr);
    }
    return rc;
  }
  /* (Only a query this user sealed may write its depends_on, sealed with
  ** the user's key, and so reach the schema: change tracking's triggers.
  ** Another's fails at its first computation anyway.) */
  if( !pTab->bSynced && querySealed(db, pTab) ){
    if( querySyncDependencies(db, pTab, 0, &zErr) ){
      cachierLog(pTab->p, "%s; computing without the cache",
                 zErr ? zErr : "out of memory");
      *peRead = QUERY_READ_DIRECT;
    }else{
      pTab->bSynced = 1;
      if( pTab->bRedefined ){
        pTab->bRedefined = 0;
        pTab->p->settingsGen++;         /* its depends_on is known again */
      }
    }
    sqlite3_free(zErr);
  }
  return SQLITE_OK;
}

/* Read the row set for the cursor's parameters as eRead says (through
** memoize(), as a rule): the statement stays on its row while the cursor
** reads the rows (no copy of the row set). SQLITE_CORRUPT if what it
** returned is not a row set of the table's columns. */
static int queryRead(QueryTab *pTab, QueryCursor *pCur, int eRead){
  sqlite3_stmt *pStmt = queryServeStmt(pTab, eRead, &pCur->bOwnServe);
  int rc = SQLITE_OK, i;
  if( pStmt==0 ) return queryError(pTab, sqlite3_errmsg(pTab->p->db));
  pCur->pServe = pStmt;
  for(i=0; rc==SQLITE_OK && i<pTab->nParam; i++){
    rc = pCur->apParam[i] ? sqlite3_bind_value(pStmt, i+1, pCur->apParam[i])
                          : sqlite3_bind_null(pStmt, i+1);
  }
  if( rc ) return rc;
  /* (queryCheckDefinition() has just looked at its schemas.) */
  pTab->bJustChecked = 1;
  rc = guardStep(pTab->p, pStmt);
  pTab->bJustChecked = 0;
  if( rc!=SQLITE_ROW ){
    sqlite3_reset(pStmt);
    return queryError(pTab, sqlite3_errmsg(pTab->p->db));
  }
  pCur->a = sqlite3_column_blob(pStmt, 0);
  pCur->n = sqlite3_column_bytes(pStmt, 0);
  pCur->iRow = -1;
  if( sqlite3_column_type(pStmt, 0)!=SQLITE_BLOB
   || rowsetOpen(pCur->a, pCur->n, pTab->nCol, &pCur->nRow, &pCur->iNext) ){
    pCur->nRow = 0;
    return SQLITE_CORRUPT;
  }
  return SQLITE_OK;
}

/* Serve the result set for the parameters in argv (idxNum: which). A
** stored one that is not a row set (a damaged store) is never served: it
** is logged and computed again, as memoize() does with a value that does
** not decode. */
static int queryFilter(sqlite3_vtab_cursor *pCursor, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  QueryCursor *pCur = (QueryCursor*)pCursor;
  QueryTab *pTab = (QueryTab*)pCursor->pVtab;
  int rc, i, k = 0, eRead = QUERY_READ_SERVE;
  (void)idxStr;
  /* (The cursor's arrays serve every read it makes: a join reads once
  ** per row of the other side.) */
  queryCursorEndRead(pCur);
  for(i=0; pCur->apParam && i<pTab->nParam; i++){
    sqlite3_value_free(pCur->apParam[i]);
    pCur->apParam[i] = 0;
  }
  if( pTab->nParam && pCur->apParam==0 ){
    pCur->apParam = sqlite3_malloc64(sizeof(sqlite3_value*)*pTab->nParam);
    if( pCur->apParam==0 ) return SQLITE_NOMEM;
    memset(pCur->apParam, 0, sizeof(sqlite3_value*)*pTab->nParam);
  }
  if( pCur->aOff==0 ){
    pCur->aOff = sqlite3_malloc64(sizeof(sqlite3_int64)*pTab->nCol);
    if( pCur->aOff==0 ) return SQLITE_NOMEM;
  }
  for(i=0; i<pTab->nParam; i++){
    if( (idxNum & (1<<i)) && k<argc ){
      pCur->apParam[i] = sqlite3_value_dup(argv[k++]);
      if( pCur->apParam[i]==0 ) return SQLITE_NOMEM;
    }
  }
  rc = queryCheckDefinition(pTab, &eRead);
  if( rc ) return rc;
  rc = queryRead(pTab, pCur, eRead);
  if( rc==SQLITE_CORRUPT && eRead==QUERY_READ_SERVE ){
    cachierLog(pTab->p, "cachier: %s: a stored result is not a row set of "
               "its %d columns (damaged); computing it again", pTab->zName,
               pTab->nCol);
    queryCursorEndRead(pCur);
    rc = queryRead(pTab, pCur, QUERY_READ_RECOMPUTE);
  }
  if( rc==SQLITE_CORRUPT ) rc = queryDamaged(pTab);
  if( rc ) return rc;
  return queryNext(pCursor);
}

/* The next row: its values' offsets. A damaged row set (a value that does
** not fit) is an error, never a row. */
static int queryNext(sqlite3_vtab_cursor *pCursor){
  QueryCursor *pCur = (QueryCursor*)pCursor;
  QueryTab *pTab = (QueryTab*)pCursor->pVtab;
  pCur->iRow++;
  if( pCur->iRow<pCur->nRow
   && rowsetRow(pCur->a, pCur->n, pTab->nCol, pCur->iRow==pCur->nRow-1,
                &pCur->iNext, pCur->aOff) ){
    pCur->nRow = 0;
    return queryDamaged(pTab);
  }
  return SQLITE_OK;
}

static int queryEof(sqlite3_vtab_cursor *pCursor){
  QueryCursor *pCur = (QueryCursor*)pCursor;
  return pCur->iRow>=pCur->nRow;
}

static int queryColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx,
                       int i){
  QueryCursor *pCur = (QueryCursor*)pCursor;
  QueryTab *pTab = (QueryTab*)pCursor->pVtab;
  if( i<pTab->nCol ){
    rowsetResult(ctx, pCur->a, pCur->n, pCur->aOff[i]);
  }else if( pCur->apParam && i-pTab->nCol<pTab->nParam
         && pCur->apParam[i-pTab->nCol] ){
    sqlite3_result_value(ctx, pCur->apParam[i-pTab->nCol]);
  }
  return SQLITE_OK;
}

static int queryRowid(sqlite3_vtab_cursor *pCursor, sqlite_int64 *pRowid){
  *pRowid = ((QueryCursor*)pCursor)->iRow + 1;
  return SQLITE_OK;
}

static int queryShadowName(const char *zSuffix){
  return sqlite3_stricmp(zSuffix, "seal")==0;
}

const sqlite3_module cachierQueryModule = {
  3,
  queryCreate, queryConnect, queryBestIndex, queryDisconnect, queryDestroy,
  queryOpen, queryClose, queryFilter, queryNext, queryEof, queryColumn,
  queryRowid, 0,
  0, 0, 0, 0, 0, queryRename, 0, 0, 0, queryShadowName
};

/* ------------------------------------------------------------ functions */

/* The table named by argv[0] for function zFn, or NULL after an error. */
static QueryTab *queryArg(sqlite3_context *ctx, const char *zFn,
                          sqlite3_value *pName){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  const char *zName = (const char*)sqlite3_value_text(pName);
  QueryTab *pTab = queryFind(p, zName);
  if( pTab==0 && zName && sqlite3_value_type(pName)==SQLITE_TEXT ){
    queryTableConnect(p, zName);
    pTab = queryFind(p, zName);
  }
  if( pTab==0 ){
    char *z = sqlite3_mprintf("%s: no cachier_query table named %s", zFn,
                              zName ? zName : "NULL");
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
  }
  return pTab;
}

/* cachier_query_rows(TABLE, PARAM, ...) */
static void queryRowsFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  QueryTab *pTab;
  KeyBuf rows;
  int rc, i;
  if( guardDirectCall(ctx, QUERY_ROWS_FUNCTION) ) return;
  if( argc<1 || (pTab = queryArg(ctx, QUERY_ROWS_FUNCTION, argv[0]))==0 ){
    if( argc<1 ){
      sqlite3_result_error(ctx, QUERY_ROWS_FUNCTION ": expects (table, "
                           "parameters...)", -1);
    }
    return;
  }
  if( argc-1!=pTab->nParam ){
    char *z = sqlite3_mprintf(QUERY_ROWS_FUNCTION ": %s takes %d "
        "parameter%s, not %d", pTab->zName, pTab->nParam,
        pTab->nParam==1 ? "" : "s", argc-1);
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
    return;
  }
  if( !querySealed(p->db, pTab) ){
    char *z = sqlite3_mprintf("cachier_query: %s: its query was not sealed "
        "by this user (the table comes from elsewhere?): it is not run. "
        "Check it (SELECT sql FROM sqlite_schema WHERE name='%s'), then "
        "SELECT cachier_query_seal('%s') to trust it", pTab->zName,
        pTab->zName, pTab->zName);
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
    return;
  }
  if( sqlite3_stmt_busy(pTab->pQuery) ){
    char *z = sqlite3_mprintf("cachier_query: %s: its query is running "
                              "already (does it read itself?)", pTab->zName);
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
    return;
  }
  for(i=0; i<pTab->nParam; i++){
    rc = sqlite3_bind_value(pTab->pQuery, i+1, argv[i+1]);
    if( rc ){
      sqlite3_clear_bindings(pTab->pQuery);
      sqlite3_result_error_code(ctx, rc);
      return;
    }
  }
  keyBufInit(&rows);
  rc = sqlite3_column_count(pTab->pQuery)==pTab->nCol
     ? rowsetEncode(pTab->pQuery, &rows) : SQLITE_SCHEMA;
  sqlite3_clear_bindings(pTab->pQuery);
  if( rc==SQLITE_SCHEMA ){
    char *z = sqlite3_mprintf("cachier_query: %s: the query's columns "
        "changed since the table was declared", pTab->zName);
    sqlite3_result_error(ctx, z ? z : "out of memory", -1);
    sqlite3_free(z);
  }else if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc==SQLITE_TOOBIG ){
    sqlite3_result_error_toobig(ctx);
  }else if( rc ){
    sqlite3_result_error(ctx, sqlite3_errmsg(p->db), -1);
    sqlite3_result_error_code(ctx, rc);
  }else if( rows.a==rows.aStatic ){
    sqlite3_result_blob64(ctx, rows.a, (sqlite3_uint64)rows.n,
                          SQLITE_TRANSIENT);
  }else{
    /* (Handed over: the buffer is sqlite3_malloc'ed.) */
    sqlite3_result_blob64(ctx, rows.a, (sqlite3_uint64)rows.n, sqlite3_free);
    keyBufInit(&rows);
  }
  keyBufFree(&rows);
}

/* cachier_query_tables(TABLE) */
static void queryTablesFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  QueryTab *pTab = queryArg(ctx, "cachier_query_tables", argv[0]);
  (void)argc;
  if( pTab ) sqlite3_result_text(ctx, pTab->zTables, -1, SQLITE_TRANSIENT);
}

/* cachier_query_seal(TABLE) */
static void querySealFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  Cachier *p = (Cachier*)sqlite3_user_data(ctx);
  QueryTab *pTab;
  char *zErr = 0;
  int rc;
  (void)argc;
  if( guardDirectCall(ctx, "cachier_query_seal") ) return;
  pTab = queryArg(ctx, "cachier_query_seal", argv[0]);
  if( pTab==0 ) return;
  pTab->bSealed = 0;
  rc = querySeal(p->db, pTab, 0, &zErr);
  if( rc==SQLITE_OK ) rc = querySyncDependencies(p->db, pTab, 1, &zErr);
  if( rc==SQLITE_OK ) pTab->bSynced = 1;
  if( rc ){
    sqlite3_result_error(ctx, zErr ? zErr : sqlite3_errstr(rc), -1);
    sqlite3_free(zErr);
    return;
  }
  sqlite3_result_int(ctx, 1);
}

/* Registration table for this file's functions (see cachier.c). */
const CachierFunction cachierQueryFunctions[] = {
  { QUERY_ROWS_FUNCTION,    -1, CACHIER_FN_WRITES, queryRowsFunc },
  { "cachier_query_tables",  1, CACHIER_FN_WRITES, queryTablesFunc },
  { "cachier_query_seal",    1, CACHIER_FN_WRITES, querySealFunc },
  { 0, 0, 0, 0 }
};
