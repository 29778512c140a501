noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_SOURCES = \
	src/common/util.c src/common/util.h \
	src/common/log.c src/common/log.h \
	src/common/fjson.c src/common/fjson.h \
	src/common/message.c src/common/message.h

check_PROGRAMS += tests/common/test_util
TESTS += tests/common/test_util
tests_common_test_util_SOURCES = tests/common/test_util.c
tests_common_test_util_CFLAGS = $(TEST_CFLAGS)
tests_common_test_util_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/common/test_fjson
TESTS += tests/common/test_fjson
tests_common_test_fjson_SOURCES = tests/common/test_fjson.c
tests_common_test_fjson_CFLAGS = $(TEST_CFLAGS)
tests_common_test_fjson_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/common/test_message
TESTS += tests/common/test_message
tests_common_test_message_SOURCES = tests/common/test_message.c
tests_common_test_message_CFLAGS = $(TEST_CFLAGS)
tests_common_test_message_LDADD = $(TEST_LIBS)
