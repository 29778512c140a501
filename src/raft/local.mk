# raft module: the consensus core under the controller group (raft.h)
noinst_LIBRARIES += src/raft/libraft.a
src_raft_libraft_a_SOURCES = src/raft/raft.h src/raft/raft.c src/raft/raft_store.c

check_PROGRAMS += tests/raft/test_raft
TESTS += tests/raft/test_raft
