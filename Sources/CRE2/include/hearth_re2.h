// A small C interface to RE2 (Debian's libre2), the linear-time regular expression engine that
// matches moderation rules. Swift cannot call C++ classes directly without C++ interop for the
// whole module graph, so this header exposes only what Hearth uses: compile one pattern, find
// its next match, compile a set of patterns, and ask which of them match a text.
//
// Every pattern is UTF-8 and case-insensitive unless it says `(?-i)`. Offsets are in bytes.
#ifndef HEARTH_RE2_H
#define HEARTH_RE2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hearth_re2 hearth_re2;
typedef struct hearth_re2_set hearth_re2_set;

/// Compiles one pattern, using at most `max_mem` bytes for its program and its DFA cache.
/// Returns NULL on failure and writes RE2's reason (NUL-terminated) into `error`.
hearth_re2 *hearth_re2_new(const char *pattern, size_t length, int64_t max_mem, char *error, size_t error_size);

void hearth_re2_free(hearth_re2 *regex);

/// The size of the compiled program, in RE2's instructions.
int hearth_re2_program_size(const hearth_re2 *regex);

/// Finds the leftmost match in `text` at or after byte `from`. Returns 1 and the match's byte
/// range in `start` and `end`, or 0 when there is none.
int hearth_re2_find(
    const hearth_re2 *regex, const char *text, size_t length, size_t from, size_t *start, size_t *end);

/// Compiles `count` patterns into one set matched in a single pass, using at most `max_mem` bytes.
/// Returns NULL on failure: `failed` is the index of the pattern that does not compile (its
/// reason in `error`), or -1 when the set as a whole is over the memory limit.
hearth_re2_set *hearth_re2_set_new(
    const char *const *patterns, const size_t *lengths, int count, int64_t max_mem, int *failed, char *error,
    size_t error_size);

void hearth_re2_set_free(hearth_re2_set *set);

/// Writes the indices of the patterns that match anywhere in `text` (at most `capacity` of them,
/// in increasing order) into `matches` and returns how many matched; -1 when the set's DFA ran
/// out of memory on this text and the caller must match the patterns one by one.
int hearth_re2_set_match(const hearth_re2_set *set, const char *text, size_t length, int *matches, int capacity);

#ifdef __cplusplus
}
#endif

#endif
