package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/onboardbot/onboardbot/provisioning/request"
)

// rowsPerCommand bounds the fields of one HSET, so a 2,000-row save is a few
// moderate commands in one round trip rather than one huge argument list.
const rowsPerCommand = 200

// rowsKey holds a batch request's per-row outcomes: a hash, field = the row's
// line, value = its RowOutcome as JSON. It shares the request's hash tag, so
// a script that touches the request and its rows stays in one slot, and like
// the request's other keys it has no TTL (requests are kept for the audit).
func (s *Store) rowsKey(id int64) string { return s.reqTag(id) + ":rows" }

// SaveRowOutcomes records (or overwrites) the outcomes of rows of request
// requestID. Rows are written in HSETs of at most rowsPerCommand fields,
// pipelined; each row is written whole, so a reader never sees half a row.
func (s *Store) SaveRowOutcomes(ctx context.Context, requestID int64, rows []request.RowOutcome) error {
	if len(rows) == 0 {
		return nil
	}
	key := s.rowsKey(requestID)
	p := s.rdb.Pipeline()
	for start := 0; start < len(rows); start += rowsPerCommand {
		chunk := rows[start:min(start+rowsPerCommand, len(rows))]
		args := make([]any, 0, 2*len(chunk))
		for _, r := range chunk {
			b, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("save rows of %s: row %d: %w", request.FormatID(requestID), r.Line, err)
			}
			args = append(args, strconv.Itoa(r.Line), string(b))
		}
		p.HSet(ctx, key, args...)
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("save rows of %s: %w", request.FormatID(requestID), err)
	}
	return nil
}

// RowOutcomes returns the stored outcomes of request requestID by line; an
// empty map when none were saved. A damaged entry is reported through the
// error handler and left out: the row then counts as not tried, and the
// commit's lookup by email keeps it from being created twice.
func (s *Store) RowOutcomes(ctx context.Context, requestID int64) (map[int]request.RowOutcome, error) {
	fields, err := s.rdb.HGetAll(ctx, s.rowsKey(requestID)).Result()
	if err != nil {
		return nil, fmt.Errorf("read rows of %s: %w", request.FormatID(requestID), err)
	}
	out := make(map[int]request.RowOutcome, len(fields))
	for k, v := range fields {
		line, err := strconv.Atoi(k)
		var o request.RowOutcome
		if err == nil {
			err = json.Unmarshal([]byte(v), &o)
		}
		if err != nil {
			s.onError("read rows of "+request.FormatID(requestID)+": field "+strconv.Quote(k), err)
			continue
		}
		o.Line = line
		out[line] = o
	}
	return out, nil
}
