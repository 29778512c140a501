# Fault and flood tests (issue 14): floods of connections against one broker, a store on a
# full disk (test_diskfull: root, a tmpfs in its own mount namespace), a failing one
# (test_diskfault: root, ext4 on a loop device over a tmpfs it then fills), and the
# kill -9 loop (crashloop KILLS SYNC_FLUSH|ASYNC_FLUSH; figures in tests/fault/README.md).
check_PROGRAMS += tests/fault/test_flood tests/fault/crashloop tests/fault/test_diskfull tests/fault/test_diskfault
TESTS += tests/fault/test_flood tests/fault/test_crashloop.sh tests/fault/test_diskfull tests/fault/test_diskfault
dist_check_SCRIPTS += tests/fault/test_crashloop.sh
EXTRA_DIST += tests/fault/README.md
tests_fault_test_flood_SOURCES = tests/fault/test_flood.c tests/broker/broker_client.h
tests_fault_test_diskfull_SOURCES = tests/fault/test_diskfull.c tests/fault/fault_store.h tests/broker/broker_client.h
tests_fault_test_diskfault_SOURCES = tests/fault/test_diskfault.c tests/fault/fault_store.h tests/broker/broker_client.h
tests_fault_crashloop_SOURCES = tests/fault/crashloop.c tests/broker/broker_client.h
