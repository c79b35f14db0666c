// A VFS over SQLite's default one that gathers a transaction's writes to a WAL file into one
// buffer (docs/ARCHITECTURE.md, *Storage*; docs/PERFORMANCE.md, session 18).
//
// SQLite writes every WAL frame as two writes, its 24-byte header and then the page, each a
// `pwrite` of its own: a commit of a hundred pages is two hundred system calls. This VFS passes
// every call through to the default VFS unchanged, except that writes to a WAL file that follow
// one another in the file are copied into a buffer and written as one. The buffer is written out,
// in the order SQLite wrote it, before anything else touches the file:
//
//   - before a read, a size, a sync, a truncation, a file control or the close of that file, and
//     before a write that does not continue the buffer (SQLite rewriting a frame in place);
//   - before the connection publishes a commit in the WAL index: SQLite calls `xShmBarrier` on
//     the database file between writing the frames and the index header that makes them visible,
//     so nothing can read a frame still in the buffer. With `synchronous = FULL`, as every Hearth
//     connection runs, the commit's sync has written it already; the barrier is the safety net for
//     connections that do not sync at commit;
//   - before the connection lets go of a WAL lock (`xShmLock`), so that the buffer never holds
//     anything once another connection may write the WAL.
//
// A connection's WAL file is told from its database file by the file name SQLite gives them:
// `sqlite3_filename_database` of the WAL's name is the very pointer the pager opened the database
// file with, so a WAL file is linked to its own connection's database file and no other.
//
// Written by hand because no library does this: SQLite has no option to coalesce WAL writes, and
// this is the layer it leaves for it.

#include "hearth_wal_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const hearth_wal_vfs_name = "hearth-wal";

// The most a WAL file gathers before writing it out in one call: 23 frames of 4 KiB pages. Not
// more, because SQLite's unix VFS writes at most 128 KiB - 1 bytes a call (it masks the length
// with 0x1ffff, and takes a write of exactly 128 KiB as one of zero bytes: a "full disk"); it is
// never given more than a page.
enum { kBufferBytes = 96 << 10 };

typedef struct HearthFile HearthFile;
struct HearthFile {
    sqlite3_file base;  // pMethods: one of hearth_methods[]
    sqlite3_file *real;  // the default VFS's file, allocated just after this struct

    // A database file: the name the pager opened it with, its connection's WAL file while one is
    // open, and the next database file in the registry.
    const char *database_name;
    HearthFile *wal;
    HearthFile *next_database;

    // A WAL file: its connection's database file (NULL: not linked, nothing is gathered), and
    // the gathered writes, `used` bytes to be written at `start`.
    HearthFile *database;
    unsigned char *buffer;
    int used;
    sqlite3_int64 start;
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs hearth_vfs;
static sqlite3_io_methods hearth_methods[3];
static pthread_once_t registered = PTHREAD_ONCE_INIT;
static int register_result = SQLITE_ERROR;

// The database files open in this process, for their WAL files to find them.
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static HearthFile *open_databases;

// ---- Gathering

static int flush(HearthFile *file) {
    if (file->used == 0) return SQLITE_OK;
    int used = file->used;
    file->used = 0;
    return file->real->pMethods->xWrite(file->real, file->buffer, used, file->start);
}

static int hearth_write(sqlite3_file *handle, const void *data, int amount, sqlite3_int64 offset) {
    HearthFile *file = (HearthFile *)handle;
    if (file->used > 0 && file->database != NULL && offset == file->start + file->used
        && amount <= kBufferBytes - file->used) {
        memcpy(file->buffer + file->used, data, (size_t)amount);
        file->used += amount;
        return SQLITE_OK;
    }
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    if (file->database == NULL || amount > kBufferBytes) {
        return file->real->pMethods->xWrite(file->real, data, amount, offset);
    }
    if (file->buffer == NULL) {
        file->buffer = sqlite3_malloc(kBufferBytes);
        if (file->buffer == NULL) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    }
    memcpy(file->buffer, data, (size_t)amount);
    file->used = amount;
    file->start = offset;
    return SQLITE_OK;
}

// ---- Calls that write the buffer out first, then pass through

static int hearth_read(sqlite3_file *handle, void *data, int amount, sqlite3_int64 offset) {
    HearthFile *file = (HearthFile *)handle;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xRead(file->real, data, amount, offset);
}

static int hearth_truncate(sqlite3_file *handle, sqlite3_int64 size) {
    HearthFile *file = (HearthFile *)handle;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int hearth_sync(sqlite3_file *handle, int flags) {
    HearthFile *file = (HearthFile *)handle;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xSync(file->real, flags);
}

static int hearth_file_size(sqlite3_file *handle, sqlite3_int64 *size) {
    HearthFile *file = (HearthFile *)handle;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int hearth_file_control(sqlite3_file *handle, int op, void *argument) {
    HearthFile *file = (HearthFile *)handle;
    int rc = flush(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static void hearth_shm_barrier(sqlite3_file *handle) {
    HearthFile *file = (HearthFile *)handle;
    if (file->wal != NULL && flush(file->wal) != SQLITE_OK) {
        // The index header is about to make these frames visible and there is no way to report
        // the failure from here: stop rather than publish frames that are not in the file. The
        // WAL's checksums end recovery at the last commit that is whole.
        fprintf(stderr, "hearth: cannot write the SQLite WAL before publishing a commit; stopping\n");
        abort();
    }
    file->real->pMethods->xShmBarrier(file->real);
}

static int hearth_close(sqlite3_file *handle) {
    HearthFile *file = (HearthFile *)handle;
    int flushed = flush(file);
    pthread_mutex_lock(&registry_lock);
    if (file->database != NULL && file->database->wal == file) file->database->wal = NULL;
    if (file->database_name != NULL) {
        for (HearthFile **link = &open_databases; *link != NULL; link = &(*link)->next_database) {
            if (*link == file) {
                *link = file->next_database;
                break;
            }
        }
        if (file->wal != NULL) file->wal->database = NULL;
    }
    pthread_mutex_unlock(&registry_lock);
    sqlite3_free(file->buffer);
    file->buffer = NULL;
    int rc = file->real->pMethods->xClose(file->real);
    return flushed != SQLITE_OK ? flushed : rc;
}

// ---- Calls that pass straight through

static int hearth_lock(sqlite3_file *handle, int level) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xLock(real, level);
}

static int hearth_unlock(sqlite3_file *handle, int level) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xUnlock(real, level);
}

static int hearth_check_reserved_lock(sqlite3_file *handle, int *reserved) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xCheckReservedLock(real, reserved);
}

static int hearth_sector_size(sqlite3_file *handle) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xSectorSize(real);
}

static int hearth_device_characteristics(sqlite3_file *handle) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xDeviceCharacteristics(real);
}

static int hearth_shm_map(sqlite3_file *handle, int region, int size, int extend, void volatile **memory) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xShmMap(real, region, size, extend, memory);
}

static int hearth_shm_lock(sqlite3_file *handle, int offset, int count, int flags) {
    HearthFile *file = (HearthFile *)handle;
    // SQLite writes frames only while its connection holds the WAL's write lock, so that is the
    // only time the buffer holds any. Whatever is left when it lets go — the frames of a
    // transaction that spilled pages and rolled back, which no commit covers — is written first,
    // still under the lock, as SQLite would have written it: never later, over the frames of the
    // next writer's commit. A failure is not reported (an unlock cannot fail): such frames are
    // beyond every commit and are never read.
    if ((flags & SQLITE_SHM_UNLOCK) && file->wal != NULL) (void)flush(file->wal);
    return file->real->pMethods->xShmLock(file->real, offset, count, flags);
}

static int hearth_shm_unmap(sqlite3_file *handle, int delete_flag) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xShmUnmap(real, delete_flag);
}

static int hearth_fetch(sqlite3_file *handle, sqlite3_int64 offset, int amount, void **pages) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xFetch(real, offset, amount, pages);
}

static int hearth_unfetch(sqlite3_file *handle, sqlite3_int64 offset, void *page) {
    sqlite3_file *real = ((HearthFile *)handle)->real;
    return real->pMethods->xUnfetch(real, offset, page);
}

// ---- The VFS

static int hearth_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *handle, int flags, int *out_flags) {
    (void)vfs;
    HearthFile *file = (HearthFile *)handle;
    memset(file, 0, sizeof *file);
    file->real = (sqlite3_file *)&file[1];
    int rc = real_vfs->xOpen(real_vfs, name, file->real, flags, out_flags);
    // SQLite closes a file whose pMethods is set even when its open failed: pass that on.
    if (file->real->pMethods == NULL) {
        file->base.pMethods = NULL;
        return rc;
    }
    int version = file->real->pMethods->iVersion;
    file->base.pMethods = &hearth_methods[(version < 1 ? 1 : version > 3 ? 3 : version) - 1];
    if (rc != SQLITE_OK || name == NULL) return rc;
    if (flags & SQLITE_OPEN_MAIN_DB) {
        file->database_name = name;
        pthread_mutex_lock(&registry_lock);
        file->next_database = open_databases;
        open_databases = file;
        pthread_mutex_unlock(&registry_lock);
    } else if (flags & SQLITE_OPEN_WAL) {
        sqlite3_filename database_name = sqlite3_filename_database(name);
        pthread_mutex_lock(&registry_lock);
        for (HearthFile *database = open_databases; database != NULL; database = database->next_database) {
            // Only a database file with shared memory gets the `xShmBarrier` that writes the
            // buffer out before a commit is published; a WAL without one is not gathered.
            if (database->database_name == database_name && database->wal == NULL
                && database->real->pMethods->iVersion >= 2) {
                database->wal = file;
                file->database = database;
                break;
            }
        }
        pthread_mutex_unlock(&registry_lock);
    }
    return rc;
}

static int hearth_delete(sqlite3_vfs *vfs, const char *name, int sync_directory) {
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_directory);
}

static int hearth_access(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, result);
}

static int hearth_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}

static void *hearth_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void hearth_dl_error(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    real_vfs->xDlError(real_vfs, size, message);
}

static void (*hearth_dl_sym(sqlite3_vfs *vfs, void *library, const char *symbol))(void) {
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, library, symbol);
}

static void hearth_dl_close(sqlite3_vfs *vfs, void *library) {
    (void)vfs;
    real_vfs->xDlClose(real_vfs, library);
}

static int hearth_randomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, size, out);
}

static int hearth_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return real_vfs->xSleep(real_vfs, microseconds);
}

static int hearth_current_time(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, now);
}

static int hearth_get_last_error(sqlite3_vfs *vfs, int size, char *message) {
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, size, message);
}

static int hearth_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, now);
}

static int hearth_set_system_call(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr call) {
    (void)vfs;
    return real_vfs->xSetSystemCall(real_vfs, name, call);
}

static sqlite3_syscall_ptr hearth_get_system_call(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *hearth_next_system_call(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return real_vfs->xNextSystemCall(real_vfs, name);
}

static void register_once(void) {
    real_vfs = sqlite3_vfs_find(NULL);
    // Versions 1–3 are all SQLite has defined; a default VFS of another version is left alone.
    if (real_vfs == NULL || real_vfs->iVersion < 3) return;
    sqlite3_io_methods methods = {
        .iVersion = 3,
        .xClose = hearth_close,
        .xRead = hearth_read,
        .xWrite = hearth_write,
        .xTruncate = hearth_truncate,
        .xSync = hearth_sync,
        .xFileSize = hearth_file_size,
        .xLock = hearth_lock,
        .xUnlock = hearth_unlock,
        .xCheckReservedLock = hearth_check_reserved_lock,
        .xFileControl = hearth_file_control,
        .xSectorSize = hearth_sector_size,
        .xDeviceCharacteristics = hearth_device_characteristics,
        .xShmMap = hearth_shm_map,
        .xShmLock = hearth_shm_lock,
        .xShmBarrier = hearth_shm_barrier,
        .xShmUnmap = hearth_shm_unmap,
        .xFetch = hearth_fetch,
        .xUnfetch = hearth_unfetch,
    };
    // A file gets the table of its own file's version, so SQLite never calls what that lacks.
    for (int version = 1; version <= 3; version++) {
        hearth_methods[version - 1] = methods;
        hearth_methods[version - 1].iVersion = version;
    }
    hearth_vfs = (sqlite3_vfs){
        .iVersion = 3,
        .szOsFile = (int)sizeof(HearthFile) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = hearth_wal_vfs_name,
        .xOpen = hearth_open,
        .xDelete = hearth_delete,
        .xAccess = hearth_access,
        .xFullPathname = hearth_full_pathname,
        .xDlOpen = hearth_dl_open,
        .xDlError = hearth_dl_error,
        .xDlSym = hearth_dl_sym,
        .xDlClose = hearth_dl_close,
        .xRandomness = hearth_randomness,
        .xSleep = hearth_sleep,
        .xCurrentTime = hearth_current_time,
        .xGetLastError = hearth_get_last_error,
        .xCurrentTimeInt64 = hearth_current_time_int64,
        .xSetSystemCall = hearth_set_system_call,
        .xGetSystemCall = hearth_get_system_call,
        .xNextSystemCall = hearth_next_system_call,
    };
    register_result = sqlite3_vfs_register(&hearth_vfs, 1);
}

int hearth_wal_vfs_register(void) {
    pthread_once(&registered, register_once);
    return register_result;
}

const char *hearth_default_vfs_name(void) {
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    return vfs == NULL ? "" : vfs->zName;
}
