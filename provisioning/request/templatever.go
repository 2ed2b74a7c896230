package request

import (
	"time"
)

// Template version states.
const (
	TemplatePending = "pending" // approved, waiting for its Partner Hub provisioning id
	TemplateActive  = "active"
	TemplateRetired = "retired"
)

// TemplateVersion is one approved version of an onboarding template: the
// settings that were approved and, once active, the Partner Hub
// provisioning id customers are created with.
type TemplateVersion struct {
	Name           string       `json:"name"`
	Version        int          `json:"version"`
	RequestID      int64        `json:"requestId"` // the `template new` request
	Status         string       `json:"status"`
	ProvisioningID string       `json:"provisioningId,omitempty"`
	Spec           TemplateSpec `json:"spec"`
	ActivatedBy    string       `json:"activatedBy,omitempty"`
	ActivatedAt    time.Time    `json:"activatedAt,omitzero"`
}

// Defaults are what a customer created from this version inherits.
func (tv *TemplateVersion) Defaults() TemplateDefaults {
	d := tv.Spec.Defaults()
	d.Name, d.Version, d.ProvisioningID = tv.Name, tv.Version, tv.ProvisioningID
	return d
}
