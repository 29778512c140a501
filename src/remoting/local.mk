# remoting module
noinst_LIBRARIES += src/remoting/libremoting.a
src_remoting_libremoting_a_SOURCES = src/remoting/remoting_placeholder.c
