package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Resource data (ids, names, tag keys and values, reasons, errors) comes
// from AWS, so from anyone who may tag a resource. It is made safe where it
// is shown: Clean for the workflow log, Escape and code for markdown. JSON,
// the machine format, carries it exactly.

// Clean makes untrusted text safe on one line of a workflow log, or in an
// annotation: control characters (C0, DEL, C1), line and paragraph
// separators, bidirectional overrides, isolates and marks, and invalid UTF-8
// are shown as Go-style escapes (`\n`, `\x1b`, `\u202e`), so the text stays
// on its line and reads as what it is. A workflow command cannot start in
// it: a word joiner (U+2060, invisible) goes before a leading "::" and
// inside "##[", which the runner obeys anywhere in a line.
func Clean(s string) string {
	return defuseLineStart(defuseLegacy(visible(s, false)))
}

// wordJoiner is invisible and zero width in the log and in a comment, and
// breaks the patterns the runner looks for.
const wordJoiner = "\u2060"

// unsafeRune reports whether r must not reach a log or comment as it is: it
// moves the cursor or the line (C0, DEL, C1 and the Unicode separators), or
// reorders what is around it (the bidirectional controls that Trojan Source,
// CVE-2021-42574, uses), so that text would not read as what it is.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028, r == 0x2029: // line, paragraph separator
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks: ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}

// visible returns s with every unsafe rune and invalid byte escaped. In
// markdown (where a space is what a line break shows as) a line break or a
// tab becomes a space instead, a CRLF one space. Text of printable ASCII,
// nearly every cell, is returned as it is without being copied.
func visible(s string, markdown bool) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) || !needsEscape(s[i:]) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case markdown && r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			b.WriteByte(' ')
			size = 2
		case markdown && (r == '\n' || r == '\r' || r == '\t'):
			b.WriteByte(' ')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			writeHex(&b, `\x`, uint32(r), 2)
		case unsafeRune(r):
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape reports whether s has an unsafe rune or an invalid byte.
func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for k := digits - 1; k >= 0; k-- {
		b.WriteByte(hex[v>>(4*k)&0xf])
	}
}

// defuseLegacy breaks "##[", the runner's older command form, which it
// obeys anywhere in a line (actions/runner ActionCommand.TryParse).
func defuseLegacy(s string) string {
	if !strings.Contains(s, "##[") {
		return s
	}
	return strings.ReplaceAll(s, "##[", "##"+wordJoiner+"[")
}

// defuseLineStart puts a word joiner before a leading "::", so that s
// cannot be a workflow command even at the start of a line: the runner
// obeys a line that starts with "::" after leading white space (.NET's
// TrimStart, which trims what unicode.IsSpace matches).
func defuseLineStart(s string) string {
	t := s
	if len(t) > 0 && (t[0] == ' ' || t[0] >= 0x80 || t[0] < 0x20) {
		t = strings.TrimLeftFunc(t, unicode.IsSpace)
	}
	if !strings.HasPrefix(t, "::") {
		return s
	}
	k := len(s) - len(t)
	return s[:k] + wordJoiner + t
}

// cellEscaper neutralises what could break a table row or inject markup:
// pipes, HTML, backticks, links and emphasis. Line breaks are gone before
// it runs (visible), and references are in code spans (inert).
var cellEscaper = strings.NewReplacer(
	"\\", "\\\\",
	"|", "\\|",
	"&", "&amp;",
	"<", "&lt;",
	">", "&gt;",
	"`", "&#96;",
	"[", "\\[",
	"]", "\\]",
	"*", "\\*",
	"_", "\\_",
	"~", "\\~",
)

// Escape makes untrusted text (tag values, names, error messages) safe
// inside a markdown table cell or paragraph: it cannot end the cell or
// row, open markup or HTML, and cannot reach anyone. A word that GitHub
// could turn into a mention (@name, @org/team, an email), a reference
// (#1, GH-1, owner/repo#1, owner/repo@sha) or an autolink (http://, www.)
// is put in a code span.
//
// Why code spans: GitHub finds mentions, references and links in the
// rendered HTML's text, after markdown, so neither `\@` nor `&#64;` stops
// them (both are back to "@" by then); every one of those passes skips
// code, and markdown makes no autolink in it. The word stays readable and
// copies exactly, unlike one with a zero-width character inside it.
func Escape(s string) string {
	s = visible(s, true)
	if !hasReference(s) {
		return cellEscaper.Replace(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			b.WriteByte(' ')
		}
		if hasReference(word) {
			b.WriteString("`" + code(word) + "`")
		} else {
			b.WriteString(cellEscaper.Replace(word))
		}
	}
	return b.String()
}

// hasReference reports whether s has what GitHub could link or notify
// from: "@", "#", "://", "www." or "GH-" and a digit (any case).
func hasReference(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '@', '#':
			return true
		case ':':
			if strings.HasPrefix(s[i+1:], "//") {
				return true
			}
		case 'w', 'W':
			if len(s) >= i+4 && strings.EqualFold(s[i:i+4], "www.") {
				return true
			}
		case 'g', 'G':
			if len(s) >= i+4 && strings.EqualFold(s[i:i+3], "gh-") && s[i+3] >= '0' && s[i+3] <= '9' {
				return true
			}
		}
	}
	return false
}

// code makes text safe inside a backtick code span in a table cell: code
// spans show entities and backslashes literally, so only the span's own
// breakers go. A backtick becomes a quote; a pipe is escaped for the table,
// with one more backslash after an odd run of the text's own, which the
// table would otherwise pair with the escape (GFM reads `\\` as one
// escaped backslash, then the pipe as the cell's end). "##[" is defused as
// in Clean: `broom plan --format markdown` may print to a workflow log.
// (Outside code spans there is none: a "#" puts its word in one.)
func code(s string) string {
	s = defuseLegacy(strings.ReplaceAll(visible(s, true), "`", "'"))
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	run := 0 // backslashes just before
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '|':
			if run%2 == 1 {
				b.WriteByte('\\')
			}
			b.WriteString(`\|`)
			run = 0
		case c == '\\':
			b.WriteByte(c)
			run++
		default:
			b.WriteByte(c)
			run = 0
		}
	}
	return b.String()
}
