/*
** redis_conn.h - one connection to a Redis server (redis_conn.c).
**
** No SQL surface. Small and blocking, with a deadline on every network
** call: the socket is non-blocking and every connect, send and receive
** waits in poll() for at most what is left of the operation's timeout,
** so no operation (one pipelined round trip) takes longer than it. hiredis
** formats the commands and parses the replies; the socket is ours, so
** writes use MSG_NOSIGNAL (a server that went away raises no SIGPIPE).
** A connection that failed is closed; it is opened again on a later call,
** no sooner than its retry interval.
*/
#ifndef CACHIER_REDIS_CONN_H
#define CACHIER_REDIS_CONN_H

#include "cachier.h"
#include <hiredis/hiredis.h>

/* Where and how to connect, parsed from a store name (redisParseSpec). */
typedef struct RedisConfig RedisConfig;
struct RedisConfig {
  char *zHost;                /* TCP host, or NULL with zSocket */
  int port;
  char *zSocket;              /* unix socket path, or NULL */
  char *zUser, *zPassword;    /* AUTH (NULL: none) */
  int db;                     /* SELECT (0: the default) */
  char *zPrefix;              /* every key begins with zPrefix ":" */
  int timeoutMs;              /* the most one operation may take */
  int leaseMs;                /* lifetime of an in-flight mark */
  int retryMs;                /* reconnect no sooner than this after a failure */
};
int redisParseSpec(const char *zSpec, RedisConfig*, char **pzWhy);
/* The store's canonical name: no password, no timeouts. */
char *redisCanonicalName(const RedisConfig*);
void redisConfigClear(RedisConfig*);

/* One command of a pipeline: up to REDIS_MAX_ARGS arguments. */
#define REDIS_MAX_ARGS 12
typedef struct RedisCmd RedisCmd;
struct RedisCmd {
  int argc;
  const char *argv[REDIS_MAX_ARGS];
  size_t argvlen[REDIS_MAX_ARGS];
};
void redisCmdInit(RedisCmd*);
void redisCmdArg(RedisCmd*, const void *a, size_t n);
void redisCmdStr(RedisCmd*, const char *z);

typedef struct RedisConn RedisConn;
struct RedisConn {
  const RedisConfig *pConfig;
  int fd;                     /* -1: not connected */
  redisReader *pReader;
  sqlite3_int64 retryAtNs;    /* no reconnect before (monotonic ns) */
  int bDown;                  /* the last operation failed */
  char zErr[256];             /* why, when bDown */
  sqlite3_int64 nFailures;    /* operations that failed, ever */
  /* Called once a new connection is up, to prepare it (AUTH, SELECT and
  ** the like are done before): SQLITE_OK or it is dropped. */
  int (*xOnConnect)(RedisConn*, void *pArg);
  void *pOnConnectArg;
  Cachier *pCachier;          /* for logging */
  const char *zName;          /* the store's name, for logging */
};
void redisConnInit(RedisConn*, const RedisConfig*, Cachier*, const char *zName);
/* Send nCmd commands in one pipeline and read their replies into
** apReply (each freed with freeReplyObject; error replies included).
** SQLITE_OK, or SQLITE_IOERR when the server cannot be reached or did not
** answer in time (no replies then; see zErr). */
int redisRoundTrip(RedisConn*, int nCmd, RedisCmd *aCmd, redisReply **apReply);
/* One command; *ppReply is NULL on error. SQLITE_ERROR for an error reply
** (its text in zErr), SQLITE_IOERR as above. */
int redisRun(RedisConn*, RedisCmd*, redisReply **ppReply);
void redisConnClose(RedisConn*);
int redisReadPushed(RedisConn*, void (*xMsg)(void*, const redisReply*),
                    void *pArg);
int redisConnUp(RedisConn*);

#endif /* CACHIER_REDIS_CONN_H */
