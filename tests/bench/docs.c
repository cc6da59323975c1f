/*
** docs.c - the values of the bench's compress area: deterministic JSON
** text for key x, made by C functions the zstd rows memoize. doc_1k
** (1,024 bytes: a pretty-printed page of analytics events), doc_64k
** (65,536 bytes: a compact export of orders) and rec (a user record of
** 200 to 2,000 bytes, valid JSON: nested name and address, roles, orders,
** and a memo that pads it to its pseudo-random size; the fixed part makes
** the shortest about 240).
*/
#include "bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* A deterministic writer of JSON text: writes past cap are dropped, so a
** generator can run on and be cut at exactly cap bytes. */
typedef struct Gen Gen;
struct Gen {
  char *z;
  int n;            /* bytes written */
  int cap;
  uint64_t rng;
};

static uint32_t genRand(Gen *g, uint32_t n){
  g->rng = mix64(g->rng);
  return (uint32_t)((g->rng >> 32) % n);
}

static void genPut(Gen *g, const char *z){
  size_t k = strlen(z);
  if( g->n + (int)k > g->cap ) k = (size_t)(g->cap - g->n);
  memcpy(g->z + g->n, z, k);
  g->n += (int)k;
}

static void genUint(Gen *g, uint64_t v){
  char a[24];
  int i = 23;
  a[i] = 0;
  do{ a[--i] = (char)('0' + v%10); v /= 10; }while( v );
  genPut(g, a+i);
}

static void genCents(Gen *g, uint64_t v){           /* v/100, 2 decimals */
  char a[4];
  genUint(g, v/100);
  a[0] = '.'; a[1] = (char)('0' + (v/10)%10); a[2] = (char)('0' + v%10);
  a[3] = 0;
  genPut(g, a);
}

static void genTime(Gen *g, uint64_t t){   /* "2023-MM-DDTHH:MM:SSZ" */
  char a[24];
  unsigned mo = (unsigned)(t/2592000)%12 + 1, d = (unsigned)(t/86400)%28 + 1;
  unsigned h = (unsigned)(t/3600)%24, mi = (unsigned)(t/60)%60;
  unsigned s = (unsigned)(t%60);
  snprintf(a, sizeof(a), "\"2023-%02u-%02uT%02u:%02u:%02uZ\"", mo, d, h, mi, s);
  genPut(g, a);
}

static void genUuid(Gen *g){
  static const char hex[] = "0123456789abcdef";
  uint64_t r1 = mix64(g->rng ^ 1), r2 = mix64(g->rng ^ 2);
  char a[40];
  int k, j = 0;
  for(k=0; k<32; k++){
    a[j++] = hex[((k<16 ? r1 : r2) >> (4*(k&15))) & 15];
    if( k==7 || k==11 || k==15 || k==19 ) a[j++] = '-';
  }
  a[j] = 0;
  g->rng = mix64(g->rng);
  genPut(g, a);
}

#define PICK(g, a) (a[genRand(g, sizeof(a)/sizeof(a[0]))])
static const char *azFirst[] = {
  "James","Mary","Robert","Patricia","John","Jennifer","Michael","Linda",
  "David","Elizabeth","William","Barbara","Richard","Susan","Joseph",
  "Jessica","Thomas","Sarah","Charles","Karen","Wei","Aisha","Carlos","Yuki",
  "Olga","Ahmed","Priya","Lars","Fatima","Mateo","Chloe","Noah"
};
static const char *azLast[] = {
  "Smith","Johnson","Williams","Brown","Jones","Garcia","Miller","Davis",
  "Rodriguez","Martinez","Hernandez","Lopez","Gonzalez","Wilson","Anderson",
  "Thomas","Taylor","Moore","Jackson","Martin","Lee","Perez","Thompson",
  "White","Nakamura","Kowalski","Schmidt","Rossi","Dubois","Novak","Singh",
  "Okafor"
};
static const char *azDomain[] = {
  "example.com","mail.com","gmail.com","outlook.com","corp.example.net",
  "yahoo.com","proton.me","company.org"
};
static const char *azCity[] = {      /* "city" and "country" members */
  "\"city\":\"Springfield\",\"country\":\"US\"",
  "\"city\":\"Lyon\",\"country\":\"FR\"",
  "\"city\":\"Berlin\",\"country\":\"DE\"",
  "\"city\":\"Osaka\",\"country\":\"JP\"",
  "\"city\":\"Toronto\",\"country\":\"CA\"",
  "\"city\":\"Madrid\",\"country\":\"ES\"",
  "\"city\":\"Krakow\",\"country\":\"PL\"",
  "\"city\":\"Austin\",\"country\":\"US\"",
  "\"city\":\"Lagos\",\"country\":\"NG\"",
  "\"city\":\"Pune\",\"country\":\"IN\""
};
static const char *azStreet[] = {
  "Oak St","Maple Ave","Main St","Cedar Rd","Elm St","Park Lane",
  "Lake View Dr","Hill Rd","River Rd","Sunset Blvd"
};
static const char *azProduct[] = {
  "Wireless Mouse","USB-C Cable 2m","Mechanical Keyboard","27\\\" Monitor",
  "Laptop Stand","Noise Cancelling Headphones","Webcam 1080p","Desk Lamp",
  "Ergonomic Chair","HDMI Adapter","Portable SSD 1TB","Phone Case",
  "Coffee Mug","Notebook A5","Backpack","Water Bottle"
};
static const char *azStatus[] = {
  "pending","paid","shipped","delivered","cancelled","returned"
};
static const char *azTag[] = {
  "gift","express","prime","bulk","fragile","promo","b2b","repeat",
  "newsletter","vip"
};
static const char *azRole[] = { "admin","editor","viewer","billing","support" };
static const char *azWord[] = {
  "the","customer","asked","for","delivery","before","noon","please","call",
  "on","arrival","leave","package","at","front","door","invoice","sent",
  "to","billing","address","refund","processed","order","was","updated",
  "and","confirmed","by","phone","email","support","ticket","closed"
};
static const char *azEvent[] = {
  "page_view","add_to_cart","checkout","login","logout","search","click",
  "purchase"
};
static const char *azPath[] = {
  "/products/","/cart/","/checkout/","/search?q=","/account/","/orders/",
  "/help/","/"
};
static const char *azAgent[] = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/118.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
  "Mozilla/5.0 (X11; Linux x86_64) Firefox/119.0",
  "Mozilla/5.0 (Linux; Android 14) Chrome/118.0 Mobile"
};

/* A page of analytics events, pretty-printed (an API response), cut at
** nBytes. */
static void genEvents(Gen *g, int nBytes){
  uint64_t t = genRand(g, 30000000), uid = 0;
  int i;
  genPut(g, "{\n  \"page\": "); genUint(g, 1 + genRand(g, 50));
  genPut(g, ",\n  \"per_page\": 100,\n  \"events\": [\n");
  for(i=0; g->n<nBytes; i++){
    uint32_t iPath = genRand(g, 8);
    if( i==0 || genRand(g, 4)==0 ) uid = 10000 + genRand(g, 90000);
    t += genRand(g, 40);
    if( i ) genPut(g, ",\n");
    genPut(g, "    {\n      \"ts\": "); genTime(g, t);
    genPut(g, ",\n      \"session\": \"s-"); genUint(g, uid*7919 % 1000003);
    genPut(g, "\",\n      \"user_id\": "); genUint(g, uid);
    genPut(g, ",\n      \"event\": \""); genPut(g, PICK(g, azEvent));
    genPut(g, "\",\n      \"path\": \""); genPut(g, azPath[iPath]);
    if( iPath<7 ) genUint(g, genRand(g, 5000));
    genPut(g, "\",\n      \"duration_ms\": "); genUint(g, 20 + genRand(g, 900));
    genPut(g, ",\n      \"ip\": \"10.0."); genUint(g, uid % 256);
    genPut(g, "."); genUint(g, uid/256 % 256);
    genPut(g, "\",\n      \"agent\": \""); genPut(g, azAgent[uid % 5]);
    genPut(g, "\",\n      \"ok\": ");
    genPut(g, genRand(g, 10) ? "true" : "false");
    genPut(g, "\n    }");
  }
}

/* An export of orders, compact JSON, cut at nBytes. */
static void genOrders(Gen *g, int nBytes){
  uint64_t id = 1000000 + genRand(g, 8000000), t = genRand(g, 30000000);
  genPut(g, "{\"orders\":[");
  while( g->n<nBytes ){
    int i, nItem = 1 + (int)genRand(g, 4), nTag = (int)genRand(g, 3);
    const char *zF = PICK(g, azFirst), *zL = PICK(g, azLast);
    uint64_t total = 0;
    if( g->n>11 ) genPut(g, ",");
    genPut(g, "{\"id\":"); genUint(g, id++);
    genPut(g, ",\"uuid\":\""); genUuid(g);
    genPut(g, "\",\"customer\":{\"id\":"); genUint(g, 10000 + genRand(g, 90000));
    genPut(g, ",\"name\":\""); genPut(g, zF); genPut(g, " "); genPut(g, zL);
    genPut(g, "\",\"email\":\""); genPut(g, zF); genPut(g, ".");
    genPut(g, zL); genUint(g, genRand(g, 100)); genPut(g, "@");
    genPut(g, PICK(g, azDomain));
    genPut(g, "\",\"phone\":\"+1-"); genUint(g, 200 + genRand(g, 800));
    genPut(g, "-555-"); genUint(g, 1000 + genRand(g, 9000));
    genPut(g, "\",\"address\":\""); genUint(g, 1 + genRand(g, 999));
    genPut(g, " "); genPut(g, PICK(g, azStreet)); genPut(g, "\",");
    genPut(g, PICK(g, azCity));
    genPut(g, "},\"status\":\""); genPut(g, PICK(g, azStatus));
    genPut(g, "\",\"created\":"); genTime(g, t);
    t += 1 + genRand(g, 600);
    genPut(g, ",\"items\":[");
    for(i=0; i<nItem; i++){
      uint64_t price = 199 + genRand(g, 20000), qty = 1 + genRand(g, 3);
      total += price*qty;
      genPut(g, i ? ",{\"sku\":\"SKU-" : "{\"sku\":\"SKU-");
      genUint(g, 10000 + genRand(g, 90000));
      genPut(g, "\",\"name\":\""); genPut(g, PICK(g, azProduct));
      genPut(g, "\",\"qty\":"); genUint(g, qty);
      genPut(g, ",\"price\":"); genCents(g, price); genPut(g, "}");
    }
    genPut(g, "],\"total\":"); genCents(g, total);
    genPut(g, ",\"currency\":\"USD\",\"tags\":[");
    for(i=0; i<nTag; i++){
      genPut(g, i ? ",\"" : "\""); genPut(g, PICK(g, azTag)); genPut(g, "\"");
    }
    genPut(g, "]}");
  }
}

/* A user record of REC_MIN..REC_MAX bytes (a pseudo-random size; a record
** whose fixed part is longer than its size keeps the fixed part), compact
** JSON: nested name and address, roles, recent orders, and a free-text
** memo that pads it to its size. */
#define REC_MIN 200
static void genRecord(Gen *g, int64_t x){
  int nTarget = REC_MIN + (int)genRand(g, REC_MAX - REC_MIN + 1);
  const char *zF = PICK(g, azFirst), *zL = PICK(g, azLast);
  int i, nRole = 1 + (int)genRand(g, 2), nOrder, iMemo;
  genPut(g, "{\"id\":"); genUint(g, (uint64_t)x);
  genPut(g, ",\"name\":{\"first\":\""); genPut(g, zF);
  genPut(g, "\",\"last\":\""); genPut(g, zL);
  genPut(g, "\"},\"email\":\""); genPut(g, zF); genPut(g, ".");
  genPut(g, zL); genPut(g, "@"); genPut(g, PICK(g, azDomain));
  genPut(g, "\",\"age\":"); genUint(g, 18 + genRand(g, 60));
  genPut(g, ",\"phone\":\"+1-"); genUint(g, 200 + genRand(g, 800));
  genPut(g, "-555-"); genUint(g, 1000 + genRand(g, 9000));
  genPut(g, "\",\"balance\":"); genCents(g, genRand(g, 500000));
  genPut(g, ",\"address\":{\"street\":\""); genUint(g, 1 + genRand(g, 999));
  genPut(g, " "); genPut(g, PICK(g, azStreet)); genPut(g, "\",");
  genPut(g, PICK(g, azCity)); genPut(g, "},\"roles\":[");
  for(i=0; i<nRole; i++){
    genPut(g, i ? ",\"" : "\""); genPut(g, PICK(g, azRole)); genPut(g, "\"");
  }
  genPut(g, "],\"orders\":[");
  nOrder = (nTarget - g->n - 40)/140;     /* about 140 bytes an order */
  if( nOrder<0 ) nOrder = 0;
  if( nOrder>1 ) nOrder = nOrder/2 + (int)genRand(g, (uint32_t)(nOrder-nOrder/2+1));
  for(i=0; i<nOrder; i++){
    genPut(g, i ? ",{\"id\":" : "{\"id\":");
    genUint(g, 500000 + (uint64_t)x*16 + (uint64_t)i);
    genPut(g, ",\"date\":"); genTime(g, genRand(g, 30000000));
    genPut(g, ",\"product\":\""); genPut(g, PICK(g, azProduct));
    genPut(g, "\",\"qty\":"); genUint(g, 1 + genRand(g, 3));
    genPut(g, ",\"price\":"); genCents(g, 199 + genRand(g, 20000));
    genPut(g, ",\"status\":\""); genPut(g, PICK(g, azStatus));
    genPut(g, "\"}");
  }
  genPut(g, "],\"memo\":\"");
  iMemo = g->n;
  while( g->n < nTarget-2 ){
    genPut(g, PICK(g, azWord));
    genPut(g, " ");
  }
  if( g->n > nTarget-2 ) g->n = nTarget-2 > iMemo ? nTarget-2 : iMemo;
  genPut(g, "\"}");
}

/* The memoized functions of the zstd rows: NAME(x) returns the document
** or record of key x as TEXT. Each is registered under four names, all
** the same C function: NAME (default settings: compressed), NAME_raw
** (compress_min 'none'), and NAME_m, NAME_raw_m for the stored misses
** (cleared after each rep). */
#define DOC_EVENTS 1
#define DOC_ORDERS 2
#define DOC_RECORD 3
const Doc g_aDoc[3] = {
  { "doc_1k", "1 KB JSON text", DOC_EVENTS, 1024, 10000, 2000 },
  { "doc_64k", "64 KB JSON text", DOC_ORDERS, 65536, 1000, 300 },
  { "rec", "JSON record, 200-2000 B, dictionary", DOC_RECORD, REC_MAX,
    10000, 2000 },
};
const char *g_azDocSuffix[4] = { "", "_raw", "_m", "_raw_m" };

/* Write doc(x) into z (room for p->nBytes); returns its length. */
int docMake(const Doc *p, int64_t x, char *z){
  Gen g;
  g.z = z; g.n = 0; g.cap = p->nBytes;
  g.rng = mix64((uint64_t)x ^ (uint64_t)p->eKind*0x9e3779b97f4a7c15ULL);
  switch( p->eKind ){
    case DOC_EVENTS: genEvents(&g, p->nBytes); break;
    case DOC_ORDERS: genOrders(&g, p->nBytes); break;
    default:         genRecord(&g, x); break;
  }
  return g.n;
}

void docFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const Doc *p = (const Doc*)sqlite3_user_data(ctx);
  char *z = sqlite3_malloc(p->nBytes);
  (void)argc;
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, z, docMake(p, sqlite3_value_int64(argv[0]), z),
                      sqlite3_free);
}

