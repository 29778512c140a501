# store module: the message store (commitlog, consume queues, index, checkpoint)
noinst_LIBRARIES += src/store/libstore.a
src_store_libstore_a_SOURCES = \
	src/store/store.h src/store/store_int.h \
	src/store/mapped_file.c src/store/commitlog.c src/store/consume_queue.c \
	src/store/index_file.c src/store/checkpoint.c src/store/store.c \
	src/store/store_flush.c src/store/store_clean.c src/store/store_read.c \
	src/store/store_truncate.c src/store/store_dispatch.c

STORE_TESTS = tests/store/test_commitlog tests/store/test_consume_queue \
	tests/store/test_index tests/store/test_recovery tests/store/test_retention \
	tests/store/test_crash tests/store/test_group_commit tests/store/test_sync_flush \
	tests/store/test_dispatch
check_PROGRAMS += $(STORE_TESTS)
TESTS += $(STORE_TESTS)
EXTRA_DIST += tests/store/store_test.h
tests_store_test_commitlog_SOURCES = tests/store/test_commitlog.c tests/store/store_test.h
tests_store_test_consume_queue_SOURCES = tests/store/test_consume_queue.c tests/store/store_test.h
tests_store_test_index_SOURCES = tests/store/test_index.c tests/store/store_test.h
tests_store_test_recovery_SOURCES = tests/store/test_recovery.c tests/store/store_test.h
tests_store_test_retention_SOURCES = tests/store/test_retention.c tests/store/store_test.h
tests_store_test_crash_SOURCES = tests/store/test_crash.c tests/store/store_test.h
tests_store_test_group_commit_SOURCES = tests/store/test_group_commit.c tests/store/store_test.h
# Sees every msync the store makes (the test's own witness of what was synced).
tests_store_test_group_commit_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=msync
tests_store_test_dispatch_SOURCES = tests/store/test_dispatch.c tests/store/store_test.h
tests_store_test_sync_flush_SOURCES = tests/store/test_sync_flush.c tests/store/store_test.h
# Holds the store's syncs, or fails them (and its direct rewrites) with EIO.
tests_store_test_sync_flush_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=msync,--wrap=pwrite

check_PROGRAMS += tests/store/test_apache_commitlog
TESTS += tests/store/test_apache_commitlog
tests_store_test_apache_commitlog_SOURCES = tests/store/test_apache_commitlog.c tests/store/store_test.h
