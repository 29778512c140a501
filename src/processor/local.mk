noinst_LIBRARIES += src/processor/libprocessor.a
src_processor_libprocessor_a_SOURCES = \
	src/processor/processor.h src/processor/response_codes.h src/processor/reply.c \
	src/processor/send_processor.c src/processor/pull_processor.c \
	src/processor/offset_processor.c src/processor/admin_int.h src/processor/admin_processor.c \
	src/processor/admin_topic.c src/processor/admin_broker.c src/processor/admin_consume.c \
	src/processor/admin_client.c src/processor/admin5_processor.c src/processor/admin_ha.c src/processor/admin_acl.c
src_processor_libprocessor_a_SOURCES += src/processor/client_processor.c
src_processor_libprocessor_a_SOURCES += src/processor/transaction_processor.c src/processor/query_processor.c
src_processor_libprocessor_a_SOURCES += src/processor/pop_processor.c src/processor/ack_processor.c \
	src/processor/assignment_processor.c
src_processor_libprocessor_a_SOURCES += src/processor/auth_processor.c
src_processor_libprocessor_a_SOURCES += src/processor/recall_processor.c

check_PROGRAMS += tests/broker/test_broker5
TESTS += tests/broker/test_broker5
tests_broker_test_broker5_SOURCES = tests/broker/test_broker5.c tests/broker/broker_client.h
