package cloudtrail

import (
	"fmt"

	"github.com/vigilsec/vigil/event"
)

// ParseRecord decodes one CloudTrail record held in memory (a JSON object,
// optionally surrounded by whitespace) into api, with the same rules as
// [Decoder.Next]. Strings and raw fields in api may alias rec, so rec must
// not be modified while api is in use. It allocates; use a [Decoder] for
// streams.
func ParseRecord(rec []byte, api *event.APICall) error {
	d := &Decoder{}
	i := skipWS(rec, 0)
	if i >= len(rec) || rec[i] != '{' {
		return ErrNotObject
	}
	resetAPI(api)
	end := d.decodeObject(rec, i, api, false)
	if err := parseEnd(rec, end); err != nil {
		return err
	}
	switch {
	case d.rs.ferr != nil:
		return fmt.Errorf("field %s: %w", d.rs.ferr.field, d.rs.ferr.err)
	case !d.rs.hasTime:
		return fmt.Errorf("field eventTime: %w", ErrMissingField)
	case !d.rs.hasName:
		return fmt.Errorf("field eventName: %w", ErrMissingField)
	}
	return nil
}

// ParseIdentity decodes a CloudTrail userIdentity object into id. Strings in
// id may alias raw.
func ParseIdentity(raw []byte, id *event.UserIdentity) error {
	d := &Decoder{}
	i := skipWS(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return fmt.Errorf("userIdentity is not a JSON object")
	}
	*id = event.UserIdentity{}
	end := d.decodeIdentity(raw, i, id)
	if err := parseEnd(raw, end); err != nil {
		return err
	}
	if d.rs.ferr != nil {
		return fmt.Errorf("field %s: %w", d.rs.ferr.field, d.rs.ferr.err)
	}
	return nil
}

func parseEnd(b []byte, end int) error {
	if end == needMore {
		return fmt.Errorf("invalid JSON: unexpected end of input")
	}
	if end < 0 || skipWS(b, end) != len(b) {
		return fmt.Errorf("invalid JSON")
	}
	return nil
}
