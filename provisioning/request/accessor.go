package request

import (
	"encoding/json"
	"fmt"
)

// SpecOf decodes r's spec as T, the spec type of r's kind (CustomerSpec,
// UsersSpec, LocationSpec, …): the one way code reads a stored spec.
func SpecOf[T any](r *Request) (*T, error) {
	var v T
	if err := json.Unmarshal(r.Spec, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.Ref(), err)
	}
	return &v, nil
}

// Customer is the customer a setup request (users, location, PSTN,
// numbers, corrections) is for; false for other kinds and unreadable
// specs. Every setup spec names it in its "customer" field.
func (r *Request) Customer() (CustomerRef, bool) {
	if !SetupKind(r.Kind) {
		return CustomerRef{}, false
	}
	spec, err := SpecOf[struct {
		Customer CustomerRef `json:"customer"`
	}](r)
	if err != nil {
		return CustomerRef{}, false
	}
	return spec.Customer, true
}

// SetupKind reports whether requests of kind k set a customer up (they name
// their customer).
func SetupKind(k Kind) bool {
	switch k {
	case KindUsers, KindLocation, KindNumbers, KindPSTN, KindChange, KindRemove, KindDelete:
		return true
	}
	return false
}
