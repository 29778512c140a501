# The gRPC endpoint (src/grpc/grpc.h). Its protobuf C code is generated at build time
# by protoc-c from our .proto files into the build tree (src/grpc/pb/).
GRPC_PROTOS = google/protobuf/timestamp.proto google/protobuf/duration.proto \
	apache/rocketmq/v2/definition.proto apache/rocketmq/v2/service.proto
GRPC_PB_C = src/grpc/pb/google/protobuf/timestamp.pb-c.c src/grpc/pb/google/protobuf/duration.pb-c.c \
	src/grpc/pb/apache/rocketmq/v2/definition.pb-c.c src/grpc/pb/apache/rocketmq/v2/service.pb-c.c
GRPC_PB_H = $(GRPC_PB_C:.c=.h)
EXTRA_DIST += src/grpc/proto/google/protobuf/timestamp.proto src/grpc/proto/google/protobuf/duration.proto \
	src/grpc/proto/apache/rocketmq/v2/definition.proto src/grpc/proto/apache/rocketmq/v2/service.proto \
	docs/grpc.md
BUILT_SOURCES += $(GRPC_PB_C) $(GRPC_PB_H)
CLEANFILES += $(GRPC_PB_C) $(GRPC_PB_H) src/grpc/pb/stamp

src/grpc/pb/stamp: $(srcdir)/src/grpc/proto/google/protobuf/timestamp.proto \
	$(srcdir)/src/grpc/proto/google/protobuf/duration.proto \
	$(srcdir)/src/grpc/proto/apache/rocketmq/v2/definition.proto \
	$(srcdir)/src/grpc/proto/apache/rocketmq/v2/service.proto
	@$(MKDIR_P) src/grpc/pb
	$(AM_V_GEN)$(PROTOC_C) --c_out=src/grpc/pb -I$(srcdir)/src/grpc/proto $(GRPC_PROTOS)
	@touch $@
$(GRPC_PB_C) $(GRPC_PB_H): src/grpc/pb/stamp

noinst_LIBRARIES += src/grpc/libgrpc.a
src_grpc_libgrpc_a_SOURCES = src/grpc/grpc.h src/grpc/grpc_int.h src/grpc/frame.c src/grpc/status.c \
	src/grpc/h2.c src/grpc/client.c src/grpc/session.c src/grpc/route.c src/grpc/convert.c \
	src/grpc/produce.c src/grpc/consume.c src/grpc/access.c src/grpc/peers.c
nodist_src_grpc_libgrpc_a_SOURCES = $(GRPC_PB_C) $(GRPC_PB_H)
$(am_src_grpc_libgrpc_a_OBJECTS): $(GRPC_PB_H)

check_PROGRAMS += tests/grpc/test_grpc
TESTS += tests/grpc/test_grpc
tests_grpc_test_grpc_SOURCES = tests/grpc/test_grpc.c tests/grpc/h2_client.h
check_PROGRAMS += tests/grpc/test_grpc_acl
TESTS += tests/grpc/test_grpc_acl
tests_grpc_test_grpc_acl_SOURCES = tests/grpc/test_grpc_acl.c tests/grpc/h2_client.h tests/grpc/grpc_broker.h
check_PROGRAMS += tests/grpc/test_grpc_recall
TESTS += tests/grpc/test_grpc_recall
tests_grpc_test_grpc_recall_SOURCES = tests/grpc/test_grpc_recall.c tests/grpc/h2_client.h tests/grpc/grpc_broker.h
check_PROGRAMS += tests/grpc/test_grpc_cluster
TESTS += tests/grpc/test_grpc_cluster
tests_grpc_test_grpc_cluster_SOURCES = tests/grpc/test_grpc_cluster.c tests/grpc/h2_client.h tests/grpc/grpc_broker.h

# Its decoders' fuzz harness (tests/fuzz/README.md), replayed over its corpus by make check.
check_PROGRAMS += tests/fuzz/replay_grpc
TESTS += tests/fuzz/replay_grpc
tests_fuzz_replay_grpc_SOURCES = tests/fuzz/fuzz_grpc.c tests/fuzz/replay.c
