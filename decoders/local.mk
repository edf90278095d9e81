# decoders: the event model and the decoders that fill it.
libwazlab_a_SOURCES += decoders/event.c decoders/event.h
