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
// 2006-01-02 15:04:05</time> in UTC, the form the audit logs show: in one
// write, without the layout parsing time.Format does twice per row.
type UTCTime time.Time

// Render writes the element.
func (t UTCTime) Render(_ context.Context, w io.Writer) error {
	u := time.Time(t).UTC()
	var b [80]byte
	buf := append(b[:0], `<time datetime="`...)
	buf = appendStamp(buf, u, 'T')
	buf = append(buf, `Z">`...)
	buf = appendStamp(buf, u, ' ')
	buf = append(buf, "</time>"...)
	_, err := w.Write(buf)
	return err
}

// appendStamp appends u as 2006-01-02 15:04:05, with sep between the date
// and the time.
func appendStamp(buf []byte, u time.Time, sep byte) []byte {
	year, month, day := u.Date()
	hour, min, sec := u.Clock()
	buf = appendInt(buf, year, 4)
	buf = append(buf, '-')
	buf = appendInt(buf, int(month), 2)
	buf = append(buf, '-')
	buf = appendInt(buf, day, 2)
	buf = append(buf, sep)
	buf = appendInt(buf, hour, 2)
	buf = append(buf, ':')
	buf = appendInt(buf, min, 2)
	buf = append(buf, ':')
	return appendInt(buf, sec, 2)
}

// appendInt appends n, zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	var d [20]byte
	i := len(d)
	for n >= 10 || width > 1 {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	d[i] = byte('0' + n)
	return append(b, d[i:]...)
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

// Date renders an instant's UTC date as text, "2 Jan 2006", without the
// layout parsing time.Format does for each row of a list.
type Date time.Time

var monthAbbr = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Render writes the date.
func (d Date) Render(_ context.Context, w io.Writer) error {
	year, month, day := time.Time(d).UTC().Date()
	var b [24]byte
	buf := appendInt(b[:0], day, 1)
	buf = append(buf, ' ')
	buf = append(buf, monthAbbr[month-1]...)
	buf = append(buf, ' ')
	buf = appendInt(buf, year, 4)
	_, err := w.Write(buf)
	return err
}
