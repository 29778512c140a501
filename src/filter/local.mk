# filter module
noinst_LIBRARIES += src/filter/libfilter.a
src_filter_libfilter_a_SOURCES = \
	src/filter/filter.h src/filter/sql.h \
	src/filter/filter.c src/filter/sql_parse.c src/filter/sql_eval.c

check_PROGRAMS += tests/filter/test_filter tests/filter/test_sql
TESTS += tests/filter/test_filter tests/filter/test_sql
tests_filter_test_filter_SOURCES = tests/filter/test_filter.c
tests_filter_test_filter_CFLAGS = $(TEST_CFLAGS)
tests_filter_test_filter_LDADD = $(TEST_LIBS)
tests_filter_test_sql_SOURCES = tests/filter/test_sql.c
tests_filter_test_sql_CFLAGS = $(TEST_CFLAGS)
tests_filter_test_sql_LDADD = $(TEST_LIBS)
