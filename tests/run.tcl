# run.tcl - runs every tests/*.test in its own tclsh and directory (so a
# crash fails one file, not the suite), then tests/python/*.py with
# Debian's python3, and prints the total as "N passed, N failed".
#
#   tclsh tests/run.tcl EXTENSION.so [FILE.test ...]
# CACHIER_ASAN=1: preload the sanitizer runtime for an ASan+UBSan build.
#
# The shared behavioural suite ($store_suite) then runs again against each
# other store ($other_stores): tester.tcl makes CACHIER_STORE the default
# store of every connection it opens (cachier_test_default_store()).

set testdir [file dirname [file normalize [info script]]]
set ext [file normalize [lindex $argv 0]]
set files [lrange $argv 1 end]
set runs {}
if {[llength $files] == 0} {
  set files [lsort [glob -directory $testdir *.test]]
  set files [concat $files [lsort [glob -nocomplain -directory $testdir/python *.py]]]
  foreach f $files { lappend runs main $f }
  set store_suite {memoize types errors options stats compress evict invalidate query}
  set other_stores {memory file:cache.db redis}
  foreach store $other_stores {
    foreach t $store_suite {
      if {[file exists $testdir/$t.test]} { lappend runs $store $testdir/$t.test }
    }
  }
} else {
  set store main
  if {[info exists env(CACHIER_STORE)]} { set store $env(CACHIER_STORE) }
  foreach f $files { lappend runs $store $f }
}

set env(CACHIER_EXT) $ext
set env(CACHIER_TESTDIR) $testdir
if {[info exists env(CACHIER_ASAN)] && $env(CACHIER_ASAN)} {
  set env(LD_PRELOAD) [string trim [exec gcc -print-file-name=libasan.so]]
  set env(ASAN_OPTIONS) "detect_leaks=0:abort_on_error=1"
  set env(UBSAN_OPTIONS) "print_stacktrace=1:halt_on_error=1"
}

set total_pass 0
set total_fail 0
set failed_files {}
foreach {store f} $runs {
  set env(CACHIER_STORE) $store
  set label [file tail $f]
  if {$store ne "main"} { set label "\[$store\] $label" }
  set f [file normalize $f]
  set work [file join [expr {[info exists env(TMPDIR)] ? $env(TMPDIR) : "/tmp"}] \
      cachier-test-[pid]-[file rootname [file tail $f]]]
  file delete -force $work
  file mkdir $work
  set start [clock milliseconds]
  if {[file extension $f] eq ".py"} {
    set cmd [list /usr/bin/python3 $f]
  } else {
    set cmd [list [info nameofexecutable] $f]
  }
  if {[info exists env(CACHIER_VALGRIND)] && $env(CACHIER_VALGRIND)} {
    # Errors and definite leaks fail the run; Tcl's own allocations that
    # are still reachable at exit are not ours and do not count.
    set cmd [concat [list valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite --show-leak-kinds=definite] $cmd]
  }
  set here [pwd]
  cd $work
  set rc [catch {exec {*}$cmd 2>@1} out]
  cd $here
  # Stop any redis-server the file started and left running (tester.tcl).
  if {[file exists $work/redis.pids]} {
    set fh [open $work/redis.pids]
    foreach pid [split [read $fh]] {
      if {$pid ne ""} { catch {exec kill -9 $pid} }
    }
    close $fh
  }
  set pass 0; set fail 0; set found 0
  foreach line [split $out "\n"] {
    if {[regexp {^(\d+) passed, (\d+) failed$} $line -> p q]} {
      set pass $p; set fail $q; set found 1
    }
  }
  if {!$found || ($rc && $fail == 0)} {
    # Crashed or exited without its summary: count the file as one failure.
    incr fail
  }
  set ms [expr {[clock milliseconds] - $start}]
  if {$fail} {
    lappend failed_files $label
    puts "---- $label: $pass passed, $fail failed ($ms ms)"
    puts $out
  } else {
    puts "ok   $label: $pass passed ($ms ms)"
    # Figures a test measures (concurrency.test) and what a file skipped
    # (tester.tcl's skip_file, a tool it cannot install) are shown either way.
    foreach line [split $out "\n"] {
      if {[string match "  figure: *" $line] || [string match "skipped: *" $line]} {
        puts $line
      }
    }
  }
  incr total_pass $pass
  incr total_fail $fail
  file delete -force $work
}
if {[llength $failed_files]} { puts "failed files: $failed_files" }
puts "$total_pass passed, $total_fail failed"
exit [expr {$total_fail > 0}]
