# namesrv module
noinst_LIBRARIES += src/namesrv/libnamesrv.a
src_namesrv_libnamesrv_a_SOURCES = src/namesrv/namesrv_placeholder.c
