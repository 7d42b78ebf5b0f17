/* XML (streaming, xmlTextReader) and HTML (libxml2's HTML parser) into paragraphs.
 *
 * Safety: no network (XML_PARSE_NONET), no DTD loading, and an external-entity loader that refuses
 * every load, so XXE is an error; internal entities are expanded by libxml2, whose amplification
 * check refuses billion-laughs-style expansion, and the builder's output limit (10 x input + 16 MiB)
 * backs it up. The reader keeps only the current node, so memory does not grow with the file.
 *
 * Structure: the root element picks a schema (JATS, TEI, DocBook, XHTML, generic); each schema
 * classifies elements as block (paragraph break), inline, skipped (subtree dropped), hidden (text
 * dropped, descendants may be shown) or shown. Elements no table names are classified by content:
 * an element that starts after text in its parent is inline (mixed content), else a block. */
#ifdef LONGJAM_HAVE_LIBXML2
#include "ingest/internal.h"

#include "common/error.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlreader.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    F_BLOCK = 1, F_INLINE = 2, F_SKIP = 4, F_HIDE = 8, F_SHOW = 16, F_CELL = 32, F_SPACED = 64,
    F_BR = 128,      /* empty element that breaks the paragraph (HTML br, hr) */
    F_SPACE = 256,   /* empty element read as a space (TEI lb, cb) */
    F_PRE = 512,     /* preformatted: its lines and spaces are kept (code listings) */
};

typedef enum { S_GENERIC, S_JATS, S_TEI, S_DOCBOOK, S_XHTML } schema;
static const char *const schema_names[] = {"generic", "jats", "tei", "docbook", "xhtml"};

typedef struct rule { const char *name; unsigned flags; } rule;

/* ---- per-schema element tables ------------------------------------------------------------ */

static const rule jats_rules[] = {
    {"front", F_HIDE | F_BLOCK}, {"front-stub", F_HIDE | F_BLOCK}, {"article-title", F_SHOW | F_BLOCK}, {"subtitle", F_SHOW | F_BLOCK},
    {"abstract", F_SHOW | F_BLOCK}, {"trans-abstract", F_SHOW | F_BLOCK},
    {"alt-title", F_SKIP}, {"object-id", F_SKIP}, {"graphic", F_SKIP}, {"inline-graphic", F_SKIP},
    {"media", F_SKIP}, {"tex-math", F_SKIP}, {"processing-meta", F_SKIP}, {"custom-meta-group", F_SKIP},
    {"sec", F_BLOCK}, {"title", F_BLOCK}, {"p", F_BLOCK}, {"list", F_BLOCK}, {"list-item", F_BLOCK},
    {"def-list", F_BLOCK}, {"def-item", F_BLOCK}, {"term", F_BLOCK}, {"def", F_BLOCK},
    {"disp-quote", F_BLOCK}, {"speech", F_BLOCK}, {"statement", F_BLOCK}, {"boxed-text", F_BLOCK},
    {"fig", F_BLOCK}, {"caption", F_BLOCK}, {"table-wrap", F_BLOCK}, {"table-wrap-foot", F_BLOCK},
    {"tr", F_BLOCK}, {"td", F_CELL}, {"th", F_CELL}, {"ref-list", F_BLOCK}, {"ref", F_BLOCK | F_SPACED},
    {"ack", F_BLOCK}, {"app", F_BLOCK}, {"fn", F_BLOCK}, {"verse-line", F_BLOCK}, {"preformat", F_BLOCK | F_PRE},
    {"code", F_BLOCK | F_PRE}, {"disp-formula", F_BLOCK}, {"notes", F_BLOCK}, {"glossary", F_BLOCK},
    {"sub-article", F_BLOCK}, {"body", F_BLOCK}, {"back", F_BLOCK},
    {"element-citation", F_INLINE | F_SPACED}, {"mixed-citation", F_INLINE}, {"person-group", F_INLINE | F_SPACED},
    {"name", F_INLINE | F_SPACED}, {"string-name", F_INLINE | F_SPACED}, {"label", F_INLINE},
    {"xref", F_INLINE}, {"italic", F_INLINE}, {"bold", F_INLINE}, {"sup", F_INLINE}, {"sub", F_INLINE},
    {"ext-link", F_INLINE}, {"sc", F_INLINE}, {"monospace", F_INLINE}, {"underline", F_INLINE},
    {NULL, 0}};

static const rule tei_rules[] = {
    {"teiHeader", F_HIDE | F_BLOCK}, {"titleStmt", F_SHOW | F_BLOCK}, {"respStmt", F_SKIP}, {"funder", F_SKIP},
    {"sponsor", F_SKIP}, {"principal", F_SKIP}, {"meeting", F_SKIP}, {"fw", F_SKIP}, {"facsimile", F_SKIP},
    {"lb", F_SPACE}, {"cb", F_SPACE}, {"pb", F_INLINE},
    {"head", F_BLOCK}, {"p", F_BLOCK}, {"l", F_BLOCK}, {"lg", F_BLOCK}, {"item", F_BLOCK}, {"list", F_BLOCK},
    {"div", F_BLOCK}, {"div1", F_BLOCK}, {"div2", F_BLOCK}, {"div3", F_BLOCK}, {"div4", F_BLOCK},
    {"div5", F_BLOCK}, {"ab", F_BLOCK}, {"sp", F_BLOCK}, {"speaker", F_BLOCK}, {"stage", F_BLOCK},
    {"castItem", F_BLOCK}, {"argument", F_BLOCK}, {"epigraph", F_BLOCK}, {"byline", F_BLOCK},
    {"dateline", F_BLOCK}, {"docTitle", F_BLOCK}, {"titlePart", F_BLOCK}, {"docAuthor", F_BLOCK},
    {"opener", F_BLOCK}, {"closer", F_BLOCK}, {"salute", F_BLOCK}, {"signed", F_BLOCK}, {"trailer", F_BLOCK},
    {"row", F_BLOCK}, {"cell", F_CELL}, {"table", F_BLOCK}, {"figure", F_BLOCK}, {"figDesc", F_BLOCK},
    {"front", F_BLOCK}, {"body", F_BLOCK}, {"back", F_BLOCK}, {"text", F_BLOCK}, {"group", F_BLOCK},
    {"title", F_BLOCK}, {"author", F_BLOCK}, {"listBibl", F_BLOCK}, {"bibl", F_BLOCK},
    {"hi", F_INLINE}, {"emph", F_INLINE}, {"foreign", F_INLINE}, {"name", F_INLINE}, {"persName", F_INLINE},
    {"placeName", F_INLINE}, {"date", F_INLINE}, {"ref", F_INLINE}, {"q", F_INLINE}, {"choice", F_INLINE},
    {"corr", F_INLINE}, {"reg", F_INLINE}, {"expan", F_INLINE}, {"note", F_INLINE}, {"term", F_INLINE},
    {NULL, 0}};

static const rule docbook_rules[] = {
    {"info", F_HIDE}, {"articleinfo", F_HIDE}, {"bookinfo", F_HIDE}, {"chapterinfo", F_HIDE},
    {"sectioninfo", F_HIDE}, {"prefaceinfo", F_HIDE}, {"refentryinfo", F_HIDE}, {"refmeta", F_HIDE},
    {"docinfo", F_HIDE}, {"title", F_SHOW | F_BLOCK}, {"subtitle", F_SHOW | F_BLOCK}, {"abstract", F_SHOW | F_BLOCK},
    {"remark", F_SKIP}, {"indexterm", F_SKIP}, {"toc", F_SKIP}, {"lot", F_SKIP}, {"index", F_SKIP},
    {"imageobject", F_SKIP}, {"titleabbrev", F_SKIP}, {"annotation", F_SKIP},
    {"para", F_BLOCK}, {"simpara", F_BLOCK}, {"formalpara", F_BLOCK}, {"section", F_BLOCK},
    {"sect1", F_BLOCK}, {"sect2", F_BLOCK}, {"sect3", F_BLOCK}, {"sect4", F_BLOCK}, {"sect5", F_BLOCK},
    {"simplesect", F_BLOCK}, {"chapter", F_BLOCK}, {"appendix", F_BLOCK}, {"preface", F_BLOCK},
    {"part", F_BLOCK}, {"article", F_BLOCK}, {"book", F_BLOCK}, {"listitem", F_BLOCK},
    {"itemizedlist", F_BLOCK}, {"orderedlist", F_BLOCK}, {"variablelist", F_BLOCK}, {"varlistentry", F_BLOCK},
    {"term", F_BLOCK}, {"programlisting", F_BLOCK | F_PRE}, {"screen", F_BLOCK | F_PRE}, {"synopsis", F_BLOCK | F_PRE},
    {"literallayout", F_BLOCK | F_PRE}, {"blockquote", F_BLOCK}, {"note", F_BLOCK}, {"warning", F_BLOCK},
    {"tip", F_BLOCK}, {"caution", F_BLOCK}, {"important", F_BLOCK}, {"example", F_BLOCK},
    {"informalexample", F_BLOCK}, {"figure", F_BLOCK}, {"table", F_BLOCK}, {"informaltable", F_BLOCK},
    {"row", F_BLOCK}, {"tr", F_BLOCK}, {"entry", F_CELL}, {"td", F_CELL}, {"th", F_CELL}, {"caption", F_BLOCK},
    {"glossentry", F_BLOCK}, {"glossterm", F_INLINE}, {"glossdef", F_BLOCK}, {"question", F_BLOCK},
    {"answer", F_BLOCK}, {"step", F_BLOCK}, {"procedure", F_BLOCK}, {"bibliography", F_BLOCK},
    {"bibliomixed", F_BLOCK | F_SPACED}, {"biblioentry", F_BLOCK | F_SPACED}, {"refentry", F_BLOCK},
    {"refnamediv", F_BLOCK}, {"refsynopsisdiv", F_BLOCK}, {"refsection", F_BLOCK}, {"refsect1", F_BLOCK},
    {"refsect2", F_BLOCK}, {"refsect3", F_BLOCK}, {"equation", F_BLOCK}, {"address", F_BLOCK},
    {"epigraph", F_BLOCK}, {"attribution", F_BLOCK},
    {"emphasis", F_INLINE}, {"literal", F_INLINE}, {"code", F_INLINE}, {"link", F_INLINE}, {"xref", F_INLINE},
    {"ulink", F_INLINE}, {"command", F_INLINE}, {"filename", F_INLINE}, {"replaceable", F_INLINE},
    {"option", F_INLINE}, {"function", F_INLINE}, {"varname", F_INLINE}, {"quote", F_INLINE},
    {"footnote", F_INLINE}, {"citetitle", F_INLINE}, {"firstterm", F_INLINE}, {"acronym", F_INLINE},
    {"userinput", F_INLINE}, {"computeroutput", F_INLINE}, {"application", F_INLINE}, {"personname", F_INLINE | F_SPACED},
    {"firstname", F_INLINE}, {"surname", F_INLINE}, {"author", F_INLINE | F_SPACED},
    {NULL, 0}};

static const rule html_rules[] = {
    {"head", F_SKIP}, {"script", F_SKIP}, {"style", F_SKIP}, {"noscript", F_SKIP}, {"template", F_SKIP},
    {"nav", F_SKIP}, {"header", F_SKIP}, {"footer", F_SKIP}, {"aside", F_SKIP}, {"button", F_SKIP},
    {"select", F_SKIP}, {"textarea", F_SKIP}, {"input", F_SKIP}, {"svg", F_SKIP}, {"canvas", F_SKIP},
    {"iframe", F_SKIP}, {"object", F_SKIP}, {"embed", F_SKIP}, {"audio", F_SKIP}, {"video", F_SKIP},
    {"menu", F_SKIP}, {"dialog", F_SKIP}, {"map", F_SKIP},
    {"br", F_BR}, {"hr", F_BR},
    {"p", F_BLOCK}, {"div", F_BLOCK}, {"h1", F_BLOCK}, {"h2", F_BLOCK}, {"h3", F_BLOCK}, {"h4", F_BLOCK},
    {"h5", F_BLOCK}, {"h6", F_BLOCK}, {"li", F_BLOCK}, {"ul", F_BLOCK}, {"ol", F_BLOCK}, {"dl", F_BLOCK},
    {"dt", F_BLOCK}, {"dd", F_BLOCK}, {"blockquote", F_BLOCK}, {"pre", F_BLOCK | F_PRE}, {"table", F_BLOCK},
    {"tr", F_BLOCK}, {"thead", F_BLOCK}, {"tbody", F_BLOCK}, {"tfoot", F_BLOCK}, {"section", F_BLOCK},
    {"article", F_BLOCK}, {"main", F_BLOCK}, {"figure", F_BLOCK}, {"figcaption", F_BLOCK},
    {"address", F_BLOCK}, {"caption", F_BLOCK}, {"details", F_BLOCK}, {"summary", F_BLOCK},
    {"center", F_BLOCK}, {"body", F_BLOCK}, {"html", F_BLOCK}, {"fieldset", F_BLOCK}, {"legend", F_BLOCK},
    {"td", F_CELL}, {"th", F_CELL},
    {"a", F_INLINE}, {"span", F_INLINE}, {"b", F_INLINE}, {"i", F_INLINE}, {"em", F_INLINE},
    {"strong", F_INLINE}, {"code", F_INLINE}, {"sub", F_INLINE}, {"sup", F_INLINE}, {"small", F_INLINE},
    {"mark", F_INLINE}, {"abbr", F_INLINE}, {"cite", F_INLINE}, {"q", F_INLINE}, {"s", F_INLINE},
    {"u", F_INLINE}, {"tt", F_INLINE}, {"font", F_INLINE}, {"label", F_INLINE}, {"time", F_INLINE},
    {"var", F_INLINE}, {"kbd", F_INLINE}, {"samp", F_INLINE}, {"img", F_INLINE}, {"wbr", F_INLINE},
    {"big", F_INLINE}, {"del", F_INLINE}, {"ins", F_INLINE}, {"dfn", F_INLINE}, {"bdi", F_INLINE},
    {"bdo", F_INLINE}, {"data", F_INLINE},
    {NULL, 0}};

static const rule generic_rules[] = {{"script", F_SKIP}, {"style", F_SKIP}, {NULL, 0}};

static unsigned lookup(const rule *r, const char *name) {
    for (; r->name; r++)
        if (r->name[0] == name[0] && !strcmp(r->name, name)) return r->flags;
    return 0;
}

/* ---- the extraction state machine (fed by the XML reader or the HTML tree walk) ------------ */

typedef struct frame {
    unsigned flags;
    bool visible, has_text, block, spaced, auto_class;
    char name[24];         /* local name, truncated: used for parent checks (TEI choice) */
} frame;

typedef struct xs {
    schema sc;
    const ingest_opts *o;
    ib *b;
    frame *st; size_t depth, cap;
    bool pending; size_t pending_depth; bool pending_cancelable;
    size_t pre;      /* open preformatted elements */
} xs;

typedef char *(*attr_fn)(void *ctx, const char *name);   /* malloc'd value or NULL */

static bool attr_is(attr_fn get, void *ctx, const char *name, const char *value) {
    char *v = get(ctx, name);
    bool r = v && !strcasecmp(v, value);
    free(v);
    return r;
}

static bool attr_contains(attr_fn get, void *ctx, const char *name, const char *needle) {
    char *v = get(ctx, name);
    bool r = v && strstr(v, needle);
    free(v);
    return r;
}

static unsigned classify(xs *s, const char *name, attr_fn get, void *actx) {
    const frame *parent = s->depth ? &s->st[s->depth - 1] : NULL;
    unsigned f = 0;
    switch (s->sc) {
    case S_JATS:
        f = lookup(jats_rules, name);
        if (!s->o->references && !strcmp(name, "ref-list")) f = F_SKIP;
        if (!s->o->tables && !strcmp(name, "table-wrap")) f = F_SKIP;
        break;
    case S_TEI:
        f = lookup(tei_rules, name);
        if (parent && !strcmp(parent->name, "choice") &&
            (!strcmp(name, "sic") || !strcmp(name, "orig") || !strcmp(name, "abbr")))
            f = F_SKIP;
        if (!strcmp(name, "lb") && attr_is(get, actx, "break", "no")) f = F_INLINE;
        if (!s->o->references && !strcmp(name, "listBibl")) f = F_SKIP;
        if (!s->o->tables && !strcmp(name, "table")) f = F_SKIP;
        break;
    case S_DOCBOOK:
        f = lookup(docbook_rules, name);
        if (!s->o->references && (!strcmp(name, "bibliography") || !strcmp(name, "bibliolist"))) f = F_SKIP;
        if (!s->o->tables && (!strcmp(name, "table") || !strcmp(name, "informaltable"))) f = F_SKIP;
        break;
    case S_XHTML:
        f = lookup(html_rules, name);
        if (!s->o->tables && !strcmp(name, "table")) f = F_SKIP;
        if (!(f & F_SKIP)) {
            char *role = get(actx, "role");
            if (role && (!strcmp(role, "navigation") || !strcmp(role, "banner") || !strcmp(role, "contentinfo") ||
                         !strcmp(role, "complementary") || !strcmp(role, "search") || !strcmp(role, "menu") ||
                         !strcmp(role, "menubar")))
                f = F_SKIP;
            free(role);
            char *hidden = get(actx, "hidden");
            if (hidden) f = F_SKIP;
            free(hidden);
            if (attr_is(get, actx, "aria-hidden", "true") || attr_contains(get, actx, "style", "display:none") ||
                attr_contains(get, actx, "style", "display: none"))
                f = F_SKIP;
        }
        break;
    default:
        f = lookup(generic_rules, name);
    }
    return f;
}

static bool push(xs *s, frame fr) {
    if (s->depth == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 64;
        frame *n = realloc(s->st, c * sizeof *n);
        if (!n) return false;
        s->st = n; s->cap = c;
    }
    s->st[s->depth++] = fr;
    return true;
}

static void emit_text(xs *s, const char *t, size_t n) {
    if (!s->depth) return;
    frame *top = &s->st[s->depth - 1];
    if (!top->visible) return;
    if (s->pre) {
        /* preformatted: every character counts, newlines included */
        if (s->pending) { ib_break(s->b); s->pending = false; }
        ib_text(s->b, t, n);
        ib_pre(s->b);
        top->has_text = true;
        return;
    }
    bool ws = true;
    for (size_t i = 0; i < n; i++)
        if (t[i] != ' ' && t[i] != '\t' && t[i] != '\n' && t[i] != '\r') { ws = false; break; }
    if (ws) {
        if (!s->pending && ib_cur_has_text(s->b)) ib_text(s->b, " ", 1);
        return;
    }
    if (s->pending) {
        /* text right after an auto-classified child, in the same parent: mixed content, so the
         * child was inline after all and no break belongs here */
        if (!(s->pending_cancelable && s->pending_depth == s->depth)) ib_break(s->b);
        s->pending = false;
    }
    ib_text(s->b, t, n);
    top->has_text = true;
}

/* Returns false when the element's subtree is to be skipped (its end will not be reported). */
static bool el_start(xs *s, const char *name, bool empty, attr_fn get, void *actx) {
    frame *parent = s->depth ? &s->st[s->depth - 1] : NULL;
    unsigned f = classify(s, name, get, actx);
    if (f & F_SKIP) return false;
    bool pvis = parent ? parent->visible : true;
    frame fr = {0};
    fr.flags = f;
    fr.visible = (f & F_SHOW) ? true : (f & F_HIDE) ? false : pvis;
    fr.spaced = (f & F_SPACED) != 0;
    snprintf(fr.name, sizeof fr.name, "%s", name);
    bool in_inline = parent && !parent->block;   /* inside an inline element: all inline */
    if (in_inline && !(f & F_BR)) {
        fr.block = false;
        fr.spaced = fr.spaced || parent->spaced;
        f &= ~(unsigned)(F_CELL | F_PRE);
        fr.flags = f;
    }
    else if (f & F_BLOCK) fr.block = true;
    else if (f & (F_INLINE | F_CELL | F_SPACE | F_BR)) fr.block = false;
    else { fr.auto_class = true; fr.block = !(parent && parent->has_text); }
    if (fr.visible) {
        if (f & F_BR) { s->pending = true; s->pending_cancelable = false; s->pending_depth = s->depth; }
        else if (fr.block) { s->pending = true; s->pending_cancelable = false; s->pending_depth = s->depth; }
        else if (!s->pending && ib_cur_has_text(s->b)) {
            if (f & F_CELL) ib_text(s->b, " | ", 3);
            else if ((f & F_SPACE) || (parent && parent->spaced)) ib_text(s->b, " ", 1);

        }
    }
    if (!push(s, fr)) { s->b->oom = true; return false; }
    if ((f & F_PRE) && fr.visible) s->pre++;
    if (empty) {
        s->depth--;
        if ((f & F_PRE) && fr.visible && s->pre) s->pre--;
        if (fr.block && fr.visible && !(f & F_BR)) {
            s->pending = true; s->pending_cancelable = fr.auto_class; s->pending_depth = s->depth;
        }
    }
    return true;
}

static void el_end(xs *s) {
    if (!s->depth) return;
    frame fr = s->st[--s->depth];
    if ((fr.flags & F_PRE) && fr.visible && s->pre) s->pre--;
    if (fr.has_text && s->depth) s->st[s->depth - 1].has_text = s->st[s->depth - 1].has_text || !fr.block;
    if (fr.block && fr.visible) {
        s->pending = true;
        s->pending_cancelable = fr.auto_class;
        s->pending_depth = s->depth;
    }
}

/* ---- safety: external entities ------------------------------------------------------------- */

static _Thread_local char refused_url[256];
static xmlExternalEntityLoader default_loader;

static xmlParserInputPtr refusing_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt) {
    if (!refused_url[0]) snprintf(refused_url, sizeof refused_url, "%s", url ? url : id ? id : "?");
    return NULL;
}

static void silent_generic(void *ctx, const char *msg, ...) {}

void ingest_xml_init(void) {
    xmlInitParser();
    default_loader = xmlGetExternalEntityLoader();
    xmlSetExternalEntityLoader(refusing_loader);
    xmlSetGenericErrorFunc(NULL, silent_generic);
}

/* ---- XML through xmlTextReader -------------------------------------------------------------- */

typedef struct xerr { char msg[300]; int line; bool fatal; int count; } xerr;

static void reader_error(void *arg, xmlErrorPtr e) {
    xerr *x = arg;
    if (!e) return;
    if (e->level >= XML_ERR_ERROR) {
        x->count++;
        if (!x->msg[0] || (e->level == XML_ERR_FATAL && !x->fatal)) {
            snprintf(x->msg, sizeof x->msg, "%s", e->message ? e->message : "XML error");
            size_t n = strlen(x->msg);
            while (n && (x->msg[n - 1] == '\n' || x->msg[n - 1] == ' ')) x->msg[--n] = 0;
            x->line = e->line;
            x->fatal = e->level == XML_ERR_FATAL;
        }
    }
}

static char *reader_attr(void *ctx, const char *name) {
    xmlChar *v = xmlTextReaderGetAttribute((xmlTextReaderPtr)ctx, (const xmlChar *)name);
    if (!v) return NULL;
    char *r = strdup((const char *)v);
    xmlFree(v);
    return r;
}

static schema pick_schema(const char *local, const char *ns, const char *doctype_id, xmlTextReaderPtr r) {
    if (ns && !strcmp(ns, "http://www.tei-c.org/ns/1.0")) return S_TEI;
    if (!strcmp(local, "TEI") || !strcmp(local, "TEI.2") || !strcmp(local, "teiCorpus")) return S_TEI;
    if (ns && !strcmp(ns, "http://docbook.org/ns/docbook")) return S_DOCBOOK;
    if (ns && !strcmp(ns, "http://www.w3.org/1999/xhtml")) return S_XHTML;
    if (!strcmp(local, "html")) return S_XHTML;
    if (doctype_id && (strstr(doctype_id, "JATS") || strstr(doctype_id, "NLM") || strstr(doctype_id, "Journal")))
        return S_JATS;
    if (doctype_id && strstr(doctype_id, "DocBook")) return S_DOCBOOK;
    if (!strcmp(local, "pmc-articleset")) return S_JATS;
    if (!strcmp(local, "article")) {
        char *a = reader_attr(r, "article-type"), *v = reader_attr(r, "dtd-version");
        bool jats = a || v;
        free(a); free(v);
        return jats ? S_JATS : S_DOCBOOK;
    }
    if (!strcmp(local, "book") || !strcmp(local, "chapter") || !strcmp(local, "refentry") || !strcmp(local, "set"))
        return S_DOCBOOK;
    return S_GENERIC;
}

static int run_reader(const char *name, xmlTextReaderPtr r, size_t insize, const ingest_opts *o, ib *b,
                      char *err, size_t errlen) {
    xerr x = {0};
    xmlTextReaderSetStructuredErrorHandler(r, reader_error, &x);
    refused_url[0] = 0;
    b->limit = (insize > ((size_t)1 << 40) ? ((size_t)1 << 40) : insize) * 10 + ((size_t)16 << 20);
    xs s = {0};
    s.o = o; s.b = b;
    bool have_root = false;
    char doctype[256] = "";
    int ret;
    size_t nodes = 0;
    while ((ret = xmlTextReaderRead(r)) == 1) {
        if (ib_failed(b) || refused_url[0]) break;
        nodes++;
        int t = xmlTextReaderNodeType(r);
        switch (t) {
        case XML_READER_TYPE_DOCUMENT_TYPE: {
            xmlNodePtr n = xmlTextReaderCurrentNode(r);
            if (n && n->type == XML_DTD_NODE) {
                xmlDtdPtr d = (xmlDtdPtr)n;
                snprintf(doctype, sizeof doctype, "%s %s", d->ExternalID ? (const char *)d->ExternalID : "",
                         d->SystemID ? (const char *)d->SystemID : "");
            }
            break;
        }
        case XML_READER_TYPE_ELEMENT: {
            const char *local = (const char *)xmlTextReaderConstLocalName(r);
            if (!local) break;
            if (!have_root) {
                const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r);
                s.sc = pick_schema(local, ns, doctype, r);
                have_root = true;
            }
            bool empty = xmlTextReaderIsEmptyElement(r) == 1;
            if (!el_start(&s, local, empty, reader_attr, r) && !ib_failed(b)) {
                /* skip the subtree: Next moves past it; step back into the loop's Read */
                int k = xmlTextReaderNext(r);
                while (k == 1 && xmlTextReaderNodeType(r) == XML_READER_TYPE_ELEMENT) {
                    const char *l2 = (const char *)xmlTextReaderConstLocalName(r);
                    bool e2 = xmlTextReaderIsEmptyElement(r) == 1;
                    if (l2 && el_start(&s, l2, e2, reader_attr, r)) goto next;   /* kept: continue normally */
                    if (ib_failed(b)) break;
                    k = xmlTextReaderNext(r);
                }
                if (k != 1) { ret = k; goto done; }
                /* positioned on a non-element node after the skipped subtree: handle it here */
                t = xmlTextReaderNodeType(r);
                if (t == XML_READER_TYPE_END_ELEMENT) el_end(&s);
                else if (t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA ||
                         t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE || t == XML_READER_TYPE_WHITESPACE) {
                    const char *v = (const char *)xmlTextReaderConstValue(r);
                    if (v) emit_text(&s, v, strlen(v));
                }
            }
        next:
            break;
        }
        case XML_READER_TYPE_END_ELEMENT:
            el_end(&s);
            break;
        case XML_READER_TYPE_ENTITY_REFERENCE: {
            /* an entity the (unloaded) DTD would define: HTML's names (nbsp, mdash, ...) are what
             * JATS, DocBook and XHTML use, so they are read as such; others are dropped */
            const char *en = (const char *)xmlTextReaderConstName(r);
            const htmlEntityDesc *ed = en ? htmlEntityLookup((const xmlChar *)en) : NULL;
            if (ed) {
                char u[8];
                int k = xmlCopyCharMultiByte((xmlChar *)u, (int)ed->value);
                if (k > 0) emit_text(&s, u, (size_t)k);
            }
            break;
        }
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
        case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
        case XML_READER_TYPE_WHITESPACE: {
            const char *v = (const char *)xmlTextReaderConstValue(r);
            if (v) emit_text(&s, v, strlen(v));
            break;
        }
        default:
            break;
        }
    }
done:
    free(s.st);
    if (b->sink_failed) return lj_errf(err, errlen, "output failed");
    if (refused_url[0])
        return lj_errf(err, errlen, "external entity '%s' refused (XXE protection: no external entities are loaded)",
                       refused_url);
    if (b->over_limit)
        return lj_errf(err, errlen, "entity expansion refused: text exceeds %zu bytes (billion-laughs protection)",
                       b->limit);
    if (b->oom) return lj_errf(err, errlen, "out of memory");
    if (ret < 0 || x.fatal) {
        if (x.msg[0] && (strstr(x.msg, "amplification") || strstr(x.msg, "loop") || strstr(x.msg, "xceeded") ||
                         strstr(x.msg, "Maximum entity")))
            return lj_errf(err, errlen, "XML refused at line %d: entity expansion refused (billion-laughs protection): %s",
                           x.line, x.msg);
        return lj_errf(err, errlen, "malformed XML at line %d: %s", x.line, x.msg[0] ? x.msg : "parse error");
    }
    if (x.count) ib_warn(b, "%d XML error(s), first at line %d: %s", x.count, x.line, x.msg);
    if (!have_root) return lj_errf(err, errlen, "no XML root element");
    (void)schema_names;
    return 0;
}

static const int reader_opts = XML_PARSE_NONET | XML_PARSE_NOENT | XML_PARSE_NOWARNING | XML_PARSE_NOERROR |
                               XML_PARSE_NOCDATA | XML_PARSE_COMPACT;

int ingest_xml(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b, char *err,
               size_t errlen) {
    if (len > INT32_MAX) return ingest_xml_file(name, o, b, err, errlen);
    xmlTextReaderPtr r = xmlReaderForMemory(data, (int)len, name, NULL, reader_opts);
    if (!r) return lj_errf(err, errlen, "cannot create XML reader");
    int rc = run_reader(name, r, len, o, b, err, errlen);
    xmlFreeTextReader(r);
    return rc;
}

int ingest_xml_file(const char *path, const ingest_opts *o, ib *b, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    size_t size = 0;
    if (f) { fseek(f, 0, SEEK_END); long l = ftell(f); size = l > 0 ? (size_t)l : 0; fclose(f); }
    xmlTextReaderPtr r = xmlReaderForFile(path, NULL, reader_opts);
    if (!r) return lj_errf(err, errlen, "cannot open XML reader");
    int rc = run_reader(path, r, size, o, b, err, errlen);
    xmlFreeTextReader(r);
    return rc;
}

/* ---- HTML through libxml2's HTML parser (a tree; HTML pages are small) ----------------------- */

static char *node_attr(void *ctx, const char *name) {
    xmlChar *v = xmlGetProp((xmlNodePtr)ctx, (const xmlChar *)name);
    if (!v) return NULL;
    char *r = strdup((const char *)v);
    xmlFree(v);
    return r;
}

int ingest_html(const char *name, const void *data, size_t len, const ingest_opts *o, ib *b, char *err,
                size_t errlen) {
    if (len > INT32_MAX) return lj_errf(err, errlen, "HTML larger than 2 GiB");
    htmlParserCtxtPtr ctxt = htmlNewParserCtxt();
    if (!ctxt) return lj_errf(err, errlen, "cannot create HTML parser");
    htmlDocPtr doc = htmlCtxtReadMemory(ctxt, data, (int)len, name, NULL,
                                        HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                            HTML_PARSE_RECOVER | HTML_PARSE_COMPACT);
    if (!doc) {
        htmlFreeParserCtxt(ctxt);
        return lj_errf(err, errlen, "HTML could not be parsed");
    }
    b->limit = len * 10 + ((size_t)16 << 20);
    xs s = {0};
    s.o = o; s.b = b; s.sc = S_XHTML;
    /* iterative walk: descend into kept elements, emit text, close elements on the way up */
    xmlNodePtr n = xmlDocGetRootElement(doc);
    while (n && !ib_failed(b)) {
        bool descend = false;
        if (n->type == XML_ELEMENT_NODE && n->name) {
            char lname[64];
            snprintf(lname, sizeof lname, "%s", (const char *)n->name);
            for (char *p = lname; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (el_start(&s, lname, n->children == NULL, node_attr, n)) descend = n->children != NULL;
        } else if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
            emit_text(&s, (const char *)n->content, strlen((const char *)n->content));
        }
        if (descend) { n = n->children; continue; }
        while (n && !n->next) {
            n = n->parent;
            if (!n || n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE) { n = NULL; break; }
            el_end(&s);
        }
        if (n) n = n->next;
    }
    free(s.st);
    xmlFreeDoc(doc);
    htmlFreeParserCtxt(ctxt);
    if (b->over_limit) return lj_errf(err, errlen, "HTML text exceeds %zu bytes", b->limit);
    if (b->oom) return lj_errf(err, errlen, "out of memory");
    return 0;
}
#endif
