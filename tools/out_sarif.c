// SPDX-License-Identifier: MIT
// SARIF 2.1.0 for code scanning: one run, one rule per kind, one result per
// error whose first location is the first frame in user code, and the
// error's stacks as SARIF stacks. Paths below --source-root become
// relative URIs against the SRCROOT base; others become file:// URIs.
// The document is built as a jansson tree, members in the order SARIF
// viewers show them, and dumped with two-space indentation.
#include "report_out.h"

#include "support/fmt.h"

#include <stdlib.h>
#include <string.h>

// Percent-encodes a path for a URI: unreserved characters and '/' stay.
static void uri_path(const char *path, cli_str *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        unsigned c = *p;
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
        if (keep) {
            char ch = (char)c;
            cli_str_addn(out, &ch, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            cli_str_addn(out, esc, 3);
        }
    }
}

// Sets o[key] to v, taking the reference.
static void set(json_t *o, const char *key, json_t *v) { json_object_set_new(o, key, v); }

// {"text": s}: SARIF's message objects.
static json_t *message(const char *s) { return json_pack("{so}", "text", cli_json_string(s)); }

// {"uri": ..., "uriBaseId": ...} for a file or module path.
static json_t *artifact_location(const cli_report_opts *o, const char *path) {
    cli_str uri = {0};
    const char *rel = cli_relative_to_root(o, path);
    if (rel != NULL) {
        uri_path(rel, &uri);
    } else {
        if (path[0] == '/')
            cli_str_add(&uri, "file://");
        uri_path(path, &uri);
    }
    json_t *loc = json_pack("{so}", "uri", cli_json_string(uri.data));
    if (rel != NULL)
        set(loc, "uriBaseId", json_string("SRCROOT"));
    cli_str_free(&uri);
    return loc;
}

// A location for a frame: the source line when known, else the module
// (GitHub rejects results without a physical location), the function as
// a logical location, and "function (module+offset)" as its message, with
// " [host boundary: HOST]" where an FFI host entered native code (host not
// NULL).
static json_t *frame_location(const cli_report_opts *o, const cli_frame *f, bool need_physical,
                              const char *host) {
    json_t *loc = json_object();
    const char *path = f->file != NULL ? f->file : need_physical ? f->module : NULL;
    if (path != NULL) {
        json_t *physical = json_pack("{so}", "artifactLocation", artifact_location(o, path));
        if (f->file != NULL && f->line > 0)
            set(physical, "region", json_pack("{sI}", "startLine", (json_int_t)f->line));
        set(loc, "physicalLocation", physical);
    }
    if (f->function != NULL)
        set(loc, "logicalLocations",
            json_pack("[{soss}]", "fullyQualifiedName", cli_json_string(f->function), "kind",
                      "function"));
    cli_str msg = {0};
    cli_str_add(&msg, f->function != NULL ? f->function : "??");
    if (f->module != NULL)
        cli_str_addf(&msg, " (%s+%s)", cf_path_base(f->module),
                     f->offset != NULL ? f->offset : "?");
    if (f->inlined)
        cli_str_add(&msg, " [inlined]");
    if (host != NULL)
        cli_str_addf(&msg, " [host boundary: %s]", host);
    set(loc, "message", message(msg.data));
    cli_str_free(&msg);
    return loc;
}

// Appends the stack to `stacks` when the record has it; `host` tags frame
// `boundary` (host NULL: none).
static void stack(json_t *stacks, const cli_report_opts *o, const cli_stack *s, const char *what,
                  const cli_side *side, const char *host, long long boundary) {
    if (!s->present)
        return;
    cli_str msg = {0};
    cli_str_add(&msg, what);
    if (side->function != NULL)
        cli_str_addf(&msg, " (%s)", side->function);
    json_t *frames = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const cli_frame *f = &s->frames[i];
        const char *tag = (long long)i == boundary ? host : NULL;
        json_t *frame = json_pack("{so}", "location", frame_location(o, f, false, tag));
        if (f->module != NULL)
            set(frame, "module", cli_json_string(f->module));
        if (side->thread >= 0)
            set(frame, "threadId", json_integer(side->thread));
        json_array_append_new(frames, frame);
    }
    json_array_append_new(stacks,
                          json_pack("{soso}", "message", message(msg.data), "frames", frames));
    cli_str_free(&msg);
}

static size_t rule_index(const char *kind, const char **extra, size_t n_extra) {
    for (size_t i = 0; i < cli_n_known_kinds; i++) {
        if (strcmp(kind, cli_known_kinds[i].id) == 0)
            return i;
    }
    for (size_t i = 0; i < n_extra; i++) {
        if (strcmp(kind, extra[i]) == 0)
            return cli_n_known_kinds + i;
    }
    return (size_t)-1;
}

static json_t *rule(const char *id, const cli_kind_info *k) {
    return json_pack("{sosssososos{ss}s{s[ss]}}", "id", cli_json_string(id), "name", k->name,
                     "shortDescription", message(k->short_description), "fullDescription",
                     message(k->full_description), "help", message(k->help), "defaultConfiguration",
                     "level", "error", "properties", "tags", "memory", "reliability");
}

// The fix a HINT describes. SARIF wants every fix to change an artifact:
// this one names the reported location with an empty region and inserts
// nothing, so applying it changes nothing; the description is the advice.
static json_t *hint_fix(const cli_report_opts *o, const cli_record *r, const cli_frame *f) {
    const char *path = f->file != NULL ? f->file : f->module;
    json_t *region;
    if (f->file != NULL && f->line > 0)
        region = json_pack("{sIsisIsi}", "startLine", (json_int_t)f->line, "startColumn", 1,
                           "endLine", (json_int_t)f->line, "endColumn", 1);
    else
        region = json_pack("{sisi}", "byteOffset", 0, "byteLength", 0);
    json_t *change = json_pack("{sos[{so}]}", "artifactLocation", artifact_location(o, path),
                               "replacements", "deletedRegion", region);
    return json_pack("[{soso}]", "description", message(r->hint), "artifactChanges",
                     json_pack("[o]", change));
}

// The first line says what and where; the next ones what the library's
// text report adds: the FFI sides, the Windows view, the HINT.
static void result_message(const cli_record *r, const cli_frame *f, bool from_free, cli_str *msg) {
    cli_record_headline_text(r, f, from_free, msg);
    if (r->size >= 0 && r->address != NULL)
        cli_str_addf(msg, " (%lld-byte block at %s)", r->size, r->address);
    cli_str_add(msg, " in ");
    cli_process_name(r, msg);
    if (r->sides != NULL)
        cli_str_addf(msg, "\n%s", r->sides);
    if (r->windows_view != NULL && !r->windows_only) // else the first line says it
        cli_str_addf(msg, "\n%s", r->windows_view);
    if (r->hint != NULL)
        cli_str_addf(msg, "\nHINT: %s", r->hint);
}

static json_t *result(const cli_report_opts *o, const cli_record *r, size_t rule_ix) {
    // locations[0]: the bad call in user code (cli_primary_frame); failing
    // that, the first frame of the bad call's stack (its module), failing
    // that the executable.
    bool from_free;
    const cli_frame *f = cli_primary_frame(r, &from_free);
    cli_str msg = {0};
    result_message(r, f, from_free, &msg);
    json_t *res = json_pack("{sosIssso}", "ruleId", cli_json_string(r->kind), "ruleIndex",
                            (json_int_t)rule_ix, "level", "error", "message", message(msg.data));
    cli_str_free(&msg);

    cli_frame fallback = {0};
    if (f == NULL && r->dealloc_stack.n > 0 && r->dealloc_stack.frames[0].module != NULL) {
        f = &r->dealloc_stack.frames[0];
    } else if (f == NULL && r->executable != NULL) {
        fallback.module = r->executable;
        f = &fallback;
    }
    json_t *locations = json_array();
    if (f != NULL)
        json_array_append_new(locations, frame_location(o, f, true, NULL));
    set(res, "locations", locations);

    json_t *stacks = json_array();
    cli_side freed = r->freed_by;
    if (freed.thread < 0)
        freed.thread = r->thread;
    stack(stacks, o, &r->dealloc_stack, "deallocation", &freed, r->freed_from, r->freed_from_frame);
    stack(stacks, o, &r->first_free_stack, "first deallocation", &r->first_free, NULL, -1);
    stack(stacks, o, &r->alloc_stack, "allocation", &r->allocated_by, NULL, -1);
    set(res, "stacks", stacks);
    if (r->hint != NULL && f != NULL)
        set(res, "fixes", hint_fix(o, r, f));

    json_t *props = json_object();
    if (r->pid >= 0)
        set(props, "pid", json_integer(r->pid));
    if (r->executable != NULL)
        set(props, "executable", cli_json_string(r->executable));
    if (r->argc > 0) {
        json_t *argv = json_array();
        for (size_t a = 0; a < r->argc; a++)
            json_array_append_new(argv, cli_json_string(r->argv[a]));
        set(props, "commandLine", argv);
    }
    if (r->address != NULL)
        set(props, "address", cli_json_string(r->address));
    if (r->size >= 0)
        set(props, "size", json_integer(r->size));
    if (r->time != NULL)
        set(props, "time", cli_json_string(r->time));
    set(props, "log", cli_json_string(r->log));
    set(res, "properties", props);
    return res;
}

void cli_write_sarif(const cli_logs *logs, const cli_report_opts *o) {
    // Kinds this version does not know get rules of their own after the
    // known ones, so every result's ruleIndex points at its rule.
    const char **extra = cli_xmalloc((logs->n + 1) * sizeof *extra);
    size_t n_extra = 0;
    for (size_t i = 0; i < logs->n; i++) {
        if (rule_index(logs->records[i].kind, extra, n_extra) == (size_t)-1)
            extra[n_extra++] = logs->records[i].kind;
    }

    json_t *rules = json_array();
    for (size_t i = 0; i < cli_n_known_kinds; i++)
        json_array_append_new(rules, rule(cli_known_kinds[i].id, &cli_known_kinds[i]));
    for (size_t i = 0; i < n_extra; i++)
        json_array_append_new(rules, rule(extra[i], cli_kind_info_of(extra[i])));
    json_t *run = json_pack("{s{s{ssssso}}}", "tool", "driver", "name", "crossfree", "version",
                            CF_VERSION, "rules", rules);

    if (o->source_root != NULL) {
        cli_str uri = {0};
        cli_str_add(&uri, "file://");
        // The resolved path: `--source-root .` must not become "..././".
        uri_path(o->source_root_real != NULL ? o->source_root_real : o->source_root, &uri);
        cli_str_add(&uri, "/");
        set(run, "originalUriBaseIds",
            json_pack("{s{so}}", "SRCROOT", "uri", cli_json_string(uri.data)));
        cli_str_free(&uri);
    }

    json_t *results = json_array();
    for (size_t i = 0; i < logs->n; i++) {
        const cli_record *r = &logs->records[i];
        json_array_append_new(results, result(o, r, rule_index(r->kind, extra, n_extra)));
    }
    set(run, "results", results);

    json_t *doc =
        json_pack("{sssss[o]}", "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
                  "version", "2.1.0", "runs", run);
    json_dumpf(doc, o->out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', o->out);
    json_decref(doc);
    free(extra);
}
