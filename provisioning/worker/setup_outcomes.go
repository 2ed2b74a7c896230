package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/onboardbot/onboardbot/provisioning/request"
	"github.com/sirupsen/logrus"
)

// RowCounts sums a batch's row outcomes.
type RowCounts struct {
	Total, Done, Existed, Consent, Failed int
}

// Provisioned counts rows that are users of the customer now.
func (c RowCounts) Provisioned() int { return c.Done + c.Existed }

// Message is the outcome after "R-9 users MS-001: " on the outcome line:
// "3/3 provisioned (1 already existed)", "2/3 provisioned, 1 failed",
// "2/3 provisioned, 1 waiting for consent".
func (c RowCounts) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d provisioned", c.Provisioned(), c.Total)
	if c.Existed > 0 {
		fmt.Fprintf(&b, " (%d already existed)", c.Existed)
	}
	if c.Failed > 0 {
		fmt.Fprintf(&b, ", %d failed", c.Failed)
	}
	if c.Consent > 0 {
		fmt.Fprintf(&b, ", %d waiting for consent", c.Consent)
	}
	return b.String()
}

// CountRows sums the outcomes of rows; rows without one count as failed
// (they were not tried).
func CountRows(rows []request.UserRow, outcomes map[int]request.RowOutcome) RowCounts {
	c := RowCounts{Total: len(rows)}
	for _, row := range rows {
		switch outcomes[row.Line].Status {
		case request.RowDone:
			c.Done++
		case request.RowExisted:
			c.Existed++
		case request.RowConsent:
			c.Consent++
		default:
			c.Failed++
		}
	}
	return c
}

// settleUsers moves a batch to its resting state: waiting while users must
// consent, failed when no row was provisioned, else done (⚠️ with failed
// rows). from is committing, or waiting for a consent check.
func (w *Worker) settleUsers(ctx context.Context, r *request.Request, from request.State, rows []request.UserRow, outcomes map[int]request.RowOutcome) error {
	c := CountRows(rows, outcomes)
	msg := c.Message()
	failures := w.rowFailures(r, rows, outcomes)
	switch {
	case c.Consent > 0:
		return w.parkUsers(ctx, r, from, msg, failures)
	case c.Provisioned() == 0 && c.Failed > 0:
		return w.settleWith(ctx, r, from, request.StateFailed, request.UsersFailed, msg, failures)
	case c.Failed > 0:
		return w.settleWith(ctx, r, from, request.StateDone, request.UsersPartial, msg, failures)
	}
	return w.settle(ctx, r, from, request.StateDone, request.UsersProvisioned, msg)
}

// MaxFailureLines bounds Result.Failures: a batch of thousands of failed
// rows keeps the first ones and counts the rest (View rows lists them all).
const MaxFailureLines = 50

// rowFailures says why each failed row failed, in row order, and logs it
// with the request id: "row 3 (anna@x.example): <reason>". A row without
// an outcome was never tried.
func (w *Worker) rowFailures(r *request.Request, rows []request.UserRow, outcomes map[int]request.RowOutcome) []string {
	var lines []string
	failed := 0
	for _, row := range rows {
		o, tried := outcomes[row.Line]
		switch o.Status {
		case request.RowDone, request.RowExisted, request.RowConsent:
			continue
		}
		why := o.Message
		if !tried || why == "" {
			why = "not tried"
		}
		if o.TrackingID != "" {
			why += " (trackingId " + o.TrackingID + ")"
		}
		failed++
		w.log().WithFields(logrus.Fields{"request": r.Ref(), "row": row.Line, "email": row.Email, "trackingId": o.TrackingID}).Warn("row failed: " + why)
		if len(lines) < MaxFailureLines {
			lines = append(lines, fmt.Sprintf("row %d (%s): %s", row.Line, row.Email, why))
		}
	}
	if more := failed - len(lines); more > 0 {
		lines = append(lines, fmt.Sprintf("… and %s more (View rows lists every row)", request.Count(more, "failed row")))
	}
	return lines
}
