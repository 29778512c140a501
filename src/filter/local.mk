# filter module
noinst_LIBRARIES += src/filter/libfilter.a
src_filter_libfilter_a_SOURCES = src/filter/filter_placeholder.c
