package store

import "sync"

// contentMemo remembers decoded values by the bytes they were decoded from,
// up to max of them; when full it forgets one at random (Go's map order),
// which keeps the values that recur most without an LRU's bookkeeping. The
// session codec and the jsonb details decoder use it: both see the same few
// texts again and again.
type contentMemo[V any] struct {
	mu  sync.Mutex
	max int
	m   map[string]V
}

func newContentMemo[V any](max int) *contentMemo[V] {
	return &contentMemo[V]{max: max, m: make(map[string]V)}
}

// get returns the value remembered for b.
func (c *contentMemo[V]) get(b []byte) (V, bool) {
	c.mu.Lock()
	v, ok := c.m[string(b)]
	c.mu.Unlock()
	return v, ok
}

// put remembers v for b.
func (c *contentMemo[V]) put(b []byte, v V) {
	c.mu.Lock()
	if len(c.m) >= c.max {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[string(b)] = v
	c.mu.Unlock()
}
