# meta module
noinst_LIBRARIES += src/meta/libmeta.a
src_meta_libmeta_a_SOURCES = src/meta/meta_placeholder.c
