# daemon: shared utilities (errors, logging) and the wazlabd program.
libwazlab_a_SOURCES += daemon/error.c daemon/error.h daemon/log.c daemon/log.h \
	daemon/queue.c daemon/queue.h daemon/message.c daemon/message.h \
	daemon/analysis.h

sbin_PROGRAMS += wazlabd
wazlabd_SOURCES = daemon/main.c
wazlabd_LDADD = $(WL_LIBS)
