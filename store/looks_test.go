package store

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestLooksBound: past maxLooks, what no longer covers anything goes
// first; when everything still covers, everything goes.
func TestLooksBound(t *testing.T) {
	var l looks
	now := time.Now()
	op := uuid.New()
	for i := range maxLooks {
		until := now.Add(time.Hour)
		if i%2 == 0 {
			until = now.Add(-time.Second)
		}
		l.note(op, uuid.New(), until)
	}
	covering := uuid.New()
	l.note(op, covering, now.Add(time.Hour))
	if len(l.until) != maxLooks/2+1 || !l.covered(op, covering, now) {
		t.Fatalf("%d remembered, want the %d that cover and the new one", len(l.until), maxLooks/2)
	}
	for len(l.until) < maxLooks {
		l.note(op, uuid.New(), now.Add(time.Hour))
	}
	l.note(op, uuid.New(), now.Add(time.Hour))
	if len(l.until) != 1 || l.covered(op, covering, now) {
		t.Fatalf("%d remembered when every look still covered; want only the new one", len(l.until))
	}
}
