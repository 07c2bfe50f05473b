package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Search returns a list's search (?q=), trimmed and at most 100 bytes.
func Search(c echo.Context) string {
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 100 {
		q = q[:100]
	}
	return q
}

// Paging is offset pagination of a list: the page asked for and the number
// of rows a page.
type Paging struct {
	Page, Size int
}

// PagingOf reads the page of a list of size rows a page from ?page=; a
// missing or bad value is the first page.
func PagingOf(c echo.Context, size int) Paging {
	page, _ := strconv.Atoi(c.QueryParam("page"))
	return Paging{Page: max(page, 1), Size: size}
}

// Offset is the number of rows before the page.
func (p Paging) Offset() int { return (p.Page - 1) * p.Size }

// Links returns the URLs of the previous and next pages (path, then query
// with the page set) and the summary of a page showing shown rows, such as
// "51–100 of 240" ("of about 240" when the total is an estimate). A link
// that leads nowhere, and the summary of an empty page, are "".
func (p Paging) Links(path string, query url.Values, total, shown int, approx bool) (prev, next, summary string) {
	link := func(page int) string {
		v := url.Values{}
		for k, vs := range query {
			if len(vs) > 0 && vs[0] != "" {
				v[k] = vs
			}
		}
		v.Set("page", strconv.Itoa(page))
		return path + "?" + v.Encode()
	}
	if p.Page > 1 {
		prev = link(p.Page - 1)
	}
	if p.Page*p.Size < total {
		next = link(p.Page + 1)
	}
	if shown > 0 {
		about := ""
		if approx {
			about = "about "
		}
		first := p.Offset() + 1
		summary = fmt.Sprintf("%d–%d of %s%d", first, first+shown-1, about, total)
	}
	return prev, next, summary
}
