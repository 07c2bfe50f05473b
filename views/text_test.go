package views

import (
	"context"
	"html"
	"strings"
	"testing"
)

func TestTextEscapesLikeHTML(t *testing.T) {
	for _, s := range []string{"", "Ada Lovelace", `<script>alert("x")</script>`, "O'Brien & Sons", "ünïcode ✓"} {
		var b strings.Builder
		if err := Text(s).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), html.EscapeString(s); got != want {
			t.Errorf("Text(%q) = %q, want %q", s, got, want)
		}
	}
}
