#include "hearth_re2.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct hearth_re2 {
    re2::RE2 regex;
    hearth_re2(const re2::StringPiece &pattern, const re2::RE2::Options &options) : regex(pattern, options) {}
};

struct hearth_re2_set {
    re2::RE2::Set set;
    explicit hearth_re2_set(const re2::RE2::Options &options) : set(options, re2::RE2::UNANCHORED) {}
};

namespace {

re2::RE2::Options options(int64_t max_mem) {
    re2::RE2::Options options;
    options.set_encoding(re2::RE2::Options::EncodingUTF8);
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    options.set_never_capture(true);
    options.set_max_mem(max_mem);
    return options;
}

void copy_error(const std::string &text, char *error, size_t error_size) {
    if (error == nullptr || error_size == 0) return;
    size_t length = std::min(text.size(), error_size - 1);
    std::memcpy(error, text.data(), length);
    error[length] = '\0';
}

}  // namespace

extern "C" hearth_re2 *hearth_re2_new(
    const char *pattern, size_t length, int64_t max_mem, char *error, size_t error_size) {
    std::unique_ptr<hearth_re2> regex(
        new (std::nothrow) hearth_re2(re2::StringPiece(pattern, length), options(max_mem)));
    if (!regex) {
        copy_error("out of memory", error, error_size);
        return nullptr;
    }
    if (!regex->regex.ok()) {
        copy_error(regex->regex.error_code() == re2::RE2::ErrorPatternTooLarge ? "pattern too large"
                                                                                 : regex->regex.error(),
                   error, error_size);
        return nullptr;
    }
    return regex.release();
}

extern "C" void hearth_re2_free(hearth_re2 *regex) { delete regex; }

extern "C" int hearth_re2_program_size(const hearth_re2 *regex) { return regex->regex.ProgramSize(); }

extern "C" int hearth_re2_find(
    const hearth_re2 *regex, const char *text, size_t length, size_t from, size_t *start, size_t *end) {
    if (from > length) return 0;
    re2::StringPiece input(text, length);
    re2::StringPiece match;
    if (!regex->regex.Match(input, from, length, re2::RE2::UNANCHORED, &match, 1)) return 0;
    *start = static_cast<size_t>(match.data() - text);
    *end = *start + match.size();
    return 1;
}

extern "C" hearth_re2_set *hearth_re2_set_new(
    const char *const *patterns, const size_t *lengths, int count, int64_t max_mem, int *failed, char *error,
    size_t error_size) {
    *failed = -1;
    std::unique_ptr<hearth_re2_set> set(new (std::nothrow) hearth_re2_set(options(max_mem)));
    if (!set) {
        copy_error("out of memory", error, error_size);
        return nullptr;
    }
    for (int index = 0; index < count; index++) {
        std::string reason;
        if (set->set.Add(re2::StringPiece(patterns[index], lengths[index]), &reason) < 0) {
            *failed = index;
            copy_error(reason, error, error_size);
            return nullptr;
        }
    }
    if (!set->set.Compile()) {
        copy_error("the patterns together are over the memory limit", error, error_size);
        return nullptr;
    }
    return set.release();
}

extern "C" void hearth_re2_set_free(hearth_re2_set *set) { delete set; }

extern "C" int hearth_re2_set_match(
    const hearth_re2_set *set, const char *text, size_t length, int *matches, int capacity) {
    std::vector<int> found;
    re2::RE2::Set::ErrorInfo info;
    if (!set->set.Match(re2::StringPiece(text, length), &found, &info)) {
        return info.kind == re2::RE2::Set::kNoError ? 0 : -1;
    }
    std::sort(found.begin(), found.end());
    int written = 0;
    for (int index : found) {
        if (written == capacity) break;
        matches[written++] = index;
    }
    return written;
}
