package web

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestPaging(t *testing.T) {
	e := echo.New()
	for query, want := range map[string]int{"": 1, "page=3": 3, "page=0": 1, "page=-2": 1, "page=x": 1} {
		c := e.NewContext(httptest.NewRequest("GET", "/list?"+query, nil), httptest.NewRecorder())
		if got := PagingOf(c, 50).Page; got != want {
			t.Errorf("?%s: page %d, want %d", query, got, want)
		}
	}

	p := Paging{Page: 2, Size: 50}
	prev, next, summary := p.Links("/console/", url.Values{"q": {"acme co"}}, 240, 50, false)
	if prev != "/console/?page=1&q=acme+co" || next != "/console/?page=3&q=acme+co" || summary != "51–100 of 240" {
		t.Errorf("middle page: %q %q %q", prev, next, summary)
	}
	prev, next, summary = Paging{Page: 1, Size: 50}.Links("", url.Values{"q": {""}}, 100000, 50, true)
	if prev != "" || next != "?page=2" || summary != "1–50 of about 100000" {
		t.Errorf("first page of an estimate: %q %q %q", prev, next, summary)
	}
	prev, next, summary = Paging{Page: 5, Size: 20}.Links("/console/outbox", nil, 90, 10, false)
	if prev != "/console/outbox?page=4" || next != "" || summary != "81–90 of 90" {
		t.Errorf("last page: %q %q %q", prev, next, summary)
	}
	if _, _, summary = (Paging{Page: 1, Size: 50}).Links("", nil, 0, 0, false); summary != "" {
		t.Errorf("empty list: summary %q", summary)
	}
}
