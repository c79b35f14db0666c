#ifndef HEARTH_WAL_VFS_H
#define HEARTH_WAL_VFS_H

/// Registers, once per process and as SQLite's default, a VFS that wraps the default one and
/// gathers the writes of a transaction to a WAL file into a buffer: one `pwrite` for up to 96 KiB
/// of a commit's frames instead of two for each (SQLite writes a 24-byte frame header, then the
/// page). What is gathered is written before anything can read, size, sync, truncate or close the
/// file, before the connection publishes the commit in the WAL index (`xShmBarrier` on its
/// database file) and before it releases a WAL lock, so other connections and processes see
/// exactly what they saw without it.
/// Returns SQLite's result code (`SQLITE_OK` when registered now or before).
int hearth_wal_vfs_register(void);

/// The name of SQLite's default VFS now, the one new connections open files with (the VFS above
/// registers as "hearth-wal").
const char *hearth_default_vfs_name(void);

#endif
