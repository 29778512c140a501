# Fuzz harnesses (tests/fuzz/README.md). scripts/fuzz.sh builds them with clang's
# libFuzzer; here each one is linked with replay.c and run over its corpus and its
# kept regressions, so `make check` (and its sanitizer build) replays every finding.
EXTRA_DIST += tests/fuzz/fuzz.h tests/fuzz/README.md tests/fuzz/corpus tests/fuzz/regressions tests/fuzz/dict \
	tests/fuzz/make_corpus.py

check_PROGRAMS += tests/fuzz/replay_remoting tests/fuzz/replay_fjson tests/fuzz/replay_message \
	tests/fuzz/replay_sql tests/fuzz/replay_config tests/fuzz/replay_acl tests/fuzz/replay_regbody \
	tests/fuzz/replay_ha tests/fuzz/replay_broker tests/fuzz/replay_acl2
TESTS += tests/fuzz/replay_remoting tests/fuzz/replay_fjson tests/fuzz/replay_message \
	tests/fuzz/replay_sql tests/fuzz/replay_config tests/fuzz/replay_acl tests/fuzz/replay_regbody \
	tests/fuzz/replay_ha tests/fuzz/replay_broker tests/fuzz/replay_acl2
tests_fuzz_replay_remoting_SOURCES = tests/fuzz/fuzz_remoting.c tests/fuzz/replay.c
tests_fuzz_replay_fjson_SOURCES = tests/fuzz/fuzz_fjson.c tests/fuzz/replay.c
tests_fuzz_replay_message_SOURCES = tests/fuzz/fuzz_message.c tests/fuzz/replay.c
tests_fuzz_replay_sql_SOURCES = tests/fuzz/fuzz_sql.c tests/fuzz/replay.c
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz_config.c tests/fuzz/replay.c
tests_fuzz_replay_acl_SOURCES = tests/fuzz/fuzz_acl.c tests/fuzz/replay.c
tests_fuzz_replay_acl2_SOURCES = tests/fuzz/fuzz_acl2.c tests/fuzz/replay.c
tests_fuzz_replay_regbody_SOURCES = tests/fuzz/fuzz_regbody.c tests/fuzz/replay.c
tests_fuzz_replay_ha_SOURCES = tests/fuzz/fuzz_ha.c tests/fuzz/replay.c
# The replay sends the broker harness's requests to this build's mqbroker.
tests_fuzz_replay_broker_SOURCES = tests/fuzz/fuzz_broker.c tests/fuzz/replay.c
tests_fuzz_replay_broker_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_BROKER_PROCESS
