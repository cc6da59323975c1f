# tester.tcl - a small harness in the style of SQLite's own test suite.
#
#   source [file join [file dirname [info script]] tester.tcl]
#   reset_db                          ;# fresh test.db with cachier loaded as db
#   do_execsql_test NAME SQL RESULT   ;# db eval SQL must equal RESULT
#   do_catchsql_test NAME SQL RESULT  ;# {0 rows} or {1 message}
#   do_test NAME SCRIPT RESULT
#   finish_test                       ;# prints "N passed, N failed"
#
# The runner (run.tcl) starts each *.test file in its own tclsh, in a fresh
# directory, with CACHIER_EXT naming the extension to load.

package require sqlite3

set ::nPass 0
set ::nFail 0
set ::ext [file normalize $::env(CACHIER_EXT)]
set ::testfile [file tail $::argv0]
# The store the suite runs against (run.tcl): main, memory or file:PATH.
set ::store main
if {[info exists ::env(CACHIER_STORE)]} { set ::store $::env(CACHIER_STORE) }
if {$::store ne "main"} { set ::testfile "\[$::store\] $::testfile" }

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
# and increments ::calls(NAME) each time it runs.
proc counting_function {dbname name body} {
  set ::calls($name) 0
  proc ::tclfn_$name {args} "incr ::calls($name); $body"
  $dbname function $name ::tclfn_$name
}

proc calls {name} { return $::calls($name) }

proc finish_test {} {
  catch {db close}
  puts "$::nPass passed, $::nFail failed"
  exit [expr {$::nFail > 0}]
}
