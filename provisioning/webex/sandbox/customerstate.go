package sandbox

import (
	"slices"
	"time"
)

type customer struct {
	seq          int
	id, orgID    string
	subPartner   string // onBehalfOfSubPartnerOrgId at create; "" = the partner itself
	externalID   string
	name, email  string
	address      address
	packages     []string
	calling      *callingLocation
	created      time.Time
	rplUntil     time.Time // pending_rpl_review before this
	readyAt      time.Time // provisioning (or updating) before this
	phase        string    // "provisioning", "updating" or "deleting"
	outcome      string    // how the provisioning round ends: "" = provisioned, or statusWithErrors, statusError
	deleteAt     time.Time
	materialized bool // this provisioning round's side effects (HQ location, numbers) exist
	orgLive      bool // provisioned once: the org takes locations and numbers from then on
	errors       []errorObj
}

const (
	statusProvisioned = "provisioned"
	statusWithErrors  = "provisioned_with_errors"
	statusError       = "error"
)

// Codes and words of injected provisioning failures. 2560 and its text are Cisco's own
// example of a provisioned_with_errors customer; 400130 is the sandbox's.
const (
	codeMaintenance    = 2560
	textMaintenance    = "One or more Webex Calling services are unavailable due to maintenance, unable to start provisioning. Consult status.webex.com and retry later."
	codeProvisionFail  = 400130
	textProvisionFails = "The customer could not be provisioned: creating the organization failed."
)

func (cu *customer) status(now time.Time) string {
	switch {
	case cu.phase == "deleting":
		return "deleting"
	case now.Before(cu.rplUntil):
		return "pending_rpl_review"
	case now.Before(cu.readyAt):
		return cu.phase
	case cu.outcome != "":
		return cu.outcome
	}
	return statusProvisioned
}

// failingPackage is the package an injected failure is reported on: the first calling
// package (Cisco's example reports webex_calling), else the first package.
func (cu *customer) failingPackage() string {
	if i := slices.IndexFunc(cu.packages, isCalling); i >= 0 {
		return cu.packages[i]
	}
	if len(cu.packages) > 0 {
		return cu.packages[0]
	}
	return ""
}

type customerOut struct {
	ID              string          `json:"id"`
	OrgID           string          `json:"orgId,omitempty"`
	ExternalID      string          `json:"externalId"`
	Address         address         `json:"address"`
	Status          string          `json:"status"`
	Packages        []string        `json:"packages"`
	ResourceDetails resourceDetails `json:"resourceDetails"`
	Errors          []errorObj      `json:"errors,omitempty"`
}

type resourceDetails struct {
	Packages []packageOut `json:"packages"`
}

type packageOut struct {
	Name     string     `json:"name"`
	Status   string     `json:"status"`
	Warnings []errorObj `json:"warnings"`
	Errors   []errorObj `json:"errors"`
}

func (cu *customer) out(now time.Time) customerOut {
	st := cu.status(now)
	o := customerOut{ID: cu.id, ExternalID: cu.externalID, Address: cu.address, Status: st, Packages: cu.packages, Errors: cu.errors}
	pkgStatus := "provisioning"
	switch st {
	case statusProvisioned, statusWithErrors:
		o.OrgID = cu.orgID
		pkgStatus = statusProvisioned
	case "updating":
		o.OrgID = cu.orgID
	case "deleting":
		o.OrgID = cu.orgID
		pkgStatus = "deleting"
	case statusError:
		// Assumption: a customer that failed has no org to name.
		pkgStatus = statusError
	}
	failing := cu.failingPackage()
	for _, p := range cu.packages {
		po := packageOut{Name: p, Status: pkgStatus, Warnings: []errorObj{}, Errors: []errorObj{}}
		switch {
		case p == failing && st == statusWithErrors:
			// As in Cisco's example: the package is in error and the cause is a warning.
			po.Status = statusError
			po.Warnings = []errorObj{{ErrorCode: codeMaintenance, Description: textMaintenance}}
		case p == failing && st == statusError:
			po.Errors = []errorObj{{ErrorCode: codeProvisionFail, Description: textProvisionFails}}
		}
		o.ResourceDetails.Packages = append(o.ResourceDetails.Packages, po)
	}
	return o
}

// visible reports whether the call may see cu: a customer belongs to the sub-partner it
// was created for. Assumption: Webex scopes wholesale customers (and so their
// subscribers) by onBehalfOfSubPartnerOrgId, so a call for another sub-partner, or for
// the partner itself, does not see them.
func (c *call) visible(cu *customer) bool {
	return cu != nil && cu.subPartner == c.r.URL.Query().Get("onBehalfOfSubPartnerOrgId")
}

// advance brings every customer up to now: customers whose provisioning round ended get
// their org's side effects once, deleted ones disappear. Called under s.mu on every call,
// so progress needs no timers.
func (s *Sandbox) advance(now time.Time) {
	for id, cu := range s.customers {
		if cu.phase == "deleting" {
			if !now.Before(cu.deleteAt) {
				s.removeCustomer(id)
			}
			continue
		}
		if cu.materialized {
			continue
		}
		switch cu.status(now) {
		case statusProvisioned:
			cu.materialized, cu.orgLive, cu.phase = true, true, ""
			if anyCalling(cu.packages) && cu.calling != nil && s.hqLocation(cu.orgID) == nil {
				s.createHQ(cu, now)
			}
		case statusWithErrors:
			// The org exists, but calling did not come up: no HQ calling location
			// until an update provisions the customer.
			cu.materialized, cu.orgLive, cu.phase = true, true, ""
		case statusError:
			cu.materialized, cu.phase = true, ""
		}
	}
}

func (s *Sandbox) removeCustomer(id string) {
	for sid, sub := range s.subscribers {
		if sub.customerID == id {
			s.releaseNumber(sub)
			delete(s.subscribers, sid)
		}
	}
	delete(s.customers, id)
}
