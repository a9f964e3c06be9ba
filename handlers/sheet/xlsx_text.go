package sheet

import "unicode/utf8"

// maxCellChars is Excel's limit on the text of a cell, in UTF-16 code
// units ("Excel specifications and limits": 32,767 characters).
const maxCellChars = 32767

// appendText writes s as an inline string cell (ECMA-376 Part 1, 18.3.1.53
// is) at column col of row r. Text over Excel's limit is cut, ending in an
// ellipsis so the cut shows.
func appendText(b []byte, col, r, s string) []byte {
	s = truncateUTF16(s, maxCellChars)
	b = append(b, `<c r="`...)
	b = append(b, col...)
	b = append(b, r...)
	b = append(b, `" t="inlineStr"><is><t`...)
	if s != "" && (isXMLSpace(s[0]) || isXMLSpace(s[len(s)-1])) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	b = appendEscaped(b, s)
	return append(b, "</t></is></c>"...)
}

// isXMLSpace reports whether c is white space an XML reader may drop from
// the ends of a text (CR is escaped, so it is not among them).
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// appendEscaped writes s as XML text that reads back as s: XML's special
// characters as entities; CR, the control characters XML 1.0 cannot hold,
// U+FFFE and U+FFFF as _xHHHH_, and the underscore that begins a literal
// _xHHHH as _x005F_ (ECMA-376 Part 1, 22.9.2.19 ST_Xstring); bytes that are not
// UTF-8 as U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, "\uFFFD"...)
			case r == 0xFFFE || r == 0xFFFF:
				b = appendXEscape(b, r)
			default:
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case c == '\t' || c == '\n':
			b = append(b, c)
		case c < 0x20:
			b = appendXEscape(b, rune(c))
		case c == '_' && isXEscape(s[i:]):
			b = append(b, "_x005F_"...)
		default:
			b = append(b, c)
		}
		i++
	}
	return b
}

// isXEscape reports whether s begins with _xHHHH, which a reader takes
// for an escape when an underscore follows, whether the text's own or
// the first of the next escape written (_x0040 before a NUL would read
// back as @); so its underscore is escaped whatever follows.
func isXEscape(s string) bool {
	if len(s) < 6 || s[1] != 'x' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// appendXEscape writes r as _xHHHH_.
func appendXEscape(b []byte, r rune) []byte {
	const hex = "0123456789ABCDEF"
	return append(b, '_', 'x', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15], '_')
}

// truncateUTF16 cuts s to at most n UTF-16 code units, the last an
// ellipsis, when it is longer.
func truncateUTF16(s string, n int) string {
	if len(s) <= n { // a code unit takes at least a byte
		return s
	}
	units := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if units+w > n-1 {
			rest := 0
			for _, r := range s[i:] {
				if rest++; r >= 0x10000 {
					rest++
				}
				if units+rest > n {
					return s[:i] + "…"
				}
			}
			return s
		}
		units += w
	}
	return s
}
