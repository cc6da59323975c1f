# cachier - memoize any SQL function in SQLite.
#
#   make            build ./cachier.so (release)
#   make demo       memoize a slow function in the sqlite3 shell
#   make test       build the test build and run the whole suite
#   make test-asan  the suite against an ASan+UBSan build
#   make valgrind   the suite under valgrind memcheck
#   make fuzz       randomized corruption and input fuzzing (ASan+UBSan)
#   make bench      benchmarks, as ratios to floors measured in the same run
#   make install    install cachier.so and the docs (PREFIX, DESTDIR)
#   make uninstall  remove what make install installed
#   make bindings   put cachier.so into the Python and Node packages
#   make test-packages  build, install and load those packages (make test
#                   runs it)
#
# Every target but the plain build, install and bindings installs missing
# Debian packages first. REDIS=0 builds without Redis support (no hiredis:
# redis:// and unix: stores are then an error saying so), for any target.

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror=implicit-function-declaration
SOFLAGS  = -fPIC -shared -fvisibility=hidden
# ext/VERSION is the release: cachier_version() and the packages' versions.
VERSION := $(shell cat ext/VERSION)
DEFS     = -DCACHIER_VERSION='"$(VERSION)"'
REDIS   ?= 1
REDIS_SRC = ext/store_redis.c $(wildcard ext/redis_*.c)
NOREDIS_SRC = $(filter-out $(REDIS_SRC),$(wildcard ext/*.c))
ifeq ($(REDIS),0)
SRC      = $(NOREDIS_SRC)
LIBS     = -lzstd -lpthread
else
SRC      = $(filter-out ext/store_redis_none.c,$(wildcard ext/*.c))
LIBS     = -lzstd -lhiredis -lpthread
endif
# The builds depend on the options they were made with (ext/build_options
# changes only when they do), so switching REDIS rebuilds them.
HDR      = $(wildcard ext/*.h) ext/schema_sql.h ext/redis_lua.h ext/VERSION \
           ext/build_options

# make install: the extension where SQLite extensions of Debian packages
# go (/usr/lib/sqlite3/pcre.so), so `.load /usr/local/lib/sqlite3/cachier`
# finds its entry point from the file name; the docs beside other packages',
# laid out as in the checkout (README.md, docs/), so their links work.
PREFIX  ?= /usr/local
libdir   = $(PREFIX)/lib/sqlite3
docdir   = $(PREFIX)/share/doc/cachier

# Debian packages each target needs.
PKGS_BUILD = gcc make libsqlite3-dev libzstd-dev libhiredis-dev
PKGS_DEMO  = $(PKGS_BUILD) sqlite3
PKGS_TEST  = $(PKGS_BUILD) sqlite3 tcl libsqlite3-tcl python3 redis-server
PKGS_VALGRIND = $(PKGS_TEST) valgrind
PKGS_BENCH = $(PKGS_BUILD) redis-server util-linux
PKGS_PACKAGES = $(PKGS_BUILD) tcl libsqlite3-tcl python3 python3-venv \
             python3-setuptools python3-wheel python3-pip

.PHONY: all demo test test-asan valgrind fuzz test-faults test-faults-ci bench deps-build deps-demo deps-test deps-valgrind \
        deps-bench clean install uninstall bindings test-packages deps-packages FORCE

all: cachier.so

# The SQL and the Redis store's Lua scripts the extension runs, embedded
# as C strings: $(call embed_strings,FILE:NAME ...,SED-EXPRESSIONS) (the
# scripts' "--" comment lines are left out; the SQL is kept as written).
SQL_EMBED = sql/schema.sql:cachierSchemaSql \
            sql/migrate_1_to_2.sql:cachierMigrate1To2Sql \
            sql/migrate_2_to_3.sql:cachierMigrate2To3Sql \
            sql/migrate_3_to_4.sql:cachierMigrate3To4Sql \
            sql/migrate_4_to_5.sql:cachierMigrate4To5Sql
LUA_EMBED = sql/redis/lookup.lua:redisLuaLookup \
            sql/redis/get.lua:redisLuaGet \
            sql/redis/write.lua:redisLuaWrite \
            sql/redis/delete.lua:redisLuaDelete \
            sql/redis/due.lua:redisLuaDue \
            sql/redis/release.lua:redisLuaRelease \
            sql/redis/heads.lua:redisLuaHeads
define embed_strings
	@{ echo '/* Generated from the files in sql/ by make: do not edit. */'; \
	   for pair in $(1); do \
	     echo "static const char $${pair#*:}[] ="; \
	     sed $(2) -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/  "/' \
	       -e 's/$$/\\n"/' $${pair%%:*}; \
	     echo ';'; done; } > $@
endef
ext/schema_sql.h: $(foreach p,$(SQL_EMBED),$(firstword $(subst :, ,$(p))))
	$(call embed_strings,$(SQL_EMBED),)
ext/redis_lua.h: $(foreach p,$(LUA_EMBED),$(firstword $(subst :, ,$(p))))
	$(call embed_strings,$(LUA_EMBED),-e '/^--/d')

ext/build_options: FORCE
	@echo 'REDIS=$(REDIS)' | cmp -s - $@ || echo 'REDIS=$(REDIS)' > $@

cachier.so: $(SRC) $(HDR)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) $(SOFLAGS) -o $@ $(SRC) $(LIBS)

# The test build adds the cachier_test_*() functions (clock, hash bits,
# last log, wait marker, in-flight switch); the code is otherwise the same.
tests/cachier_test.so: $(SRC) $(HDR)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -DCACHIER_TEST $(SOFLAGS) -o $@ $(SRC) $(LIBS)

tests/cachier_asan.so: $(SRC) $(HDR)
	$(CC) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	  -fno-sanitize-recover=undefined $(WARN) $(DEFS) -DCACHIER_TEST $(SOFLAGS) -o $@ $(SRC) $(LIBS)

# A test build without Redis, whatever REDIS says, for tests/install.test.
tests/cachier_test_noredis.so: $(NOREDIS_SRC) $(HDR)
	$(CC) $(CFLAGS) $(WARN) $(DEFS) -DCACHIER_TEST $(SOFLAGS) -o $@ $(NOREDIS_SRC) -lzstd -lpthread

# A tiny extension with slow functions for the demo (not part of cachier.so).
tests/demo/slowfn.so: tests/demo/slowfn.c
	$(CC) $(CFLAGS) $(WARN) $(SOFLAGS) -o $@ $<

# Install what is missing, with one apt-get update at most.
define install_pkgs
	@missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps-build:
	$(call install_pkgs,$(PKGS_BUILD))
deps-demo:
	$(call install_pkgs,$(PKGS_DEMO))
deps-test:
	$(call install_pkgs,$(PKGS_TEST))
deps-valgrind:
	$(call install_pkgs,$(PKGS_VALGRIND))
deps-bench:
	$(call install_pkgs,$(PKGS_BENCH))
# Node and npm from Debian only when there are none (a NodeSource nodejs
# ships its own npm, which Debian's npm package would conflict with).
deps-packages:
	$(call install_pkgs,$(PKGS_PACKAGES))
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "installing: nodejs npm"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
	  || echo "could not install nodejs npm"; fi

demo: deps-demo
	$(MAKE) cachier.so tests/demo/slowfn.so
	@rm -f /tmp/cachier-demo.db /tmp/cachier-demo.db-wal /tmp/cachier-demo.db-shm
	sqlite3 /tmp/cachier-demo.db < sql/demo.sql

# The package test first, so the suite's total is the last line.
test: deps-test
	$(MAKE) cachier.so tests/cachier_test.so tests/cachier_test_noredis.so \
	  tests/concurrency/driver
	$(MAKE) test-packages
	tclsh tests/run.tcl tests/cachier_test.so

# install / uninstall (PREFIX, DESTDIR): the extension and the docs.
install: cachier.so
	install -d $(DESTDIR)$(libdir) $(DESTDIR)$(docdir)
	install -m 0755 cachier.so $(DESTDIR)$(libdir)/cachier.so
	install -m 0644 README.md LICENSE $(DESTDIR)$(docdir)/
	for f in $$(find docs -type f); do \
	  install -D -m 0644 $$f $(DESTDIR)$(docdir)/$$f || exit 1; done

uninstall:
	rm -f $(DESTDIR)$(libdir)/cachier.so
	rm -rf $(DESTDIR)$(docdir)
	rmdir $(DESTDIR)$(libdir) 2>/dev/null || true

# The language packages (bindings/) ship the release build: it and the
# version go into them here, so `pip install ./bindings/python` and
# `npm install ./bindings/node` (or npm pack) install what make built.
BINDINGS = bindings/python/sqlite_cachier/cachier.so \
           bindings/python/sqlite_cachier/VERSION bindings/node/cachier.so
bindings: $(BINDINGS) bindings/node/package.json
bindings/python/sqlite_cachier/cachier.so bindings/node/cachier.so: cachier.so
	cp cachier.so $@
bindings/python/sqlite_cachier/VERSION: ext/VERSION
	cp ext/VERSION $@
# package.json is kept in git with the version of ext/VERSION.
bindings/node/package.json: ext/VERSION
	sed -i 's/^  "version": "[^"]*"/  "version": "$(VERSION)"/' $@

# Build both packages from this checkout, install the Python one into a
# venv and the Node one into a project of its own, load cachier with one
# call in each (tests/packages/packages.test).
test-packages: deps-packages
	$(MAKE) bindings tests/cachier_test.so
	tclsh tests/run.tcl tests/cachier_test.so tests/packages/packages.test

test-asan: deps-test
	$(MAKE) cachier.so tests/cachier_asan.so tests/cachier_test_noredis.so \
	  tests/concurrency/driver
	CACHIER_ASAN=1 tclsh tests/run.tcl tests/cachier_asan.so

# The Tcl suite under valgrind's memcheck: any error or definite leak in
# the extension fails the file.
valgrind: deps-valgrind
	$(MAKE) cachier.so tests/cachier_test.so tests/cachier_test_noredis.so \
	  tests/concurrency/driver
	CACHIER_VALGRIND=1 tclsh tests/run.tcl tests/cachier_test.so

# Concurrent callers (threads and processes) for tests/concurrency.test.
tests/concurrency/driver: tests/concurrency/driver.c
	$(CC) -O2 -g $(WARN) -o $@ $< -lsqlite3 -lpthread

# Randomized corruption and input fuzzing through SQL, under ASan+UBSan.
tests/fuzz/fuzz_sql: tests/fuzz/fuzz_sql.c
	$(CC) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -o $@ $< -lsqlite3 -lhiredis

# Against a redis-server of its own (tests/with_redis.sh), so the Redis
# store is fuzzed too.
fuzz: deps-test
	$(MAKE) tests/cachier_asan.so tests/fuzz/fuzz_sql
	ASAN_OPTIONS=detect_leaks=1 sh tests/with_redis.sh \
	  tests/fuzz/fuzz_sql tests/cachier_asan.so 20000

# Fault campaigns (tests/faults/run.sh), under ASan+UBSan: allocation
# failures, I/O errors, SIGKILL crashes and hostile database files.
# make test-faults runs the full sweeps (long); SAMPLE=1, or
# make test-faults-ci, a seeded sample of each (a few minutes). One
# campaign, or the allocation sweep in ranges (tests/faults/run.sh):
#   CACHIER_FAULTS_ONLY=oom CACHIER_FAULTS_OOM_FIRST=1 \
#   CACHIER_FAULTS_OOM_LAST=20000 make test-faults
FAULT_DRIVERS = tests/faults/oom tests/faults/ioerr tests/faults/crash tests/faults/hostile
$(FAULT_DRIVERS): tests/faults/%: tests/faults/%.c tests/faults/faults.h
	$(CC) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  $(WARN) -o $@ $< -lsqlite3 $(FAULT_LIBS)
# oom.c trains dictionaries cheaply: its ZDICT_trainFromBuffer (see there).
tests/faults/oom: FAULT_LIBS = -lzstd -Wl,--export-dynamic-symbol=ZDICT_trainFromBuffer

test-faults: deps-test
	$(MAKE) tests/cachier_asan.so $(FAULT_DRIVERS)
	sh tests/faults/run.sh tests/cachier_asan.so $(if $(SAMPLE),sample,full)

test-faults-ci:
	$(MAKE) test-faults SAMPLE=1

# The in-flight marking rows switch the marks off, which only the test
# build can: it is passed as the second argument.
# The Redis rows run against a redis-server of their own (with_redis.sh),
# pinned to the last vCPU make may use, where bench runs those rows too (a
# loopback round trip within one vCPU is ~8 us, across two of this VM's
# ~90 us).
# AREA="hits redis" runs only those areas (tests/bench/bench --list).
bench: deps-bench
	$(MAKE) cachier.so tests/cachier_test.so tests/bench/bench
	@cpu=$$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | sed 's/.*[-,]//'); \
	REDIS_CPU=$$cpu CACHIER_BENCH_REDIS_CPU=$$cpu sh tests/with_redis.sh \
	  tests/bench/bench $(foreach a,$(AREA),--area $(a)) \
	  ./cachier.so tests/cachier_test.so

# The harness (bench.c, bench.h) and one file per area.
tests/bench/bench: $(wildcard tests/bench/*.c) tests/bench/bench.h
	$(CC) -O2 -g $(WARN) -o $@ $(filter %.c,$^) -lsqlite3 -lzstd -lhiredis -lm

clean:
	rm -f cachier.so tests/*.so tests/demo/*.so tests/bench/bench tests/fuzz/fuzz_sql \
	  tests/concurrency/driver ext/schema_sql.h $(FAULT_DRIVERS) ext/redis_lua.h \
	  ext/build_options bindings/python/sqlite_cachier/cachier.so \
	  bindings/python/sqlite_cachier/VERSION bindings/node/cachier.so
	rm -rf bindings/python/build bindings/python/*.egg-info
