package store

import (
	"encoding/json"
	"fmt"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// registerTypes teaches a connection's type map the store's faster codecs:
// uuids scanned straight into google/uuid, and jsonb decoded with
// goccy/go-json, which reads an audit event's details in a third of
// encoding/json's time (the audit page decodes 51 of them; encoding/json
// was 15% of its CPU), through a memory of recent flat objects.
func registerTypes(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
	m.RegisterType(&pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID,
		Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshalJSON}})
}

// unmarshalJSON decodes data into v. A flat object of strings (an audit
// event's details) comes from flatObjects: the same few details recur
// across a log, and decoding each copy was the largest part of scanning
// an audit page.
func unmarshalJSON(data []byte, v any) error {
	if m, ok := v.(*map[string]string); ok {
		return decodeFlatObject(data, m)
	}
	return gojson.Unmarshal(data, v)
}

// flatObjects remembers the maps of recently decoded flat objects, by
// content. Maps handed out are shared between every value decoded from the
// same text, so they must be read, never written (see AuditEvent.Details).
var flatObjects = newContentMemo[map[string]string](2048)

// decodeFlatObject decodes data into dst through flatObjects.
func decodeFlatObject(data []byte, dst *map[string]string) error {
	if m, ok := flatObjects.get(data); ok {
		*dst = m
		return nil
	}
	var m map[string]string
	if err := gojson.Unmarshal(data, &m); err != nil {
		return err
	}
	flatObjects.put(data, m)
	*dst = m
	return nil
}

// uuidCodec is pgx's uuid codec that also scans straight into google/uuid's
// UUID and sends one as its 16 bytes. Without it pgx takes the UUID's
// sql.Scanner and driver.Valuer paths, which format every id as text and
// parse it back: a few percent of a list page's CPU, and of every page
// with an id in its query.
type uuidCodec struct{ pgtype.UUIDCodec }

// PlanEncode implements pgtype.Codec.
func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if format == pgtype.BinaryFormatCode {
		switch value.(type) {
		case uuid.UUID, *uuid.UUID:
			return encodeBinaryUUID{}
		}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

type encodeBinaryUUID struct{}

func (encodeBinaryUUID) Encode(value any, buf []byte) ([]byte, error) {
	switch u := value.(type) {
	case uuid.UUID:
		return append(buf, u[:]...), nil
	case *uuid.UUID:
		if u == nil {
			return nil, nil // NULL
		}
		return append(buf, u[:]...), nil
	}
	return nil, fmt.Errorf("cannot encode %T as a uuid", value)
}

// PlanScan implements pgtype.Codec.
func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*uuid.UUID); ok && format == pgtype.BinaryFormatCode {
		return scanBinaryUUID{}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type scanBinaryUUID struct{}

func (scanBinaryUUID) Scan(src []byte, dst any) error {
	if src == nil {
		return fmt.Errorf("cannot scan NULL into %T", dst)
	}
	if len(src) != 16 {
		return fmt.Errorf("invalid length for uuid: %d", len(src))
	}
	copy(dst.(*uuid.UUID)[:], src)
	return nil
}
