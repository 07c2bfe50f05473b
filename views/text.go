package views

import (
	"context"
	"io"
	"strings"
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
