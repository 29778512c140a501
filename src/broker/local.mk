noinst_LIBRARIES += src/broker/libbroker.a
src_broker_libbroker_a_SOURCES = \
	src/broker/broker.h \
	src/broker/broker_config.c \
	src/broker/broker_state.c \
	src/broker/replicas.h src/broker/replicas_int.h src/broker/replicas.c src/broker/replicas_boot.c

bin_PROGRAMS += mqbroker
mqbroker_SOURCES = src/broker/mqbroker_main.c src/broker/broker.c
mqbroker_LDADD = $(LIBS_ALL)

src_broker_libbroker_a_SOURCES += src/broker/clients.h src/broker/clients.c src/broker/subscription.c \
	src/broker/heartbeat_v2.c
check_PROGRAMS += tests/broker/test_clients
TESTS += tests/broker/test_clients

check_PROGRAMS += tests/broker/test_broker_e2e
TESTS += tests/broker/test_broker_e2e
EXTRA_DIST += tests/testproc.h
tests_broker_test_broker_e2e_SOURCES = tests/broker/test_broker_e2e.c tests/testproc.h

src_broker_libbroker_a_SOURCES += src/broker/schedule.h src/broker/schedule_int.h src/broker/schedule.c src/broker/timer_deliver.c src/broker/timer_store.h src/broker/timer_store.c \
	src/broker/timer_send.c src/broker/timer_metrics.h src/broker/timer_metrics.c \
	src/broker/transaction.h src/broker/transaction.c \
	src/broker/sysqueue.h src/broker/sysqueue.c

EXTRA_DIST += tests/broker/broker_client.h
check_PROGRAMS += tests/broker/test_schedule
TESTS += tests/broker/test_schedule
tests_broker_test_schedule_SOURCES = tests/broker/test_schedule.c tests/broker/broker_client.h

check_PROGRAMS += tests/broker/test_recall
TESTS += tests/broker/test_recall
tests_broker_test_recall_SOURCES = tests/broker/test_recall.c tests/broker/broker_client.h

check_PROGRAMS += tests/broker/test_timer_store
TESTS += tests/broker/test_timer_store
tests_broker_test_timer_store_SOURCES = tests/broker/test_timer_store.c tests/store/store_test.h

check_PROGRAMS += tests/broker/test_transaction
TESTS += tests/broker/test_transaction
tests_broker_test_transaction_SOURCES = tests/broker/test_transaction.c tests/broker/broker_client.h

check_PROGRAMS += tests/broker/test_query
TESTS += tests/broker/test_query
tests_broker_test_query_SOURCES = tests/broker/test_query.c tests/broker/broker_client.h

src_broker_libbroker_a_SOURCES += src/broker/slave_sync.h src/broker/slave_sync.c
check_PROGRAMS += tests/broker/test_slave_sync
TESTS += tests/broker/test_slave_sync
tests_broker_test_slave_sync_SOURCES = tests/broker/test_slave_sync.c tests/broker/broker_client.h

# TLS on the name server, master and slave at once (the HA port stays plain).
check_PROGRAMS += tests/broker/test_tls_cluster
TESTS += tests/broker/test_tls_cluster
tests_broker_test_tls_cluster_SOURCES = tests/broker/test_tls_cluster.c tests/broker/broker_client.h

src_broker_libbroker_a_SOURCES += src/broker/acl.h src/broker/acl_int.h src/broker/acl.c \
	src/broker/acl_yaml.c src/broker/acl_config.c src/broker/acl_sign.c src/broker/acl_edit.c
check_PROGRAMS += tests/broker/test_acl
TESTS += tests/broker/test_acl
tests_broker_test_acl_SOURCES = tests/broker/test_acl.c tests/broker/broker_client.h

src_broker_libbroker_a_SOURCES += src/broker/acl2.h src/broker/acl2_int.h src/broker/acl2.c \
	src/broker/acl2_store.c src/broker/acl2_context.c src/broker/acl2_migrate.c
check_PROGRAMS += tests/broker/test_acl2
TESTS += tests/broker/test_acl2
tests_broker_test_acl2_SOURCES = tests/broker/test_acl2.c tests/broker/broker_client.h

src_broker_libbroker_a_SOURCES += src/broker/registration.h src/broker/registration.c src/broker/registration_int.h \
	src/broker/registration_table.c src/broker/registration_body.c

src_broker_libbroker_a_SOURCES += src/broker/pop.h src/broker/pop_int.h src/broker/pop_revive.c \
	src/broker/pop_mode.c src/broker/pop_order.c
check_PROGRAMS += tests/broker/test_pop
TESTS += tests/broker/test_pop
tests_broker_test_pop_SOURCES = tests/broker/test_pop.c tests/broker/broker_client.h tests/broker/pop_client.h

check_PROGRAMS += tests/broker/test_pop_config
TESTS += tests/broker/test_pop_config
tests_broker_test_pop_config_SOURCES = tests/broker/test_pop_config.c tests/broker/broker_client.h \
	tests/broker/pop_client.h
check_PROGRAMS += tests/broker/test_registration tests/broker/test_registration_table
TESTS += tests/broker/test_registration tests/broker/test_registration_table
tests_broker_test_registration_SOURCES = tests/broker/test_registration.c tests/broker/broker_client.h \
	tests/broker/fake_namesrv.h
tests_broker_test_registration_table_SOURCES = tests/broker/test_registration_table.c tests/broker/broker_client.h \
	tests/broker/fake_namesrv.h

check_PROGRAMS += tests/broker/test_slave_read
TESTS += tests/broker/test_slave_read
tests_broker_test_slave_read_SOURCES = tests/broker/test_slave_read.c tests/broker/broker_client.h
