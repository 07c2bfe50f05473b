package store

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// SessionCodec encodes session data as compact JSON with each value's type
// recorded, so values come back as the Go type they went in as. It replaces
// scs's gob codec, which compiles a decoder on every request (a tenth of a
// page view's CPU in a profile): sessions hold a few strings and numbers,
// and only these types are accepted.
type SessionCodec struct{}

type wireSession struct {
	Deadline time.Time            `json:"d"`
	Values   map[string]wireValue `json:"v"`
}

type wireValue struct {
	Type  string          `json:"t"`
	Value json.RawMessage `json:"v"`
}

// Encode implements scs.Codec.
func (SessionCodec) Encode(deadline time.Time, values map[string]interface{}) ([]byte, error) {
	w := wireSession{Deadline: deadline, Values: make(map[string]wireValue, len(values))}
	for k, v := range values {
		var t string
		switch v.(type) {
		case string:
			t = "s"
		case []string:
			t = "ss"
		case int64:
			t = "i64"
		case int:
			t = "i"
		case bool:
			t = "b"
		case float64:
			t = "f"
		case time.Time:
			t = "time"
		default:
			return nil, fmt.Errorf("store: session value %q has unsupported type %T", k, v)
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("store: encode session value %q: %w", k, err)
		}
		w.Values[k] = wireValue{Type: t, Value: raw}
	}
	return json.Marshal(w)
}

// Decode implements scs.Codec. It remembers its last few thousand results
// by content: a signed-in member's page views bring the same session bytes
// again and again (the entry cache hands them out unchanged), and decoding
// them was 7% of a dashboard view's CPU. Each caller gets its own copy of
// the values, which scs modifies in place.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	d, ok := recentSessions.get(b)
	if !ok {
		var err error
		if d.deadline, d.values, err = decodeSession(b); err != nil {
			return time.Time{}, nil, err
		}
		recentSessions.put(b, decoded{d.deadline, copyValues(d.values)})
		return d.deadline, d.values, nil
	}
	return d.deadline, copyValues(d.values), nil
}

// recentSessions is Decode's memory of its last few thousand results.
var recentSessions = newContentMemo[decoded](4096)

type decoded struct {
	deadline time.Time
	values   map[string]interface{}
}

// copyValues copies session values deeply enough that changing the copy
// leaves the original as it was: every accepted type but []string is a
// value.
func copyValues(values map[string]interface{}) map[string]interface{} {
	c := maps.Clone(values)
	for k, v := range c {
		if ss, ok := v.([]string); ok {
			c[k] = slices.Clone(ss)
		}
	}
	return c
}

func decodeSession(b []byte) (time.Time, map[string]interface{}, error) {
	var w wireSession
	if err := json.Unmarshal(b, &w); err != nil {
		return time.Time{}, nil, fmt.Errorf("store: decode session: %w", err)
	}
	values := make(map[string]interface{}, len(w.Values))
	for k, wv := range w.Values {
		var v any
		var err error
		switch wv.Type {
		case "s":
			v, err = decodeAs[string](wv.Value)
		case "ss":
			v, err = decodeAs[[]string](wv.Value)
		case "i64":
			v, err = decodeAs[int64](wv.Value)
		case "i":
			v, err = decodeAs[int](wv.Value)
		case "b":
			v, err = decodeAs[bool](wv.Value)
		case "f":
			v, err = decodeAs[float64](wv.Value)
		case "time":
			v, err = decodeAs[time.Time](wv.Value)
		default:
			err = fmt.Errorf("unknown type %q", wv.Type)
		}
		if err != nil {
			return time.Time{}, nil, fmt.Errorf("store: decode session value %q: %w", k, err)
		}
		values[k] = v
	}
	return w.Deadline, values, nil
}

// decodeAs decodes one session value as the Go type it was encoded from.
func decodeAs[T any](raw json.RawMessage) (any, error) {
	var v T
	err := json.Unmarshal(raw, &v)
	return v, err
}
