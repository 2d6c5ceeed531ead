package secretstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/hookgate/caddy-hookgate/integrations"
)

// Static is a Fetcher over records written in the Caddyfile's `integration`
// blocks. It never changes after NewStatic and is safe for concurrent use.
type Static struct {
	records map[string]integrations.Record
	ids     []string
}

// NewStatic validates each record and indexes it by id. An invalid record or
// a duplicate id is an error (wrapping integrations.ErrInvalidRecord for the
// former); errors never include secret values.
func NewStatic(records []integrations.Record) (*Static, error) {
	s := &Static{records: make(map[string]integrations.Record, len(records))}
	for i := range records {
		r := cloneRecord(records[i])
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("static integration #%d: %w", i+1, err)
		}
		if _, dup := s.records[r.ID]; dup {
			return nil, fmt.Errorf("static integration %s is defined twice", r.ID)
		}
		s.records[r.ID] = r
		s.ids = append(s.ids, r.ID)
	}
	slices.Sort(s.ids)
	return s, nil
}

// Fetch returns a copy of the record of id, or ErrNotFound.
func (s *Static) Fetch(_ context.Context, id string) (integrations.Record, error) {
	r, ok := s.records[id]
	if !ok {
		return integrations.Record{}, ErrNotFound
	}
	return cloneRecord(r), nil
}

// IDs lists the integration ids, sorted. The slice is the caller's.
func (s *Static) IDs() []string { return slices.Clone(s.ids) }

// cloneRecord copies r so that neither side's slices alias the other's.
func cloneRecord(r integrations.Record) integrations.Record {
	r.Branches = slices.Clone(r.Branches)
	r.Scans = slices.Clone(r.Scans)
	r.DoneStates = slices.Clone(r.DoneStates)
	return r
}

var _ Fetcher = (*Static)(nil)
