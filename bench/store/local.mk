# Store append benchmark (not a test): bench/store/run.sh runs it.
noinst_PROGRAMS += bench/store/bench_store
bench_store_bench_store_LDADD = $(LIBS_ALL)
EXTRA_DIST += bench/store/run.sh
