noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_SOURCES = \
	src/common/util.c src/common/util.h src/common/crc32.c \
	src/common/log.c src/common/log.h \
	src/common/fjson.c src/common/fjson_write.c src/common/fjson.h \
	src/common/message.c src/common/message.h

check_PROGRAMS += tests/common/test_util
TESTS += tests/common/test_util

check_PROGRAMS += tests/common/test_fjson
TESTS += tests/common/test_fjson

check_PROGRAMS += tests/common/test_message
TESTS += tests/common/test_message

check_PROGRAMS += tests/common/test_log
TESTS += tests/common/test_log
