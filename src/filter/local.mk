# filter module
noinst_LIBRARIES += src/filter/libfilter.a
src_filter_libfilter_a_SOURCES = \
	src/filter/filter.h src/filter/sql.h \
	src/filter/filter.c src/filter/sql_parse.c src/filter/sql_eval.c

check_PROGRAMS += tests/filter/test_filter tests/filter/test_sql
TESTS += tests/filter/test_filter tests/filter/test_sql
