# processor module
noinst_LIBRARIES += src/processor/libprocessor.a
src_processor_libprocessor_a_SOURCES = src/processor/processor_placeholder.c
