package views

import (
	"context"
	"html"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestTextEscapesLikeHTML(t *testing.T) {
	for _, s := range []string{"", "Ada Lovelace", `<script>alert("x")</script>`, "O'Brien & Sons", "ünïcode ✓", `&&'"<>`, "tail&"} {
		var b strings.Builder
		if err := Text(s).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if got, want := b.String(), html.EscapeString(s); got != want {
			t.Errorf("Text(%q) = %q, want %q", s, got, want)
		}
		if got, want := string(AppendText([]byte("<td>"), s)), "<td>"+html.EscapeString(s); got != want {
			t.Errorf("AppendText(%q) = %q, want %q", s, got, want)
		}
	}
}

// instants are the cases of a formatting test and a sweep of random ones
// from year −1 to 10,001, each checked against time.Format.
func instants(cases ...time.Time) []time.Time {
	r := rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		cases = append(cases, time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9)))
	}
	return cases
}

func TestUTCTime(t *testing.T) {
	for _, tc := range instants(
		time.Date(2026, 11, 27, 21, 5, 9, 999, time.UTC),
		time.Date(987, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600)),
		time.Date(12026, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Time{},
	) {
		var b strings.Builder
		if err := UTCTime(tc).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		u := tc.UTC()
		want := `<time datetime="` + u.Format("2006-01-02T15:04:05Z") + `">` + u.Format("2006-01-02 15:04:05") + `</time>`
		if b.String() != want {
			t.Errorf("UTCTime(%v) = %s, want %s", tc, b.String(), want)
		}
	}
}

func TestDate(t *testing.T) {
	for _, tc := range instants(
		time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), // 31 Dec 2025 in UTC
		time.Date(999, 12, 9, 0, 0, 0, 0, time.UTC),
	) {
		var b strings.Builder
		if err := Date(tc).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if want := tc.UTC().Format("2 Jan 2006"); b.String() != want || string(AppendDate(nil, tc)) != want {
			t.Errorf("Date(%v) = %s, AppendDate %s, want %s", tc, b.String(), AppendDate(nil, tc), want)
		}
	}
}

func TestDetails(t *testing.T) {
	for _, tc := range []struct {
		d    map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"role": "owner"}, "role: owner"},
		{map[string]string{"to": "admin", "from": "member"}, "from: member, to: admin"},
		{map[string]string{"j": "10", "i": "9", "h": "8", "g": "7", "f": "6", "e": "5", "d": "4", "c": "3", "b": "2", "a": "1"},
			"a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10"},
	} {
		if got := Details(tc.d, ": ", ", "); got != tc.want {
			t.Errorf("Details(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestChoices(t *testing.T) {
	c := NewChoices("Any action", []string{"auth.login", "a&b"})
	for _, tc := range []struct{ selected, want string }{
		{"", `<option value="" selected>Any action</option><option value="auth.login">auth.login</option><option value="a&amp;b">a&amp;b</option>`},
		{"a&b", `<option value="">Any action</option><option value="auth.login">auth.login</option><option value="a&amp;b" selected>a&amp;b</option>`},
		{"<unknown>", `<option value="" selected>Any action</option><option value="auth.login">auth.login</option><option value="a&amp;b">a&amp;b</option>`},
	} {
		var b strings.Builder
		if err := c.Selected(tc.selected).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("Selected(%q) =\n%s\nwant\n%s", tc.selected, b.String(), tc.want)
		}
	}
}
