# tester.tcl - a small harness in the style of SQLite's own test suite.
#
#   source [file join [file dirname [info script]] tester.tcl]
#   reset_db                          ;# fresh test.db with cachier loaded as db
#   do_execsql_test NAME SQL RESULT   ;# db eval SQL must equal RESULT
#   do_catchsql_test NAME SQL RESULT  ;# {0 rows} or {1 message}
#   do_test NAME SCRIPT RESULT
#   finish_test                       ;# prints "N passed, N failed"
#
# Helpers that more than one file uses live here, once, each with its
# contract: counting functions and the SQL calls('f'); the test clock (at),
# entry states and counts; child processes; Redis servers and store names.
# A helper only one file needs stays in that file.
#
# The runner (run.tcl) starts each *.test file in its own tclsh, in a fresh
# directory, with CACHIER_EXT naming the extension to load.

package require sqlite3

set ::nPass 0
set ::nFail 0
set ::ext [file normalize $::env(CACHIER_EXT)]
set ::testfile [file tail $::argv0]
# The store the suite runs against (run.tcl): main, memory, file:PATH or
# redis (a redis-server of the file's own, started below).
set ::store main
if {[info exists ::env(CACHIER_STORE)]} { set ::store $::env(CACHIER_STORE) }
if {$::store ne "main"} { set ::testfile "\[$::store\] $::testfile" }
# The key that seals cachier_functions rows (ext/seal.c): one per test run,
# in its directory, so no test reads or writes the user's own key. Child
# processes inherit it.
set ::env(CACHIER_KEY_FILE) [file join [pwd] cachier.key]

# ------------------------------------------------------------------ redis
# A test starts its own redis-server on 127.0.0.1 on a free port, without
# persistence, and stops it by its PID. Each PID is also written to
# ./redis.pids, so the runner stops it when the file fails or crashes. Its
# output goes to a log, not to the test's: the runner waits for the
# test's output to end, which a server left running would never do.

# A free TCP port on 127.0.0.1.
proc redis_free_port {} {
  set s [socket -server {apply {{c a p} {close $c}}} -myaddr 127.0.0.1 0]
  set port [lindex [fconfigure $s -sockname] 2]
  close $s
  return $port
}

# Start redis-server NAME (on PORT, or a free one); returns its port.
proc redis_start {{name redis} {port ""}} {
  if {$port eq ""} { set port [redis_free_port] }
  set pid [exec redis-server --port $port --bind 127.0.0.1 --save "" \
      --appendonly no --daemonize no --dir [pwd] \
      --logfile [file join [pwd] redis-$port.log] </dev/null >&/dev/null &]
  set f [open redis.pids a]
  puts $f $pid
  close $f
  set ::redis_pid($name) $pid
  set ::redis_port($name) $port
  # Ready when it answers (it starts in a few ms; give it 10 s at most).
  for {set i 0} {$i < 1000} {incr i} {
    if {![catch {redis_cmd $port PING} r] && $r eq "PONG"} { return $port }
    after 10
  }
  error "redis-server on port $port did not start"
}

# Stop redis-server NAME by its PID and wait until it is gone.
proc redis_stop {{name redis}} {
  if {![info exists ::redis_pid($name)]} return
  set pid $::redis_pid($name)
  catch {exec kill -9 $pid}
  for {set i 0} {$i < 500 && [file exists /proc/$pid]} {incr i} {
    # (A zombie until Tcl reaps it: its state is Z.)
    if {[catch {open /proc/$pid/stat} f]} break
    set st [lindex [read $f] 2]
    close $f
    if {$st eq "Z"} { catch {exec true}; break }
    after 10
  }
  unset ::redis_pid($name)
}

# Send one command to the server on PORT and return its reply (an error
# reply raises it). Arguments are sent binary-safe, as UTF-8.
proc redis_cmd {port args} {
  set s [socket 127.0.0.1 $port]
  fconfigure $s -translation binary -buffering full
  set out "*[llength $args]\r\n"
  foreach a $args {
    set b [encoding convertto utf-8 $a]
    append out "\$[string length $b]\r\n$b\r\n"
  }
  puts -nonewline $s $out
  flush $s
  set rc [catch {redis_read $s} r]
  close $s
  if {$rc} { error $r }
  return $r
}
proc redis_read {s} {
  set line [string trimright [gets $s] "\r"]
  set rest [string range $line 1 end]
  switch -- [string index $line 0] {
    + - : { return $rest }
    - { error $rest }
    $ {
      if {$rest < 0} { return "" }
      return [string range [read $s [expr {$rest + 2}]] 0 end-2]
    }
    * {
      set l {}
      for {set i 0} {$i < $rest} {incr i} { lappend l [redis_read $s] }
      return $l
    }
  }
  error "bad reply: $line"
}

# The release this checkout builds (ext/VERSION): cachier_version().
set ::cachier_version [string trim [read [set fh [open [file join \
    [file dirname [file normalize [info script]]] .. ext VERSION]]]][close $fh]]

# Whether the extension has Redis support: a build made with REDIS=0 has
# none (cachier_debug() says "redis none"), and the runs that need it are
# skipped: the suite against redis, the store_redis_*.test and
# redis_*.test files, and single tests that check [redis_built].
proc redis_built {} {
  if {![info exists ::redis_built]} {
    sqlite3 ::redis_probe :memory:
    ::redis_probe enable_load_extension 1
    ::redis_probe eval {SELECT load_extension($::ext, 'sqlite3_cachier_init')}
    set ::redis_built [expr {![string match {*; redis none;*} \
        [::redis_probe one {SELECT cachier_debug()}]]}]
    ::redis_probe close
  }
  return $::redis_built
}
# The error a build without Redis gives for the Redis store name SPEC.
proc no_redis_error {spec} {
  return "'$spec': cachier was built without Redis support (make REDIS=0):\
      use 'main', 'memory' or 'file:PATH', or a build with hiredis"
}
# End this file at once, as passed, with a "skipped:" line saying why
# (run.tcl shows it).
proc skip_file {why} {
  puts "skipped: $::testfile: $why"
  puts "0 passed, 0 failed"
  exit 0
}
if {($::store eq "redis" || [string match {store_redis_*} [file tail $::argv0]]
     || [string match {redis_*} [file tail $::argv0]]) && ![redis_built]} {
  skip_file "this build has no Redis support (make REDIS=0)"
}

# The suite against redis: a server of this file's own. Its operations
# may take 5 s (not the default 250 ms): the suite's 10 MB values must not
# time out on a loaded machine (timeouts are store_redis_faults.test's).
if {$::store eq "redis"} {
  set ::store "redis://127.0.0.1:[redis_start]/0?prefix=suite&timeout_ms=5000"
}
proc redis_store {} { string match redis://* $::store }

# The store_redis_*.test files run on main with a server r1 of their own,
# whose port is ::P (set ::P [redis_start r1]); every function there names
# its Redis store itself.

# The name of a store on server r1 with prefix PREFIX (and more PARAMS).
proc rspec {prefix args} {
  set s "redis://127.0.0.1:$::P/0?prefix=$prefix"
  foreach a $args { append s "&$a" }
  return $s
}
# Its canonical name, as cachier_entries.store shows it.
proc rcanon {prefix {port ""} {db 0}} {
  if {$port eq ""} { set port $::P }
  return "redis://127.0.0.1:$port/$db?prefix=$prefix"
}
# The keys of server r1 (or the one on PORT) matching PATTERN, sorted.
proc rkeys {pattern {port ""}} {
  if {$port eq ""} { set port $::P }
  lsort [redis_cmd $port KEYS $pattern]
}
# Column COL of cachier_stats for FN's Redis store.
proc redis_stat {fn col {dbname db}} {
  $dbname one "SELECT $col FROM cachier_stats WHERE fn = \$fn AND store LIKE 'redis:%'"
}
# The bucket key of fn's entry for ARGS (a JSON array, as in
# cachier_entries.args) under PREFIX.
proc bucket_of {prefix fn args_json {dbname db}} {
  set k [$dbname one { SELECT key FROM cachier_entries WHERE fn = $fn AND args = $args_json }]
  if {$k eq ""} { error "no entry $fn $args_json" }
  return "$prefix:$fn:[string range $k 0 13]00"
}

proc load_cachier {dbname} {
  $dbname enable_load_extension 1
  $dbname eval {SELECT load_extension($::ext, 'sqlite3_cachier_init')}
  if {$::store ne "main"} {
    $dbname eval {SELECT cachier_test_default_store($::store)}
  }
}

# True when the suite runs against the main store: tests of what only main
# does (shadow tables in the user's file, writes that roll back with the
# user's transaction) are skipped for the others.
proc main_store {} { expr {$::store eq "main"} }

# The store's canonical name, as cachier_entries.store reports it: main,
# memory, or file:/absolute/path (PATH relative to the directory of
# $dbname's main database).
proc store_name {{dbname db}} {
  if {[redis_store]} { return [regsub {&timeout_ms=[0-9]+} $::store ""] }
  if {![string match file:* $::store]} { return $::store }
  set path [string range $::store 5 end]
  if {[file pathtype $path] ne "absolute"} {
    set main [$dbname one {SELECT file FROM pragma_database_list WHERE name='main'}]
    set dir [expr {$main eq "" ? [pwd] : [file dirname $main]}]
    set path [file join $dir $path]
  }
  return "file:[file normalize $path]"
}

# Open connection $name on the database that holds the current store's
# tables (main: $dbname's main file; memory: the process's memdb database,
# shared while any connection has it open; file:PATH: the cache file), with
# cachier loaded but no default store set, so its "main" store is those
# very tables: its module makes them shadow tables (DEFENSIVE applies) and
# lets "DROP TABLE cachier" drop them.
proc store_db {name {dbname db}} {
  catch {$name close}
  switch -glob -- $::store {
    main    { sqlite3 $name [$dbname one {SELECT file FROM pragma_database_list WHERE name='main'}] }
    memory  { sqlite3 $name {file:/cachier-memory?vfs=memdb} -uri 1 }
    file:*  { sqlite3 $name [string range [store_name $dbname] 5 end] }
  }
  $name timeout 5000
  $name enable_load_extension 1
  $name eval {SELECT load_extension($::ext, 'sqlite3_cachier_init')}
  return $name
}

# Run SQL (with the caller's variables) on the current store's own
# database: on main, db itself; on the others a connection of store_db,
# closed afterwards. For tests that damage or inspect the tables directly.
proc store_eval {sql} {
  if {[main_store]} { return [uplevel 1 [list db eval $sql]] }
  store_db ::store_eval_db
  catch {uplevel 1 [list ::store_eval_db eval $sql]} r opts
  ::store_eval_db close
  return -options $opts $r
}

# Close connection $name and open it again on $file, keeping the store's
# entries: the memory store lives only while some connection of the
# process has it open, so a plain connection to it holds it until the new
# connection has opened it (listing cachier_entries opens every store).
proc reopen_db {{name db} {file test.db}} {
  if {$::store eq "memory"} {
    sqlite3 ::reopen_keep {file:/cachier-memory?vfs=memdb} -uri 1
  }
  open_db $name $file
  if {$::store eq "memory"} {
    $name eval {SELECT count(*) FROM cachier_entries}
    ::reopen_keep close
  }
  return $name
}

# Open (or reopen) connection $name on $file with cachier loaded.
proc open_db {name {file test.db}} {
  catch {$name close}
  sqlite3 $name $file
  load_cachier $name
  return $name
}

proc delete_db_files {file} {
  foreach f [glob -nocomplain $file $file-journal $file-wal $file-shm] {
    file delete -force $f
  }
}

proc reset_db {{file test.db}} {
  catch {db close}
  delete_db_files $file
  if {[redis_store]} { redis_cmd $::redis_port(redis) FLUSHALL }
  if {[string match file:* $::store]} {
    set cache [string range $::store 5 end]
    delete_db_files $cache
    file delete -force $cache-cachier-locks
  }
  open_db db $file
  # The memory store outlives a connection while another one is open.
  if {$::store eq "memory"} { db eval {SELECT cachier_clear()} }
}

proc result_matches {got expected} {
  if {$got eq $expected} { return 1 }
  # Compare as lists too, so {1 2} matches "1 2".
  if {[catch {llength $got}] || [catch {llength $expected}]} { return 0 }
  if {[llength $got] != [llength $expected]} { return 0 }
  foreach a $got b $expected {
    if {$a ne $b} { return 0 }
  }
  return 1
}

proc do_test {name script expected} {
  if {[catch {uplevel 1 $script} got opts]} {
    set got "TCL ERROR: $got"
  }
  if {[result_matches $got $expected]} {
    incr ::nPass
  } else {
    incr ::nFail
    puts "FAIL $::testfile $name"
    puts "  expected: \[$expected\]"
    puts "  got:      \[$got\]"
  }
}

proc do_execsql_test {name sql expected} {
  uplevel 1 [list do_test $name [list db eval $sql] $expected]
}

proc do_catchsql_test {name sql expected} {
  uplevel 1 [list do_test $name [list catchsql $sql] $expected]
}

proc catchsql {sql {dbname db}} {
  set rc [catch {uplevel 1 [list $dbname eval $sql]} msg]
  return [list $rc $msg]
}

# Define a counting Tcl function: NAME(args...) runs BODY with $args bound
# and increments ::calls(NAME) each time it runs. The SQL functions
# calls(NAME) (how many times NAME ran so far) and calls_reset(NAME) (sets
# it to 0) are registered on $dbname too, so a check reads as SQL:
#   do_execsql_test x { SELECT memoize('f', 1), calls('f') } {f1@1 1}
# (result columns are computed left to right).
proc counting_function {dbname name body} {
  set ::calls($name) 0
  proc ::tclfn_$name {args} "incr ::calls($name); $body"
  $dbname function $name ::tclfn_$name
  $dbname function calls calls
  $dbname function calls_reset calls_reset
}

# How many times counting function NAME ran; calls_reset sets it to 0.
proc calls {name} { return $::calls($name) }
proc calls_reset {name} { set ::calls($name) 0; return 0 }

# ------------------------------------------------------------- shared helpers

# Set $dbname's test clock to T (unix seconds; NULL: the real clock again).
proc at {t {dbname db}} { $dbname eval "SELECT cachier_test_clock($t)" }

# The states of FN's entries (cachier_entries.state), ordered by args.
proc states {fn {dbname db}} {
  $dbname eval { SELECT state FROM cachier_entries WHERE fn = $fn ORDER BY args }
}

# How many entries FN has.
proc nentries {fn {dbname db}} {
  $dbname one { SELECT count(*) FROM cachier_entries WHERE fn = $fn }
}

# The last message cachier logged on $dbname (cachier_test_last_log()).
proc last_log {{dbname db}} { $dbname one { SELECT cachier_test_last_log() } }

# Set function FN's store to SPEC (a row of cachier_functions).
proc with_store {fn spec {dbname db}} {
  $dbname eval { INSERT OR REPLACE INTO cachier_functions(name, store) VALUES ($fn, $spec) }
}

# Run SQL (with the caller's variables) on a plain connection, without
# cachier, to FILE; closed afterwards.
proc plain_eval {file sql} {
  sqlite3 plain $file
  plain timeout 5000
  catch {uplevel 1 [list plain eval $sql]} r opts
  plain close
  return -options $opts $r
}

# Make function NAME on $dbname fail if it is called: every value must be
# a hit.
proc forbid {dbname name} {
  $dbname function $name [list apply {{name args} { error "$name was called" }} $name]
}

# reset_db, and the file: store cache.db deleted too.
proc reset_all {} {
  reset_db
  delete_db_files cache.db
  file delete -force cache.db-cachier-locks
}

# fib(n) for a Tcl function fib registered as fibfn on db: a memoized
# recursive function (it calls memoize('fib', ...) itself) counting its
# calls in ::calls(fib).
proc fibfn {n} {
  incr ::calls(fib)
  if {$n < 2} { return $n }
  db eval { SELECT memoize('fib', $n-1) + memoize('fib', $n-2) AS v } { return $v }
}

# Record I of a set of small similar JSON values (for trained
# dictionaries: each barely compresses alone).
proc recval {i} {
  return "{\"id\":$i,\"user\":\"user$i@example.com\",\"plan\":\"premium\",\"country\":\"NZ\",\"tags\":\[\"alpha\",\"beta\"\],\"created\":\"2026-11-25T10:00:00Z\",\"score\":[expr {$i*7 % 1000}]}"
}

# How long SCRIPT (run in the caller) took, in milliseconds.
proc elapsed_ms {script} {
  set t0 [clock milliseconds]
  uplevel 1 $script
  expr {[clock milliseconds] - $t0}
}

# 1 once file PATH exists, 0 if it does not within MS milliseconds: a
# bounded poll for another process, never a sleep taken as an assertion.
proc wait_for_file {path {ms 20000}} {
  for {set i 0} {$i < $ms / 5} {incr i} {
    if {[file exists $path]} { return 1 }
    after 5
  }
  return 0
}

# 1 once process PID has exited (reaping it), 0 after MS milliseconds.
proc wait_exit {pid {ms 10000}} {
  for {set i 0} {$i < $ms / 5} {incr i} {
    if {[catch {open /proc/$pid/stat} f]} { return 1 }
    set st [lindex [read $f] 2]
    close $f
    if {$st eq "Z"} { catch {exec true}; return 1 }
    after 5
  }
  return 0
}

# The PIDs of this file's background processes (child_bg and the like);
# kill_children SIGKILLs them and waits for them (finish_test does too).
set ::children {}
proc kill_children {} {
  foreach p $::children { catch {exec kill -9 $p} }
  foreach p $::children { wait_exit $p 2000 }
  set ::children {}
}

# ---------------------------------------------------------- child processes
# A child process is another process (another "machine" when its FILE is
# not the parent's) with cachier loaded on FILE as db (busy timeout 5 s)
# and two helpers: "await PATH" waits for file PATH (10 s at most) and
# "touch PATH" creates it. It runs $::child_setup (a file's own setup, say
# its functions), then its SCRIPT, and closes db.
set ::child_setup ""

# Write the child script NAME.tcl.
proc child_write {name script {file test.db}} {
  set f [open $name.tcl w]
  puts $f [list set ::env(CACHIER_EXT) $::ext]
  puts $f [list set ::dbfile $file]
  puts $f {
    package require sqlite3
    sqlite3 db $::dbfile
    db timeout 5000
    db enable_load_extension 1
    db eval {SELECT load_extension($::env(CACHIER_EXT), 'sqlite3_cachier_init')}
    proc await {path} {
      for {set i 0} {$i < 2000 && ![file exists $path]} {incr i} { after 5 }
    }
    proc touch {path} { close [open $path w] }
  }
  puts $f $::child_setup
  puts $f $script
  puts $f {db close}
  close $f
}

# Run SCRIPT in a child to its end; returns what it printed (an error if
# it failed).
proc child {script {file test.db}} {
  child_write child $script $file
  exec [info nameofexecutable] child.tcl
}

# Start SCRIPT in a child NAME in the background (its output goes to
# NAME.out, see child_out); returns its PID, also added to ::children.
proc child_bg {name script {file test.db}} {
  child_write $name $script $file
  set pid [exec [info nameofexecutable] $name.tcl >& $name.out &]
  lappend ::children $pid
  return $pid
}

# What background child NAME printed (trimmed).
proc child_out {name} {
  set f [open $name.out]
  set r [string trim [read $f]]
  close $f
  return $r
}

proc finish_test {} {
  catch {db close}
  kill_children
  foreach name [array names ::redis_pid] { redis_stop $name }
  puts "$::nPass passed, $::nFail failed"
  exit [expr {$::nFail > 0}]
}
