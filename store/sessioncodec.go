package store

import (
	"encoding/json"
	"fmt"
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

// Decode implements scs.Codec.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	var w wireSession
	if err := json.Unmarshal(b, &w); err != nil {
		return time.Time{}, nil, fmt.Errorf("store: decode session: %w", err)
	}
	values := make(map[string]interface{}, len(w.Values))
	for k, wv := range w.Values {
		var err error
		switch wv.Type {
		case "s":
			var v string
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "ss":
			var v []string
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "i64":
			var v int64
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "i":
			var v int
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "b":
			var v bool
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "f":
			var v float64
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		case "time":
			var v time.Time
			err = json.Unmarshal(wv.Value, &v)
			values[k] = v
		default:
			err = fmt.Errorf("unknown type %q", wv.Type)
		}
		if err != nil {
			return time.Time{}, nil, fmt.Errorf("store: decode session value %q: %w", k, err)
		}
	}
	return w.Deadline, values, nil
}
