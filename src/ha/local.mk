# ha module: master/slave commit-log replication (HAService)
noinst_LIBRARIES += src/ha/libha.a
src_ha_libha_a_SOURCES = src/ha/ha.h src/ha/ha_int.h src/ha/ha.c src/ha/client.c src/ha/epoch.c \
	src/ha/autoswitch.c

check_PROGRAMS += tests/ha/test_ha_frames
TESTS += tests/ha/test_ha_frames
tests_ha_test_ha_frames_SOURCES = tests/ha/test_ha_frames.c tests/remoting/golden.h tests/testproc.h

check_PROGRAMS += tests/ha/test_ha_e2e
TESTS += tests/ha/test_ha_e2e
tests_ha_test_ha_e2e_SOURCES = tests/ha/test_ha_e2e.c tests/broker/broker_client.h

check_PROGRAMS += tests/ha/test_ha_master
TESTS += tests/ha/test_ha_master
tests_ha_test_ha_master_SOURCES = tests/ha/test_ha_master.c tests/store/store_test.h tests/testproc.h

check_PROGRAMS += tests/ha/test_ha_failover
TESTS += tests/ha/test_ha_failover
tests_ha_test_ha_failover_SOURCES = tests/ha/test_ha_failover.c tests/ha/ha_harness.h tests/broker/broker_client.h \
	tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_ha_test_ha_failover_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)

# The same across hosts: network namespaces made by the test (root; skips without, fails with CI=true).
TESTS += tests/ha/test_ha_netns.sh
dist_check_SCRIPTS += tests/ha/test_ha_netns.sh

check_PROGRAMS += tests/ha/test_ha_epochs
TESTS += tests/ha/test_ha_epochs
tests_ha_test_ha_epochs_SOURCES = tests/ha/test_ha_epochs.c tests/testproc.h

check_PROGRAMS += tests/ha/test_ha_status
TESTS += tests/ha/test_ha_status
tests_ha_test_ha_status_SOURCES = tests/ha/test_ha_status.c tests/ha/ha_harness.h tests/broker/broker_client.h \
	tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_ha_test_ha_status_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT) mqadmin$(EXEEXT)

check_PROGRAMS += tests/ha/test_ha_demote
TESTS += tests/ha/test_ha_demote
tests_ha_test_ha_demote_SOURCES = tests/ha/test_ha_demote.c tests/ha/ha_harness.h tests/broker/broker_client.h \
	tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_ha_test_ha_demote_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)

check_PROGRAMS += tests/ha/test_ha_confirm
TESTS += tests/ha/test_ha_confirm
tests_ha_test_ha_confirm_SOURCES = tests/ha/test_ha_confirm.c tests/ha/ha_harness.h tests/broker/broker_client.h \
	tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_ha_test_ha_confirm_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)

check_PROGRAMS += tests/ha/test_ha_controllers
TESTS += tests/ha/test_ha_controllers
tests_ha_test_ha_controllers_SOURCES = tests/ha/test_ha_controllers.c tests/ha/ha_harness.h \
	tests/broker/broker_client.h tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_ha_test_ha_controllers_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)
