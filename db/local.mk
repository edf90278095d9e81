# db: records, the SQLite schema and the writer.
libwazlab_a_SOURCES += db/record.c db/record.h
