# store module
noinst_LIBRARIES += src/store/libstore.a
src_store_libstore_a_SOURCES = src/store/store_placeholder.c
