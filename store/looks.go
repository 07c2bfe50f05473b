package store

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// looks remembers, per operator and organization, until when a look this
// server recorded or found in the audit log covers the operator's next
// looks (OperatorLook records one per lookWindow): until then, opening the
// organization again needs no statement to tell that nothing is to be
// recorded. The audit log is append-only and an organization's id is never
// reused, so what is remembered stays true; a server that remembers nothing
// asks the database, which holds the answer.
type looks struct {
	mu    sync.Mutex
	until map[look]time.Time
}

type look struct{ operator, tenant uuid.UUID }

// maxLooks bounds what is remembered: past it, the looks that no longer
// cover anything go, and if none is that old, all of them go (the next
// look at each asks the database again).
const maxLooks = 10_000

// covered tells whether a look by operator at tenant is known to be
// recorded and to cover now.
func (l *looks) covered(operator, tenant uuid.UUID, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Before(l.until[look{operator, tenant}])
}

// note remembers that a recorded look by operator at tenant covers later
// looks until until.
func (l *looks) note(operator, tenant uuid.UUID, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.until == nil {
		l.until = make(map[look]time.Time)
	}
	k := look{operator, tenant}
	if _, ok := l.until[k]; !ok && len(l.until) >= maxLooks {
		now := time.Now()
		for k, u := range l.until {
			if !now.Before(u) {
				delete(l.until, k)
			}
		}
		if len(l.until) >= maxLooks {
			clear(l.until)
		}
	}
	l.until[k] = until
}
