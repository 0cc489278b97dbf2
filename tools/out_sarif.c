// SPDX-License-Identifier: MIT
// SARIF 2.1.0 for code scanning: one run, one rule per kind, one result per
// error whose first location is the first frame in user code, and the
// error's stacks as SARIF stacks. Paths below --source-root become
// relative URIs against the SRCROOT base; others become file:// URIs.
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

// {"uri": ..., "uriBaseId": ...} for a file or module path.
static void artifact_location(cli_jw *w, const cli_report_opts *o, const char *path) {
    cli_str uri = {0};
    const char *rel = cli_relative_to_root(o, path);
    if (rel != NULL) {
        uri_path(rel, &uri);
    } else {
        if (path[0] == '/')
            cli_str_add(&uri, "file://");
        uri_path(path, &uri);
    }
    cli_jw_key(w, "artifactLocation");
    cli_jw_begin_object(w);
    cli_jw_key(w, "uri");
    cli_jw_string(w, uri.data);
    if (rel != NULL) {
        cli_jw_key(w, "uriBaseId");
        cli_jw_string(w, "SRCROOT");
    }
    cli_jw_end_object(w);
    cli_str_free(&uri);
}

// A location for a frame: the source line when known, else the module
// (GitHub rejects results without a physical location), the function as
// a logical location, and "function (module+offset)" as its message.
static void frame_location(cli_jw *w, const cli_report_opts *o, const cli_frame *f,
                           bool need_physical) {
    cli_jw_begin_object(w);
    const char *path = f->file != NULL ? f->file : need_physical ? f->module : NULL;
    if (path != NULL) {
        cli_jw_key(w, "physicalLocation");
        cli_jw_begin_object(w);
        artifact_location(w, o, path);
        if (f->file != NULL && f->line > 0) {
            cli_jw_key(w, "region");
            cli_jw_begin_object(w);
            cli_jw_key(w, "startLine");
            cli_jw_int(w, f->line);
            cli_jw_end_object(w);
        }
        cli_jw_end_object(w);
    }
    if (f->function != NULL) {
        cli_jw_key(w, "logicalLocations");
        cli_jw_begin_array(w);
        cli_jw_begin_object(w);
        cli_jw_key(w, "fullyQualifiedName");
        cli_jw_string(w, f->function);
        cli_jw_key(w, "kind");
        cli_jw_string(w, "function");
        cli_jw_end_object(w);
        cli_jw_end_array(w);
    }
    cli_str msg = {0};
    cli_str_add(&msg, f->function != NULL ? f->function : "??");
    if (f->module != NULL)
        cli_str_addf(&msg, " (%s+%s)", cf_path_base(f->module),
                     f->offset != NULL ? f->offset : "?");
    cli_jw_key(w, "message");
    cli_jw_begin_object(w);
    cli_jw_key(w, "text");
    cli_jw_string(w, msg.data);
    cli_jw_end_object(w);
    cli_str_free(&msg);
    cli_jw_end_object(w);
}

static void stack(cli_jw *w, const cli_report_opts *o, const cli_stack *s, const char *what,
                  const cli_side *side) {
    if (!s->present)
        return;
    cli_str msg = {0};
    cli_str_add(&msg, what);
    if (side->function != NULL)
        cli_str_addf(&msg, " (%s)", side->function);
    cli_jw_begin_object(w);
    cli_jw_key(w, "message");
    cli_jw_begin_object(w);
    cli_jw_key(w, "text");
    cli_jw_string(w, msg.data);
    cli_jw_end_object(w);
    cli_jw_key(w, "frames");
    cli_jw_begin_array(w);
    for (size_t i = 0; i < s->n; i++) {
        const cli_frame *f = &s->frames[i];
        cli_jw_begin_object(w);
        cli_jw_key(w, "location");
        frame_location(w, o, f, false);
        if (f->module != NULL) {
            cli_jw_key(w, "module");
            cli_jw_string(w, f->module);
        }
        if (side->thread >= 0) {
            cli_jw_key(w, "threadId");
            cli_jw_int(w, side->thread);
        }
        cli_jw_end_object(w);
    }
    cli_jw_end_array(w);
    cli_jw_end_object(w);
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

static void rule(cli_jw *w, const char *id, const cli_kind_info *k) {
    cli_jw_begin_object(w);
    cli_jw_key(w, "id");
    cli_jw_string(w, id);
    cli_jw_key(w, "name");
    cli_jw_string(w, k->name);
    static const char *const keys[] = {"shortDescription", "fullDescription", "help"};
    const char *texts[] = {k->short_description, k->full_description, k->help};
    for (size_t i = 0; i < 3; i++) {
        cli_jw_key(w, keys[i]);
        cli_jw_begin_object(w);
        cli_jw_key(w, "text");
        cli_jw_string(w, texts[i]);
        cli_jw_end_object(w);
    }
    cli_jw_key(w, "defaultConfiguration");
    cli_jw_begin_object(w);
    cli_jw_key(w, "level");
    cli_jw_string(w, "error");
    cli_jw_end_object(w);
    cli_jw_key(w, "properties");
    cli_jw_begin_object(w);
    cli_jw_key(w, "tags");
    cli_jw_begin_array(w);
    cli_jw_string(w, "memory");
    cli_jw_string(w, "reliability");
    cli_jw_end_array(w);
    cli_jw_end_object(w);
    cli_jw_end_object(w);
}

static void result(cli_jw *w, const cli_report_opts *o, const cli_record *r, size_t rule_ix) {
    cli_jw_begin_object(w);
    cli_jw_key(w, "ruleId");
    cli_jw_string(w, r->kind);
    cli_jw_key(w, "ruleIndex");
    cli_jw_int(w, (long long)rule_ix);
    cli_jw_key(w, "level");
    cli_jw_string(w, "error");

    cli_str msg = {0};
    cli_str_addf(&msg, "%s: %s", r->kind, r->message);
    if (r->size >= 0 && r->address != NULL)
        cli_str_addf(&msg, " (%lld-byte block at %s)", r->size, r->address);
    cli_str_add(&msg, " in ");
    cli_process_name(r, &msg);
    cli_jw_key(w, "message");
    cli_jw_begin_object(w);
    cli_jw_key(w, "text");
    cli_jw_string(w, msg.data);
    cli_jw_end_object(w);
    cli_str_free(&msg);

    // locations[0]: the first user frame; failing that, the first frame of
    // the bad call's stack (its module), failing that the executable.
    const cli_frame *f = cli_primary_frame(r);
    cli_frame fallback = {0};
    if (f == NULL && r->dealloc_stack.n > 0 && r->dealloc_stack.frames[0].module != NULL) {
        f = &r->dealloc_stack.frames[0];
    } else if (f == NULL && r->executable != NULL) {
        fallback.module = r->executable;
        f = &fallback;
    }
    cli_jw_key(w, "locations");
    cli_jw_begin_array(w);
    if (f != NULL)
        frame_location(w, o, f, true);
    cli_jw_end_array(w);

    cli_jw_key(w, "stacks");
    cli_jw_begin_array(w);
    cli_side freed = r->freed_by;
    if (freed.thread < 0)
        freed.thread = r->thread;
    stack(w, o, &r->dealloc_stack, "deallocation", &freed);
    stack(w, o, &r->first_free_stack, "first deallocation", &r->first_free);
    stack(w, o, &r->alloc_stack, "allocation", &r->allocated_by);
    cli_jw_end_array(w);

    cli_jw_key(w, "properties");
    cli_jw_begin_object(w);
    if (r->pid >= 0) {
        cli_jw_key(w, "pid");
        cli_jw_int(w, r->pid);
    }
    if (r->executable != NULL) {
        cli_jw_key(w, "executable");
        cli_jw_string(w, r->executable);
    }
    if (r->argc > 0) {
        cli_jw_key(w, "commandLine");
        cli_jw_begin_array(w);
        for (size_t a = 0; a < r->argc; a++)
            cli_jw_string(w, r->argv[a]);
        cli_jw_end_array(w);
    }
    if (r->address != NULL) {
        cli_jw_key(w, "address");
        cli_jw_string(w, r->address);
    }
    if (r->size >= 0) {
        cli_jw_key(w, "size");
        cli_jw_int(w, r->size);
    }
    if (r->time != NULL) {
        cli_jw_key(w, "time");
        cli_jw_string(w, r->time);
    }
    cli_jw_key(w, "log");
    cli_jw_string(w, r->log);
    cli_jw_end_object(w);
    cli_jw_end_object(w);
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

    cli_jw w;
    cli_jw_init(&w, o->out, 2);
    cli_jw_begin_object(&w);
    cli_jw_key(&w, "$schema");
    cli_jw_string(&w, "https://json.schemastore.org/sarif-2.1.0.json");
    cli_jw_key(&w, "version");
    cli_jw_string(&w, "2.1.0");
    cli_jw_key(&w, "runs");
    cli_jw_begin_array(&w);
    cli_jw_begin_object(&w);

    cli_jw_key(&w, "tool");
    cli_jw_begin_object(&w);
    cli_jw_key(&w, "driver");
    cli_jw_begin_object(&w);
    cli_jw_key(&w, "name");
    cli_jw_string(&w, "crossfree");
    cli_jw_key(&w, "version");
    cli_jw_string(&w, CF_VERSION);
    cli_jw_key(&w, "rules");
    cli_jw_begin_array(&w);
    for (size_t i = 0; i < cli_n_known_kinds; i++)
        rule(&w, cli_known_kinds[i].id, &cli_known_kinds[i]);
    for (size_t i = 0; i < n_extra; i++)
        rule(&w, extra[i], cli_kind_info_of(extra[i]));
    cli_jw_end_array(&w);
    cli_jw_end_object(&w);
    cli_jw_end_object(&w);

    if (o->source_root != NULL) {
        cli_str uri = {0};
        cli_str_add(&uri, "file://");
        uri_path(o->source_root, &uri);
        cli_str_add(&uri, "/");
        cli_jw_key(&w, "originalUriBaseIds");
        cli_jw_begin_object(&w);
        cli_jw_key(&w, "SRCROOT");
        cli_jw_begin_object(&w);
        cli_jw_key(&w, "uri");
        cli_jw_string(&w, uri.data);
        cli_jw_end_object(&w);
        cli_jw_end_object(&w);
        cli_str_free(&uri);
    }

    cli_jw_key(&w, "results");
    cli_jw_begin_array(&w);
    for (size_t i = 0; i < logs->n; i++) {
        const cli_record *r = &logs->records[i];
        result(&w, o, r, rule_index(r->kind, extra, n_extra));
    }
    cli_jw_end_array(&w);
    cli_jw_end_object(&w);
    cli_jw_end_array(&w);
    cli_jw_end_object(&w);
    free(extra);
}
