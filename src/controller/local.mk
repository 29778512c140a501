# controller module: 5.x controller mode (ControllerManager), embedded in mqnamesrv,
# replicated between controllers through src/raft
noinst_LIBRARIES += src/controller/libcontroller.a
src_controller_libcontroller_a_SOURCES = src/controller/controller.h \
	src/controller/ctl_int.h src/controller/replicas.c src/controller/liveness.c src/controller/ctl_json.c \
	src/controller/ctl_server.h src/controller/controller.c src/controller/ctl_procs.c src/controller/peers.c

check_PROGRAMS += tests/controller/test_controller_state
TESTS += tests/controller/test_controller_state

check_PROGRAMS += tests/controller/test_controller_e2e
TESTS += tests/controller/test_controller_e2e
tests_controller_test_controller_e2e_SOURCES = tests/controller/test_controller_e2e.c \
	tests/controller/ctl_harness.h tests/testproc.h
EXTRA_tests_controller_test_controller_e2e_DEPENDENCIES = mqnamesrv$(EXEEXT)

# three controllers under a master and a slave of ours: leader and master killed
check_PROGRAMS += tests/controller/test_controller_group
TESTS += tests/controller/test_controller_group
tests_controller_test_controller_group_SOURCES = tests/controller/test_controller_group.c \
	tests/controller/ctl_harness.h tests/ha/ha_harness.h tests/testproc.h
EXTRA_tests_controller_test_controller_group_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)
