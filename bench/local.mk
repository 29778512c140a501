# mqbench, the client-side load generator (not a test): bench/run.sh runs the figures in bench/README.md.
noinst_PROGRAMS += bench/mqbench
bench_mqbench_LDADD = $(LIBS_ALL)
EXTRA_DIST += bench/run.sh bench/README.md bench/apache.sh bench/apache-benchmark.pom.xml

# grpcbench, the gRPC endpoint's load generator (bench/README.md, "gRPC"); tests/grpc's HTTP/2 client.
noinst_PROGRAMS += bench/grpcbench
bench_grpcbench_SOURCES = bench/grpcbench.c tests/grpc/h2_client.h
bench_grpcbench_LDADD = $(LIBS_ALL)

# The timer benchmark (bench/README.md, "Timer"): run by hand.
noinst_PROGRAMS += bench/timer/bench_timer
bench_timer_bench_timer_LDADD = $(LIBS_ALL)

# Topic and group creation at scale (bench/README.md, "Topics and groups"): bench/topics/scale.sh.
noinst_PROGRAMS += bench/topics/bench_topics
bench_topics_bench_topics_LDADD = $(LIBS_ALL)
EXTRA_DIST += bench/topics/scale.sh
