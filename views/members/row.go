package members

import (
	"context"
	"encoding/hex"
	"io"
	"sync"

	"github.com/google/uuid"

	"github.com/atrium-dev/atrium/store"
	"github.com/atrium-dev/atrium/views"
)

// memberRow is one row of the member list: name (and "you" on the viewer's
// own), email, role, joined, and for those who manage members a link to the
// member's page. It is built in a pooled buffer and written at once rather
// than rendered as templ markup: templ boxes and escapes each attribute
// value on its own (the row's id and link), and the id and date would each
// be a string of their own, six allocations a row, which on a page of 50
// rows cost more than the rows' text. TestMemberRow holds it to the markup.
type memberRow struct {
	m      *store.Member
	self   bool   // the viewer's own row: no link to manage yourself
	manage bool   // the viewer may manage members: the links' column
	url    string // the prefix of a member's page, ".../members/"
}

var rowBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (r memberRow) Render(_ context.Context, w io.Writer) error {
	bp := rowBuffers.Get().(*[]byte)
	defer rowBuffers.Put(bp)
	b := append((*bp)[:0], `<tr data-member="`...)
	b = appendUUID(b, r.m.ID)
	b = append(b, `"><td><span data-testid="member-name">`...)
	b = views.AppendText(b, r.m.Name)
	b = append(b, `</span> `...)
	if r.self {
		b = append(b, `<span class="badge badge-neutral">you</span>`...)
	}
	b = append(b, `</td><td>`...)
	b = views.AppendText(b, r.m.Email)
	b = append(b, `</td><td>`...)
	b = roleBadge(r.m.Role, r.m.DisplayRole()).appendTo(b)
	b = append(b, `</td><td>`...)
	b = views.AppendDate(b, r.m.CreatedAt)
	b = append(b, `</td>`...)
	if r.manage {
		b = append(b, `<td>`...)
		if !r.self {
			b = append(b, `<a class="btn btn-secondary" href="`...)
			b = views.AppendText(b, r.url)
			b = appendUUID(b, r.m.ID)
			b = append(b, `" data-testid="manage-member">Manage <span class="visually-hidden">member `...)
			b = views.AppendText(b, r.m.Name)
			b = append(b, `</span></a>`...)
		}
		b = append(b, `</td>`...)
	}
	b = append(b, `</tr>`...)
	*bp = b
	_, err := w.Write(b)
	return err
}

// appendUUID appends id as id.String() gives it.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = hex.AppendEncode(b, id[:4])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[4:6])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[6:8])
	b = append(b, '-')
	b = hex.AppendEncode(b, id[8:10])
	b = append(b, '-')
	return hex.AppendEncode(b, id[10:])
}
