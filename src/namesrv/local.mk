# namesrv module
noinst_LIBRARIES += src/namesrv/libnamesrv.a
src_namesrv_libnamesrv_a_SOURCES = \
	src/namesrv/namesrv.h src/namesrv/jmap.h \
	src/namesrv/jmap.c src/namesrv/routeinfo.c src/namesrv/routeinfo_int.h src/namesrv/routejson.c src/namesrv/regbody.c \
	src/namesrv/registrar.c src/namesrv/registrar_int.h \
	src/namesrv/kvconfig.c src/namesrv/config.c src/namesrv/namesrv.c

bin_PROGRAMS += mqnamesrv
mqnamesrv_SOURCES = src/namesrv/mqnamesrv_main.c
mqnamesrv_LDADD = $(LIBS_ALL)

check_PROGRAMS += tests/namesrv/test_routeinfo tests/namesrv/test_namesrv_e2e tests/namesrv/test_registrar
TESTS += tests/namesrv/test_routeinfo tests/namesrv/test_namesrv_e2e tests/namesrv/test_registrar
# the e2e test starts the real program
EXTRA_tests_namesrv_test_namesrv_e2e_DEPENDENCIES = mqnamesrv$(EXEEXT)

# TLS with client certificates required, and bad clients, against the real program.
check_PROGRAMS += tests/namesrv/test_namesrv_tls
TESTS += tests/namesrv/test_namesrv_tls
tests_namesrv_test_namesrv_tls_SOURCES = tests/namesrv/test_namesrv_tls.c tests/remoting/tls_certs.h
EXTRA_tests_namesrv_test_namesrv_tls_DEPENDENCIES = mqnamesrv$(EXEEXT)
