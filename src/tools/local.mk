# command-line tools; the admin protocol they speak is a library mqconsole shares
noinst_LIBRARIES += src/tools/libadminclient.a
src_tools_libadminclient_a_SOURCES = src/tools/admin_client.h src/tools/admin_client.c src/tools/admin_ops.c

bin_PROGRAMS += mqshutdown
mqshutdown_SOURCES = src/tools/mqshutdown.c

bin_PROGRAMS += mqadmin
mqadmin_SOURCES = src/tools/mqadmin.c src/tools/mqadmin_int.h src/tools/mqadmin_client.c \
	src/tools/mqadmin_topic.c src/tools/mqadmin_broker.c src/tools/mqadmin_namesrv.c \
	src/tools/mqadmin_group.c src/tools/mqadmin_message.c src/tools/mqadmin_auth.c src/tools/mqadmin_ha.c
mqadmin_LDADD = src/tools/libadminclient.a $(LIBS_ALL)

check_PROGRAMS += tests/tools/test_mqadmin
tests_tools_test_mqadmin_SOURCES = tests/tools/test_mqadmin.c tests/tools/mqadmin_harness.h \
	tests/tools/mqadmin_harness.c
TESTS += tests/tools/test_mqadmin
# the test runs the real programs
EXTRA_tests_tools_test_mqadmin_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)

check_PROGRAMS += tests/tools/test_mqadmin_ops
tests_tools_test_mqadmin_ops_SOURCES = tests/tools/test_mqadmin_ops.c tests/tools/mqadmin_harness.h \
	tests/tools/mqadmin_harness.c
TESTS += tests/tools/test_mqadmin_ops
EXTRA_tests_tools_test_mqadmin_ops_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)

check_PROGRAMS += tests/tools/test_mqadmin_auth
tests_tools_test_mqadmin_auth_SOURCES = tests/tools/test_mqadmin_auth.c tests/tools/mqadmin_harness.h \
	tests/tools/mqadmin_harness.c
TESTS += tests/tools/test_mqadmin_auth
EXTRA_tests_tools_test_mqadmin_auth_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)

check_PROGRAMS += tests/tools/test_mqadmin_acl1
tests_tools_test_mqadmin_acl1_SOURCES = tests/tools/test_mqadmin_acl1.c tests/tools/mqadmin_harness.h \
	tests/tools/mqadmin_harness.c
TESTS += tests/tools/test_mqadmin_acl1
EXTRA_tests_tools_test_mqadmin_acl1_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)
