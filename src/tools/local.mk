# command-line tools
bin_PROGRAMS += mqshutdown
mqshutdown_SOURCES = src/tools/mqshutdown.c

bin_PROGRAMS += mqadmin
mqadmin_SOURCES = src/tools/mqadmin.c src/tools/mqadmin_int.h src/tools/mqadmin_client.c \
	src/tools/mqadmin_topic.c src/tools/mqadmin_broker.c src/tools/mqadmin_namesrv.c \
	src/tools/mqadmin_group.c src/tools/mqadmin_message.c
mqadmin_LDADD = $(LIBS_ALL)

check_PROGRAMS += tests/tools/test_mqadmin
tests_tools_test_mqadmin_SOURCES = tests/tools/test_mqadmin.c tests/tools/mqadmin_harness.h \
	tests/tools/mqadmin_harness.c
TESTS += tests/tools/test_mqadmin
# the test runs the real programs
EXTRA_tests_tools_test_mqadmin_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)
