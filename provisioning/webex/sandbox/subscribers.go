package sandbox

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

type subscriberRequest struct {
	CustomerID             string            `json:"customerId"`
	ProvisioningID         string            `json:"provisioningId"`
	Email                  string            `json:"email"`
	Package                string            `json:"package"`
	Packages               []string          `json:"packages"`
	ProvisioningParameters *subscriberParams `json:"provisioningParameters"`
	CustomerInfo           *struct {
		PrimaryEmail string `json:"primaryEmail"`
	} `json:"customerInfo"`
}

type subscriberParams struct {
	FirstName          string `json:"firstName"`
	LastName           string `json:"lastName"`
	PrimaryPhoneNumber string `json:"primaryPhoneNumber"`
	Extension          string `json:"extension"`
	LocationID         string `json:"locationId"`
}

type subscriber struct {
	seq                 int
	id, personID        string
	customerID          string
	email               string
	firstName, lastName string
	pkg                 string
	phone, extension    string
	locationID          string
	status              string // provisioned or pending_user_migration
	errors              []errorObj
	created, changed    time.Time
}

type subscriberOut struct {
	ID                 string     `json:"id"`
	PersonID           string     `json:"personId"`
	Email              string     `json:"email"`
	CustomerID         string     `json:"customerId"`
	ExternalCustomerID string     `json:"externalCustomerId"`
	Package            string     `json:"package,omitempty"`
	Packages           []string   `json:"packages"`
	Status             string     `json:"status"`
	Errors             []errorObj `json:"errors,omitempty"`
	Created            string     `json:"created"`
	LastStatusChange   string     `json:"lastStatusChange"`
}

func (s *Sandbox) subscriberOut(sub *subscriber) subscriberOut {
	o := subscriberOut{ID: sub.id, PersonID: sub.personID, Email: sub.email, CustomerID: sub.customerID,
		Packages: []string{sub.pkg}, Status: sub.status, Errors: sub.errors,
		Created: sub.created.UTC().Format(time.RFC3339Nano), LastStatusChange: sub.changed.UTC().Format(time.RFC3339Nano)}
	if cu := s.customers[sub.customerID]; cu != nil {
		o.ExternalCustomerID = cu.externalID
	}
	// The deprecated single field's enum lacks attendant_console and the cx_*_agent
	// packages (the spec's Subscriber schema): leave it out for those.
	if slices.Contains(legacySubscriberPackages, sub.pkg) {
		o.Package = sub.pkg
	}
	return o
}

// onePackage resolves `packages: [one]` and the deprecated `package` to the single package
// a user may have. The spec's descriptions of create, update and precheck all say "Either
// packages or package field is required but not both", while the schemas require neither.
// Assumption: the description is what Webex enforces, for all three operations.
func (p *problems) onePackage(pkg string, pkgs []string) string {
	switch {
	case pkg != "" && pkgs != nil:
		p.add("give either packages or package, not both")
		return ""
	case len(pkgs) > 1:
		p.add("packages lists %d packages; a user has exactly one", len(pkgs))
		return ""
	case len(pkgs) == 1 && pkg != "" && pkg != pkgs[0]:
		p.add("package %q and packages %q disagree", pkg, pkgs[0])
		return ""
	case len(pkgs) == 1:
		pkg = pkgs[0]
	}
	switch {
	case pkg == "":
		p.add("packages is required: the user's one package")
	case pkg != "" && !slices.Contains(subscriberPackages, pkg):
		p.add("package %q is not a wholesale subscriber package", pkg)
	}
	return pkg
}

// checkSubscriber validates a user's package, phone and location against the customer.
// self is the subscriber being updated (nil on create). It returns the resolved location.
func (s *Sandbox) checkSubscriber(p *problems, cu *customer, self *subscriber, pkg string, pp *subscriberParams) string {
	if pkg != "" && !slices.Contains(cu.packages, pkg) {
		p.add("package %s is not one of the customer's packages (%s)", pkg, strings.Join(cu.packages, ", "))
	}
	var phone, ext, locID string
	if pp != nil {
		phone, ext, locID = pp.PrimaryPhoneNumber, pp.Extension, pp.LocationID
	}
	if self != nil {
		if phone == "" && pp == nil {
			phone = self.phone
		}
		if ext == "" && pp == nil {
			ext = self.extension
		}
		if locID == "" {
			locID = self.locationID
		}
	}
	if pkg == "" || !isCalling(pkg) {
		return locID
	}
	if phone == "" && ext == "" {
		p.add("package %s needs provisioningParameters.primaryPhoneNumber or extension", pkg)
	}
	if ext != "" && !extension.MatchString(ext) {
		p.add("extension %q is not 2 to 10 digits", ext)
	}
	loc := s.locations[locID]
	switch {
	case locID == "":
		if loc = s.hqLocation(cu.orgID); loc == nil {
			p.add("the customer has no calling location for package %s", pkg)
			return ""
		}
	case loc == nil || loc.orgID != cu.orgID:
		p.add("locationId %q is not a location of the customer", locID)
		return ""
	case !loc.calling:
		p.add("location %s is not enabled for Webex Calling", loc.name)
		return ""
	}
	if phone != "" {
		n := s.numbers[phone]
		switch {
		case !e164.MatchString(phone):
			p.add("primaryPhoneNumber %q is not in E.164 format", phone)
		case n == nil || n.locationID != loc.id:
			p.add("primaryPhoneNumber %s is not a number of location %s", phone, loc.name)
		case n.owner != "" && (self == nil || n.owner != self.id):
			p.add("primaryPhoneNumber %s is already assigned", phone)
		}
	}
	if ext != "" {
		for _, o := range s.subscribers {
			if o != self && o.extension == ext && o.locationID == loc.id {
				p.add("extension %s is already used in location %s", ext, loc.name)
			}
		}
	}
	return loc.id
}

// subscriberCustomer finds the customer of a subscriber request: 404 when unknown, 409
// while it is not provisioned.
func (s *Sandbox) subscriberCustomer(c *call, id string) (*customer, *response) {
	cu := s.customers[id]
	if !c.visible(cu) {
		return nil, c.fail(http.StatusNotFound, "Customer not found.")
	}
	if st := cu.status(c.now); st != "provisioned" {
		return nil, c.fail(http.StatusConflict, "The customer is "+st+"; users can be added once it is provisioned.")
	}
	return cu, nil
}

// emailConflict: a user belongs to one customer only; 10022 = email already linked.
func (s *Sandbox) emailConflict(c *call, cu *customer, email string, self *subscriber) *response {
	for _, o := range s.subscribers {
		if o == self || !strings.EqualFold(o.email, email) {
			continue
		}
		if o.customerID == cu.id {
			return c.fail(http.StatusConflict, "A subscriber with this email already exists for the customer.")
		}
		return c.failCode(http.StatusConflict, 10022, "The email is already linked to a user of another organization.")
	}
	return nil
}

func (s *Sandbox) createSubscriber(c *call) *response {
	var req subscriberRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	var bad problems
	if req.CustomerID == "" {
		bad.add("customerId is required")
	}
	bad.email("email", req.Email)
	pkg := bad.onePackage(req.Package, req.Packages)
	pp := req.ProvisioningParameters
	if pp == nil {
		bad.add("provisioningParameters is required")
	} else {
		if strings.TrimSpace(pp.FirstName) == "" {
			bad.add("provisioningParameters.firstName is required")
		}
		if strings.TrimSpace(pp.LastName) == "" {
			bad.add("provisioningParameters.lastName is required")
		}
	}
	if req.ProvisioningID != "" || req.CustomerInfo != nil {
		bad.add("provisioningId and customerInfo belong to the precheck only")
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	cu, resp := s.subscriberCustomer(c, req.CustomerID)
	if resp != nil {
		return resp
	}
	if resp := s.emailConflict(c, cu, req.Email, nil); resp != nil {
		return resp
	}
	locID := s.checkSubscriber(&bad, cu, nil, pkg, pp)
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	sub := &subscriber{id: s.newID("SUBSCRIBER"), personID: s.newID("PEOPLE"), customerID: cu.id, email: req.Email,
		firstName: pp.FirstName, lastName: pp.LastName, pkg: pkg, phone: pp.PrimaryPhoneNumber,
		extension: pp.Extension, status: "provisioned", created: c.now, changed: c.now}
	sub.seq = s.seq
	if isCalling(pkg) {
		sub.locationID = locID
	}
	status := http.StatusOK
	if s.opts.Migration != nil && s.opts.Migration.MatchString(req.Email) {
		sub.status, status = "pending_user_migration", http.StatusAccepted
	}
	s.subscribers[sub.id] = sub
	if s.entitlementFails(sub) {
		status = http.StatusOK
	} else {
		s.assignNumber(sub)
	}
	s.stats.SubscriberCreates++
	resp = c.json(status, s.subscriberOut(sub))
	resp.header.Set("Location", baseURL(c.r)+"/wholesale/subscribers/"+sub.id)
	return resp
}

// codeEntitlement is the sandbox's code for a subscriber --subscriber-errors picks.
const codeEntitlement = 400140

// entitlementFails applies --subscriber-errors: the subscriber exists, but its package
// was not applied and the answer carries an errors array. Assumption: Webex answers such
// a partial failure with its success status and status provisioned (the Subscriber
// schema's status has no error value), so only errors tells that it failed.
func (s *Sandbox) entitlementFails(sub *subscriber) bool {
	sub.errors = nil
	if s.opts.SubscriberErrors == nil || !s.opts.SubscriberErrors.MatchString(sub.email) {
		return false
	}
	sub.status = "provisioned"
	sub.errors = []errorObj{{ErrorCode: codeEntitlement,
		Description: "The " + sub.pkg + " package could not be applied to " + sub.email + ": entitlement failed."}}
	return true
}

func (s *Sandbox) assignNumber(sub *subscriber) {
	if n := s.numbers[sub.phone]; n != nil {
		n.owner = sub.id
	}
}

func (s *Sandbox) releaseNumber(sub *subscriber) {
	if n := s.numbers[sub.phone]; n != nil && n.owner == sub.id {
		n.owner = ""
	}
}

// subscriber finds the subscriber of the path among those of this call's sub-partner.
func (s *Sandbox) subscriber(c *call) (*subscriber, *response) {
	sub := s.subscribers[c.params["subscriberId"]]
	if sub == nil || !c.visible(s.customers[sub.customerID]) {
		return nil, c.fail(http.StatusNotFound, "Subscriber not found.")
	}
	return sub, nil
}

func (s *Sandbox) getSubscriber(c *call) *response {
	sub, resp := s.subscriber(c)
	if resp != nil {
		return resp
	}
	return c.json(http.StatusOK, s.subscriberOut(sub))
}

func (s *Sandbox) listSubscribers(c *call) *response {
	q := c.r.URL.Query()
	var bad problems
	offset, max := paging(&bad, q.Get("offset"), q.Get("max"), pageLimit{def: 50, limit: 100, refuse: true})
	if st := q.Get("status"); st != "" && st != "provisioned" && st != "pending_user_migration" && st != "error" {
		bad.add("status %q is not a subscriber status", st)
	}
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	var all []*subscriber
	for _, sub := range s.subscribers {
		cu := s.customers[sub.customerID]
		switch {
		case !c.visible(cu),
			q.Get("customerId") != "" && sub.customerID != q.Get("customerId"),
			q.Get("email") != "" && !strings.EqualFold(sub.email, q.Get("email")),
			q.Get("status") != "" && sub.status != q.Get("status"),
			q.Get("personId") != "" && sub.personID != q.Get("personId"),
			q.Get("externalCustomerId") != "" && (cu == nil || cu.externalID != q.Get("externalCustomerId")):
			continue
		}
		all = append(all, sub)
	}
	slices.SortFunc(all, func(a, b *subscriber) int { return a.seq - b.seq })
	return listAnswer(s, c, "items", all, "offset", offset, max, s.subscriberOut)
}

func (s *Sandbox) updateSubscriber(c *call) *response {
	sub, resp := s.subscriber(c)
	if resp != nil {
		return resp
	}
	var req subscriberRequest
	if resp := c.decode(&req); resp != nil {
		return resp
	}
	var bad problems
	if req.CustomerID != "" || req.Email != "" || req.ProvisioningID != "" || req.CustomerInfo != nil {
		bad.add("only package, packages and provisioningParameters can be updated")
	}
	pp := req.ProvisioningParameters
	if pp != nil && (pp.FirstName != "" || pp.LastName != "") {
		bad.add("firstName and lastName cannot be updated here")
	}
	pkg := bad.onePackage(req.Package, req.Packages)
	cu := s.customers[sub.customerID]
	if cu == nil {
		return c.fail(http.StatusNotFound, "Customer not found.")
	}
	locID := s.checkSubscriber(&bad, cu, sub, pkg, pp)
	if len(bad) > 0 {
		return c.fail(http.StatusBadRequest, "The request is invalid.", bad...)
	}
	s.releaseNumber(sub)
	sub.pkg, sub.changed = pkg, c.now
	if pp != nil {
		sub.phone, sub.extension = pp.PrimaryPhoneNumber, pp.Extension
	}
	sub.locationID = ""
	if isCalling(pkg) {
		sub.locationID = locID
	} else {
		sub.phone, sub.extension = "", ""
	}
	if !s.entitlementFails(sub) {
		s.assignNumber(sub)
	}
	return c.json(http.StatusOK, s.subscriberOut(sub))
}

func (s *Sandbox) deleteSubscriber(c *call) *response {
	sub, resp := s.subscriber(c)
	if resp != nil {
		return resp
	}
	s.releaseNumber(sub)
	delete(s.subscribers, sub.id)
	return c.empty(http.StatusNoContent)
}

// consentMove resends the consent email of a user waiting for migration.
func (s *Sandbox) consentMove(c *call) *response {
	sub, resp := s.subscriber(c)
	if resp != nil {
		return resp
	}
	if sub.status != "pending_user_migration" {
		return c.fail(http.StatusConflict, "The subscriber is not waiting for consent.")
	}
	s.stats.ConsentResends++
	return c.empty(http.StatusNoContent)
}
