noinst_LIBRARIES += src/broker/libbroker.a
src_broker_libbroker_a_SOURCES = \
	src/broker/broker.h \
	src/broker/broker_config.c
