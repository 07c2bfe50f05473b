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

// UTCTime renders an instant as <time datetime="2006-01-02T15:04:05Z">
// 2006-01-02 15:04:05</time> in UTC, the form the audit logs show, in one
// write with no string built per row (time.Format allocates each result).
type UTCTime time.Time

// Render writes the element.
func (t UTCTime) Render(_ context.Context, w io.Writer) error {
	u := time.Time(t).UTC()
	var b [80]byte
	buf := append(b[:0], `<time datetime="`...)
	buf = u.AppendFormat(buf, "2006-01-02T15:04:05Z")
	buf = append(buf, `">`...)
	buf = u.AppendFormat(buf, time.DateTime)
	buf = append(buf, "</time>"...)
	_, err := w.Write(buf)
	return err
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
	_, err := w.Write(time.Time(d).UTC().AppendFormat(b[:0], "2 Jan 2006"))
	return err
}
