/* SPDX-License-Identifier: MIT */
/* confhint: says more than libconfig about why a file could not be read or parsed. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "confhint.h"

/* libconfig keeps no errno for a file it cannot read (isatty() may have left ENOTTY): ask again. */
const char *
confhint_read_failure(const char *path)
{
	struct stat st;
	const char *why = "read error";
	FILE *f;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return "it is a directory (-c takes a file)";
	f = fopen(path, "r");
	if (f == NULL)
		return strerror(errno);
	if (getc(f) == EOF && ferror(f))
		why = strerror(errno);
	fclose(f);
	return why;
}

/*
 * Lines 1..line of a file again, to say more than libconfig does: comments
 * and what strings hold blanked (neither may look like syntax), newlines
 * kept. NULL when it cannot be read.
 */
static char *
source_upto(const char *path, int line)
{
	enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
	FILE *f = fopen(path, "r");
	char *text = NULL, *grown;
	size_t len = 0, size = 0;
	int c, out, prev = 0;
	bool quote;

	if (f == NULL)
		return NULL;
	while (line > 0 && len < (1 << 20) && (c = getc(f)) != EOF) {
		if (len + 2 > size) {
			if ((grown = realloc(text, size * 2 + 256)) == NULL)
				break;
			text = grown;
			size = size * 2 + 256;
		}
		out = c;
		line -= c == '\n';
		quote = false;
		if (state == CODE && c == '"') {
			state = STRING;
			quote = true;
			c = 0;		/* an opening quote escapes nothing */
		} else if (state == CODE && (c == '#' || (prev == '/' && (c == '/' || c == '*')))) {
			state = c == '*' ? BLOCK_COMMENT : LINE_COMMENT;
			if (c != '#')
				text[len - 1] = ' ';
			c = 0;		/* the star of an opening does not close */
		} else if (state == STRING && prev != '\\' && c == '"') {
			state = CODE;
			quote = true;
		} else if (state == STRING && prev == '\\') {
			c = 0;		/* escaped: neither ends the string nor escapes */
		} else if ((state == LINE_COMMENT && c == '\n') ||
		    (state == BLOCK_COMMENT && prev == '*' && c == '/')) {
			state = CODE;
			out = c == '/' ? ' ' : c;
		}
		if (state != CODE && out != '\n' && !quote)
			out = ' ';
		text[len++] = (char)out;
		prev = c;
	}
	fclose(f);
	if (text != NULL)
		text[len] = '\0';
	return text;
}

/*
 * The common mistakes behind libconfig's bare "syntax error" (POSIX ERE, any
 * case); in_list: only where the match's first character is inside ( ).
 */
static const struct {
	const char *pattern;
	bool in_list;
	const char *hint;
} syntax_hints[] = {
	{ "\\[[[:space:]]*\\{", false,
	    "a list of groups is written ( { ... }, { ... } ); [ ] holds only numbers or strings" },
	{ "\\}[[:space:]]*[{;]", true,
	    "groups in a list are separated by commas: ( { ... }, { ... } )" },
	{ "[=:][[:space:]]*[-+]?[0-9][0-9.]*[[:space:]]*[a-df-km-wyz]", false,
	    "a number takes no unit: durations are seconds (300, not 5m), sizes bytes "
	    "(16384, not 16K)" },
	{ "[=:][[:space:]]*(off|on|yes|no|none|unlimited)([^[:alnum:]_]|$)", false,
	    "off and on are no values: a limit is a number, 0 switches it off" },
	{ "[=:][[:space:]]*([a-eg-su-z_]|t[a-qs-z_]|f[b-z_])", false,
	    "strings are quoted: protocol = \"tcp\"; the only bare words are true and false" },
};

/* Brackets open so far in a text, read once from start to end (a long line stays linear). */
struct brackets {
	char open[64];
	size_t depth, next;
};

/* The innermost bracket still open just after text[at], or 0; at never goes back. */
static char
enclosing(struct brackets *b, const char *text, size_t at)
{
	for (; b->next <= at && text[b->next] != '\0'; b->next++) {
		if (strchr("{([", text[b->next]) != NULL) {
			if (b->depth < sizeof(b->open))
				b->open[b->depth] = text[b->next];
			b->depth++;
		} else if (strchr("})]", text[b->next]) != NULL && b->depth > 0) {
			b->depth--;
		}
	}
	return b->depth > 0 && b->depth <= sizeof(b->open) ? b->open[b->depth - 1] : 0;
}

/* What the last two lines (the one libconfig names, and the one before) show, or NULL. */
static const char *
syntax_hint(const char *text)
{
	const char *from = text + strlen(text), *hint = NULL;
	int newlines = 0;
	regmatch_t m;
	regex_t re;

	while (from > text && !(from[-1] == '\n' && ++newlines == 3))
		from--;
	for (size_t i = 0; hint == NULL && i < sizeof(syntax_hints) / sizeof(syntax_hints[0]);
	    i++) {
		struct brackets b = { .depth = 0 };

		if (regcomp(&re, syntax_hints[i].pattern,
		    REG_EXTENDED | REG_ICASE | REG_NEWLINE) != 0)
			continue;
		for (const char *s = from; hint == NULL && regexec(&re, s, 1, &m, 0) == 0;
		    s += m.rm_so + 1)
			if (!syntax_hints[i].in_list ||
			    enclosing(&b, text, (size_t)(s - text + m.rm_so)) == '(')
				hint = syntax_hints[i].hint;
		regfree(&re);
	}
	return hint;
}

static bool
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

/*
 * libconfig's "duplicate setting name" names none: the first name set twice
 * in one group of text is it (libconfig stopped there). Its first line into
 * *first.
 */
static bool
duplicate_name(const char *text, char *name, size_t size, int *first)
{
	struct { const char *at; size_t len; int depth; } seen[256];
	size_t nseen = 0, len;
	int depth = 0;

	for (const char *s = text; *s != '\0'; s++) {
		if (strchr("{([", *s) != NULL)
			depth++;
		if (strchr("})]", *s) != NULL)
			for (depth--; nseen > 0 && seen[nseen - 1].depth > depth; nseen--)
				;
		/* A name starts with a letter or '*', not within a number (5m, 0x1F). */
		if ((!isalpha((unsigned char)*s) && *s != '*') ||
		    (s > text && (is_name_char(s[-1]) || s[-1] == '.')))
			continue;
		for (len = 0; is_name_char(s[len]); len++)
			;
		if (s[len + strspn(s + len, " \t\r\n")] != '=' &&
		    s[len + strspn(s + len, " \t\r\n")] != ':')
			continue;
		for (size_t i = 0; i < nseen; i++) {
			if (seen[i].depth != depth || seen[i].len != len ||
			    strncmp(seen[i].at, s, len) != 0)
				continue;
			snprintf(name, size, "%.*s", (int)len, s);
			*first = 1;
			for (const char *c = text; c < seen[i].at; c++)
				*first += *c == '\n';
			return true;
		}
		if (nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = (typeof(seen[0])){ s, len, depth };
	}
	return false;
}

/* libconfig's message, and what it means when the file shows a common mistake. */
void
confhint_explain(const char *file, int line, const char *error, char *out, size_t size)
{
	char *text = source_upto(file, line), name[64];
	const char *hint;
	int first;

	snprintf(out, size, "%s", error);
	if (text == NULL)
		return;
	if (strcmp(error, "duplicate setting name") == 0 &&
	    duplicate_name(text, name, sizeof(name), &first))
		snprintf(out, size, "duplicate setting name '%s' (first set at line %d)", name,
		    first);
	else if (strcmp(error, "syntax error") == 0 && (hint = syntax_hint(text)) != NULL)
		snprintf(out, size, "syntax error (%s)", hint);
	free(text);
}
