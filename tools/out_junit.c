// SPDX-License-Identifier: MIT
// JUnit XML for test reporters, valid against the Apache Ant JUnit schema:
// one <testsuite> per process (named from its executable and pid), one
// failing <testcase> per error (the schema allows one <failure> per
// testcase). Every string is escaped and made valid XML 1.0 text.
#include "report_out.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

// Appends s as XML character data (attr: as an attribute value in double
// quotes). Characters XML 1.0 cannot hold (most controls, U+FFFE/U+FFFF)
// and invalid UTF-8 become U+FFFD.
static void xml_escape(const char *s, bool attr, cli_str *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = attr ? "&quot;" : "\"";
            break;
        case '\n':
            rep = attr ? "&#10;" : "\n";
            break;
        case '\t':
            rep = attr ? "&#9;" : "\t";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            break;
        }
        if (rep != NULL) {
            cli_str_add(out, rep);
            i++;
            continue;
        }
        size_t len = c < 0x20 ? 0 : cli_utf8_seq_len(u + i, n - i);
        // U+FFFE and U+FFFF are EF BF BE / EF BF BF.
        if (len == 3 && c == 0xef && u[i + 1] == 0xbf && u[i + 2] >= 0xbe)
            len = 0;
        if (len == 0) {
            cli_str_add(out, "\xef\xbf\xbd");
            i++;
        } else {
            cli_str_addn(out, s + i, len);
            i += len;
        }
    }
}

static void attr(cli_str *out, const char *name, const char *value) {
    cli_str_addf(out, " %s=\"", name);
    xml_escape(value, true, out);
    cli_str_add(out, "\"");
}

// The schema's timestamp has no fraction and no zone: "2026-11-26T05:40:00".
static void timestamp(const cli_process *p, char *buf, size_t cap) {
    const char *t = p->records[0]->time;
    bool ok = t != NULL && strlen(t) >= 19;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; ok && i < 19; i++)
        ok = shape[i] == 'd' ? t[i] >= '0' && t[i] <= '9' : t[i] == shape[i];
    if (ok) {
        snprintf(buf, cap, "%.19s", t);
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
}

static void property(cli_str *out, const char *name, const char *value) {
    cli_str_add(out, "      <property");
    attr(out, "name", name);
    attr(out, "value", value);
    cli_str_add(out, "/>\n");
}

static void testcase(const cli_record *r, size_t index, const char *suite, cli_str *out) {
    cli_str name = {0}, msg = {0}, body = {0};
    cli_str_addf(&name, "%s #%zu", r->kind, index + 1);
    bool from_free;
    const cli_frame *f = cli_primary_frame(r, &from_free);
    if (f != NULL) {
        cli_str_add(&name, " at ");
        cli_frame_short(f, &name);
    }
    cli_record_headline_text(r, NULL, false, &msg); // the name says where
    cli_record_text(r, &body);                      // with the host, the Windows view and the HINT

    cli_str_add(out, "    <testcase");
    attr(out, "name", name.data);
    attr(out, "classname", suite);
    attr(out, "time", "0");
    cli_str_add(out, ">\n      <failure");
    attr(out, "message", msg.data);
    attr(out, "type", r->kind);
    cli_str_add(out, ">");
    xml_escape(body.data, false, out);
    cli_str_add(out, "</failure>\n    </testcase>\n");
    cli_str_free(&name);
    cli_str_free(&msg);
    cli_str_free(&body);
}

void cli_write_junit(const cli_logs *logs, const cli_report_opts *o) {
    size_t np;
    cli_process *procs = cli_processes(logs, &np);
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        strcpy(host, "localhost");

    cli_str s = {0};
    cli_str_add(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (size_t p = 0; p < np; p++) {
        const cli_record *first = procs[p].records[0];
        cli_str suite = {0};
        cli_process_name(first, &suite);
        char ts[32];
        timestamp(&procs[p], ts, sizeof ts);
        char count[32], id[32];
        snprintf(count, sizeof count, "%zu", procs[p].n);
        snprintf(id, sizeof id, "%zu", p);

        cli_str_add(&s, "  <testsuite");
        attr(&s, "name", suite.data);
        attr(&s, "package", "crossfree");
        attr(&s, "id", id);
        attr(&s, "timestamp", ts);
        attr(&s, "hostname", host);
        attr(&s, "tests", count);
        attr(&s, "failures", count);
        attr(&s, "errors", "0");
        attr(&s, "skipped", "0");
        attr(&s, "time", "0");
        cli_str_add(&s, ">\n    <properties>\n");
        if (first->executable != NULL)
            property(&s, "executable", first->executable);
        if (first->pid >= 0) {
            char pid[32];
            snprintf(pid, sizeof pid, "%lld", first->pid);
            property(&s, "pid", pid);
        }
        if (first->argc > 0) {
            cli_str cmd = {0};
            for (size_t a = 0; a < first->argc; a++)
                cli_str_addf(&cmd, "%s%s", a == 0 ? "" : " ", first->argv[a]);
            property(&s, "command_line", cmd.data);
            cli_str_free(&cmd);
        }
        property(&s, "log", first->log);
        cli_str_add(&s, "    </properties>\n");
        for (size_t i = 0; i < procs[p].n; i++)
            testcase(procs[p].records[i], i, suite.data, &s);
        cli_str_add(&s, "    <system-out></system-out>\n    <system-err></system-err>\n");
        cli_str_add(&s, "  </testsuite>\n");
        cli_str_free(&suite);
    }
    cli_str_add(&s, "</testsuites>\n");
    fwrite(s.data, 1, s.len, o->out);
    cli_str_free(&s);
    cli_processes_free(procs, np);
}
