package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/onboardbot/onboardbot/provisioning/webex"
)

// precheckConcurrency bounds the parallel subscriber prechecks of one batch
// (WORKER_CONCURRENCY's default: the precheck shares the token's rate).
const precheckConcurrency = defaultConcurrency

// NotProvisionedYet is the precheck message of a batch whose customer has
// no Webex id yet: approval is allowed and the worker checks at commit.
const NotProvisionedYet = "customer not provisioned yet: users are checked at commit"

// PrecheckUsers is the background check of a user batch before approval:
// one list of the customer's subscribers (existing users, seats in use per
// package; Webex does not list the customer's admin, which is fine: the
// admin holds no seat of the ordered quantities) and one subscriber
// precheck per remaining row. A refused row is in RowErrors, naming the row
// and Webex's reason; a row whose email has a free Webex account is in
// Consent. While the customer is not provisioned the status is
// PrecheckUnavailable with NotProvisionedYet. An error means Webex could
// not be asked at all.
func PrecheckUsers(ctx context.Context, api SetupAPI, spec *request.UsersSpec) (UsersPrecheck, error) {
	ref := spec.Customer
	out := UsersPrecheck{Precheck: request.Precheck{At: time.Now().UTC()}}
	if ref.CustomerID == "" {
		out.Status, out.Message = request.PrecheckUnavailable, NotProvisionedYet
		return out, nil
	}
	subs, err := api.ListSubscribers(ctx, webex.SubscriberQuery{CustomerID: ref.CustomerID})
	if err != nil {
		return UsersPrecheck{}, fmt.Errorf("precheck users: %w", translate(err))
	}
	out.Provisioned = map[string]int{}
	existing := map[string]bool{}
	for _, s := range subs {
		existing[strings.ToLower(s.Email)] = true
		pkg := s.Package
		if len(s.Packages) > 0 {
			pkg = s.Packages[0]
		}
		if pkg != "" {
			out.Provisioned[pkg]++
		}
	}
	var locs []webex.Location
	if ref.OrgID != "" && slices.ContainsFunc(spec.Rows, func(r request.UserRow) bool { return request.CallingSubscriberPackage(r.Package) }) {
		// Without the location ids, rows are checked against the HQ; a
		// listing failure only makes the check less precise.
		locs, _ = api.ListLocations(ctx, ref.OrgID)
	}
	todo := out.setAside(spec.Rows, existing, locs)
	verdicts := checkRows(ctx, api, ref, locs, newNumberPool(api, ref.OrgID, explicitPhones(spec.Rows)), todo)
	out.tally(todo, verdicts, len(spec.Rows))
	if ctx.Err() != nil {
		return UsersPrecheck{}, fmt.Errorf("precheck users: %w", ctx.Err())
	}
	return out, nil
}

// setAside records the rows that need no subscriber precheck (users that
// exist, calling rows at a location the customer lacks) and returns the
// rest.
func (out *UsersPrecheck) setAside(rows []request.UserRow, existing map[string]bool, locs []webex.Location) []request.UserRow {
	var todo []request.UserRow
	for _, row := range rows {
		if existing[strings.ToLower(row.Email)] {
			out.Existing = append(out.Existing, row.Email)
			continue
		}
		if locs != nil && request.CallingSubscriberPackage(row.Package) && findLocation(locs, row.Location) == nil {
			if out.UnknownLocations == nil {
				out.UnknownLocations = map[string][]request.UserRow{}
			}
			out.UnknownLocations[row.Location] = append(out.UnknownLocations[row.Location], row)
			continue
		}
		todo = append(todo, row)
	}
	return todo
}

// checkRows prechecks rows at Webex, precheckConcurrency at a time. The
// numbers phone=auto rows would get are chosen first, in row order, as
// the commit gives them (nothing is reserved).
func checkRows(ctx context.Context, api SetupAPI, ref request.CustomerRef, locs []webex.Location, pool *numberPool, rows []request.UserRow) []rowVerdict {
	verdicts := make([]rowVerdict, len(rows))
	phones := make([]string, len(rows))
	for i, row := range rows {
		phones[i], verdicts[i] = autoNumber(ctx, pool, ref, locs, row)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(precheckConcurrency, len(rows)) {
		wg.Go(func() {
			for i := range next {
				if verdicts[i] == (rowVerdict{}) {
					verdicts[i] = precheckRow(ctx, api, ref, locs, rows[i], phones[i])
				}
			}
		})
	}
	for i := range rows {
		next <- i
	}
	close(next)
	wg.Wait()
	return verdicts
}

// tally records the verdicts on rows (of a batch of total rows) and sets
// the precheck's status: failed when Webex refused a row, unavailable when
// some could not be checked.
func (out *UsersPrecheck) tally(rows []request.UserRow, verdicts []rowVerdict, total int) {
	unchecked := 0
	var firstFault string
	for i, v := range verdicts {
		switch {
		case v.refusal != "":
			out.RowErrors = append(out.RowErrors, fmt.Sprintf("row %d (%s): %s", rows[i].Line, rows[i].Email, v.refusal))
			if out.Refused == nil {
				out.Refused = map[int]string{}
			}
			out.Refused[rows[i].Line] = v.refusal
		case v.fault != "":
			unchecked++
			if firstFault == "" {
				firstFault = v.fault
			}
		case v.consent:
			out.Consent = append(out.Consent, rows[i].Email)
		}
	}
	out.Status = request.PrecheckOK
	switch {
	case len(out.RowErrors) > 0:
		out.Status = request.PrecheckFailed
		out.Message = fmt.Sprintf("Webex refused %d of %s", len(out.RowErrors), request.Count(total, "row"))
	case unchecked > 0:
		out.Status = request.PrecheckUnavailable
		out.Message = fmt.Sprintf("%s could not be checked (%s): checked again at commit", request.Count(unchecked, "row"), firstFault)
	}
}

// rowVerdict is the precheck of one row.
type rowVerdict struct {
	refusal string // Webex refused the row (final)
	fault   string // Webex could not be asked (retryable, or shutting down)
	consent bool
}

// explicitPhones are the numbers a batch gives rows by hand: phone=auto
// never hands them out.
func explicitPhones(rows []request.UserRow) map[string]bool {
	used := map[string]bool{}
	for _, row := range rows {
		if row.Phone != "" && row.Phone != request.PhoneAuto {
			used[row.Phone] = true
		}
	}
	return used
}

// autoNumber is the number a phone=auto calling row would get, or the
// verdict that it gets none: a refusal when its location has no number
// left, a fault when Webex could not list them.
func autoNumber(ctx context.Context, pool *numberPool, ref request.CustomerRef, locs []webex.Location, row request.UserRow) (string, rowVerdict) {
	if row.Phone != request.PhoneAuto || !request.CallingSubscriberPackage(row.Package) {
		return "", rowVerdict{}
	}
	loc := findLocation(locs, row.Location)
	if loc == nil {
		return "", rowVerdict{fault: "the location's numbers could not be listed"}
	}
	phone, err := pool.next(ctx, loc.ID)
	if err != nil {
		msg, _ := DescribeFailure(translate(err))
		return "", rowVerdict{fault: msg}
	}
	if phone == "" {
		return "", rowVerdict{refusal: noNumberLeft(ref, loc.Name)}
	}
	return phone, rowVerdict{}
}

// precheckRow asks Webex about one row, always with its package; phone is
// the number a phone=auto row would get.
func precheckRow(ctx context.Context, api SetupAPI, ref request.CustomerRef, locs []webex.Location, row request.UserRow, phone string) rowVerdict {
	if ctx.Err() != nil {
		return rowVerdict{fault: ctx.Err().Error()}
	}
	params := &webex.SubscriberParameters{FirstName: row.First, LastName: row.Last, Extension: row.Extension}
	req := webex.SubscriberRequest{CustomerID: ref.CustomerID, Email: row.Email, Packages: []string{row.Package}, ProvisioningParameters: params}
	if request.CallingSubscriberPackage(row.Package) {
		if loc := findLocation(locs, row.Location); loc != nil {
			params.LocationID = loc.ID
		}
		params.PrimaryPhoneNumber = row.Phone
		if row.Phone == request.PhoneAuto {
			params.PrimaryPhoneNumber = phone
		}
	}
	res, err := api.PrecheckSubscriber(ctx, req)
	if err != nil {
		var ae *webex.APIError
		if errors.As(err, &ae) && !ae.Retryable && ae.Status >= 400 && ae.Status < 500 {
			msg := apiMessage(ae)
			for _, d := range ae.Errors {
				if d.Description != "" && d.Description != msg {
					msg += "; " + d.Description
				}
			}
			if ae.TrackingID != "" {
				msg += " (trackingId " + ae.TrackingID + ")"
			}
			return rowVerdict{refusal: msg}
		}
		msg, _ := DescribeFailure(translate(err))
		return rowVerdict{fault: msg}
	}
	// Webex answers 200 for an email it can provision. An answer without
	// the OK info code flags the email (UNCONFIRMED which codes Webex uses
	// for a free Webex account): the user will have to consent.
	return rowVerdict{consent: !res.OK()}
}

// SetupChecks answers the setup flows' questions to Webex outside the job
// stream (the handlers' SetupChecker).
type SetupChecks struct {
	API  SetupAPI
	Rows RowStore
}

// PrecheckUsers runs PrecheckUsers.
func (s *SetupChecks) PrecheckUsers(ctx context.Context, spec *request.UsersSpec) (UsersPrecheck, error) {
	return PrecheckUsers(ctx, s.API, spec)
}

// AvailableNumbers lists the available numbers at a location, E.164.
func (s *SetupChecks) AvailableNumbers(ctx context.Context, ref request.CustomerRef, location string) ([]string, error) {
	nums, err := ListAvailableNumbers(ctx, s.API, ref, location)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(nums))
	for _, n := range nums {
		if n.PhoneNumber != "" {
			out = append(out, n.PhoneNumber)
		}
	}
	return out, nil
}

// CheckNumbersAllowed returns a refusal as a plain error (not retryable) and
// Webex faults as *WebexError.
func (s *SetupChecks) CheckNumbersAllowed(ctx context.Context, ref request.CustomerRef, location string) error {
	refusal, err := CheckNumbersAllowed(ctx, s.API, ref, location)
	if err != nil {
		return err
	}
	if refusal != "" {
		return errors.New(refusal)
	}
	return nil
}

// ReadPSTN runs ReadPSTN.
func (s *SetupChecks) ReadPSTN(ctx context.Context, ref request.CustomerRef, location string) (*PSTNState, string, error) {
	return ReadPSTN(ctx, s.API, ref, location)
}

// CheckPSTN runs CheckPSTN.
func (s *SetupChecks) CheckPSTN(ctx context.Context, spec *request.PSTNSpec) (string, error) {
	return CheckPSTN(ctx, s.API, spec)
}

// CheckChange runs CheckChange.
func (s *SetupChecks) CheckChange(ctx context.Context, spec *request.ChangeSpec) (string, error) {
	return CheckChange(ctx, s.API, spec)
}

// CheckRemove runs CheckRemove.
func (s *SetupChecks) CheckRemove(ctx context.Context, spec *request.RemoveSpec) (string, error) {
	return CheckRemove(ctx, s.API, spec)
}

// CheckLocation runs CheckLocation.
func (s *SetupChecks) CheckLocation(ctx context.Context, spec *request.LocationSpec) (string, error) {
	return CheckLocation(ctx, s.API, spec)
}

// RowOutcomes reads a batch's row outcomes.
func (s *SetupChecks) RowOutcomes(ctx context.Context, requestID int64) (map[int]request.RowOutcome, error) {
	return s.Rows.RowOutcomes(ctx, requestID)
}

// ResendConsent runs ResendConsent.
func (s *SetupChecks) ResendConsent(ctx context.Context, requestID int64) (int, error) {
	return ResendConsent(ctx, s.API, s.Rows, requestID)
}

// UsersPrecheck is the background check of a user batch before approval.
type UsersPrecheck struct {
	request.Precheck
	// Provisioned counts the customer's subscribers per package at Webex
	// now (the admin excluded): seats in use against the ordered quantities.
	Provisioned map[string]int `json:"provisioned,omitempty"`
	Existing    []string       `json:"existing,omitempty"` // emails that already are subscribers
	Consent     []string       `json:"consent,omitempty"`  // emails with a free Webex account: consent needed
	RowErrors   []string       `json:"rowErrors,omitempty"`
	// Refused is Webex's reason for each refused row, by row number.
	Refused map[int]string `json:"refused,omitempty"`
	// UnknownLocations are the locations calling rows name that the
	// customer does not have (yet), with the rows that name them. They are
	// not refused here: a location request may be about to create one.
	UnknownLocations map[string][]request.UserRow `json:"unknownLocations,omitempty"`
}
