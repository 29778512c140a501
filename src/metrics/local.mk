# metrics: Prometheus exposition (counters here, the broker's gauges in mqbroker)
noinst_LIBRARIES += src/metrics/libmetrics.a
src_metrics_libmetrics_a_SOURCES = \
	src/metrics/metrics.h src/metrics/metrics_int.h \
	src/metrics/registry.c src/metrics/codes.c src/metrics/process.c src/metrics/http.c \
	src/metrics/processors.c

mqbroker_SOURCES += src/metrics/broker_collect.c

check_PROGRAMS += tests/metrics/test_metrics
TESTS += tests/metrics/test_metrics
tests_metrics_test_metrics_SOURCES = tests/metrics/test_metrics.c tests/broker/broker_client.h tests/grpc/h2_client.h
# the test scrapes the real programs
EXTRA_tests_metrics_test_metrics_DEPENDENCIES = mqbroker$(EXEEXT) mqnamesrv$(EXEEXT)
