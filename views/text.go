package views

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"
)

// Text is a string rendered HTML-escaped, as { s } is, without the
// allocations templ spends on a { s } expression (it formats each one with
// fmt.Sprint): write @views.Text(s) in rows that repeat many times on a
// page, such as the members list. templ calls Render on the concrete type,
// so nothing is boxed either.
type Text string

// Render writes t escaped like html.EscapeString.
func (t Text) Render(_ context.Context, w io.Writer) error {
	_, err := htmlEscaper.WriteString(w, string(t))
	return err
}

// htmlEscaper escapes the characters html.EscapeString does.
var htmlEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// AppendText appends s escaped as Text writes it, for views that build a
// row in a buffer of their own.
func AppendText(b []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, `&'<>"`)
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		switch s[i] {
		case '&':
			b = append(b, "&amp;"...)
		case '\'':
			b = append(b, "&#39;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		default:
			b = append(b, "&#34;"...)
		}
		s = s[i+1:]
	}
}

// UTCTime renders an instant as <time datetime="2006-01-02T15:04:05Z">
// 2006-01-02 15:04:05</time> in UTC, the form the audit logs show, in one
// write with no string built per row (time.Format allocates each result).
type UTCTime time.Time

// Render writes the element.
func (t UTCTime) Render(_ context.Context, w io.Writer) error {
	u := time.Time(t).UTC()
	var b [80]byte
	buf := append(b[:0], `<time datetime="`...)
	buf = appendDateTime(buf, u, 'T')
	buf = append(buf, `Z">`...)
	buf = appendDateTime(buf, u, ' ')
	buf = append(buf, "</time>"...)
	_, err := w.Write(buf)
	return err
}

// appendDateTime appends u as "2006-01-02" sep "15:04:05", what
// u.AppendFormat gives with that layout, without parsing the layout for
// each of a page's 50 rows (a sixth of the audit log's rendering).
func appendDateTime(b []byte, u time.Time, sep byte) []byte {
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		return u.AppendFormat(b, "2006-01-02"+string(sep)+"15:04:05")
	}
	h, mi, s := u.Clock()
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), sep)
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':', byte('0'+s/10), byte('0'+s%10))
}

// Details formats an audit event's details as key, kv, value pairs joined
// by sep, in key order: "from: member, to: admin".
func Details(d map[string]string, kv, sep string) string {
	if len(d) == 0 {
		return ""
	}
	var stack [8]string
	keys, size := stack[:0], 0
	for k, v := range d {
		keys = append(keys, k)
		size += len(k) + len(kv) + len(v) + len(sep)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(k)
		b.WriteString(kv)
		b.WriteString(d[k])
	}
	return b.String()
}

// Date renders an instant's UTC date as text, "2 Jan 2006", with no
// string built per row.
type Date time.Time

// Render writes the date.
func (d Date) Render(_ context.Context, w io.Writer) error {
	var b [24]byte
	_, err := w.Write(appendDate(b[:0], time.Time(d).UTC()))
	return err
}

// AppendDate appends t's UTC date as Date writes it.
func AppendDate(b []byte, t time.Time) []byte { return appendDate(b, t.UTC()) }

// appendDate appends u as u.AppendFormat(b, "2 Jan 2006") does, without
// parsing the layout each time.
func appendDate(b []byte, u time.Time) []byte {
	y, mo, d := u.Date()
	if y < 0 || y > 9999 {
		return u.AppendFormat(b, "2 Jan 2006")
	}
	if d >= 10 {
		b = append(b, byte('0'+d/10))
	}
	b = append(b, byte('0'+d%10), ' ')
	b = append(b, mo.String()[:3]...)
	return append(b, ' ', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
}
