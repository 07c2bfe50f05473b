package views

import (
	"context"
	"html"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// Choices is a fixed list of a select's options, rendered ahead of time once
// for each value that can be selected, so that a long list (the audit log's
// actions) costs a page one write instead of an attribute and a text per
// option.
type Choices struct {
	rendered map[string]string // selected value → the options
}

// NewChoices renders the options for values, led by an option with the
// value "" labelled none; each value is its own label.
func NewChoices(none string, values []string) *Choices {
	c := &Choices{rendered: make(map[string]string, len(values)+1)}
	for _, selected := range append([]string{""}, values...) {
		var b strings.Builder
		option := func(value, label string) {
			b.WriteString(`<option value="` + html.EscapeString(value) + `"`)
			if value == selected {
				b.WriteString(" selected")
			}
			b.WriteString(">" + html.EscapeString(label) + "</option>")
		}
		option("", none)
		for _, v := range values {
			option(v, v)
		}
		c.rendered[selected] = b.String()
	}
	return c
}

// Selected returns the options with value selected; an unknown value
// selects the first, as a browser would.
func (c *Choices) Selected(value string) templ.Component {
	html, ok := c.rendered[value]
	if !ok {
		html = c.rendered[""]
	}
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, html)
		return err
	})
}
