noinst_LIBRARIES += src/remoting/libremoting.a
src_remoting_libremoting_a_SOURCES = \
	src/remoting/remoting.h src/remoting/conn.h \
	src/remoting/command.c src/remoting/codec.c src/remoting/conn.c \
	src/remoting/server.c src/remoting/client.c src/remoting/sync.c src/remoting/async.c \
	src/remoting/tls.c src/remoting/tls_config.c src/remoting/local.c

check_PROGRAMS += tests/remoting/test_codec tests/remoting/test_server tests/remoting/test_tls
TESTS += tests/remoting/test_codec tests/remoting/test_server tests/remoting/test_tls
tests_remoting_test_tls_SOURCES = tests/remoting/test_tls.c tests/remoting/tls_certs.h
