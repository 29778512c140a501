# command-line tools
bin_PROGRAMS += mqshutdown
mqshutdown_SOURCES = src/tools/mqshutdown.c

bin_PROGRAMS += mqadmin
mqadmin_SOURCES = src/tools/mqadmin.c
mqadmin_LDADD = $(LIBS_ALL)

check_PROGRAMS += tests/tools/test_mqadmin
TESTS += tests/tools/test_mqadmin
# the test runs the real programs
EXTRA_tests_tools_test_mqadmin_DEPENDENCIES = mqadmin$(EXEEXT) mqnamesrv$(EXEEXT) mqbroker$(EXEEXT)
