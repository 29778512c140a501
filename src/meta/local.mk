# meta module: broker metadata tables (config/*.json)
noinst_LIBRARIES += src/meta/libmeta.a
src_meta_libmeta_a_SOURCES = \
	src/meta/meta.h src/meta/meta_internal.h \
	src/meta/strmap.c src/meta/config_file.c \
	src/meta/topic_config.c src/meta/topic_attributes.c src/meta/subscription_group.c \
	src/meta/consumer_offset.c src/meta/delay_offset.c \
	src/meta/persister.c src/meta/journal.c

EXTRA_DIST += tests/meta/golden/README \
	tests/meta/golden/topics-GET_ALL_TOPIC_CONFIG.json \
	tests/meta/golden/topics-fresh-broker.json \
	tests/meta/golden/consumerOffset-GET_ALL_CONSUMER_OFFSET.json \
	tests/meta/golden/subscriptionGroup-GET_ALL_SUBSCRIPTIONGROUP_CONFIG.json \
	tests/meta/golden/subscriptionGroup-fresh-broker.json

check_PROGRAMS += tests/meta/test_topic_config
TESTS += tests/meta/test_topic_config
tests_meta_test_topic_config_SOURCES = tests/meta/test_topic_config.c tests/meta/meta_test_util.h

check_PROGRAMS += tests/meta/test_subscription_group
TESTS += tests/meta/test_subscription_group
tests_meta_test_subscription_group_SOURCES = tests/meta/test_subscription_group.c tests/meta/meta_test_util.h

check_PROGRAMS += tests/meta/test_consumer_offset
TESTS += tests/meta/test_consumer_offset
tests_meta_test_consumer_offset_SOURCES = tests/meta/test_consumer_offset.c tests/meta/meta_test_util.h

check_PROGRAMS += tests/meta/test_delay_offset
TESTS += tests/meta/test_delay_offset
tests_meta_test_delay_offset_SOURCES = tests/meta/test_delay_offset.c tests/meta/meta_test_util.h
